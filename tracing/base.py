"""The ``Tracer`` protocol that every knowledge-tracing model follows.

Evaluation (``tracing.evaluate``) and serving (``api`` via ``recordAttempts``) treat all models
alike through this surface. Models work on integer indices: ``Vocabulary`` maps the store's
string ids of items and skills to them, and travels with the saved model.

Online use, one learner::

    state = tracer.init_state()                       # population prior
    p = tracer.predict_state(state, [item])           # P(correct) for candidate items
    state = tracer.update(state, Interaction(...))    # O(model size), no replay
    m = tracer.mastery(state)                         # P(mastered) for every skill
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, Self, runtime_checkable

import numpy as np


class TracingError(Exception):
    """Root of every error raised by ``tracing``."""


@dataclass(frozen=True, slots=True)
class Interaction:
    """One answer, in index space: ``item`` assessed ``skills``; ``correct`` is 0 or 1
    (a partial score is thresholded at 0.5 by the caller); ``timestamp`` in seconds."""

    item: int
    skills: tuple[int, ...]
    correct: int
    timestamp: float = 0.0


@dataclass(frozen=True)
class Vocabulary:
    """Maps store ids to model indices. ``item_skills[i]`` is item i's skills (the Q-matrix)."""

    item_ids: tuple[str, ...]
    skill_ids: tuple[str, ...]
    item_skills: tuple[tuple[int, ...], ...]
    prerequisites: tuple[tuple[int, int], ...] = ()  # (source skill, target skill) indices
    _item_index: dict[str, int] = field(default_factory=dict, compare=False, repr=False)
    _skill_index: dict[str, int] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        self._item_index.update({k: i for i, k in enumerate(self.item_ids)})
        self._skill_index.update({k: i for i, k in enumerate(self.skill_ids)})

    @property
    def n_items(self) -> int:
        return len(self.item_ids)

    @property
    def n_skills(self) -> int:
        return len(self.skill_ids)

    def item_index(self, item_id: str) -> int | None:
        return self._item_index.get(item_id)

    def skill_index(self, skill_id: str) -> int | None:
        return self._skill_index.get(skill_id)


def interaction_skills(x: Interaction, vocab: Vocabulary) -> tuple[int, ...]:
    """The skills an interaction assessed: its own, else the item's row of the Q-matrix."""
    return x.skills if x.skills else vocab.item_skills[x.item]


ProgressFn = Callable[[str, float], None]
"""Progress callback: ``(message, fraction done in [0, 1])``."""


@runtime_checkable
class Tracer(Protocol):
    """Surface shared by BKT, Elo/IRT, DKT and the graph-neural tracer."""

    #: short model name: "bkt", "elo", "dkt" or "gnn"
    name: str

    def fit(
        self,
        sequences: Sequence[Sequence[Interaction]],
        vocab: Vocabulary,
        *,
        seed: int = 0,
        progress: ProgressFn | None = None,
    ) -> Self:
        """Train on learners' interaction sequences (each in time order); returns self."""
        ...

    def predict_sequences(self, sequences: Sequence[Sequence[Interaction]]) -> list[np.ndarray]:
        """For each sequence, P(correct) of every interaction given only the ones before it
        in that sequence (the evaluation protocol; batched for speed)."""
        ...

    def init_state(self) -> Any:
        """The state of a learner with no history (the population prior)."""
        ...

    def update(self, state: Any, interaction: Interaction) -> Any:
        """The state after one more answer, in time independent of history length."""
        ...

    def predict_state(self, state: Any, items: Sequence[int]) -> np.ndarray:
        """P(correct) of each item for a learner in ``state``."""
        ...

    def mastery(self, state: Any) -> np.ndarray:
        """P(mastered) of every skill, shape ``(n_skills,)``."""
        ...

    def save(self, path: Path, metadata: dict[str, Any] | None = None) -> None: ...

    @classmethod
    def load(cls, path: Path) -> Self: ...


@runtime_checkable
class BatchReplay(Protocol):
    """Optional: a tracer that replays many learners' histories at once.

    ``replay(histories)[i]`` equals (to float tolerance) the state that ``update`` reaches
    from ``init_state()`` over ``histories[i]`` one interaction at a time; an empty history
    gives ``init_state()``; ``mastery_many`` is ``mastery`` of many states at once. The
    rebuild after a model switch (``tracing.store_train.rebuild_states``) uses both when the
    serving tracer has them.
    """

    def replay(self, histories: Sequence[Sequence[Interaction]]) -> list[Any]: ...

    def mastery_many(self, states: Sequence[Any]) -> np.ndarray:
        """``(len(states), n_skills)``: row ``i`` equals ``mastery(states[i])``."""
        ...
