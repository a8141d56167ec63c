"""Checks of a request that GraphQL validation does not make, for HTTP and WebSocket alike.

* **Which operation to run.** A document with several operations needs ``operationName``
  (GraphQL spec, *GetOperation*); strawberry would run the first one.
* **Text the stores can hold.** Strings may not contain NUL (U+0000) or a lone UTF-16
  surrogate (JSON's ``"\\ud800"`` decodes to one): neither is text, UTF-8 cannot encode a lone
  surrogate, and a NUL is cut short by tools downstream. Variables are checked here, string
  literals of the document by :class:`TextLiteralRule` (the lexer already refuses lone
  surrogates in literals).

A refusal is a GraphQL request error (no ``data``), so over HTTP it answers 400 under
``application/graphql-response+json``, like a validation error.
"""

from __future__ import annotations

from typing import Any

from graphql import GraphQLError, OperationDefinitionNode, StringValueNode, ValidationRule


def text_problem(value: str) -> str | None:
    """Why ``value`` is not storable text (NUL or a lone surrogate), or None."""
    if "\x00" in value:
        return "contains NUL (U+0000)"
    if value.isascii():
        return None
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        return f"contains a lone surrogate (U+{ord(value[exc.start]):04X})"
    return None


def variable_problems(variables: dict[str, Any] | None) -> list[str]:
    """``$path: problem`` for each bad string among ``variables`` (keys included); walks
    iteratively, so no nesting depth can overflow the stack."""
    problems: list[str] = []
    stack: list[tuple[str, Any]] = [(f"${k}", v) for k, v in (variables or {}).items()]
    while stack and len(problems) < 10:
        path, value = stack.pop()
        if isinstance(value, str):
            if problem := text_problem(value):
                problems.append(f"{path} {problem}")
        elif isinstance(value, dict):
            for key, item in value.items():
                if isinstance(key, str) and (problem := text_problem(key)):
                    problems.append(f"{path}: the key {key!r} {problem}")
                stack.append((f"{path}.{key}", item))
        elif isinstance(value, list):
            stack.extend((f"{path}[{i}]", item) for i, item in enumerate(value))
    return problems


def operation_choice_error(document: Any, operation_name: str | None) -> GraphQLError | None:
    """The spec's request error for several operations and no ``operationName``."""
    if operation_name is not None or document is None:
        return None
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if len(operations) <= 1:
        return None
    names = ", ".join(o.name.value if o.name else "(anonymous)" for o in operations)
    return GraphQLError(
        f"the document has {len(operations)} operations ({names}); say which one to run "
        "with operationName",
        extensions={"code": "BAD_REQUEST"},
    )


def request_errors(
    document: Any, operation_name: str | None, variables: dict[str, Any] | None
) -> list[GraphQLError]:
    """The request errors of a request (see the module docstring); empty when there are none.
    ``operation_name``: the name the client sent, if any. Run on every request, after the
    document's validation errors (:mod:`api.operation_cache`)."""
    errors: list[GraphQLError] = []
    choice = operation_choice_error(document, operation_name)
    if choice is not None:
        errors.append(choice)
    for problem in variable_problems(variables):
        errors.append(
            GraphQLError(
                f"{problem}; send text without NUL characters or lone surrogates",
                extensions={"code": "BAD_USER_INPUT"},
            )
        )
    return errors


class TextLiteralRule(ValidationRule):
    """String literals of the document may not contain NUL (``"\\u0000"``)."""

    def enter_string_value(self, node: StringValueNode, *_: Any) -> None:
        problem = text_problem(node.value)
        if problem is not None:
            self.report_error(
                GraphQLError(
                    f"the string {node.value!r} {problem}; remove it",
                    node,
                    extensions={"code": "BAD_USER_INPUT"},
                )
            )
