"""The request limits over WebSocket, as over HTTP (:mod:`api.http` applies them there).

* **Message size**: a WebSocket message above ``Limits.max_body_bytes`` closes the connection
  with 1009 (message too big) before the app reads it (:func:`limit_message_size`);
  ``learngraph serve`` also sets uvicorn's ``ws_max_size`` to it.
* **Nesting**: a message nesting JSON too deeply closes the connection with 4400, like any
  message that is not JSON (:func:`decode_message`).
* **Time**: every execution over a WebSocket (a query or mutation, and each event of a
  subscription) is stopped after ``Limits.timeout_s`` with a ``LIMIT_EXCEEDED`` error
  (:class:`TimedExecutionContext`); waiting for the next event is not execution and is not
  limited (the token's expiry ends it: :mod:`api.subscription_guard`).
* **Depth, cost, spreads, aliases, tokens**: the validation rules of :mod:`api.limits` run for
  every operation, whatever the transport.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from graphql import ExecutionResult, GraphQLError
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

from api import limits

Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

MESSAGE_TOO_BIG = 1009


def limit_message_size(receive: Receive, send: Send, limit: int) -> Receive:
    """``receive``, closing the connection (1009) instead of passing on a message of more than
    ``limit`` bytes; the app then sees a disconnect."""

    async def receive_limited() -> Message:
        message = await receive()
        if message.get("type") != "websocket.receive":
            return message
        text = message.get("text")
        data = message.get("bytes")
        size = len(data) if data is not None else 0
        if text is not None:
            size += len(text) if text.isascii() else len(text.encode("utf-8", "surrogatepass"))
        if size <= limit:
            return message
        reason = f"message of {size} bytes is over the limit of {limit}"
        await send({"type": "websocket.close", "code": MESSAGE_TOO_BIG, "reason": reason})
        return {"type": "websocket.disconnect", "code": MESSAGE_TOO_BIG}

    return receive_limited


def decode_message(data: str | bytes) -> object:
    """``json.loads`` for WebSocket messages: too deep a nesting counts as invalid JSON."""
    try:
        return json.loads(data)
    except RecursionError:
        text = data if isinstance(data, str) else data.decode("utf-8", "replace")
        raise json.JSONDecodeError("nested too deeply", text[:100], 0) from None


def _timeout_result(timeout_s: float) -> ExecutionResult:
    return ExecutionResult(
        data=None,
        errors=[
            GraphQLError(
                f"the operation took longer than {timeout_s} s and was stopped; ask for less",
                extensions={"code": "LIMIT_EXCEEDED", "limit": "timeout_s"},
            )
        ],
    )


class TimedExecutionContext(StrawberryGraphQLCoreExecutionContext):
    """Bounds each execution on a WebSocket connection by the request timeout. HTTP requests
    are bounded in :func:`api.http.handle_graphql` (which answers 504), so a context without
    ``connection_params`` (not a WebSocket one) is left alone."""

    def execute_operation(self, serially: bool | None = None) -> Any:
        result = super().execute_operation(serially)
        context = self.context_value
        if getattr(context, "connection_params", None) is None or not self.is_awaitable(result):
            return result
        return _bounded(result, context.limits.timeout_s)


async def _bounded(result: Awaitable[Any], timeout_s: float) -> Any:
    try:
        async with limits.deadline(timeout_s):
            return await result
    except TimeoutError:
        return _timeout_result(timeout_s)
