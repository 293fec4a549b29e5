"""Captionist's shared library: what every service agrees on."""
