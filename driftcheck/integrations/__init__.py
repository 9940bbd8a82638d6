"""Doors for agents and git: agent and commit hooks, proposals, installers."""
