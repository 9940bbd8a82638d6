"""The Python frontend (the standard library's ast)."""
