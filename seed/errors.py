"""The root exception of ``seed`` (kept apart so the CLI can catch it without importing numpy)."""


class SeedError(Exception):
    """Root of every error raised by ``seed``: bad simulator input or a bad seeding request."""
