"""transcribe-local: Amazon Transcribe's streaming protocol on offline speech engines."""
