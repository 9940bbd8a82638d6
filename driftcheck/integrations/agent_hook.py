"""`driftcheck hook claude|codex`: judge an agent's edit before it is written.

Fail open, always: malformed input, a path outside the repository, an edit that
cannot apply, a parser crash, an internal error or the deadline all end in exit 0
with no decision and one line on stderr. Only a finished judgement can say no.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from driftcheck.deadline import (
    DeadlineExceeded,
    alarms_held,
    caused_by_deadline,
    deadline,
    private_tempdir,
)
from driftcheck.errors import DriftcheckError
from driftcheck.integrations import proposal
from driftcheck.model import Finding, Severity

if TYPE_CHECKING:
    from driftcheck.daemon.session import Session

from driftcheck.daemon.client import MAX_STDIN_BYTES, start_in_background

_ANSWER_S = 0.1
_WARNED_FILE = "codex-warned.json"
_WARNED_KEEP = 200


@dataclass
class HookAnswer:
    stdout: str | None = None
    stderr: list[str] = field(default_factory=list)
    # Something went wrong past the payload (a deadline, git, a bug): a long-lived
    # caller should not trust what it keeps between judgements.
    trouble: bool = False
    # The trouble was the deadline: what was kept is sound, only cut short.
    late: bool = False


class HookInputError(DriftcheckError):
    """The hook payload is unusable; the hook allows and says why."""


def parse_payload(raw: bytes) -> dict[str, Any]:
    if not raw.strip():
        raise HookInputError("no hook JSON on stdin")
    if len(raw) > MAX_STDIN_BYTES:
        raise HookInputError(f"hook JSON larger than {MAX_STDIN_BYTES} bytes")
    try:
        payload = json.loads(raw.decode("utf-8", "replace"))
    except (json.JSONDecodeError, RecursionError) as exc:
        raise HookInputError(f"malformed hook JSON: {exc}") from exc
    if not isinstance(payload, dict):
        raise HookInputError("hook JSON is not an object")
    return payload


def run(
    agent: str,
    raw: bytes,
    *,
    strict: bool | None,
    deadline_ms: int | None,
    started: float | None = None,
    cwd: Path | None = None,
    session: Session | None = None,
    start_daemon: bool = False,
) -> HookAnswer:
    """The whole hook: never raises, always an answer that lets the agent go on
    unless drift was actually found.

    The daemon passes when the hook process `started` (the deadline counts from
    there), its `cwd` and its `session`. With `start_daemon`, a daemon is started
    for the next edits once this one is judged (unless configuration says no)."""
    started = time.monotonic() if started is None else started
    answer = HookAnswer()
    try:
        payload = parse_payload(raw)
        event = payload.get("hook_event_name")
        if agent == "claude" and event not in (None, "PreToolUse"):
            return answer  # wired to another event by mistake: not an edit to judge
        tool = payload.get("tool_name")
        if agent == "claude" and tool not in proposal.CLAUDE_EDIT_TOOLS:
            return answer
        if agent == "codex" and tool not in ("apply_patch", "Edit", "Write"):
            return answer
        base = cwd or Path.cwd()
        where = Path(payload["cwd"]) if isinstance(payload.get("cwd"), str) else base
        where = base / where  # a relative cwd in the payload is the hook's own
        if agent == "claude":
            files = proposal.from_claude(payload, where)
        else:
            files = proposal.from_codex(payload, where)
        return _judge(agent, files, strict, deadline_ms, started, session, start_daemon)
    except (HookInputError, proposal.ProposalError) as exc:  # the payload, not us
        answer.stderr.append(one_line(f"driftcheck: allowing the edit: {exc}"))
        return answer
    except DeadlineExceeded:
        answer.stderr.append(_late(started))
        answer.late = True
    except DriftcheckError as exc:
        answer.stderr.append(one_line(f"driftcheck: allowing the edit: {exc}"))
    except OSError as exc:  # a path the system refuses (too long, unreadable, ...)
        why = exc.strerror or str(exc)
        answer.stderr.append(one_line(f"driftcheck: allowing the edit: {why}: {exc.filename}"))
    except Exception as exc:  # a driftcheck bug must never block an edit
        if caused_by_deadline(exc):
            answer.stderr.append(_late(started))
            answer.late = True
        else:
            text = f"driftcheck: allowing the edit after an internal error: {exc!r}"
            answer.stderr.append(one_line(text))
    answer.trouble = True
    return answer


def one_line(text: str, limit: int = 400) -> str:
    """Messages on stderr are one line: an agent shows stderr to the user verbatim."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def _late(started: float) -> str:
    spent = round((time.monotonic() - started) * 1000)
    return f"driftcheck: allowing the edit: deadline reached after {spent} ms, not judged"


