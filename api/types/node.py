"""The Relay ``Node`` interface, page info and the cursor codec of connections."""

from __future__ import annotations

import base64
import binascii

import strawberry

from api.errors import BadInputError

CURSOR_PREFIX = "lg1:"


@strawberry.interface(description="An object with a global id (Relay).")
class Node:
    id: strawberry.ID = strawberry.field(description="Global id; pass it to `node(id:)`.")


@strawberry.type(description="Where a page of a connection stands (Relay).")
class PageInfo:
    has_next_page: bool
    has_previous_page: bool
    start_cursor: str | None
    end_cursor: str | None


def encode_cursor(key: str) -> str:
    return base64.urlsafe_b64encode(f"{CURSOR_PREFIX}{key}".encode()).decode("ascii")


def decode_cursor(cursor: str | None, argument: str = "after") -> str | None:
    """The store key a cursor stands for; a malformed cursor raises a clear error naming the
    ``argument`` it was given as."""
    if cursor is None:
        return None
    try:
        text = base64.urlsafe_b64decode(cursor.encode("ascii")).decode("utf-8")
    except (binascii.Error, UnicodeError, ValueError):
        text = ""
    if not text.startswith(CURSOR_PREFIX):
        raise BadInputError(
            f"{argument}={cursor!r} is not a cursor of this API; pass a `cursor`, "
            "`pageInfo.endCursor` or `pageInfo.startCursor` value from an earlier page",
            argument=argument,
        )
    return text[len(CURSOR_PREFIX) :]


def page_info(keys: list[str], has_next: bool, after: str | None) -> PageInfo:
    return PageInfo(
        has_next_page=has_next,
        has_previous_page=after is not None,
        start_cursor=encode_cursor(keys[0]) if keys else None,
        end_cursor=encode_cursor(keys[-1]) if keys else None,
    )
