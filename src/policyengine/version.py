"""The engine version, recorded in every decision and log record."""
__version__ = "0.1.0"
