"""The recommender's errors: one root, messages that name the bad value and the fix."""

from __future__ import annotations

from collections.abc import Sequence


class RecommenderError(Exception):
    """Root of every error raised by ``recommender``."""


class UnknownIdError(RecommenderError):
    """Ids that the curriculum index does not contain (a skill, an item)."""

    def __init__(self, entity: str, ids: Sequence[str], hint: str = "") -> None:
        self.entity = entity
        self.ids = tuple(ids)
        shown = ", ".join(repr(i) for i in self.ids[:10])
        more = f" and {len(self.ids) - 10} more" if len(self.ids) > 10 else ""
        fix = hint or f"use ids of {entity}s that exist in the current curriculum"
        super().__init__(f"unknown {entity} id(s): {shown}{more}; {fix}")


class CurriculumCycleError(RecommenderError):
    """The prerequisite edges contain a cycle; ``cycle`` lists it, first id repeated last."""

    def __init__(self, cycle: Sequence[str]) -> None:
        self.cycle = tuple(cycle)
        super().__init__(
            "the prerequisite graph has the cycle "
            + " -> ".join(self.cycle)
            + "; remove one of its edges before building recommendations"
        )


class InvalidParameterError(RecommenderError):
    """A parameter is out of range; ``name`` names it."""

    def __init__(self, name: str, value: object, expected: str) -> None:
        self.name = name
        self.value = value
        super().__init__(f"{name}={value!r} is invalid: expected {expected}")


class MissingExtraError(RecommenderError):
    """A strategy needs an optional extra that is not installed (``extra``, e.g. ``neural``
    for torch); ``missing`` is the module that failed to import."""

    def __init__(self, strategy: str, extra: str, missing: str) -> None:
        self.strategy, self.extra, self.missing = strategy, extra, missing
        super().__init__(
            f"the {strategy!r} strategy needs the {extra!r} extra, and {missing!r} is not "
            f"installed: run `pip install 'learngraph[{extra}]'` (or `pip install -e "
            f"'.[{extra}]'` in a clone), or choose another strategy"
        )
