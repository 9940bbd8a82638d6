"""The tree-sitter engine shared by the profile-driven frontends."""
