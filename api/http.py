"""GraphQL over HTTP (the GraphQL-over-HTTP spec, as audited by ``graphql-http``).

* POST with ``Content-Type: application/json`` runs queries and mutations; GET runs queries
  only (a mutation over GET is refused with 405).
* The response media type follows ``Accept``: ``application/graphql-response+json`` when the
  client asks for it, else ``application/json``; anything else is 406.
* A request that fails before execution (bad JSON, bad parameters, a syntax, validation or
  variable error) gets 400 under ``application/graphql-response+json`` and no ``data`` entry;
  under ``application/json`` the GraphQL errors come with 200, as the spec says.
* Bodies above ``Limits.max_body_bytes`` get 413. Execution above ``Limits.timeout_s`` is
  cancelled with 504: a query gets LIMIT_EXCEEDED ("ask for less"); a mutation gets
  OUTCOME_UNKNOWN, since its writes may have committed before it was stopped: sending it again
  unchanged is safe (``recordAttempts`` is idempotent on the attempt ids).
* While the store is down the request gets 503 STORE_UNAVAILABLE with the reason and a
  ``Retry-After`` header, at once during the breaker's cool-down (:mod:`api.breaker`).
"""

from __future__ import annotations

import json
import logging
import re
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from graphql import GraphQLError, get_operation_ast, parse
from graphql import OperationType as DocumentOperation
from starlette.requests import Request
from starlette.responses import Response
from strawberry.exceptions import MissingQueryError
from strawberry.schema.exceptions import CannotGetOperationTypeError, InvalidOperationTypeError
from strawberry.types.graphql import OperationType

from api import limits
from api.breaker import StoreDown
from api.context import Context, Services
from api.errors import ApiError, StoreUnavailable
from api.masking import INTERNAL_CODE

log = logging.getLogger("learngraph.api")

#: the 504 of a mutation stopped by the request timeout: it may have been applied
OUTCOME_UNKNOWN = "OUTCOME_UNKNOWN"
GRAPHQL_RESPONSE = "application/graphql-response+json"
JSON = "application/json"
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


class HttpError(Exception):
    """Refuse a request before execution with ``status`` and a GraphQL-shaped error body."""

    def __init__(self, status: int, message: str, headers: Mapping[str, str] | None = None):
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = dict(headers or {})


@dataclass(frozen=True, slots=True)
class GraphQLParams:
    query: str
    variables: dict[str, Any] | None
    operation_name: str | None


def negotiate(accept: str | None) -> str | None:
    """The response media type for an ``Accept`` header (None: nothing we can send)."""
    if accept is None or not accept.strip():
        return JSON
    best: tuple[float, int, str] | None = None
    for position, part in enumerate(accept.split(",")):
        media, *params = (p.strip() for p in part.split(";"))
        q = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        media = media.lower()
        if media == GRAPHQL_RESPONSE:
            chosen = GRAPHQL_RESPONSE
        elif media in (JSON, "application/*", "*/*"):
            chosen = JSON
        else:
            continue
        if q > 0 and (best is None or (q, -position) > (best[0], best[1])):
            best = (q, -position, chosen)
    return best[2] if best else None


def loads(text: str | bytes, what: str) -> Any:
    """``json.loads`` (bytes as UTF-8), refusing invalid or too deeply nested JSON with 400."""
    try:
        return json.loads(text.decode("utf-8") if isinstance(text, bytes) else text)
    except RecursionError:
        raise HttpError(
            400, f"{what} nests JSON arrays or objects too deeply; send a flatter value"
        ) from None
    except ValueError:  # UnicodeDecodeError included
        raise HttpError(400, f"{what} is not valid UTF-8 JSON") from None


def _json_param(name: str, value: Any, *, from_query_string: bool) -> dict[str, Any] | None:
    if from_query_string and isinstance(value, str):
        value = loads(value, f"the {name} parameter")
    if value is None or isinstance(value, dict):
        return value
    raise HttpError(400, f"the {name} parameter must be a JSON object or null")


