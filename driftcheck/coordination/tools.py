"""The MCP tools as plain functions: JSON-able arguments in, a JSON-able answer out.

They know nothing of the protocol. The MCP server (integrations/mcp_server.py)
and the daemon (daemon/server.py) both call `call`, the daemon with its session.
Every answer is `{"ok": true, "result": ...}` or `{"ok": false, "error": {"code",
"message"}}`: bad input, an unknown worktree, a path outside the repository, a
malformed target or a claim that is not yours are structured errors; so is any
trouble of driftcheck's own, which never escapes as a traceback.
"""

from __future__ import annotations

import enum
from pathlib import Path
from typing import Any

from driftcheck.config import load_config
from driftcheck.coordination import claiming
from driftcheck.coordination.digest import DEFAULT_MAX_CHARS, digest
from driftcheck.coordination.overlap import judge_edit
from driftcheck.coordination.sides import who_is_changing
from driftcheck.coordination.view import View, open_view, own_session
from driftcheck.engine import judge as judging
from driftcheck.engine.judge import open_worktree, relative_to_root
from driftcheck.engine.session import AnalysisSession
from driftcheck.errors import DriftcheckError, UsageError
from driftcheck.model import Finding, Severity
from driftcheck.store.claims import ClaimError
from driftcheck.workspace import git
from driftcheck.workspace.worktrees import list_worktrees, short_ref

MAX_CONTENT_BYTES = 8 * 1024 * 1024


class Tool(enum.StrEnum):
    """The tool names: a contract with every agent configured to call them."""

    DRIFT_STATUS = "drift_status"
    WHO_IS_CHANGING = "who_is_changing"
    CHECK_EDIT = "check_edit"
    CLAIM = "claim"
    RELEASE = "release"
    LIST_CLAIMS = "list_claims"
    # Not an MCP tool: `driftcheck context` asks the daemon for the digest this way.
    CONTEXT = "context"


class ToolError(DriftcheckError):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


def call(
    name: str, args: dict[str, Any], *, cwd: Path, session: AnalysisSession | None = None
) -> dict[str, Any]:
    """Run tool `name` for the worktree holding `cwd`; never raises."""
    try:
        if not isinstance(args, dict):
            raise ToolError("bad-input", "arguments must be an object")
        try:
            tool = Tool(name)
        except ValueError:
            raise ToolError("unknown-tool", f"no tool {str(name)[:60]!r}") from None
        root, repo = _worktree(cwd, args.get("worktree"))
        if session is not None and session.repo.common_dir != repo.common_dir:
            session = None  # another repository's: its kept states are not these
        return {"ok": True, "result": _run(tool, args, root, repo, session)}
    except (ToolError, ClaimError) as exc:
        return error(exc.code, str(exc))
    except UsageError as exc:
        return error("bad-input", str(exc))
    except Exception as exc:  # driftcheck's own trouble: an error result, not a traceback
        return error("internal", f"{type(exc).__name__}: {exc}"[:400])


def error(code: str, message: str) -> dict[str, Any]:
    return {"ok": False, "error": {"code": code, "message": message}}


def _run(
    tool: Tool,
    args: dict[str, Any],
    root: Path,
    repo: git.RepoInfo,
    session: AnalysisSession | None,
) -> Any:
    if tool is Tool.CLAIM:
        made = claiming.claim(
            root,
            repo,
            targets=args.get("targets"),  # type: ignore[arg-type]  # checked there
            intent=args.get("intent"),
            ttl_minutes=args.get("ttl_minutes", 60),
        )
        return {"claim_id": made.id, "claim": made.to_json()}
    if tool is Tool.RELEASE:
        return {"released": claiming.release(root, repo, args.get("claim_id")).id}
    if tool is Tool.LIST_CLAIMS:
        return {"claims": claiming.list_claims(root, repo)}
    if tool is Tool.CHECK_EDIT:
        return _check_edit(root, repo, args, session)
    if tool is Tool.DRIFT_STATUS:
        return _drift_status(root, repo, session)
    with open_view(root, repo, session) as view:
        _known(view)
        if tool is Tool.WHO_IS_CHANGING:
            path = _path(args.get("path"), root)
            symbol = args.get("symbol")
            if symbol is not None and (not isinstance(symbol, str) or not symbol.strip()):
                raise ToolError("bad-input", "symbol must be a non-empty string")
            return who_is_changing(view, path, symbol.strip() if symbol else None)
        max_chars = args.get("max_chars", DEFAULT_MAX_CHARS)
        if isinstance(max_chars, bool) or not isinstance(max_chars, int) or max_chars < 1:
            raise ToolError("bad-input", "max_chars must be a positive integer")
        return {"context": digest(view, max_chars)}


