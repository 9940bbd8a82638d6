"""The long-lived judge for agent hooks: server, client, session."""
