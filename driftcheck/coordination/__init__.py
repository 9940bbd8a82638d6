"""Coordination between agents: explicit claims, the symbols other worktrees change
(implicit claims), the pre-edit `claim-overlap` finding, the digest, and the plain
functions behind the MCP tools."""
