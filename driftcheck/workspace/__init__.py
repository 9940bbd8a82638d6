"""Everything git: repositories, participants and their states, the merge."""
