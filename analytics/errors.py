"""The package's one root exception."""

from __future__ import annotations


class AnalyticsError(Exception):
    """Root of every error raised by ``analytics``: the message names the bad value."""
