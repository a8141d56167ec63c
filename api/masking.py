"""Error masking: expected errors keep their message, anything else becomes "Internal error".

Errors raised before execution (syntax, validation, variable coercion) have no ``path`` and are
the client's to fix, so they are kept. An error raised by a resolver keeps its message only
when it is an :class:`api.errors.ApiError`; otherwise it is logged with the request id and
the traceback, and the client sees ``Internal error (request id ...)``. :class:`api.schema.Schema`
applies :func:`mask_error` to every result it hands out (queries, mutations, subscription
events).
"""

from __future__ import annotations

import logging

from graphql import GraphQLError
from strawberry.exceptions import MissingQueryError
from strawberry.schema.exceptions import CannotGetOperationTypeError, InvalidOperationTypeError

from api.errors import ApiError, BadInputError, StoreUnavailable
from graph.store import StoreUnavailableError
from graph.store import ValidationError as StoreValidationError

log = logging.getLogger("learngraph.api")

INTERNAL_CODE = "INTERNAL"
PRE_EXECUTION_ERRORS = (MissingQueryError, CannotGetOperationTypeError, InvalidOperationTypeError)


def _api_error(error: BaseException | None) -> ApiError | None:
    seen = 0
    while error is not None and seen < 5:
        if isinstance(error, ApiError):
            return error
        error = getattr(error, "original_error", None)
        seen += 1
    return None


def _client_error(error: GraphQLError) -> bool:
    """Errors about the request itself: syntax, validation, variable coercion, a wrong
    operation type. They are located in the document, or raised by strawberry before
    execution, never by a resolver (those have a ``path``)."""
    original = error.original_error
    if original is None:
        return True
    if error.path is not None:
        return False
    return bool(error.nodes) or isinstance(original, (GraphQLError, *PRE_EXECUTION_ERRORS))


def mask_error(error: GraphQLError, request_id: str) -> GraphQLError:
    api_error = _api_error(error.original_error)
    if api_error is None and isinstance(error.original_error, StoreValidationError):
        # a value the store refused (it names the field and the fix): the client's to change
        api_error = BadInputError(str(error.original_error))
    if api_error is None and isinstance(error.original_error, StoreUnavailableError):
        # not a bug to hide: the store is down; the HTTP layer answers 503 with the reason
        api_error = StoreUnavailable(str(error.original_error))
    if api_error is not None:
        return GraphQLError(
            api_error.message,
            error.nodes,
            error.source,
            error.positions,
            error.path,
            None,
            {"code": api_error.code, **api_error.extensions},
        )
    if _client_error(error):
        return error
    where = ".".join(str(p) for p in error.path) if error.path else "the operation"
    log.error(
        "request %s: internal error at %s",
        request_id,
        where,
        exc_info=error.original_error,
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
