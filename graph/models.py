"""Domain objects shared by every layer.

All are frozen dataclasses: they are values, built by the stores and by callers, never mutated.
Timestamps are timezone-aware UTC ``datetime`` objects. Collections are tuples so that the
objects stay hashable and immutable.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, Generic, TypeVar

#: the row type of a :class:`HistoryWindow`
T = TypeVar("T")


def utcnow() -> datetime:
    """The current time, timezone-aware, in UTC."""
    return datetime.now(UTC)


class ItemKind(StrEnum):
    EXERCISE = "exercise"
    LESSON = "lesson"
    VIDEO = "video"
    READING = "reading"


class Role(StrEnum):
    LEARNER = "learner"
    TEACHER = "teacher"
    DESIGNER = "designer"
    ADMIN = "admin"


@dataclass(frozen=True, slots=True)
class Skill:
    """A unit of knowledge a learner can master (a node of the prerequisite graph)."""

    id: str
    name: str
    description: str = ""
    topic: str = ""
    area: str = ""
    tags: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Prerequisite:
    """Edge ``source -> target``: skill ``source`` must be learned before skill ``target``.

    ``strength`` in [0, 1] says how much ``target`` depends on ``source`` (1 = strictly).
    """

    source: str
    target: str
    strength: float = 1.0


@dataclass(frozen=True, slots=True)
class SkillWeight:
    """One Q-matrix entry: an item assesses ``skill_id`` with ``weight`` in (0, 1]."""

    skill_id: str
    weight: float = 1.0


@dataclass(frozen=True, slots=True)
class Item:
    """A piece of content: an exercise to answer, or a lesson, video or reading to study.

    ``difficulty`` is on [0, 1] (0 easiest, 1 hardest); ``expected_seconds`` is the typical
    time to complete it. ``skills`` is the item's row of the Q-matrix.

    What a practice screen shows of an exercise: ``prompt`` (the question), ``choices`` (empty:
    a free answer), ``hints`` (in the order to reveal them) and, after answering,
    ``explanation``. ``answers`` is the answer key, never shown to a learner before they answer:
    the accepted answers (each one of ``choices`` when there are choices), compared by
    :func:`graph.answers.check_answer`. An exercise without answers is scored by the client.
    """

    id: str
    kind: ItemKind
    title: str
    skills: tuple[SkillWeight, ...] = ()
    body: str = ""
    url: str = ""
    difficulty: float = 0.5
    expected_seconds: int = 60
    prompt: str = ""
    choices: tuple[str, ...] = ()
    answers: tuple[str, ...] = ()
    hints: tuple[str, ...] = ()
    explanation: str = ""

    @property
    def checkable(self) -> bool:
        """Whether the server can score a learner's response (the item has an answer key)."""
        return bool(self.answers)

    @property
    def skill_ids(self) -> tuple[str, ...]:
        return tuple(w.skill_id for w in self.skills)


#: Recall probability a learner's review schedule aims for when they have not chosen one.
DEFAULT_TARGET_RETENTION = 0.9
#: Allowed target retentions (inclusive). Below 0.7 a skill comes up for review only after
#: recall has fallen under 70%; above 0.97 review intervals shrink to about a quarter of those
#: at 0.9 and the workload climbs steeply for little extra recall.
TARGET_RETENTION_RANGE = (0.7, 0.97)


def retention_problem(value: object) -> str | None:
    """Why ``value`` is not an allowed target retention (a phrase with the fix), or None."""
    lo, hi = TARGET_RETENTION_RANGE
    if isinstance(value, bool) or not isinstance(value, int | float) or not lo <= value <= hi:
        return f"must be a recall probability in [{lo}, {hi}], e.g. {DEFAULT_TARGET_RETENTION}"
    return None


@dataclass(frozen=True, slots=True)
class Learner:
    """A person who learns.

    ``target_retention`` is the recall probability their spaced review aims for (lower: fewer
    reviews, more forgetting; see ``recommender.review``); None means
    :data:`DEFAULT_TARGET_RETENTION`. Stores write a learner whole, so upserting a learner
    without it resets it to the default: rebuild a learner from the stored one to keep it.
    """

    id: str
    display_name: str
    goals: tuple[str, ...] = ()
    target_retention: float | None = None

    @property
    def effective_target_retention(self) -> float:
        """``target_retention``, or the default when the learner has not chosen one."""
        if self.target_retention is None:
            return DEFAULT_TARGET_RETENTION
        return self.target_retention


