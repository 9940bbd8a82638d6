"""The plan use case: scan, then inventory, dependencies, clusters and an order,
all read from the scan's own session (its cache and symbol index)."""

from __future__ import annotations

import time
from dataclasses import replace

from driftcheck.config import load_config
from driftcheck.engine.options import Progress, ScanOptions
from driftcheck.engine.scan import scanning
from driftcheck.errors import UsageError
from driftcheck.model import Plan
from driftcheck.plan.dependencies import dependencies
from driftcheck.plan.inventory import take_inventory
from driftcheck.plan.order import plan_order
from driftcheck.report import clusters, finding_edges
from driftcheck.workspace import git
from driftcheck.workspace.worktrees import list_worktrees, short_ref


def plan(options: ScanOptions, progress: Progress | None = None) -> Plan:
    started = time.monotonic()
    if options.trunk is None:
        options = replace(options, trunk=default_trunk(options))
    with scanning(options, progress) as scanned:
        result = scanned.result
        inventory = take_inventory(scanned)
        depends = dependencies(scanned, inventory)
    names = [p.name for p in result.participants]
    found = finding_edges(result)
    ordering = plan_order(result, inventory, depends)
    stats = {
        **result.stats,
        "dependencies": len(depends),
        "clusters": 0,
        "steps": len(ordering.steps),
        "reconcile_first": len(ordering.reconcile_first),
        "safe_to_delete": len(inventory.deletable()),
        "scan_ms": result.stats.get("elapsed_ms"),
        "elapsed_ms": round((time.monotonic() - started) * 1000),
    }
    groups = clusters(names, found)
    stats["clusters"] = len(groups)
    return Plan(
        scan=result,
        trunk=inventory.trunk.name if inventory.trunk is not None else None,
        participants=inventory.rows,
        edges=depends + found,
        clusters=groups,
        steps=ordering.steps,
        reconcile_first=ordering.reconcile_first,
        cycles=ordering.cycles,
        stats=stats,
    )


def default_trunk(options: ScanOptions) -> str:
    """`--trunk`, else the configured trunk, else the main worktree's branch: a plan
    is an order of merges into something."""
    repo = git.open_repo(options.repo)
    config = options.config or load_config(repo.toplevel)
    if config.trunk:
        return config.trunk
    entries = list_worktrees(repo)
    if entries and entries[0].branch_ref and not entries[0].bare:
        return short_ref(entries[0].branch_ref)
    raise UsageError("plan needs a trunk: pass --trunk REF (or set trunk in [tool.driftcheck])")