def parse_params(data: Mapping[str, Any], *, from_query_string: bool) -> GraphQLParams:
    query = data.get("query")
    if query is None:
        raise HttpError(400, 'no query: send {"query": "{ __typename }"}')
    if not isinstance(query, str):
        raise HttpError(400, "the query parameter must be a string")
    operation_name = data.get("operationName")
    if operation_name is not None and not isinstance(operation_name, str):
        raise HttpError(400, "the operationName parameter must be a string or null")
    variables = _json_param("variables", data.get("variables"), from_query_string=from_query_string)
    _json_param("extensions", data.get("extensions"), from_query_string=from_query_string)
    return GraphQLParams(query, variables, operation_name or None)


async def read_body(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise HttpError(413, f"the request body is {declared} bytes; the limit is {limit}")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise HttpError(413, f"the request body is over the limit of {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


async def request_params(request: Request, services: Services) -> GraphQLParams:
    if request.method == "GET":
        return parse_params(dict(request.query_params), from_query_string=True)
    content_type = request.headers.get("content-type")
    if content_type is None:
        raise HttpError(415, "no Content-Type; send the request as application/json")
    media, *params = (p.strip().lower() for p in content_type.split(";"))
    if media != JSON:
        raise HttpError(415, f"Content-Type {media!r} is not supported; send application/json")
    for param in params:
        name, _, value = param.partition("=")
        if name == "charset" and value.strip('"') not in ("utf-8", "utf8"):
            raise HttpError(415, f"charset {value!r} is not supported; send utf-8")
    body = await read_body(request, services.limits.max_body_bytes)
    if not body:
        raise HttpError(400, 'the request body is empty; send {"query": ...}')
    data = loads(body, "the request body")
    if not isinstance(data, dict):
        raise HttpError(400, "the request body must be a JSON object")
    return parse_params(data, from_query_string=False)


def _request_id(request: Request) -> str:
    given = request.headers.get("x-request-id")
    if given and _REQUEST_ID.match(given):
        return given
    return uuid.uuid4().hex[:16]


def _response(
    payload: dict[str, Any],
    status: int,
    media: str,
    request_id: str,
    headers: Mapping[str, str] | None = None,
) -> Response:
    try:
        body = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate echoed from the request: escape it
        body = json.dumps(payload, separators=(",", ":")).encode("ascii")
    all_headers = {"x-request-id": request_id, **(headers or {})}
    return Response(body, status, all_headers, media_type=f"{media}; charset=utf-8")


def is_mutation(params: GraphQLParams) -> bool:
    """Whether the request's operation is a mutation (False when the document cannot say)."""
    try:
        operation = get_operation_ast(parse(params.query), params.operation_name)
    except GraphQLError:
        return False
    return operation is not None and operation.operation is DocumentOperation.MUTATION


def timed_out(services: Services, params: GraphQLParams, media: str, request_id: str) -> Response:
    limit = services.limits.timeout_s
    if is_mutation(params):
        message = (
            f"the mutation took longer than {limit} s and was stopped; its outcome is unknown "
            "(writes made before the stop stay). Send it again unchanged: a retry is safe "
            "(recordAttempts with the same attemptIds stores and traces each answer once)"
        )
        extensions = {"code": OUTCOME_UNKNOWN, "limit": "timeout_s"}
    else:
        message = f"the request took longer than {limit} s and was stopped; ask for less"
        extensions = {"code": "LIMIT_EXCEEDED", "limit": "timeout_s"}
    return _response(
        {"data": None, "errors": [{"message": message, "extensions": extensions}]},
        504,
        media,
        request_id,
    )


def unavailable(
    services: Services, reason: str, media: str, request_id: str, *, ran: bool, mutation: bool
) -> Response:
    """503 for a request the store's outage refused (``ran``: stopped during execution)."""
    retry = services.breaker.retry_after_s()
    if not ran:
        what = "nothing was run"
    elif mutation:
        what = (
            "the mutation was stopped and its outcome is unknown; send it again unchanged "
            "once the store is back (a retry is safe)"
        )
    else:
        what = "the request was stopped"
    message = f"the store is unavailable ({reason}); {what}. Retry in {retry} s (GET /healthz)"
    return _response(
        {
            "errors": [
                {
                    "message": message,
                    "extensions": {"code": StoreUnavailable.code, "retryAfterS": retry},
                }
            ]
        },
        503,
        media,
        request_id,
        {"retry-after": str(retry)},
    )


def _format(error: GraphQLError) -> dict[str, Any]:
    formatted: dict[str, Any] = dict(error.formatted)
    if not formatted.get("extensions"):
        formatted.pop("extensions", None)
    return formatted


async def handle_graphql(request: Request, services: Services) -> Response:
    """Serve one GraphQL request (the GraphiQL page is served by :mod:`api.app`)."""
    request_id = _request_id(request)
    media = negotiate(request.headers.get("accept"))
    if media is None:
        return _response(
            {
                "errors": [
                    {
                        "message": f"cannot answer in any of Accept: "
                        f"{request.headers.get('accept')}; accept {GRAPHQL_RESPONSE} or {JSON}"
                    }
                ]
            },
            406,
            JSON,
            request_id,
        )
    started = time.perf_counter()
    try:
        if request.method not in ("GET", "POST"):
            raise HttpError(
                405,
                f"method {request.method} is not allowed; use GET or POST",
                {"allow": "GET, POST"},
            )
        params = await request_params(request, services)
        try:
            principal = services.tokens.principal(request.headers.get("authorization"))
        except ApiError as exc:
            raise HttpError(401, exc.message, {"www-authenticate": "Bearer"}) from None
        context = Context(services=services, principal=principal, request_id=request_id)
        allowed = (
            (OperationType.QUERY,)
            if request.method == "GET"
            else (OperationType.QUERY, OperationType.MUTATION)
        )
        down = await services.breaker.admit()
        if down is not None:
            return unavailable(services, down, media, request_id, ran=False, mutation=False)
        try:
            async with limits.deadline(services.limits.timeout_s):
                result = await services.breaker.run(
                    services.schema.execute(
                        params.query,
                        variable_values=params.variables,
                        context_value=context,
                        operation_name=params.operation_name,
                        allowed_operation_types=allowed,
                    )
                )
        except InvalidOperationTypeError as exc:
            if request.method == "GET" and exc.operation_type is OperationType.MUTATION:
                raise HttpError(
                    405, "mutations are not allowed over GET; use POST", {"allow": "POST"}
                ) from None
            raise HttpError(
                400,
                f"{exc.operation_type.name.lower()} operations are not allowed over HTTP "
                "(subscriptions use the graphql-transport-ws WebSocket at this same URL)",
            ) from None
        except MissingQueryError:
            raise HttpError(400, 'no query: send {"query": "{ __typename }"}') from None
        except CannotGetOperationTypeError:
            raise HttpError(
                400,
                f"operationName {params.operation_name!r} names no operation of the "
                "document; send the name of one of its operations (or none if it has one)",
            ) from None
        except StoreDown as exc:
            return unavailable(
                services, exc.reason, media, request_id, ran=True, mutation=is_mutation(params)
            )
        except TimeoutError:
            return timed_out(services, params, media, request_id)
    except HttpError as exc:
        return _response(
            {"errors": [{"message": exc.message}]}, exc.status, media, request_id, exc.headers
        )
    except Exception:
        log.exception("request %s: internal error outside execution", request_id)
        return _response(
            {
                "errors": [
                    {
                        "message": f"Internal error (request id {request_id})",
                        "extensions": {"code": INTERNAL_CODE, "requestId": request_id},
                    }
                ]
            },
            500,
            media,
            request_id,
        )
    errors = list(result.errors or ())
    for error in errors:
        if (error.extensions or {}).get("code") == StoreUnavailable.code:
            services.breaker.trip(error.message)
            return unavailable(
                services, error.message, media, request_id, ran=True, mutation=is_mutation(params)
            )
    request_error = result.data is None and bool(errors) and all(e.path is None for e in errors)
    payload: dict[str, Any] = {} if request_error else {"data": result.data}
    if errors:
        payload["errors"] = [_format(e) for e in errors]
    status = 400 if request_error and media == GRAPHQL_RESPONSE else 200
    log.debug(
        "request %s: %d in %.1f ms", request_id, status, (time.perf_counter() - started) * 1000
    )
    return _response(payload, status, media, request_id)