def _judge(
    agent: str,
    files: list[proposal.ProposedFile],
    strict: bool | None,
    deadline_ms: int | None,
    started: float,
    session: Session | None,
    start_daemon: bool,
) -> HookAnswer:
    from driftcheck.config import load_config
    from driftcheck.coordination.overlap import judge_edit
    from driftcheck.engine.judge import open_worktree, relative_to_root

    answer = HookAnswer()
    found = session.worktree_of(files[0].path) if session is not None else None
    if found is None:
        session = None  # not the session's repository: judge it the usual way
        found = open_worktree(files[0].path)
    root, repo = found
    proposed: dict[str, bytes | None] = {}
    for item in files:
        if item.content is not None and len(item.content) > proposal.MAX_PROPOSAL_BYTES:
            answer.stderr.append(
                one_line(f"driftcheck: allowing the edit: {item.path} is too large")
            )
            return answer
        proposed[relative_to_root(item.path, root)] = item.content
    config = load_config(root)
    budget = (deadline_ms if deadline_ms is not None else config.hook_deadline_ms) / 1000
    # Stop judging a moment before the deadline: cleaning up and answering (from
    # the daemon: sending the answer) must fit in it too.
    remaining = budget - min(_ANSWER_S, budget / 10) - (time.monotonic() - started)
    wanted = start_daemon and config.daemon

    def daemon() -> None:
        start_in_background(repo.common_dir, idle_minutes=config.daemon_idle_minutes)

    if remaining <= 0:
        # Above all when judging alone misses the deadline (a large repository: only
        # a daemon answers in time there).
        if wanted:
            daemon()
        answer.stderr.append(_late(started))
        return answer
    interrupted = False
    try:
        # The deadline sits inside the private temp folder: once the clock is
        # stopped, the folder (and whatever a cut-short clean-up left in it) is removed.
        with private_tempdir(), deadline(remaining):
            judgement = judge_edit(root, files=proposed, repo=repo, config=config, session=session)
    except BaseException as exc:
        interrupted = not isinstance(exc, DeadlineExceeded | Exception)  # Ctrl-C, SIGTERM
        raise
    finally:
        # Also when the deadline cut this one short: the next edits need it more.
        # (Cut short by the hard stop instead, the process starts it: launch.py.)
        if wanted and not interrupted:
            with alarms_held():
                daemon()
    if judgement.current is None:
        why = "; ".join(judgement.result.warnings) or "worktree not found"
        answer.stderr.append(one_line(f"driftcheck: allowing the edit: not judged: {why}"))
        return answer
    findings = judgement.result.findings
    if not findings:
        return answer
    strict = config.strict if strict is None else strict
    current = judgement.current.name
    label = ", ".join(sorted(proposed))
    if agent == "claude":
        answer.stdout = _claude(findings, label, current, strict)
    else:
        answer.stdout = _codex(findings, label, current, strict, repo.cache_dir, proposed, answer)
    return answer


def _claude(findings: list[Finding], label: str, current: str | None, strict: bool) -> str:
    from driftcheck.report import hooks as agent

    output: dict[str, Any] = {
        "hookEventName": "PreToolUse",
        "additionalContext": agent.context(findings, label, current),
    }
    if any(f.severity is Severity.ERROR for f in findings):
        output["permissionDecision"] = "deny" if strict else "ask"
        output["permissionDecisionReason"] = agent.reason(findings, label)
    return json.dumps({"hookSpecificOutput": output})


def _codex(
    findings: list[Finding],
    label: str,
    current: str | None,
    strict: bool,
    cache_dir: Path,
    proposed: Mapping[str, bytes | None],
    answer: HookAnswer,
) -> str | None:
    """Codex has no "ask": deny with the context; without --strict, an identical
    retry is let through (the agent saw the drift and chose to go on)."""
    from driftcheck.report import hooks as agent

    if not any(f.severity is Severity.ERROR for f in findings):
        # Warnings only: no decision (Codex rejects a bare allow), just the context.
        context = {
            "hookEventName": "PreToolUse",
            "additionalContext": agent.context(findings, label, current),
        }
        return json.dumps({"hookSpecificOutput": context})
    key = _proposal_key(proposed, findings)
    if not strict and _seen_before(cache_dir, key):
        answer.stderr.append("driftcheck: allowing a repeated edit the agent was warned about")
        return None
    text = agent.reason(findings, label) + "\n\n" + agent.context(findings, label, current)
    output = {
        "hookEventName": "PreToolUse",
        "permissionDecision": "deny",
        "permissionDecisionReason": text[: agent.CONTEXT_LIMIT],
    }
    return json.dumps({"hookSpecificOutput": output})


def _proposal_key(proposed: Mapping[str, bytes | None], findings: list[Finding]) -> str:
    digest = hashlib.sha256()
    for path, content in sorted(proposed.items()):
        digest.update(path.encode() + b"\0" + (content or b"<deleted>") + b"\0")
    for finding in findings:
        digest.update(f"{finding.code}:{finding.path}:{finding.symbol}".encode())
    return digest.hexdigest()


def _seen_before(cache: Path, key: str) -> bool:
    """Remember `key` in driftcheck's own cache folder; True if it was there already."""
    store = cache / _WARNED_FILE
    try:
        seen: list[str] = json.loads(store.read_text()) if store.is_file() else []
        if not isinstance(seen, list):
            seen = []
    except (OSError, ValueError):
        seen = []
    if key in seen:
        return True
    try:
        cache.mkdir(parents=True, exist_ok=True)
        tmp = store.with_name(f"{store.name}.{os.getpid()}.tmp")
        tmp.write_text(json.dumps([*seen, key][-_WARNED_KEEP:]))
        os.replace(tmp, store)
    except OSError:
        pass  # no memory: every retry is denied again, which is still safe
    return False
