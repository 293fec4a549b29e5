"""Captionist broadcaster: pushes each conversation's new segments to its listeners."""
