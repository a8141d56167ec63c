"""Commands of seed (filled in by its owner)."""

import argparse
from typing import Any


def register(sub: Any) -> None:
    """Add this package's commands to the learngraph parser."""
