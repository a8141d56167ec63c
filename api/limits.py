"""Request limits: depth, aliases, fragment spreads, tokens, ``first`` cap, query cost, body
size, timeout.

All are fields of :class:`Limits`; :func:`shape_rule` is the validation rule of the shape
limits, built once per schema (:mod:`api.schema`, :mod:`api.operation_cache`), and
``max_tokens`` is the parser's token limit there.

The cost of an operation is the number of fields it may resolve: each selected field costs the
product of the sizes of the lists it is nested in. A field with a ``first`` argument (a
connection) multiplies its children by ``first`` (by ``max_first`` when given as a variable,
whose value validation cannot see; by ``default_first`` when absent); another list field
multiplies by ``list_size``, an assumed size for unpaginated lists such as ``prerequisites``.
Introspection fields cost one each, whatever they contain.

Cost, depth, aliases and fragment spreads are measured by one validation rule that walks each
fragment once (:mod:`api.query_shape`), so the work is linear in the document (itself capped
by ``max_tokens``) however often fragments are spread: validation stays short and bounded on
the event loop.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from graphql import (
    DocumentNode,
    FragmentDefinitionNode,
    GraphQLError,
    OperationDefinitionNode,
    ValidationRule,
)
from graphql.language import OperationType

from api.errors import BadInputError, ConfigError, LimitExceededError
from api.query_shape import ListSizes, ShapeMeter

#: the context manager that bounds one execution by ``Limits.timeout_s`` (over HTTP and
#: WebSocket). A seam: tests of the timeout make a deadline pass at a point they choose
#: instead of racing the machine's speed (tests/api/deadlines.py).
deadline = asyncio.timeout


@dataclass(frozen=True, slots=True)
class Limits:
    """Every limit of a request; all are configurable (``learngraph serve`` reads them from
    ``LEARNGRAPH_LIMIT_<NAME>`` environment variables, e.g. ``LEARNGRAPH_LIMIT_MAX_COST``)."""

    max_depth: int = 12
    max_aliases: int = 30
    #: fragment spreads of one operation once its fragments are expanded (a fragment spread
    #: twice in a fragment spread twice counts four)
    max_fragment_spreads: int = 500
    max_tokens: int = 2000
    max_first: int = 100
    default_first: int = 20
    list_size: int = 10
    max_cost: int = 25_000
    max_body_bytes: int = 1_000_000
    timeout_s: float = 10.0
    max_batch: int = 1000

    @classmethod
    def from_env(cls, environ: dict[str, str] | Any) -> Limits:
        values: dict[str, Any] = {}
        for name in cls.__dataclass_fields__:
            raw = environ.get(f"LEARNGRAPH_LIMIT_{name.upper()}")
            if raw is None:
                continue
            kind = float if name == "timeout_s" else int
            try:
                value = kind(raw)
            except ValueError:
                raise ConfigError(
                    f"LEARNGRAPH_LIMIT_{name.upper()}={raw!r} is not a number"
                ) from None
            if value <= 0:
                raise ConfigError(f"LEARNGRAPH_LIMIT_{name.upper()} must be positive")
            values[name] = value
        return cls(**values)


def check_first(first: int | None, limits: Limits) -> int:
    """The page size to fetch for a ``first`` argument, refusing negatives and the cap."""
    if first is None:
        return limits.default_first
    if first < 0:
        raise BadInputError(f"first={first} is negative; ask for 0 to {limits.max_first} items")
    if first > limits.max_first:
        raise LimitExceededError(
            f"first={first} is above the cap of {limits.max_first}; page with `after` instead",
            limit="max_first",
        )
    return first


def _sizes(limits: Limits) -> ListSizes:
    return ListSizes(limits.max_first, limits.default_first, limits.list_size)


def operation_cost(
    operation: OperationDefinitionNode,
    schema: Any,
    fragments: Callable[[str], Any],
    limits: Limits,
) -> int:
    """The cost of ``operation`` as described in the module docstring."""
    if schema.get_root_type(operation.operation or OperationType.QUERY) is None:
        return 0
    return ShapeMeter(schema, fragments, _sizes(limits)).operation(operation).cost


def _limit_error(message: str, node: Any, limit: str, **extensions: Any) -> GraphQLError:
    return GraphQLError(
        message, node, extensions={"code": "LIMIT_EXCEEDED", "limit": limit, **extensions}
    )


def shape_errors(
    operation: OperationDefinitionNode, meter: ShapeMeter, limits: Limits
) -> list[GraphQLError]:
    """The limits ``operation`` breaks: fragment spreads, depth, aliases, cost."""
    shape = meter.operation(operation)
    name = operation.name.value if operation.name else "anonymous"
    errors: list[GraphQLError] = []
    if shape.spreads > limits.max_fragment_spreads:
        errors.append(
            _limit_error(
                f"'{name}' spreads fragments {shape.spreads} times once they are expanded; the "
                f"limit is {limits.max_fragment_spreads}: spread each fragment where it is needed "
                "rather than through other fragments",
                operation,
                "max_fragment_spreads",
                spreads=shape.spreads,
            )
        )
    if shape.depth > limits.max_depth:
        errors.append(
            _limit_error(
                f"'{name}' exceeds maximum operation depth of {limits.max_depth} (it nests "
                f"{shape.depth} levels); select fewer nested levels",
                operation,
                "max_depth",
                depth=shape.depth,
            )
        )
    if shape.aliases > limits.max_aliases:
        errors.append(
            _limit_error(
                f"{shape.aliases} aliases found. Allowed: {limits.max_aliases} (in '{name}', "
                "fragments expanded); send fewer aliased fields",
                operation,
                "max_aliases",
                aliases=shape.aliases,
            )
        )
    if shape.cost > limits.max_cost:
        errors.append(
            _limit_error(
                f"query cost {shape.cost} is above the budget of {limits.max_cost}; ask for "
                "smaller pages (`first`) or fewer nested lists",
                operation,
                "max_cost",
                cost=shape.cost,
            )
        )
    return errors


def shape_rule(limits: Limits) -> type[ValidationRule]:
    """A validation rule refusing operations above the spread, depth, alias or cost limits.
    Each fragment of the document is measured once, whatever the number of its spreads
    (see :mod:`api.query_shape`)."""

    class ShapeLimitRule(ValidationRule):
        def enter_document(self, node: DocumentNode, *_: Any) -> None:
            fragments = {
                d.name.value: d for d in node.definitions if isinstance(d, FragmentDefinitionNode)
            }
            meter = ShapeMeter(self.context.schema, fragments.get, _sizes(limits))
            for definition in node.definitions:
                if not isinstance(definition, OperationDefinitionNode):
                    continue
                if self.context.schema.get_root_type(definition.operation) is None:
                    continue  # graphql-core reports the missing root type
                try:
                    errors = shape_errors(definition, meter, limits)
                except RecursionError:
                    errors = [
                        _limit_error(
                            "the operation nests fields or fragments too deeply to measure; "
                            "send a flatter document",
                            definition,
                            "max_depth",
                        )
                    ]
                for error in errors:
                    self.report_error(error)

    return ShapeLimitRule
