"""Language profiles for the tree-sitter engine: grammar and queries as data.

Each module builds one `Profile` per language and one `TreeSitterFrontend` for it;
`driftcheck.languages.FRONTENDS` names them. Importing a profile never imports
tree_sitter: grammars load on the first parse.
"""