def _known(view: View) -> None:
    if view.current is None:
        raise ToolError("unknown-worktree", f"{view.root} could not be captured")


def _drift_status(
    root: Path, repo: git.RepoInfo, session: AnalysisSession | None
) -> dict[str, Any]:
    config = load_config(root)
    if session is not None:
        judgement = judging.judge(root, repo=repo, config=config, session=session)
    else:
        with own_session(repo) as own:
            judgement = judging.judge(root, repo=repo, config=config, session=own)
    if judgement.current is None:
        raise ToolError("unknown-worktree", f"{root} could not be captured")
    return {
        "worktree": judgement.current.name,
        "participants": [p.name for p in judgement.result.participants],
        "findings": _findings(judgement.result.findings),
        "warnings": judgement.result.warnings,
    }


def _check_edit(
    root: Path, repo: git.RepoInfo, args: dict[str, Any], session: AnalysisSession | None
) -> dict[str, Any]:
    path = _path(args.get("path"), root)
    content, deleted = args.get("content"), args.get("deleted", False)
    if not isinstance(deleted, bool):
        raise ToolError("bad-input", "deleted must be true or false")
    if (content is None) == (not deleted):
        raise ToolError("bad-input", "give either content or deleted: true")
    if content is not None and not isinstance(content, str):
        raise ToolError("bad-input", "content must be a string")
    data = content.encode("utf-8", "surrogatepass") if content is not None else None
    if data is not None and len(data) > MAX_CONTENT_BYTES:
        raise ToolError("bad-input", f"content larger than {MAX_CONTENT_BYTES} bytes")
    config = load_config(root)
    judgement = judge_edit(root, files={path: data}, repo=repo, config=config, session=session)
    if judgement.current is None:
        raise ToolError("unknown-worktree", f"{root} could not be captured")
    findings = judgement.result.findings
    decision = "allow"
    if any(f.severity is Severity.ERROR for f in findings):
        decision = "deny" if config.strict else "ask"
    return {
        "path": path,
        "decision": decision,
        "findings": _findings(findings),
        "warnings": judgement.result.warnings,
    }


def _findings(findings: list[Finding]) -> list[dict[str, Any]]:
    return [f.to_json() for f in sorted(findings, key=lambda f: f.sort_key())]


def _path(value: object, root: Path) -> str:
    """A path argument, relative to the worktree or absolute inside it."""
    if not isinstance(value, str) or not value.strip() or "\x00" in value:
        raise ToolError("bad-input", "path must be a non-empty string")
    candidate = Path(value)
    absolute = candidate if candidate.is_absolute() else root / candidate
    try:
        relative = relative_to_root(absolute, root)
    except UsageError as exc:
        raise ToolError("path-outside-repository", str(exc)) from None
    if relative in ("", ".") or relative.split("/")[0] == ".git":
        raise ToolError("path-outside-repository", f"{value[:80]!r} is not a file of the worktree")
    return relative


def _worktree(cwd: Path, chosen: object) -> tuple[Path, git.RepoInfo]:
    """The calling worktree: `cwd`'s, or `chosen` (a worktree's path or name)."""
    try:
        root, repo = open_worktree(cwd)
    except UsageError as exc:
        raise ToolError("unknown-worktree", str(exc)) from None
    if chosen is None:
        return root, repo
    if not isinstance(chosen, str) or not chosen.strip():
        raise ToolError("bad-input", "worktree must be a path or a worktree's name")
    for entry in list_worktrees(repo):
        if entry.bare:
            continue
        path = Path(entry.path).resolve()
        names = {str(path), entry.path, path.name}
        if entry.branch_ref:
            names.add(short_ref(entry.branch_ref))
        if chosen in names or _same(chosen, path, root):
            return path, git.RepoInfo(common_dir=repo.common_dir, toplevel=path, is_bare=False)
    raise ToolError("unknown-worktree", f"no worktree {chosen[:80]!r} in this repository")


def _same(chosen: str, path: Path, root: Path) -> bool:
    try:
        return (root / chosen).resolve() == path
    except (OSError, ValueError):
        return False
