"""`driftcheck watch`: a live view of the drift between participants (Textual)."""
