"""The ``GraphStore`` protocol every store implements, and the package's errors.

Two stores implement it: :class:`graph.sqlite_store.SqliteStore` (embedded, the default) and
:class:`graph.neo4j_store.Neo4jStore` (production). ``tests/contract/`` runs one suite on both.

Conventions shared by every method:

* Batch reads take a sequence of ids and return results **in the order asked**, with ``None``
  for ids that do not exist (so a DataLoader can use them directly).
* Writes are atomic: a call either writes everything or raises and writes nothing.
* Every store checks its input with the same functions (``graph.checks``) before it writes:
  a bad value is a ValidationError naming the field, whichever store is behind the protocol.
* Curriculum writes take ``actor`` (a user id) and append to the change log.
"""

from __future__ import annotations

import enum
from collections.abc import Collection, Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Final, Protocol, runtime_checkable

from graph.models import (
    Attempt,
    AttemptPage,
    CurriculumChange,
    Group,
    GroupGoal,
    HistoryWindow,
    Item,
    ItemKind,
    Learner,
    LearnerSnapshot,
    Mastery,
    Prerequisite,
    PrerequisiteGraph,
    RecordResult,
    ServingProbe,
    Skill,
    StoredAlert,
    TracerActivation,
    TracerRecord,
    TracerWrite,
    User,
    View,
    ViewPage,
    WindowRequest,
)

if TYPE_CHECKING:  # graph.curriculum_edit imports this module's errors
    from graph.curriculum_edit import Applied, CurriculumDiff, Snapshot


class Unset(enum.Enum):
    """The type of :data:`UNSET`: a field a partial update leaves as stored (``None`` may be a
    value to write, e.g. a target retention back to the default)."""

    UNSET = "UNSET"


#: Default of every field of a partial update: leave the stored value as it is.
UNSET: Final = Unset.UNSET


class GraphStoreError(Exception):
    """Root of every error raised by ``graph``."""


class NotFoundError(GraphStoreError):
    """Some ids named in a write do not exist."""

    def __init__(self, entity: str, ids: Sequence[str]) -> None:
        self.entity = entity
        self.ids = tuple(ids)
        shown = ", ".join(repr(i) for i in self.ids[:10])
        more = f" and {len(self.ids) - 10} more" if len(self.ids) > 10 else ""
        super().__init__(f"unknown {entity} id(s): {shown}{more}")


class CycleError(GraphStoreError):
    """A prerequisite edit would create a cycle; ``cycle`` lists it, first id repeated last."""

    def __init__(self, cycle: Sequence[str]) -> None:
        self.cycle = tuple(cycle)
        super().__init__(
            "prerequisite edit refused: it would create the cycle " + " -> ".join(self.cycle)
        )


class ValidationError(GraphStoreError):
    """A value is out of range or malformed; ``field`` names it."""

    def __init__(self, field: str, message: str) -> None:
        self.field = field
        self.message = message
        super().__init__(f"{field}: {message}")


class AttemptConflictError(GraphStoreError):
    """An attempt id was already stored with different content (not a retry of the same one)."""

    def __init__(self, attempt_ids: Sequence[str]) -> None:
        self.attempt_ids = tuple(attempt_ids)
        super().__init__(
            "attempt id(s) already stored with different content: "
            + ", ".join(repr(a) for a in self.attempt_ids[:10])
            + "; use a new attempt id for a new answer"
        )


class ViewConflictError(GraphStoreError):
    """A view id was already stored with different content (not a retry of the same one)."""

    def __init__(self, view_ids: Sequence[str]) -> None:
        self.view_ids = tuple(view_ids)
        super().__init__(
            "view id(s) already stored with different content: "
            + ", ".join(repr(a) for a in self.view_ids[:10])
            + "; use a new view id for a new view"
        )


class MigrationError(GraphStoreError):
    """The store's schema is missing migrations or a recorded migration has changed."""


class StoreUnavailableError(GraphStoreError):
    """The store cannot be reached or opened (bad URL, server down, bad credentials)."""


