"""Relay: a real-time alert relay for airport anti-trafficking units."""

__all__ = ["__version__"]

__version__ = "0.1.0"