@dataclass(frozen=True, slots=True)
class User:
    """A person who signs in: a learner, teacher, curriculum designer or admin."""

    id: str
    display_name: str
    role: Role


@dataclass(frozen=True, slots=True)
class Group:
    """A class: the learners in it and the teachers who may see their data."""

    id: str
    name: str
    teacher_ids: tuple[str, ...] = ()
    learner_ids: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class GroupGoal:
    """A goal (assignment) a teacher sets for a whole group: a skill to master, optionally by
    ``due_at``, with a note for the class. A group's goals are an ordered list. ``set_by`` is
    the user id of who set it (None: not recorded, e.g. goals stored before migration 0010)."""

    skill_id: str
    due_at: datetime | None = None
    note: str = ""
    set_by: str | None = None


@dataclass(frozen=True, slots=True)
class Attempt:
    """One answer by a learner to an item.

    ``attempt_id`` is chosen by the client so that a retried request is stored once.
    ``score`` is in [0, 1]; a plain right/wrong answer is 1.0 or 0.0.
    """

    attempt_id: str
    learner_id: str
    item_id: str
    score: float
    timestamp: datetime
    response_time_ms: int | None = None
    hints_used: int = 0

    @property
    def correct(self) -> bool:
        return self.score >= 0.5


@dataclass(frozen=True, slots=True)
class View:
    """A learner studied a lesson, video or reading. Not an answer: it has no score and is never
    traced, so it moves no mastery.

    ``view_id`` is chosen by the client so that a retried request is stored once. ``seconds``
    is the time spent (None: not measured); ``progress`` in [0, 1] the share watched or read.
    """

    view_id: str
    learner_id: str
    item_id: str
    timestamp: datetime
    seconds: int | None = None
    progress: float = 1.0


@dataclass(frozen=True, slots=True)
class ViewPage:
    """A page of a learner's views, newest first; ``next_cursor`` is None on the last page."""

    views: tuple[View, ...]
    next_cursor: str | None


@dataclass(frozen=True, slots=True)
class Mastery:
    """A tracer's estimate that ``learner_id`` has mastered ``skill_id``."""

    learner_id: str
    skill_id: str
    probability: float
    uncertainty: float
    updated_at: datetime
    model_version: str


