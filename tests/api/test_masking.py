"""Which errors keep their message and which become "Internal error (request id ...)"."""

from __future__ import annotations

from graphql import GraphQLError, parse
from strawberry.schema.exceptions import InvalidOperationTypeError
from strawberry.types.graphql import OperationType

from api.errors import ForbiddenError
from api.masking import mask_error

NODE = parse("{ a }").definitions[0]


def test_resolver_bugs_are_masked() -> None:
    at_field = GraphQLError("KeyError: 'secret'", path=["skills"], original_error=KeyError("x"))
    masked = mask_error(at_field, "r1")
    assert masked.message == "Internal error (request id r1)"
    assert masked.path == ["skills"] and masked.extensions == {
        "code": "INTERNAL",
        "requestId": "r1",
    }
    # raised by a subscription's event stream: no path, no location
    in_stream = GraphQLError("db password", original_error=RuntimeError("db password"))
    assert mask_error(in_stream, "r2").message == "Internal error (request id r2)"


def test_expected_and_client_errors_keep_their_message() -> None:
    forbidden = GraphQLError("no", path=["learner"], original_error=ForbiddenError("not yours"))
    kept = mask_error(forbidden, "r")
    assert kept.message == "not yours" and kept.extensions == {"code": "FORBIDDEN"}
    wrapped = GraphQLError(
        "x", original_error=GraphQLError("y", original_error=ForbiddenError("z"))
    )
    assert mask_error(wrapped, "r").message == "z"
    syntax = GraphQLError("Syntax Error: Expected Name")
    assert mask_error(syntax, "r") is syntax
    bad_literal = GraphQLError("Expected DateTime", NODE, original_error=ValueError("bad date"))
    assert mask_error(bad_literal, "r") is bad_literal
    wrong_type = GraphQLError(
        "mutations are not allowed",
        original_error=InvalidOperationTypeError(OperationType.MUTATION),
    )
    assert mask_error(wrong_type, "r") is wrong_type


def test_store_validation_errors_are_the_clients() -> None:
    from graph.store import ValidationError

    refused = GraphQLError("x", path=["a"], original_error=ValidationError("limit", "0 is bad"))
    kept = mask_error(refused, "r")
    assert kept.message == "limit: 0 is bad" and kept.extensions == {"code": "BAD_USER_INPUT"}
