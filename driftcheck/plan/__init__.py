"""The merge plan (`driftcheck plan`): what to merge, in what order, and what to
reconcile first, built on a scan of the same participants.

Stages, in the order `build.plan` runs them:
- `inventory`: each participant against the trunk (ahead, behind, uncommitted
  work, empty, merged, stale base, its pull request);
- `dependencies`: who uses a symbol whom else adds or changes;
- `order` (with `decisions` for the words and `graph` for cycles and layers):
  clusters of findings, who is held for a decision, numbered steps.
"""
