"""Command line: click commands only; they call inward and map results to exit codes."""
