"""Parsing and validation done once per distinct query text, in one schema extension.

Clients send the same few documents over and over (the web app's recommendation query on
every answer), so the parsed document and its validation errors are kept per query text, in
an LRU of ``maxsize`` entries owned by the schema (not module state). The validation rules are
fixed when the schema is built: graphql-core's specified rules, the limits' shape rule
(:func:`api.limits.shape_rule`), :class:`api.request_checks.TextLiteralRule` and, without
introspection, graphql-core's ``NoSchemaIntrospectionCustomRule``; so the cache is keyed on
the text alone (hashing a string, not the document's tree). A syntax error (``max_tokens``
included) is not cached: it raises again on the next request and becomes a request error.

One extension does what five did per request (the limits' rule and token options, strawberry's
``ParserCache`` and ``ValidationCache``, the request checks, the introspection switch):
strawberry runs every hook of every extension of a request, so each extension cost its own
instance and context managers on every request.

The checks that depend on the request rather than the text (``operationName`` for a document
of several operations, NUL and lone surrogates in variables: :mod:`api.request_checks`) run
on every request, after the cached validation errors.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from functools import lru_cache
from typing import Any

from graphql import DocumentNode, GraphQLError, GraphQLSchema, ValidationRule, parse
from graphql.validation import NoSchemaIntrospectionCustomRule, specified_rules
from strawberry.extensions import SchemaExtension
from strawberry.schema.schema import validate_document

from api.request_checks import TextLiteralRule, request_errors

#: distinct query texts kept (each a parsed document and its validation errors)
DEFAULT_MAXSIZE = 512


def validation_rules(
    extra: Sequence[type[ValidationRule]], *, introspection: bool
) -> tuple[type[ValidationRule], ...]:
    """The rules every operation is validated with (strawberry adds its own two)."""
    closed = () if introspection else (NoSchemaIntrospectionCustomRule,)
    return (*specified_rules, *extra, TextLiteralRule, *closed)


class OperationCache:
    """``prepared(query)``: the parsed document of ``query`` and its validation errors.

    Args:
        schema: filled in by :meth:`bind` once the strawberry schema exists (the cache is
            built first so that the schema's extension list can hold it).
        rules: the validation rules (:func:`validation_rules`).
        max_tokens: the parser's token limit (``Limits.max_tokens``).
        maxsize: distinct query texts kept.
    """

    def __init__(
        self,
        rules: tuple[type[ValidationRule], ...],
        *,
        max_tokens: int,
        maxsize: int = DEFAULT_MAXSIZE,
    ) -> None:
        self.rules = rules
        self.max_tokens = max_tokens
        self._schema: GraphQLSchema | None = None
        self.prepared = lru_cache(maxsize=maxsize)(self._prepare)

    def bind(self, schema: GraphQLSchema) -> None:
        self._schema = schema
        self.prepared.cache_clear()

    def _prepare(self, query: str) -> tuple[DocumentNode, list[GraphQLError]]:
        if self._schema is None:
            raise RuntimeError("OperationCache.bind(schema) was not called")
        document = parse(query, max_tokens=self.max_tokens)
        return document, validate_document(self._schema, document, self.rules)

    def extension(self) -> CachedOperation:
        """The per-request extension (a factory for strawberry's extension list)."""
        return CachedOperation(self)


class CachedOperation(SchemaExtension):
    """Parse and validate from the :class:`OperationCache`, then add the request's own checks
    (see the module docstring)."""

    def __init__(self, cache: OperationCache) -> None:
        super().__init__()
        self.cache = cache
        self._errors: list[GraphQLError] = []

    def on_parse(self) -> Iterator[None]:
        context = self.execution_context
        if context.graphql_document is None and context.query:
            context.graphql_document, self._errors = self.cache.prepared(context.query)
        yield

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        # the name the client sent (``operation_name`` falls back to the first operation's)
        provided: Any = getattr(context, "_provided_operation_name", None)
        extra = request_errors(context.graphql_document, provided, context.variables)
        context.pre_execution_errors = [*self._errors, *extra] if extra else self._errors
        yield
