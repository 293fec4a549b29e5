"""Captionist ingest: speaker websockets to Amazon Transcribe streaming, finals to SQS."""
