"""Relay global ids: ``base64("Type:key")``.

Every node type (Skill, Item, Learner, Group, User) has a global ``id`` and its store ``key``.
Arguments that name one kind of entity accept either form, so ``learner(id: "ada")`` and
``learner(id: "TGVhcm5lcjphZGE=")`` are the same request.
"""

from __future__ import annotations

import base64
import binascii

from api.errors import BadInputError

NODE_TYPES = ("Skill", "Item", "Learner", "Group", "User")


def to_global_id(type_name: str, key: str) -> str:
    return base64.b64encode(f"{type_name}:{key}".encode()).decode("ascii")


def decode_global_id(value: str) -> tuple[str, str] | None:
    """``(type, key)`` when ``value`` is a well-formed global id of a node type, else None."""
    if not value or len(value) % 4:
        return None
    try:
        text = base64.b64decode(value.encode("ascii"), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeError, ValueError):
        return None
    type_name, sep, key = text.partition(":")
    if not sep or not key or type_name not in NODE_TYPES:
        return None
    return type_name, key


def from_global_id(value: str) -> tuple[str, str]:
    """Split a global id; a malformed one raises :class:`BadInputError` naming it."""
    decoded = decode_global_id(value)
    if decoded is None:
        raise BadInputError(
            f"{value!r} is not a global id; pass the `id` field of a "
            f"{'/'.join(NODE_TYPES)} object",
            argument="id",
        )
    return decoded


def to_key(value: str, type_name: str) -> str:
    """The store key named by ``value``: a global id of ``type_name`` or a plain key.

    A global id of another type is refused, since it certainly names the wrong thing.
    """
    if not value:
        raise BadInputError(f"an empty {type_name} id was given; pass a {type_name} id or key")
    decoded = decode_global_id(value)
    if decoded is None:
        return value
    found, key = decoded
    if found != type_name:
        raise BadInputError(
            f"{value!r} is the id of a {found}, not of a {type_name}; pass a {type_name} id"
        )
    return key


def to_keys(values: list[str], type_name: str) -> list[str]:
    return [to_key(v, type_name) for v in values]
