"""`claim-overlap` (DC601): an edit to a symbol another worktree claims.

Explicitly (`driftcheck claim`, the MCP `claim` tool) or implicitly: another
worktree already changes that symbol. An implicit overlap that another finding
already describes (a conflict, a contradicting edit about the same symbol) is not
said twice. Severity `warning`, `error` with `claims = "strict"`.

`judge_edit` is the pre-edit judgement every door uses (agent hooks, `check`, the
MCP `check_edit` tool): the engine's judge, then the claims. Claims never make a
judgement fail: trouble with them is a warning on the result.
"""

from __future__ import annotations

from collections.abc import Mapping
from contextlib import nullcontext
from dataclasses import dataclass
from pathlib import Path

from driftcheck.config import Config
from driftcheck.coordination.sides import claims_by_others, side_work, symbol_changes, touches
from driftcheck.coordination.targets import covers
from driftcheck.coordination.view import View, own_session
from driftcheck.engine import judge as judging
from driftcheck.engine.judge import Judgement
from driftcheck.engine.session import AnalysisSession
from driftcheck.errors import DriftcheckError
from driftcheck.model import CLAIM_OVERLAP, Finding, Participant, Severity
from driftcheck.store.claims import Claim
from driftcheck.symbols.changes import classify_changes
from driftcheck.symbols.index import SymbolIndex
from driftcheck.symbols.languages import frontend_for
from driftcheck.workspace import git

CODE = "DC601"
_MAX_READ = 4 * 1024 * 1024


@dataclass(frozen=True)
class Edited:
    """What a proposed edit touches in one file."""

    path: str
    module: str | None
    symbols: dict[str, int]  # qualname -> line in the proposed file (0: gone)


def judge_edit(
    root: Path,
    *,
    files: Mapping[str, bytes | None],
    repo: git.RepoInfo,
    config: Config,
    session: AnalysisSession | None = None,
    trunk: str | None = None,
    refs: tuple[str, ...] = (),
) -> Judgement:
    """The engine's judgement of the proposed `files`, with claim overlaps added;
    `trunk` and `refs` join as in `scan` (`check --trunk/--refs`)."""
    with nullcontext(session) if session is not None else own_session(repo) as used:
        # Through the module: tests (and only tests) put another judge there.
        judgement = judging.judge(
            root, files=files, repo=repo, config=config, session=used, trunk=trunk,
            ref_patterns=refs,
        )  # fmt: skip
        current = judgement.current
        if current is None or not files:
            return judgement
        view = View(root, repo, config, used, judgement.result.participants, current)
        edits = [
            _edited(used.index, root, path, content) for path, content in sorted(files.items())
        ]
        extra: list[Finding] = []
        # Claims must never cost a judgement: trouble with them is a warning.
        for find in (explicit_overlaps, implicit_overlaps):
            try:
                extra += find(view, edits, judgement.result.findings)
            except (DriftcheckError, OSError) as exc:
                judgement.result.warnings.append(f"claims not checked: {exc}")
    kept = [f for f in (config.apply(f) for f in extra) if f is not None]
    judgement.result.findings = sorted(
        [*judgement.result.findings, *kept], key=lambda f: f.sort_key()
    )
    return judgement


def _severity(view: View) -> Severity:
    return Severity.ERROR if view.config.claims == "strict" else Severity.WARNING


def explicit_overlaps(view: View, edits: list[Edited], found: list[Finding]) -> list[Finding]:
    """Edits to what another worktree claimed with `claim`."""
    current = view.current
    assert current is not None
    findings = []
    for claim, owner in claims_by_others(view):
        for edit in edits:
            hit = _claimed(claim, edit)
            if hit is not None:
                findings.append(_explicit(current, owner, claim, edit, hit, _severity(view)))
    return findings


