"""Speech engines behind one interface: an ``Engine`` opens a ``Recognizer`` per session."""
