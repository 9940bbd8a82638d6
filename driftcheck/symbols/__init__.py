"""Symbol tables per file, their changes, indexes over trees, the graph."""
