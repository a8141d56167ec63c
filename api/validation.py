"""Input checks run before any write; each failure names the field and the fix."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

from graph.store import ValidationError as ValidationError

MAX_KEY = 200
MAX_TEXT = 10_000


def key(field: str, value: str) -> str:
    """A store key: non-empty, at most 200 characters, printable (no control or format
    characters, no whitespace but plain spaces), no spaces at either end."""
    if not value:
        raise ValidationError(field, "is empty; give a non-empty id")
    if len(value) > MAX_KEY:
        raise ValidationError(field, f"is {len(value)} characters long; the limit is {MAX_KEY}")
    if value != value.strip():
        raise ValidationError(field, f"{value!r} has spaces at either end; remove them")
    if not value.isprintable():  # control, format, unassigned or separator characters
        raise ValidationError(field, f"{value!r} contains unprintable characters; remove them")
    return value


def text(field: str, value: str, *, required: bool = False, limit: int = MAX_TEXT) -> str:
    if required and not value.strip():
        raise ValidationError(field, "is empty; give some text")
    if len(value) > limit:
        raise ValidationError(field, f"is {len(value)} characters long; the limit is {limit}")
    return value


def unit(field: str, value: float, *, open_low: bool = False) -> float:
    """A number in [0, 1] (in (0, 1] with ``open_low``)."""
    low_ok = value > 0 if open_low else value >= 0
    if not math.isfinite(value) or not low_ok or value > 1:
        span = "(0, 1]" if open_low else "[0, 1]"
        raise ValidationError(field, f"{value!r} is outside {span}")
    return value


def non_negative(field: str, value: int) -> int:
    if value < 0:
        raise ValidationError(field, f"{value} is negative; give 0 or more")
    return value


def positive(field: str, value: int) -> int:
    if value <= 0:
        raise ValidationError(field, f"{value} is not positive; give 1 or more")
    return value


def timestamp(field: str, value: datetime | None, now: datetime) -> datetime:
    """An aware timestamp no more than 5 minutes in the future (clock skew); None is now."""
    if value is None:
        return now
    if value.tzinfo is None:
        raise ValidationError(
            field, f"{value.isoformat()} has no UTC offset; write e.g. 2024-05-01T10:00:00Z"
        )
    value = value.astimezone(UTC)
    if value > now + timedelta(minutes=5):
        raise ValidationError(field, f"{value.isoformat()} is in the future")
    return value


def unique(field: str, values: list[str]) -> list[str]:
    seen: set[str] = set()
    for v in values:
        if v in seen:
            raise ValidationError(field, f"{v!r} is listed twice; list each once")
        seen.add(v)
    return values
