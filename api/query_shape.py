"""The shape of an operation: its cost, depth, aliases and fragment spreads, each fragment
measured once.

A fragment may be spread many times, and each spread may sit in a fragment that is itself
spread many times: ``fragment F0 on Query { ...F1 ...F1 }``, ``fragment F1 on Query { ...F2
...F2 }`` and so on doubles the expanded operation at every level, so 21 such fragments (under
800 bytes) expand to a million fields. Walking every spread where it is used costs that
million; here each fragment definition is walked once, its measure memoised, and a spread
adds the memoised measure (scaled by the list sizes it sits in, for the cost). The work is
linear in the size of the document, whatever the expansion.

The numbers are those of the expanded operation:

* ``cost``: the number of fields it may resolve, each counted with the product of the sizes
  of the lists it is nested in (see :mod:`api.limits`); the measure of a selection set is its
  cost at multiplier one, and cost is linear in the multiplier;
* ``depth``: the deepest nesting of fields with selections (introspection fields count 0);
* ``aliases``: aliased fields;
* ``spreads``: fragment spreads, each spread of a fragment counting once per expansion.

A spread of a fragment that is being measured (a cycle, which validation refuses anyway)
or that is not defined adds nothing but the spread itself.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLField,
    GraphQLInterfaceType,
    GraphQLObjectType,
    InlineFragmentNode,
    IntValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    get_named_type,
    get_nullable_type,
    is_list_type,
)
from graphql.language import OperationType


@dataclass(frozen=True, slots=True)
class Shape:
    """The measure of a selection set (see the module docstring)."""

    cost: int = 0
    depth: int = 0
    aliases: int = 0
    spreads: int = 0


@dataclass(frozen=True, slots=True)
class ListSizes:
    """How a field multiplies the cost of its children (the cost parameters of
    :class:`api.limits.Limits`)."""

    max_first: int
    default_first: int
    list_size: int


@dataclass(slots=True)
class ShapeMeter:
    """Measures operations of one document; fragments are memoised across operations.

    ``visits`` counts the selections walked, so tests can check the work is linear.
    """

    schema: Any
    fragments: Callable[[str], FragmentDefinitionNode | None]
    sizes: ListSizes
    visits: int = 0
    _memo: dict[str, Shape] = field(default_factory=dict)
    _open: set[str] = field(default_factory=set)

    def operation(self, operation: OperationDefinitionNode) -> Shape:
        root = self.schema.get_root_type(operation.operation or OperationType.QUERY)
        return self._selections(operation.selection_set, root)

    def fragment(self, name: str) -> Shape | None:
        """The memoised measure of fragment ``name``; None when it is undefined or is being
        measured (a cycle)."""
        known = self._memo.get(name)
        if known is not None:
            return known
        definition = self.fragments(name)
        if definition is None or name in self._open:
            return None
        self._open.add(name)
        try:
            target = self.schema.get_type(definition.type_condition.name.value)
            shape = self._selections(definition.selection_set, target)
        finally:
            self._open.discard(name)
        self._memo[name] = shape
        return shape

    def _selections(self, selection_set: SelectionSetNode, parent: Any) -> Shape:
        cost = depth = aliases = spreads = 0
        for selection in selection_set.selections:
            self.visits += 1
            if isinstance(selection, FieldNode):
                inner = self._field(selection, parent)
                cost += inner.cost
                depth = max(depth, inner.depth)
                aliases += inner.aliases + (selection.alias is not None)
                spreads += inner.spreads
                continue
            if isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition
                target = self.schema.get_type(condition.name.value) if condition else parent
                inner = self._selections(selection.selection_set, target)
            elif isinstance(selection, FragmentSpreadNode):
                spreads += 1
                found = self.fragment(selection.name.value)
                if found is None:
                    continue
                inner = found
            else:  # pragma: no cover - graphql-core has no other selection kind
                continue
            cost += inner.cost
            depth = max(depth, inner.depth)
            aliases += inner.aliases
            spreads += inner.spreads
        return Shape(cost, depth, aliases, spreads)

    def _field(self, node: FieldNode, parent: Any) -> Shape:
        """The field's own cost (1) plus its children's, scaled by the field's list size."""
        name = node.name.value
        if node.selection_set is None:
            return Shape(cost=1)
        if name.startswith("__"):
            # introspection costs one and has no depth, whatever it contains; its fragments
            # and aliases still count
            inner = self._selections(node.selection_set, None)
            return Shape(cost=1, aliases=inner.aliases, spreads=inner.spreads)
        definition = None
        if isinstance(parent, GraphQLObjectType | GraphQLInterfaceType):
            definition = parent.fields.get(name)
        target = get_named_type(definition.type) if definition is not None else None
        inner = self._selections(node.selection_set, target)
        multiplier = 0  # an unknown field (validation refuses it): its children cost nothing
        if definition is not None:
            multiplier = self._multiplier(node, definition, parent)
        return Shape(1 + multiplier * inner.cost, 1 + inner.depth, inner.aliases, inner.spreads)

    def _multiplier(self, node: FieldNode, definition: GraphQLField, parent: Any) -> int:
        if "first" in definition.args:
            for argument in node.arguments or ():
                if argument.name.value in ("first", "last"):
                    if isinstance(argument.value, IntValueNode):
                        return max(int(argument.value.value), 0)
                    return self.sizes.max_first  # a variable: assume the worst allowed value
            return self.sizes.default_first
        if is_list_type(get_nullable_type(definition.type)):
            # edges/nodes of a connection are already counted by the connection's `first`
            return 1 if parent.name.endswith("Connection") else self.sizes.list_size
        return 1
