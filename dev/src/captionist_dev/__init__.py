"""Captionist on one machine: the AWS emulator, the local gateway, and `make run`'s supervisor."""