@dataclass(frozen=True, slots=True)
class CurriculumChange:
    """One entry of the curriculum change log: who did what, when.

    ``batch`` is the seq of the first change written by the same transaction (one API edit,
    bulk edit or import); ``before`` / ``after`` are the entity as it was and as it became
    (None: it did not exist), in the JSON form of ``graph.curriculum_json``. Entries written
    before migration 0009 (sqlite) / 0007 (neo4j), or by the CLI's bulk writes, have neither
    and their own seq as batch."""

    seq: int
    actor: str
    at: datetime
    action: str
    entity: str
    entity_id: str
    detail: dict[str, Any] = field(default_factory=dict)
    batch: int | None = None
    before: dict[str, Any] | None = None
    after: dict[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class PrerequisiteGraph:
    """A set of skills and the prerequisite edges among them."""

    skills: tuple[Skill, ...]
    edges: tuple[Prerequisite, ...]


@dataclass(frozen=True, slots=True)
class RecordResult:
    """What ``record_attempts`` did: which attempt ids were new and which were already stored.

    ``timestamps``: for each duplicate among the call's ``untimed`` ids, the timestamp stored
    by the try that stored it (the attempt as stored is the one to trace and answer with)."""

    stored: tuple[str, ...]
    duplicates: tuple[str, ...]
    timestamps: dict[str, datetime] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class AttemptPage:
    """A page of a learner's attempts, newest first; ``next_cursor`` is None on the last page."""

    attempts: tuple[Attempt, ...]
    next_cursor: str | None


@dataclass(frozen=True, slots=True)
class StoredAlert:
    """An alert a teacher was raised about a learner (``analytics.alerts`` derives them; the
    store keeps each condition once, by ``key``: ``KIND:learner[:skill]``). ``raised_at``: when
    the store first kept this occurrence; ``since``: when the condition began. ``reasons``:
    JSON-able maps (the risk model's reasons). Acknowledged (dismissed) by ``acknowledged_by``
    at ``acknowledged_at``; an acknowledged alert whose condition begins again after that is a
    new occurrence and opens again."""

    key: str
    kind: str
    learner_id: str
    since: datetime
    message: str
    raised_at: datetime
    skill_id: str | None = None
    root_cause_id: str | None = None
    risk: float | None = None
    reasons: tuple[dict[str, Any], ...] = ()
    acknowledged_at: datetime | None = None
    acknowledged_by: str | None = None

    @property
    def acknowledged(self) -> bool:
        return self.acknowledged_at is not None


@dataclass(frozen=True, slots=True)
class WindowRequest:
    """Which window of a learner's history (attempts or views, newest first) to read: rows
    strictly older than the position ``after`` and newer than ``before`` (cursors the store
    issued; each bound optional), the newest ``limit`` of them, or with ``backward`` the
    oldest ``limit`` (still listed newest first)."""

    limit: int = 50
    after: str | None = None
    before: str | None = None
    backward: bool = False


@dataclass(frozen=True, slots=True)
class HistoryWindow(Generic[T]):
    """A window of a learner's history (attempts or views), newest first, ties by id
    descending. ``cursors[i]`` is the keyset position of ``rows[i]``: pass it as ``after``
    (older rows) or ``before`` (newer rows). ``has_newer`` / ``has_older``: rows exist before
    the window's first row / after its last row in that order (around the window's bounds
    when it is empty)."""

    rows: tuple[T, ...]
    cursors: tuple[str, ...]
    has_newer: bool
    has_older: bool


@dataclass(frozen=True, slots=True)
class TracerRecord:
    """A learner's saved tracer state for one model version and its ``version``: a counter the
    store bumps on every write of that state, so that a read-modify-write can be made
    conditional on nothing having written it since (``GraphStore.save_traced``)."""

    state: bytes
    version: int


@dataclass(frozen=True, slots=True)
class TracerWrite:
    """A compare-and-set write of a learner's tracer state (``GraphStore.save_traced``):
    ``state`` replaces the stored one only if the stored version is still ``expected``
    (0: the learner has no state for ``model_version`` yet)."""

    learner_id: str
    model_version: str
    state: bytes
    expected: int


@dataclass(frozen=True, slots=True)
class ServingProbe:
    """What a serving process checks its caches against, read in one round trip
    (``GraphStore.serving_probe``): the key of the store's serving tracer model (None: BKT with
    population defaults) and the curriculum change log's last seq (0: no entry yet)."""

    serving_model: str | None
    change_seq: int


@dataclass(frozen=True, slots=True)
class LearnerSnapshot:
    """One learner as a recommendation reads them, in one store call and one read transaction
    (``GraphStore.learner_snapshot``): the learner (None: no such learner, and then every
    other part is empty), their latest P(mastered) per skill, their newest attempts and views
    (newest first), their tracer state for the model version asked (None: none asked, or none
    saved), and the store's :class:`ServingProbe` at the same moment."""

    learner: Learner | None
    mastery: dict[str, float]
    attempts: tuple[Attempt, ...]
    views: tuple[View, ...]
    tracer_state: bytes | None
    probe: ServingProbe


class ActivationState(StrEnum):
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class TracerActivation:
    """A switch of a store's serving tracer model, run as a background job
    (``tracing.activation``): its state, progress and outcome, kept in the store so that any
    server process can answer for it.

    ``key`` is the model version switched to (``bkt-default``: BKT with population
    defaults); ``previous`` the one served when it started; ``changed`` False when ``key`` was
    already served (nothing to do). The counts are those of the rebuild (learners given a
    state, answers replayed, passes, answers recorded during the last pass)."""

    id: str
    key: str
    state: ActivationState
    started_at: datetime
    updated_at: datetime
    previous: str = ""
    progress: float = 0.0
    message: str = ""
    error: str | None = None
    finished_at: datetime | None = None
    changed: bool = True
    learners: int = 0
    attempts: int = 0
    passes: int = 0
    missed: int = 0
