"""The strawberry schema: root types, the limits and the operation cache, error masking and SDL
export."""

from __future__ import annotations

from typing import Any

import strawberry
from strawberry.schema.config import StrawberryConfig
from strawberry.tools import merge_types

from api.limits import Limits, shape_rule
from api.masking import mask_error
from api.operation_cache import OperationCache, validation_rules
from api.types.group import Group, User
from api.types.item import Item
from api.types.learner import Learner
from api.types.mutation_curriculum import CurriculumMutation
from api.types.mutation_curriculum_bulk import CurriculumBulkMutation
from api.types.mutation_diagnostic import DiagnosticMutation
from api.types.mutation_people import PeopleMutation
from api.types.mutation_teacher import TeacherMutation
from api.types.query import Query
from api.types.skill import Skill
from api.types.subscription import Subscription
from api.types.tracer import TracerMutation
from api.types.view import ViewMutation
from api.ws_limits import TimedExecutionContext

CACHE_SIZE = 512

Mutation = merge_types(
    "Mutation",
    (
        CurriculumMutation,
        CurriculumBulkMutation,
        PeopleMutation,
        DiagnosticMutation,
        TracerMutation,
        TeacherMutation,
        ViewMutation,
    ),
)


class Schema(strawberry.Schema):
    """strawberry's schema, minus its logging of every client error (:mod:`api.masking` logs
    the internal ones, with their request id), and masking every result it hands out:
    queries, mutations and subscription events."""

    #: the parsed and validated documents, per query text (set by :func:`build_schema`)
    operations: OperationCache

    def process_errors(self, errors: Any, execution_context: Any = None) -> None:
        return None

    async def _handle_execution_result(
        self, context: Any, result: Any, extensions_runner: Any, **kwargs: Any
    ) -> Any:
        errors = getattr(result, "errors", None)
        if errors:
            request_id = str(getattr(context.context, "request_id", "-"))
            result.errors = [mask_error(e, request_id) for e in errors]
        return await super()._handle_execution_result(context, result, extensions_runner, **kwargs)


def build_schema(limits: Limits | None = None, *, introspection: bool = True) -> Schema:
    """The schema with ``limits`` applied, parsing and validating each distinct query text
    once (:mod:`api.operation_cache`). Without ``introspection``, ``__schema`` and ``__type``
    are refused (``__typename`` stays)."""
    limits = limits or Limits()
    cache = OperationCache(
        validation_rules((shape_rule(limits),), introspection=introspection),
        max_tokens=limits.max_tokens,
        maxsize=CACHE_SIZE,
    )
    schema = Schema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        types=[Skill, Item, Learner, Group, User],
        extensions=[cache.extension],
        config=StrawberryConfig(auto_camel_case=True),
        # bounds executions over WebSocket by the request timeout (api.ws_limits)
        execution_context_class=TimedExecutionContext,
    )
    cache.bind(schema._schema)
    schema.operations = cache
    return schema


def schema_sdl() -> str:
    """The SDL of the schema (limits do not change it), ending in a newline."""
    return build_schema().as_str().rstrip() + "\n"
