"""Request limits: depth, aliases, tokens, ``first`` cap, query cost, body size, timeout.

All are fields of :class:`Limits`; :func:`limit_extensions` turns them into strawberry
extensions. The validation rules are built once per schema, so the validation cache (keyed on
the rule classes) stays effective across requests.

The cost of an operation is the number of fields it may resolve: each selected field costs the
product of the sizes of the lists it is nested in. A field with a ``first`` argument (a
connection) multiplies its children by ``first`` (by ``max_first`` when given as a variable,
whose value validation cannot see; by ``default_first`` when absent); another list field
multiplies by ``list_size``, an assumed size for unpaginated lists such as ``prerequisites``.
Introspection fields cost one each, whatever they contain.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from graphql import (
    FieldNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLField,
    GraphQLInterfaceType,
    GraphQLObjectType,
    InlineFragmentNode,
    IntValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    ValidationRule,
    get_named_type,
    get_nullable_type,
    is_list_type,
)
from graphql.language import OperationType
from strawberry.extensions import SchemaExtension
from strawberry.extensions.max_aliases import create_validator as alias_validator
from strawberry.extensions.query_depth_limiter import create_validator as depth_validator

from api.errors import BadInputError, ConfigError, LimitExceededError


@dataclass(frozen=True, slots=True)
class Limits:
    """Every limit of a request; all are configurable (``learngraph serve`` reads them from
    ``LEARNGRAPH_LIMIT_<NAME>`` environment variables, e.g. ``LEARNGRAPH_LIMIT_MAX_COST``)."""

    max_depth: int = 12
    max_aliases: int = 30
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


def operation_cost(
    operation: OperationDefinitionNode,
    schema: Any,
    fragments: Callable[[str], Any],
    limits: Limits,
) -> int:
    """The cost of ``operation`` as described in the module docstring."""
    root = schema.get_root_type(operation.operation or OperationType.QUERY)
    if root is None:
        return 0
    return _selection_cost(operation.selection_set, root, 1, frozenset(), schema, fragments, limits)


def _selection_cost(
    selection_set: SelectionSetNode,
    parent: Any,
    multiplier: int,
    visiting: frozenset[str],
    schema: Any,
    fragments: Callable[[str], Any],
    limits: Limits,
) -> int:
    total = 0
    for selection in selection_set.selections:
        if isinstance(selection, FieldNode):
            total += multiplier
            name = selection.name.value
            if name.startswith("__") or selection.selection_set is None:
                continue
            if not isinstance(parent, GraphQLObjectType | GraphQLInterfaceType):
                continue
            field = parent.fields.get(name)
            if field is None:
                continue
            inner = multiplier * _field_multiplier(selection, field, parent, limits)
            total += _selection_cost(
                selection.selection_set,
                get_named_type(field.type),
                inner,
                visiting,
                schema,
                fragments,
                limits,
            )
        elif isinstance(selection, InlineFragmentNode):
            condition = selection.type_condition
            target = schema.get_type(condition.name.value) if condition else parent
            total += _selection_cost(
                selection.selection_set, target, multiplier, visiting, schema, fragments, limits
            )
        elif isinstance(selection, FragmentSpreadNode):
            name = selection.name.value
            fragment = fragments(name)
            if fragment is None or name in visiting:
                continue
            target = schema.get_type(fragment.type_condition.name.value)
            total += _selection_cost(
                fragment.selection_set,
                target,
                multiplier,
                visiting | {name},
                schema,
                fragments,
                limits,
            )
    return total


def _field_multiplier(node: FieldNode, field: GraphQLField, parent: Any, limits: Limits) -> int:
    if "first" in field.args:
        for argument in node.arguments or ():
            if argument.name.value == "first":
                if isinstance(argument.value, IntValueNode):
                    return max(int(argument.value.value), 0)
                return limits.max_first  # a variable: assume the worst allowed value
        return limits.default_first
    if is_list_type(get_nullable_type(field.type)):
        # edges/nodes of a connection are already counted by the connection's `first`
        return 1 if parent.name.endswith("Connection") else limits.list_size
    return 1


def cost_rule(limits: Limits) -> type[ValidationRule]:
    """A validation rule refusing operations whose cost is above ``limits.max_cost``."""

    class CostLimitRule(ValidationRule):
        def enter_operation_definition(self, node: OperationDefinitionNode, *_: Any) -> None:
            cost = operation_cost(node, self.context.schema, self.context.get_fragment, limits)
            if cost > limits.max_cost:
                self.report_error(
                    GraphQLError(
                        f"query cost {cost} is above the budget of {limits.max_cost}; ask for "
                        "smaller pages (`first`) or fewer nested lists",
                        node,
                        extensions={"code": "LIMIT_EXCEEDED", "limit": "max_cost", "cost": cost},
                    )
                )

    return CostLimitRule


def limit_extensions(limits: Limits) -> list[Callable[[], SchemaExtension]]:
    """Strawberry extension factories applying ``limits`` (rules built once, here)."""
    rules = (
        depth_validator(limits.max_depth, None),
        alias_validator(limits.max_aliases),
        cost_rule(limits),
    )

    class LimitsExtension(SchemaExtension):
        def on_operation(self) -> Iterator[None]:
            context = self.execution_context
            context.parse_options["max_tokens"] = limits.max_tokens
            context.validation_rules = context.validation_rules + rules
            yield

    return [LimitsExtension]