@runtime_checkable
class GraphStore(Protocol):
    """Async storage of the curriculum, the people and the learning history."""

    #: "sqlite" or "neo4j": selects the migration set.
    kind: str

    async def close(self) -> None: ...

    async def ping(self) -> None:
        """Check, quickly and without retrying, that the store answers now: one round trip
        (no transaction retries, no waiting for a pool). StoreUnavailableError naming the
        reason if not. Health checks and the API's circuit breaker use it."""
        ...

    # -- migrations (used by ``migrations.runner``) ----------------------------------------
    async def applied_migrations(self) -> dict[int, str]:
        """Version -> checksum of every migration recorded in the store."""
        ...

    async def apply_migration(
        self, version: int, name: str, checksum: str, statements: Sequence[str]
    ) -> None:
        """Run ``statements`` and record the migration (atomically where the store allows)."""
        ...

    # -- curriculum reads ------------------------------------------------------------------
    async def get_skills(self, ids: Sequence[str]) -> list[Skill | None]: ...

    async def get_items(self, ids: Sequence[str]) -> list[Item | None]: ...

    async def list_skills(
        self,
        *,
        topic: str | None = None,
        area: str | None = None,
        search: str | None = None,
        has_prerequisite: bool | None = None,
        after: str | None = None,
        limit: int = 100,
        before: str | None = None,
        backward: bool = False,
    ) -> list[Skill]:
        """Skills ordered by id, those with ``after`` < id < ``before`` (each bound optional):
        the first ``limit`` of them, or with ``backward`` the last ``limit`` (still in id
        order); ``search`` matches the name, case-insensitively, as a substring."""
        ...

    async def count_skills(
        self,
        *,
        topic: str | None = None,
        area: str | None = None,
        search: str | None = None,
        has_prerequisite: bool | None = None,
    ) -> int:
        """How many skills :meth:`list_skills` with these filters lists over all pages."""
        ...

    async def list_items(
        self,
        *,
        skill_id: str | None = None,
        kind: ItemKind | None = None,
        after: str | None = None,
        limit: int = 100,
        before: str | None = None,
        backward: bool = False,
    ) -> list[Item]:
        """Items ordered by id, those with ``after`` < id < ``before``: the first ``limit``,
        or with ``backward`` the last ``limit`` (still in id order)."""
        ...

    async def count_items(
        self, *, skill_id: str | None = None, kind: ItemKind | None = None
    ) -> int:
        """How many items :meth:`list_items` with these filters lists over all pages."""
        ...

    async def items_for_skills(self, skill_ids: Sequence[str]) -> list[list[Item]]:
        """For each skill id in order, the items assessing it (ordered by item id)."""
        ...

    async def prerequisite_graph(self) -> PrerequisiteGraph:
        """The whole curriculum graph: every skill and every edge."""
        ...

    async def prerequisites_of(self, skill_ids: Sequence[str]) -> list[list[Prerequisite]]:
        """For each skill id in order, its direct incoming edges (its prerequisites)."""
        ...

    async def dependents_of(self, skill_ids: Sequence[str]) -> list[list[Prerequisite]]:
        """For each skill id in order, its direct outgoing edges (skills that need it)."""
        ...

    async def ancestors(
        self, skill_ids: Sequence[str], depth: int | None = None
    ) -> PrerequisiteGraph:
        """The given skills plus everything they (transitively) require, up to ``depth``
        edges away (None = unbounded), with the edges among them."""
        ...

    async def descendants(
        self, skill_ids: Sequence[str], depth: int | None = None
    ) -> PrerequisiteGraph:
        """The given skills plus everything that (transitively) requires them."""
        ...

    # -- curriculum writes (each appends to the change log) ----------------------------------
    async def upsert_skills(self, skills: Sequence[Skill], *, actor: str) -> None: ...

    async def upsert_items(self, items: Sequence[Item], *, actor: str) -> None:
        """Insert or replace items with their Q-matrix rows. Unknown skill ids: NotFoundError."""
        ...

    async def upsert_prerequisites(self, edges: Sequence[Prerequisite], *, actor: str) -> None:
        """Insert edges or update their strength. Unknown skills: NotFoundError; a self-loop:
        ValidationError; an edge set that would close a cycle: CycleError, nothing written."""
        ...

    async def remove_skills(self, ids: Sequence[str], *, actor: str) -> None:
        """Delete skills, their edges and their Q-matrix entries. Missing ids are ignored."""
        ...

    async def remove_items(self, ids: Sequence[str], *, actor: str) -> None: ...

    async def remove_prerequisites(self, edges: Sequence[tuple[str, str]], *, actor: str) -> None:
        """Delete ``(source, target)`` edges; missing ones are ignored."""
        ...

    async def change_log(self, *, after_seq: int = 0, limit: int = 100) -> list[CurriculumChange]:
        """Curriculum changes with ``seq > after_seq``, oldest first."""
        ...

    # -- planned curriculum edits (``graph.curriculum_edit``) -------------------------------
    async def last_change_seq(self) -> int:
        """The seq of the newest change-log entry (0 for none): the curriculum's version."""
        ...

    async def curriculum_snapshot(
        self, item_ids: Collection[str] = (), skill_ids: Collection[str] = ()
    ) -> Snapshot:
        """Read in one transaction the change log's last seq, every skill and edge, and the
        items ``item_ids`` plus those assessing any of ``skill_ids``: what a plan needs."""
        ...

    async def apply_curriculum(
        self, diff: CurriculumDiff, *, actor: str, base_seq: int
    ) -> Applied:
        """Write a plan's diff and its change-log batch in one transaction, only if the log's
        last seq is still ``base_seq`` (else CurriculumMovedError, nothing written: plan
        again). The mastery rows and goals of each removed skill are archived under the batch
        first; ``diff.restore`` puts archived ones back. Returns the changes as logged."""
        ...

    async def change_batch(self, seq: int) -> list[CurriculumChange]:
        """Every change of the batch that change ``seq`` belongs to, oldest first ([] for an
        unknown seq)."""
        ...

    # -- people ----------------------------------------------------------------------------
    async def get_learners(self, ids: Sequence[str]) -> list[Learner | None]: ...

    async def list_learners(self, *, after: str | None = None, limit: int = 100) -> list[Learner]:
        """Learners ordered by id, those with id > ``after`` (keyset paging: pass the last id
        of a page to get the next one)."""
        ...

    async def get_users(self, ids: Sequence[str]) -> list[User | None]: ...

    async def get_groups(self, ids: Sequence[str]) -> list[Group | None]: ...

    async def upsert_learners(self, learners: Sequence[Learner]) -> None:
        """Insert or replace learners, each written whole (a learner without
        ``target_retention`` gets the default: rebuild from the stored learner to keep it, or
        change one field of a stored learner with :meth:`update_learner`).
        Goals naming unknown skills: NotFoundError; a target retention outside
        ``TARGET_RETENTION_RANGE``: ValidationError (``learner.target_retention``)."""
        ...

    async def update_learner(
        self,
        learner_id: str,
        *,
        display_name: str | Unset = UNSET,
        goals: Sequence[str] | Unset = UNSET,
        target_retention: float | None | Unset = UNSET,
    ) -> Learner:
        """Change only the fields given, in one transaction, and return the learner as stored
        after it. Two concurrent updates of different fields both stay (unlike reading the
        learner and upserting it whole); goals replace the whole goal list in the order given;
        ``target_retention=None`` goes back to the default. An unknown learner or goal skill:
        NotFoundError; a bad value: ValidationError (the fields of ``upsert_learners``), and
        nothing is written."""
        ...

    async def upsert_users(self, users: Sequence[User]) -> None: ...

    async def upsert_groups(self, groups: Sequence[Group]) -> None:
        """Insert or replace groups with their member lists. Unknown learner ids: NotFoundError."""
        ...

    async def rename_group(self, group_id: str, name: str) -> Group:
        """Change only group ``group_id``'s name and return the group: its learners and
        teachers stay as stored, so a rename never undoes a concurrent roster change (as
        reading the group and upserting it whole would). An unknown group: NotFoundError;
        a bad name: ValidationError, and nothing is written."""
        ...

    async def remove_groups(self, ids: Sequence[str]) -> None: ...

    async def groups_of_teacher(self, teacher_id: str) -> list[Group]: ...

    async def groups_of_learners(self, learner_ids: Sequence[str]) -> list[list[Group]]: ...

    async def learners_of_groups(self, group_ids: Sequence[str]) -> list[list[Learner]]:
        """For each group id in order, its learners ordered by id ([] for a missing group)."""
        ...

    async def set_group_goals(
        self, group_id: str, goals: Sequence[GroupGoal]
    ) -> tuple[GroupGoal, ...]:
        """Replace group ``group_id``'s class goals with ``goals``, in that order, and return
        them as stored. An unknown group or skill: NotFoundError; a skill listed twice, a
        naive ``due_at`` or an over-long note: ValidationError; nothing is written then."""
        ...

    async def group_goals(self, group_ids: Sequence[str]) -> list[tuple[GroupGoal, ...]]:
        """For each group id in order, its class goals in their order (() for a group with
        none, or no such group)."""
        ...

    # -- attempts --------------------------------------------------------------------------
    async def record_attempts(
        self, attempts: Sequence[Attempt], *, untimed: Collection[str] = ()
    ) -> RecordResult:
        """Store attempts, idempotent on ``attempt_id``: an id already stored with the same
        content is reported in ``duplicates`` and not stored again; with different content
        the whole call fails with AttemptConflictError. Unknown learners or items:
        NotFoundError. Nothing is written when any attempt is refused.

        ``untimed`` names attempts whose timestamp the caller filled in (the client sent
        none): their timestamp is not part of the comparison with a stored attempt, so a
        retry filled in at another time is still a duplicate, and ``RecordResult.timestamps``
        gives the timestamp stored by the first try."""
        ...

    async def attempts_of(
        self,
        learner_id: str,
        *,
        limit: int = 50,
        cursor: str | None = None,
        since: datetime | None = None,
    ) -> AttemptPage:
        """A learner's attempts, newest first (ties broken by attempt id), ``limit`` per page."""
        ...

    async def attempts_window(self, learner_id: str, window: WindowRequest
                              ) -> HistoryWindow[Attempt]:
        """The ``window`` of a learner's attempts (ties by attempt id, descending; cursors of
        this method or ``attempts_of``): one keyset read and one probe at the cursor, never a
        scan of the history. A cursor this store did not issue: ValidationError naming it
        (``after`` or ``before``)."""
        ...

    async def attempt_count(self, learner_id: str | None = None) -> int: ...

    async def latest_attempts(
        self, learner_ids: Sequence[str], *, limit: int
    ) -> list[tuple[Attempt, ...]]:
        """For each learner id in order, their newest ``limit`` attempts, newest first (ties
        by attempt id descending, as ``attempts_of``); () for a learner with none or no such
        learner. One read for the whole list (a class's histories, not one call a learner).
        A ``limit`` below 1: ValidationError."""
        ...

    # -- views -----------------------------------------------------------------------------
    async def record_views(
        self, views: Sequence[View], *, untimed: Collection[str] = ()
    ) -> RecordResult:
        """Store views of lessons, videos and readings, idempotent on ``view_id`` as
        :meth:`record_attempts` is on attempt ids (``untimed``: ids whose timestamp the server
        filled in, compared on the other fields; ``RecordResult.timestamps`` gives the stored
        time of those found stored). An id stored with other content: ViewConflictError;
        unknown learners or items: NotFoundError; a view of an exercise: ValidationError (an
        answer is an attempt). Nothing is written when any view is refused."""
        ...

    async def views_of(
        self, learner_id: str, *, limit: int = 50, cursor: str | None = None
    ) -> ViewPage:
        """A learner's views, newest first (ties broken by view id), ``limit`` per page."""
        ...

    async def views_window(self, learner_id: str, window: WindowRequest) -> HistoryWindow[View]:
        """The ``window`` of a learner's views, as :meth:`attempts_window` for attempts."""
        ...

    async def view_count(self, learner_id: str | None = None) -> int: ...

    # -- alerts ----------------------------------------------------------------------------
    async def raise_alerts(self, alerts: Sequence[StoredAlert]) -> list[StoredAlert]:
        """Keep raised alerts, idempotent by ``key``: a new key is stored as given (open); an
        open one keeps its ``raised_at`` and takes the new content; an acknowledged one opens
        again (the new ``raised_at``, no acknowledgement) only when its ``since`` is after the
        acknowledgement, else stays as it is. Returns each alert as stored, in order. Unknown
        learners: NotFoundError; nothing is written then."""
        ...

    async def get_alerts(self, keys: Sequence[str]) -> list[StoredAlert | None]:
        """For each key in order, the stored alert or None."""
        ...

    async def alerts_of(
        self, learner_ids: Sequence[str], *, acknowledged: bool | None = None
    ) -> list[StoredAlert]:
        """The stored alerts of these learners (only the open ones with ``acknowledged=False``,
        only the acknowledged with True), newest ``since`` first, ties by key."""
        ...

    async def acknowledge_alert(self, key: str, *, by: str, at: datetime) -> StoredAlert | None:
        """Mark the alert acknowledged by ``by`` at ``at`` and return it (None: no such key).
        Idempotent: an acknowledged alert keeps its first acknowledgement."""
        ...

    async def item_gain_counts(
        self, item_ids: Sequence[str] | None = None
    ) -> dict[str, tuple[int, int]]:
        """Item id -> ``(successes, failures)`` of its observed learning gain, derived from
        the stored attempts (nothing extra is written). Only items with at least one
        observation appear; with ``item_ids`` only those (unknown ids are simply absent).

        The definition (that of ``recommender.next_item.GainStats``, as the simulation
        applies it): an item's *main skill* is the first skill of its current Q-matrix row.
        Each learner's attempts on items with main skill ``s`` form one sequence, ordered by
        ``(timestamp, attempt_id)``; every attempt on item ``X`` that has a next attempt in
        that sequence gives ``X`` one observation: a success when the next attempt is correct
        (``score >= 0.5``), else a failure. A learner's last attempt on a skill gives none;
        secondary skills of an item are ignored (so an attempt is observed at most once);
        attempts on items that no longer exist or assess no skill are left out.
        """
        ...

    # -- mastery ---------------------------------------------------------------------------
    async def save_mastery(self, rows: Sequence[Mastery]) -> None:
        """Store the latest mastery per (learner, skill), replacing what was there."""
        ...

    async def mastery_of(self, learner_ids: Sequence[str]) -> list[list[Mastery]]:
        """For each learner id in order, the latest mastery of every skill with an estimate
        (ordered by skill id)."""
        ...

    async def mastery_of_group(self, group_id: str) -> Mapping[str, list[Mastery]]:
        """Learner id -> latest mastery rows, for every learner of the group."""
        ...

    async def mastery_probabilities(
        self, learner_id: str, skill_ids: Sequence[str] | None = None
    ) -> dict[str, float]:
        """The learner's latest P(mastered) per skill with an estimate, ``{skill_id:
        probability}`` (only the skills of ``skill_ids`` when given; an unknown learner or
        skill is simply absent). The recommender's per-request read: the same probabilities
        as :meth:`mastery_of`, without building a row object (and its timestamp) per skill."""
        ...

    async def learner_snapshot(
        self,
        learner_id: str,
        *,
        attempts: int,
        views: int = 0,
        tracer_model: str | None = None,
    ) -> LearnerSnapshot:
        """Everything a recommendation reads of one learner, in one call and one read
        transaction: the learner, ``mastery_probabilities``, the newest ``attempts`` attempts
        and ``views`` views (as ``attempts_of`` / ``views_of`` list them, newest first; 0 reads
        none), the tracer state saved for model version ``tracer_model`` (None: not read), and
        the :meth:`serving_probe` of the same moment. An unknown learner is no error: its
        snapshot has ``learner`` None and nothing else. A negative count: ValidationError."""
        ...

    # -- tracer state (so an online update needs no replay of history) ----------------------
    async def load_tracer_states(
        self, learner_ids: Sequence[str], model_version: str
    ) -> list[bytes | None]:
        """For each learner id in order, the serialized tracer state saved for that model
        version, or None."""
        ...

    async def save_tracer_states(self, states: Sequence[tuple[str, str, bytes]]) -> None:
        """Store ``(learner_id, model_version, state)`` rows, replacing what was there, and
        bump each one's version (so a concurrent :meth:`save_traced` from the old version
        fails and re-reads)."""
        ...

    async def load_tracer_records(
        self, learner_ids: Sequence[str], model_version: str
    ) -> list[TracerRecord | None]:
        """:meth:`load_tracer_states` with each state's version, for :meth:`save_traced`."""
        ...

    async def save_traced(
        self, writes: Sequence[TracerWrite], mastery: Sequence[Mastery]
    ) -> tuple[str, ...]:
        """Compare-and-set of tracer states, with their mastery rows, in one transaction: each
        write replaces its learner's state for its model version, and bumps the version, only
        if the stored version is still ``write.expected`` (0: no state yet); the mastery rows
        of the learners written are saved with them. Returns the learner ids whose version had
        moved (a concurrent writer, in this process or another): nothing of theirs is written,
        neither state nor mastery; the caller re-reads and retries them. This is the one write
        that may leave part of a call unwritten, by design, per learner. An unknown learner or
        skill: NotFoundError; a mastery row of a learner not in ``writes``, or two writes of
        one (learner, version): ValidationError; nothing is written then."""
        ...

    # -- the serving tracer model -------------------------------------------------------------
    async def serving_model(self) -> str | None:
        """The key of the tracer model serving this store (a registry key such as
        ``gnn-v3``), or None: BKT with population defaults (``bkt-default``)."""
        ...

    async def serving_probe(self) -> ServingProbe:
        """:meth:`serving_model` and :meth:`last_change_seq` in one round trip: what a serving
        process checks its caches (the tracer's model, the curriculum index) against."""
        ...

    async def set_serving_model(self, key: str | None) -> None:
        """Make ``key`` (None: BKT with population defaults) this store's serving model. Only
        the switch (``tracing.switch``) calls it, after rebuilding every learner's state."""
        ...

    async def save_tracer_activation(self, job: TracerActivation) -> None:
        """Insert or replace the record of a serving-model switch job (by ``job.id``)."""
        ...

    async def get_tracer_activations(self, ids: Sequence[str]
                                     ) -> list[TracerActivation | None]:
        """For each id in order, the switch job's record, or None."""
        ...
