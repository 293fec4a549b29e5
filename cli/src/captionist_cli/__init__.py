"""captionist: a terminal client for Captionist (stream speech, follow a conversation)."""
