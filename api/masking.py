"""Error masking: expected errors keep their message, anything else becomes "Internal error".

Errors raised before execution (syntax, validation, variable coercion) have no ``path`` and are
the client's to fix, so they are kept. An error raised by a resolver keeps its message only
when it is an :class:`api.errors.ApiError`; otherwise it is logged with the request id and
the traceback, and the client sees ``Internal error (request id ...)``.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

from graphql import GraphQLError
from strawberry.extensions import SchemaExtension

from api.errors import ApiError

log = logging.getLogger("learngraph.api")

INTERNAL_CODE = "INTERNAL"


def mask_error(error: GraphQLError, request_id: str) -> GraphQLError:
    original = error.original_error
    if original is None or error.path is None:
        return error
    if isinstance(original, ApiError):
        return GraphQLError(
            original.message,
            error.nodes,
            error.source,
            error.positions,
            error.path,
            None,
            {"code": original.code, **original.extensions},
        )
    if isinstance(original, GraphQLError) and original.original_error is None:
        return error
    log.error(
        "request %s: internal error at %s",
        request_id,
        ".".join(str(p) for p in error.path),
        exc_info=original,
    )
    return GraphQLError(
        f"Internal error (request id {request_id})",
        error.nodes,
        error.source,
        error.positions,
        error.path,
        None,
        {"code": INTERNAL_CODE, "requestId": request_id},
    )


class MaskInternalErrors(SchemaExtension):
    """Apply :func:`mask_error` to every error of a result (queries, mutations, subscriptions)."""

    def on_operation(self) -> Iterator[None]:
        yield
        result = self.execution_context.result
        errors = getattr(result, "errors", None)
        if errors:
            request_id = _request_id(self.execution_context.context)
            result.errors = [mask_error(e, request_id) for e in errors]  # type: ignore[union-attr]


def _request_id(context: Any) -> str:
    return str(getattr(context, "request_id", "-"))