def implicit_overlaps(view: View, edits: list[Edited], found: list[Finding]) -> list[Finding]:
    """Edits to symbols another worktree changes already, unless `found` says so."""
    current = view.current
    assert current is not None
    said = {(f.symbol, p) for f in found for p in f.participants} | {
        (f.path, p) for f in found if f.kind == "textual-conflict" for p in f.participants
    }
    others = [p for p in view.others if p.kind == "worktree"]
    paths = [e.path for e in edits if e.symbols]
    findings = []
    for work in side_work(view, others) if paths else []:
        name = work.participant.name
        for change in symbol_changes(view, work, paths):
            edit = next((e for e in edits if e.path == change.path), None)
            if edit is None or (edit.path, name) in said:
                continue
            mine = [q for q in edit.symbols if touches(change, q)]
            if not mine or any((q, name) in said for q in [*mine, change.qualname]):
                continue
            their = (work.participant, change.kind, change.path in work.uncommitted)
            findings.append(_implicit(current, their, edit, mine[0], _severity(view)))
    return findings


def _edited(index: SymbolIndex, root: Path, path: str, content: bytes | None) -> Edited:
    """The symbols the edit adds, removes or changes, against the file on disk.
    Parsed through the session's index: the judge has just parsed the proposal, and
    the file on disk was mostly parsed before (the previous edit's proposal, or a
    side of a pair), so neither is parsed again on the hook's path."""
    frontend = frontend_for(path)
    if frontend is None:
        return Edited(path, None, {})
    before, after = {}, {}
    old = _read(root / path)
    if old is not None and (table := index.definitions_of_content(path, old)) is not None:
        before[path] = table
    if content is not None and (table := index.definitions_of_content(path, content)) is not None:
        after[path] = table
    touched: dict[str, int] = {}
    for change in classify_changes(before, after):
        line = change.after.start_line if change.after else 0
        touched.setdefault(change.qualname, line)
        if change.new_qualname:
            touched.setdefault(change.new_qualname, line)
    return Edited(path, frontend.module_name(path), touched)


def _read(path: Path) -> bytes | None:
    try:
        if not path.is_file() or path.stat().st_size > _MAX_READ:
            return None
        return path.read_bytes()
    except OSError:
        return None


def _claimed(claim: Claim, edit: Edited) -> tuple[str | None, int] | None:
    """The first edited symbol (or the file itself: None) `claim` covers."""
    for qualname, line in [*edit.symbols.items(), (None, 0)]:
        for target in claim.targets:
            if covers(target, path=edit.path, qualname=qualname, module=edit.module):
                return qualname, line
    return None


def _explicit(
    current: Participant,
    owner: Participant,
    claim: Claim,
    edit: Edited,
    hit: tuple[str | None, int],
    severity: Severity,
) -> Finding:
    symbol, line = hit
    what = f"`{symbol}`" if symbol else edit.path
    age = claim.age_minutes()
    message = (
        f"{what} is claimed by {owner.name} (claim {claim.id}, {age} min ago, "
        f'intent: "{claim.intent}")'
    )
    return Finding(
        kind=CLAIM_OVERLAP,
        code=CODE,
        severity=severity,
        participants=(current.name, owner.name),
        path=edit.path,
        line=line or None,
        message=message,
        symbol=symbol,
        details={"implicit": False, "claim": claim.to_json(), "owner": owner.name},
    )


def _implicit(
    current: Participant,
    their: tuple[Participant, str, bool],
    edit: Edited,
    symbol: str,
    severity: Severity,
) -> Finding:
    other, their_change, uncommitted = their
    state = "uncommitted" if uncommitted else "committed, not merged"
    message = f"{other.name} is changing `{symbol}` too ({their_change}, {state})"
    return Finding(
        kind=CLAIM_OVERLAP,
        code=CODE,
        severity=severity,
        participants=(current.name, other.name),
        path=edit.path,
        line=edit.symbols.get(symbol) or None,
        message=message,
        symbol=symbol,
        details={
            "implicit": True,
            "owner": other.name,
            "their_change": their_change,
            "uncommitted": uncommitted,
        },
    )
