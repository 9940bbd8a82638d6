"""driftcheck's own persistent cache, in the git common dir."""
