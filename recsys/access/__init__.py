"""Access and limits: roles, invites, sign-in throttling, the client address, the start-up checks."""
