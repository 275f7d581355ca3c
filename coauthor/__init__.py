"""Coauthor: honest human-AI co-writing with a provenance record for every character."""

__version__ = "0.1.0"
