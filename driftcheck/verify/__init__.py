"""`--verify`: the project's own checker on both sides of a pair and on their merge."""
