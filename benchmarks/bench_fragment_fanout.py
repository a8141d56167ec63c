"""Validation time of fragment fan-out queries, before and after fragments were memoised.

``query{...F0} fragment F0 on Query{...F1 ...F1} ... fragment FN on Query{__typename}``
doubles its expanded size with every level. Validation runs synchronously on the event loop,
so its time is time every other client of the process waits.

* ``before``: the rules this API used until fragments were memoised: strawberry's depth and
  alias validators and the cost rule that walked every spread where it was used (kept below,
  as it was, as the baseline);
* ``after``: :func:`api.limits.shape_rule`, which measures each fragment once.

Both run with graphql-core's specified rules, as the server does, in the same process on the
same parsed documents. Prints, per level, the median and p99 of the validation time, the
validations per second and the before/after ratio of the medians.

    nice .venv/bin/python benchmarks/bench_fragment_fanout.py [--levels 10 20] [--budget-s 5]

``--budget-s`` bounds the time spent on each level of the baseline (at least one run).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLInterfaceType,
    GraphQLObjectType,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
    ValidationRule,
    get_named_type,
    parse,
    specified_rules,
    validate,
)
from graphql.language import OperationType
from strawberry.extensions.max_aliases import create_validator as alias_validator
from strawberry.extensions.query_depth_limiter import create_validator as depth_validator

from api.limits import Limits, shape_rule
from api.query_shape import ListSizes, ShapeMeter
from api.schema import build_schema


def fan_out(levels: int) -> str:
    parts = ["query{...F0}"]
    parts += [f"fragment F{i} on Query{{...F{i + 1} ...F{i + 1}}}" for i in range(levels)]
    parts.append(f"fragment F{levels} on Query{{__typename}}")
    return " ".join(parts)


# -- the baseline: the cost rule as it was, walking each spread where it is used ------------


def _old_cost(
    selection_set: SelectionSetNode,
    parent: Any,
    multiplier: int,
    visiting: frozenset[str],
    schema: Any,
    fragments: Callable[[str], Any],
    multiplier_of: Callable[[FieldNode, Any, Any], int],
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
            inner = multiplier * multiplier_of(selection, field, parent)
            target = get_named_type(field.type)
            total += _old_cost(
                selection.selection_set, target, inner, visiting, schema, fragments, multiplier_of
            )
        elif isinstance(selection, InlineFragmentNode):
            condition = selection.type_condition
            target = schema.get_type(condition.name.value) if condition else parent
            total += _old_cost(
                selection.selection_set,
                target,
                multiplier,
                visiting,
                schema,
                fragments,
                multiplier_of,
            )
        elif isinstance(selection, FragmentSpreadNode):
            name = selection.name.value
            fragment = fragments(name)
            if fragment is None or name in visiting:
                continue
            target = schema.get_type(fragment.type_condition.name.value)
            total += _old_cost(
                fragment.selection_set,
                target,
                multiplier,
                visiting | {name},
                schema,
                fragments,
                multiplier_of,
            )
    return total


def old_rules(limits: Limits) -> tuple[type[ValidationRule], ...]:
    sizes = ListSizes(limits.max_first, limits.default_first, limits.list_size)

    class OldCostRule(ValidationRule):
        def enter_operation_definition(self, node: OperationDefinitionNode, *_: Any) -> None:
            schema = self.context.schema
            meter = ShapeMeter(schema, self.context.get_fragment, sizes)  # for multipliers
            root = schema.get_root_type(node.operation or OperationType.QUERY)
            cost = _old_cost(
                node.selection_set,
                root,
                1,
                frozenset(),
                schema,
                self.context.get_fragment,
                meter._multiplier,
            )
            if cost > limits.max_cost:
                self.report_error(GraphQLError(f"query cost {cost} is above the budget", node))

    return (
        depth_validator(limits.max_depth, None),
        alias_validator(limits.max_aliases),
        OldCostRule,
    )


# -- timing -----------------------------------------------------------------------------------


def time_validation(
    schema: Any, document: DocumentNode, rules: tuple[type[ValidationRule], ...], budget_s: float
) -> tuple[list[float], list[str]]:
    """Validation times in seconds (runs until ``budget_s`` is spent, one run at least and 200
    at most), and the first run's error messages."""
    times: list[float] = []
    messages: list[str] = []
    while len(times) < 200 and (not times or sum(times) < budget_s):
        started = time.perf_counter()
        errors = validate(schema, document, (*specified_rules, *rules))
        times.append(time.perf_counter() - started)
        if len(times) == 1:
            messages = [e.message.split(";")[0] for e in errors]
    return times, messages


def p99(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--levels", nargs=2, type=int, default=[10, 20], metavar=("LO", "HI"))
    parser.add_argument("--budget-s", type=float, default=5.0)
    args = parser.parse_args(argv)
    limits = Limits()
    schema = build_schema(limits)._schema
    before, after = old_rules(limits), (shape_rule(limits),)
    print(
        f"{'levels':>6} {'bytes':>5} | {'before p50 ms':>13} {'p99':>9} {'runs':>4} | "
        f"{'after p50 ms':>12} {'p99':>7} {'per s':>7} | {'ratio':>8}",
        flush=True,
    )
    for levels in range(args.levels[0], args.levels[1] + 1):
        query = fan_out(levels)
        document = parse(query)
        old_times, _ = time_validation(schema, document, before, args.budget_s)
        new_times, messages = time_validation(schema, document, after, 0.2)
        old_p50, new_p50 = statistics.median(old_times), statistics.median(new_times)
        print(
            f"{levels:>6} {len(query):>5} | {old_p50 * 1e3:>13.1f} {p99(old_times) * 1e3:>9.1f} "
            f"{len(old_times):>4} | {new_p50 * 1e3:>12.3f} {p99(new_times) * 1e3:>7.3f} "
            f"{1 / new_p50:>7.0f} | {old_p50 / new_p50:>7.0f}x",
            flush=True,
        )
    print(f"after, at {args.levels[1]} levels, refuses with: {messages}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
