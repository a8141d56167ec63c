"""Strawberry types: the only place GraphQL types are defined. Each is built from a frozen
domain dataclass with ``from_domain`` and keeps it in a ``strawberry.Private`` field."""
