"""The input checks every store runs before it writes anything: one set of rules, one set of
messages, whichever store is behind ``GraphStore``.

Each ``check_*`` function is pure: it looks at domain objects (``graph.models``) or plain
arguments and raises :class:`~graph.store.ValidationError` naming the field and the bad value
with the fix, or returns None. The batch checks look at every element before the store opens a
transaction, so a batch with one bad element writes nothing.

The rules, where the two stores used to differ, take the stricter reading:

* ids are strings with something besides white space in them;
* numbers are real numbers (``numbers.Real``: ``int``, ``float``, NumPy scalars, ...) and
  never ``bool``; NaN and the infinities are refused; whole numbers (seconds, hints,
  milliseconds, limits) are ``numbers.Integral``, again not ``bool``;
* text fields (names, titles, tags) are strings; lists of ids are lists, not one string;
* timestamps are timezone-aware ``datetime`` objects;
* a batch is checked whole: with a repeated id, an earlier bad copy is refused even though a
  later copy would replace it.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import cast

from graph.models import (
    ActivationState,
    Attempt,
    Group,
    GroupGoal,
    Item,
    ItemKind,
    Learner,
    Mastery,
    Prerequisite,
    Role,
    Skill,
    StoredAlert,
    TracerActivation,
    TracerWrite,
    User,
    View,
    retention_problem,
)
from graph.store import Unset, ValidationError

# -- values -----------------------------------------------------------------------------------


def is_real(value: object) -> bool:
    """A finite real number that is not a bool (NaN, infinities and strings are not)."""
    kind = type(value)
    if kind is float:  # the common cases first: an ABC isinstance costs several times more
        return math.isfinite(cast(float, value))
    if kind is int:
        return True
    return kind is not bool and isinstance(value, numbers.Real) and math.isfinite(value)


def is_count(value: object) -> bool:
    """A whole number >= 0 that is not a bool."""
    kind = type(value)
    if kind is int:
        return cast(int, value) >= 0
    return kind is not bool and isinstance(value, numbers.Integral) and int(value) >= 0


def in_range(value: object, lo: float, hi: float) -> bool:
    """``lo <= value <= hi`` for a finite real number (see :func:`is_real`)."""
    return is_real(value) and lo <= float(cast(numbers.Real, value)) <= hi


def check_id(field: str, value: object, what: str, of: object = None) -> None:
    """``value``, the id of ``what`` (e.g. "a skill"; "the learner of attempt" with ``of`` the
    attempt's id), is a string that is not blank. The message is built only on refusal."""
    if not isinstance(value, str) or not value.strip():
        owner = "" if of is None else f" {of!r}"
        raise ValidationError(field, f"{value!r}: {what}{owner} needs a non-blank string id")


def check_id_list(field: str, values: object, what: str, owner: str) -> None:
    """``values`` (of ``owner``) is a list of distinct non-blank string ids of ``what``."""
    if isinstance(values, str | bytes) or not isinstance(values, Iterable):
        given = "one string" if isinstance(values, str | bytes) else type(values).__name__
        raise ValidationError(field, f"{values!r} of {owner!r} must be a list of {what} ids, "
                              f"not {given}")
    listed = list(values)
    for value in listed:
        check_id(field, value, what)
    if len(set(listed)) != len(listed):
        raise ValidationError(field, f"{tuple(listed)!r} of {owner!r} repeats an id; list each "
                              "one once")


def check_text(field: str, value: object, owner: str) -> None:
    """``value`` (a name, title, description, ... of ``owner``) is a string."""
    if not isinstance(value, str):
        raise ValidationError(field, f"{value!r} of {owner!r} must be a string, not "
                              f"{type(value).__name__}")


def check_aware(moment: object, field: str) -> datetime:
    """``moment`` as given, when it is a timezone-aware datetime; naive ones are refused."""
    if not isinstance(moment, datetime):
        raise ValidationError(field, f"{moment!r} is a {type(moment).__name__}, not a "
                              "datetime; pass an aware datetime (UTC)")
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValidationError(field, f"{moment.isoformat()} has no timezone; pass an aware "
                              "datetime (UTC)")
    return moment


def check_kind(kind: ItemKind | str, field: str = "kind") -> ItemKind:
    """``kind`` as an ``ItemKind``; ValidationError naming the allowed kinds otherwise."""
    try:
        return ItemKind(kind)
    except ValueError:
        raise ValidationError(field, f"{kind!r} is not one of "
                              f"{', '.join(k.value for k in ItemKind)}") from None


# -- read arguments ---------------------------------------------------------------------------


def _is_int(value: object, least: int) -> bool:
    """A plain ``int`` (not a bool) >= ``least``: read arguments go to the query as given."""
    return isinstance(value, int) and not isinstance(value, bool) and value >= least


def check_limit(limit: object) -> None:
    if not _is_int(limit, 1):
        raise ValidationError("limit", f"{limit!r} must be a positive integer")


def check_window_limit(limit: object) -> None:
    """A window's size may be 0: an empty window still says what lies around it."""
    if not _is_int(limit, 0):
        raise ValidationError("limit", f"{limit!r} must be an integer >= 0")


def check_snapshot_counts(attempts: object, views: object) -> None:
    """How many attempts and views a learner snapshot reads: integers >= 0."""
    for field, value in (("attempts", attempts), ("views", views)):
        if not _is_int(value, 0):
            raise ValidationError(field, f"{value!r} must be an integer >= 0")


def check_depth(depth: object) -> None:
    if depth is not None and not _is_int(depth, 0):
        raise ValidationError("depth", f"{depth!r} must be None (unbounded) or an integer >= 0")


def check_after_seq(after_seq: object) -> None:
    if not _is_int(after_seq, 0):
        raise ValidationError("after_seq", f"{after_seq!r} must be an integer >= 0 (the seq "
                              "of the last change seen, 0 for the first)")


def check_actor(actor: object) -> None:
    check_id("actor", actor, "a curriculum change")


# -- curriculum -------------------------------------------------------------------------------


def check_skills(skills: Sequence[Skill]) -> None:
    for s in skills:
        check_id("skill.id", s.id, "a skill")
        for name in ("name", "description", "topic", "area"):
            check_text(f"skill.{name}", getattr(s, name), s.id)
        if isinstance(s.tags, str | bytes) or not isinstance(s.tags, Iterable):
            given = "one string" if isinstance(s.tags, str | bytes) else type(s.tags).__name__
            raise ValidationError("skill.tags", f"{s.tags!r} of {s.id!r} must be a list of "
                                  f"strings, not {given}")
        for tag in s.tags:
            check_text("skill.tags", tag, s.id)


def check_items(items: Sequence[Item]) -> None:
    for item in items:
        check_item(item)


def check_item(item: Item) -> None:
    check_id("item.id", item.id, "an item")
    try:
        check_kind(item.kind)
    except ValidationError as exc:
        raise ValidationError("item.kind", f"{exc.message} (item {item.id!r})") from None
    for name in ("title", "body", "url"):
        check_text(f"item.{name}", getattr(item, name), item.id)
    if not in_range(item.difficulty, 0.0, 1.0):
        raise ValidationError("item.difficulty", f"{item.difficulty!r} of {item.id!r} is "
                              "outside [0, 1] (0 easiest, 1 hardest)")
    if not is_count(item.expected_seconds):
        raise ValidationError("item.expected_seconds", f"{item.expected_seconds!r} of "
                              f"{item.id!r} must be a whole number of seconds >= 0")
    seen: set[str] = set()
    for w in item.skills:
        check_id("item.skills.skill_id", w.skill_id, "a skill of item", item.id)
        if not in_range(w.weight, 0.0, 1.0) or w.weight == 0:
            raise ValidationError("item.skills.weight", f"{w.weight!r} for skill "
                                  f"{w.skill_id!r} of {item.id!r} must be in (0, 1]")
        if w.skill_id in seen:
            raise ValidationError("item.skills", f"{item.id!r} lists skill {w.skill_id!r} "
                                  "twice; give each skill once with one weight")
        seen.add(w.skill_id)
    check_item_content(item)


def check_item_content(item: Item) -> None:
    """The practice fields of ``item``: strings; choices, answers and hints non-blank and
    distinct; answers only on exercises and, with choices, each one of them; no choices
    without an answer."""
    check_text("item.prompt", item.prompt, item.id)
    check_text("item.explanation", item.explanation, item.id)
    for name in ("choices", "answers", "hints"):
        values = getattr(item, name)
        if isinstance(values, str | bytes) or not isinstance(values, tuple | list):
            raise ValidationError(f"item.{name}", f"{values!r} of {item.id!r} must be a list "
                                  "of strings")
        for value in values:
            if not isinstance(value, str) or not value.strip():
                raise ValidationError(f"item.{name}", f"{value!r} in {name} of {item.id!r} "
                                      "must be a non-blank string")
        if len({" ".join(x.split()).casefold() for x in values}) != len(values):
            raise ValidationError(f"item.{name}", f"{tuple(values)!r} of {item.id!r} repeats "
                                  "an entry; list each once")
    if item.answers and ItemKind(item.kind) is not ItemKind.EXERCISE:
        raise ValidationError("item.answers", f"{item.id!r} is a {ItemKind(item.kind).value}; "
                              "only exercises have an answer key")
    if item.choices:
        if not item.answers:
            raise ValidationError("item.answers", f"{item.id!r} has choices but no answer; "
                                  "name the right choice(s) in answers")
        keys = {" ".join(c.split()).casefold() for c in item.choices}
        for answer in item.answers:
            if " ".join(answer.split()).casefold() not in keys:
                raise ValidationError("item.answers", f"{answer!r} of {item.id!r} is not one "
                                      f"of its choices {tuple(item.choices)!r}")


def check_prerequisites(edges: Sequence[Prerequisite]) -> None:
    for e in edges:
        for end in (e.source, e.target):
            check_id("prerequisite", end, "each end of a prerequisite edge")
        if e.source == e.target:
            raise ValidationError(
                "prerequisite", f"self-loop {e.source!r} -> {e.target!r}: a skill cannot "
                "be its own prerequisite; remove this edge")
        if not in_range(e.strength, 0.0, 1.0):
            raise ValidationError(
                "strength", f"{e.strength!r} on {e.source!r} -> {e.target!r} is outside "
                "[0, 1]; use 1 for a strict prerequisite, less for a weaker one")


# -- people -----------------------------------------------------------------------------------


def check_learners(learners: Sequence[Learner]) -> None:
    for learner in learners:
        check_id("learner.id", learner.id, "a learner")
        check_text("learner.display_name", learner.display_name, learner.id)
        check_id_list("learner.goals", learner.goals, "goal skill", learner.id)
        value = learner.target_retention
        why = None if value is None else retention_problem(value)
        if why is not None:
            raise ValidationError("learner.target_retention",
                                  f"{value!r} of {learner.id!r} {why} (or None for the default)")


def check_learner_update(learner_id: object, display_name: object, goals: object,
                         target_retention: object) -> None:
    """The fields given to ``update_learner`` (``Unset`` ones are skipped), by the rules and
    field names of :func:`check_learners`."""
    check_id("learner.id", learner_id, "a learner")
    owner = str(learner_id)
    if not isinstance(display_name, Unset):
        check_text("learner.display_name", display_name, owner)
    if not isinstance(goals, Unset):
        check_id_list("learner.goals", goals, "goal skill", owner)
    if not isinstance(target_retention, Unset) and target_retention is not None:
        why = retention_problem(target_retention)
        if why is not None:
            raise ValidationError("learner.target_retention",
                                  f"{target_retention!r} of {owner!r} {why} (or None for the "
                                  "default)")


def check_users(users: Sequence[User]) -> None:
    for u in users:
        check_id("user.id", u.id, "a user")
        check_text("user.display_name", u.display_name, u.id)
        try:
            Role(u.role)
        except ValueError:
            raise ValidationError("user.role", f"{u.role!r} of {u.id!r} is not one of "
                                  f"{', '.join(r.value for r in Role)}") from None


def check_groups(groups: Sequence[Group]) -> None:
    for g in groups:
        check_id("group.id", g.id, "a group")
        check_text("group.name", g.name, g.id)
        check_id_list("group.learner_ids", g.learner_ids, "learner", g.id)
        check_id_list("group.teacher_ids", g.teacher_ids, "teacher", g.id)


#: The most goals one group may have at once (a class's current assignments, not a syllabus).
MAX_GROUP_GOALS = 50
MAX_GOAL_NOTE = 500


def check_group_goals(group_id: object, goals: Sequence[GroupGoal]) -> None:
    check_id("group.id", group_id, "a group")
    if len(goals) > MAX_GROUP_GOALS:
        raise ValidationError("group_goal", f"{len(goals)} goals for group {group_id!r}; "
                              f"set at most {MAX_GROUP_GOALS}")
    seen: set[str] = set()
    for g in goals:
        check_id("group_goal.skill_id", g.skill_id, "a skill", group_id)
        if g.skill_id in seen:
            raise ValidationError("group_goal.skill_id", f"skill {g.skill_id!r} is listed "
                                  f"twice among group {group_id!r}'s goals; list it once")
        seen.add(g.skill_id)
        if g.due_at is not None:
            check_aware(g.due_at, "group_goal.due_at")
        check_text("group_goal.note", g.note, g.skill_id)
        if g.set_by is not None:
            check_id("group_goal.set_by", g.set_by, "a user", g.skill_id)
        if len(g.note) > MAX_GOAL_NOTE:
            raise ValidationError("group_goal.note", f"the note of goal {g.skill_id!r} has "
                                  f"{len(g.note)} characters; keep it to {MAX_GOAL_NOTE}")


# -- learning ---------------------------------------------------------------------------------


def check_attempts(attempts: Sequence[Attempt]) -> None:
    for a in attempts:
        check_attempt(a)


def check_attempt(a: Attempt) -> None:
    if not isinstance(a.attempt_id, str) or not a.attempt_id.strip():
        raise ValidationError("attempt_id", f"{a.attempt_id!r}: an attempt needs a non-blank, "
                              "client-chosen string id")
    check_id("learner_id", a.learner_id, "the learner of attempt", a.attempt_id)
    check_id("item_id", a.item_id, "the item of attempt", a.attempt_id)
    if not in_range(a.score, 0.0, 1.0):
        raise ValidationError("score", f"{a.score!r} of attempt {a.attempt_id!r} is outside "
                              "[0, 1]; use 1.0 for right, 0.0 for wrong")
    check_aware(a.timestamp, "timestamp")
    if a.response_time_ms is not None and not is_count(a.response_time_ms):
        raise ValidationError("response_time_ms", f"{a.response_time_ms!r} of attempt "
                              f"{a.attempt_id!r} must be None or an integer >= 0")
    if not is_count(a.hints_used):
        raise ValidationError("hints_used", f"{a.hints_used!r} of attempt {a.attempt_id!r} "
                              "must be an integer >= 0")


def check_views(views: Sequence[View]) -> None:
    for view in views:
        check_view(view)


def check_view(w: View) -> None:
    if not isinstance(w.view_id, str) or not w.view_id.strip():
        raise ValidationError("view_id", f"{w.view_id!r}: a view needs a non-blank, "
                              "client-chosen string id")
    check_id("learner_id", w.learner_id, "the learner of view", w.view_id)
    check_id("item_id", w.item_id, "the item of view", w.view_id)
    check_aware(w.timestamp, "timestamp")
    if w.seconds is not None and not is_count(w.seconds):
        raise ValidationError("seconds", f"{w.seconds!r} of view {w.view_id!r} must be None "
                              "or a whole number of seconds >= 0")
    if not in_range(w.progress, 0.0, 1.0):
        raise ValidationError("progress", f"{w.progress!r} of view {w.view_id!r} is outside "
                              "[0, 1]; give the share watched or read (1 for all of it)")


def check_alerts(alerts: Sequence[StoredAlert]) -> None:
    for a in alerts:
        if not isinstance(a.key, str) or not a.key.strip():
            raise ValidationError("key", f"{a.key!r}: an alert needs a non-blank key")
        check_id("kind", a.kind, "the kind of alert", a.key)
        check_id("learner_id", a.learner_id, "the learner of alert", a.key)
        check_aware(a.since, "since")
        check_aware(a.raised_at, "raised_at")
        if not isinstance(a.message, str):
            raise ValidationError("message", f"{a.message!r} of alert {a.key!r} is not text")
        if a.risk is not None and not in_range(a.risk, 0.0, 1.0):
            raise ValidationError("risk", f"{a.risk!r} of alert {a.key!r} is outside [0, 1]")


def check_acknowledgement(key: object, by: object, at: object) -> None:
    if not isinstance(key, str) or not key.strip():
        raise ValidationError("key", f"{key!r}: name the alert by its non-blank key")
    check_actor(by)
    check_aware(at, "at")


def check_viewable(kinds: dict[str, str]) -> None:
    """Every viewed item (id -> kind) is a lesson, video or reading, not an exercise."""
    for item_id, kind in sorted(kinds.items()):
        if kind == ItemKind.EXERCISE.value:
            raise ValidationError("item_id", f"item {item_id!r} is an exercise: an answer to it "
                                  "is an attempt (recordAttempts), not a view")


def check_mastery(rows: Sequence[Mastery]) -> None:
    for m in rows:
        check_id("learner_id", m.learner_id, "a mastery row")
        check_id("skill_id", m.skill_id, "the skill of a mastery row of learner", m.learner_id)
        if not in_range(m.probability, 0.0, 1.0):
            raise ValidationError("probability", f"{m.probability!r} for "
                                  f"({m.learner_id!r}, {m.skill_id!r}) is outside [0, 1]")
        if not in_range(m.uncertainty, 0.0, math.inf):
            raise ValidationError("uncertainty", f"{m.uncertainty!r} for "
                                  f"({m.learner_id!r}, {m.skill_id!r}) must be a finite "
                                  "number >= 0")
        check_aware(m.updated_at, "updated_at")
        check_version(m.model_version, "the mastery row", (m.learner_id, m.skill_id))


def check_version(version: object, what: str, of: object) -> None:
    """A model version (e.g. ``bkt-v1``) is a non-blank string."""
    if not isinstance(version, str) or not version.strip():
        raise ValidationError("model_version", f"{version!r} of {what} {of!r}: name the "
                              "tracer model version that wrote it (a non-blank string, e.g. "
                              "'bkt-v1')")


def check_tracer_states(states: Sequence[tuple[str, str, bytes]]) -> None:
    for lid, version, state in states:
        check_id("learner_id", lid, "a tracer state")
        check_version(version, "the tracer state of", lid)
        if not isinstance(state, bytes | bytearray | memoryview):
            raise ValidationError("state", f"tracer state of {lid!r} for {version!r} is "
                                  f"{type(state).__name__}; serialize it to bytes first")


def check_traced(writes: Sequence[TracerWrite], mastery: Sequence[Mastery]) -> None:
    """The input of ``save_traced``: the states, their expected versions, and mastery rows
    only of learners written, each (learner, model version) once."""
    check_tracer_states([(w.learner_id, w.model_version, w.state) for w in writes])
    seen: set[tuple[str, str]] = set()
    for w in writes:
        if not _is_int(w.expected, 0):
            raise ValidationError("expected", f"{w.expected!r} for the tracer state of "
                                  f"{w.learner_id!r}: the version read, an integer >= 0 "
                                  "(0: no state yet)")
        if (w.learner_id, w.model_version) in seen:
            raise ValidationError("learner_id", f"{w.learner_id!r} has two tracer state "
                                  f"writes for {w.model_version!r} in one call; send one")
        seen.add((w.learner_id, w.model_version))
    check_mastery(mastery)
    written = {lid for lid, _ in seen}
    stray = sorted({m.learner_id for m in mastery} - written)
    if stray:
        raise ValidationError("learner_id", f"mastery rows of {stray[:10]!r} come without "
                              "their learner's tracer state write; send both together")


def check_serving_key(key: object) -> None:
    """A serving model key: None (BKT with population defaults) or a model version."""
    if key is not None:
        check_version(key, "the serving model of", "the store")


def check_activation(job: TracerActivation) -> None:
    check_id("id", job.id, "a tracer activation")
    check_version(job.key, "the tracer activation", job.id)
    if not isinstance(job.previous, str):
        raise ValidationError("previous", f"{job.previous!r} of tracer activation {job.id!r} "
                              "must be a model version string")
    if not isinstance(job.state, ActivationState):
        raise ValidationError("state", f"{job.state!r} of tracer activation {job.id!r}: use "
                              f"one of {', '.join(s.value for s in ActivationState)}")
    if not in_range(job.progress, 0.0, 1.0):
        raise ValidationError("progress", f"{job.progress!r} of tracer activation {job.id!r} "
                              "is outside [0, 1]")
    for name in ("learners", "attempts", "passes", "missed"):
        if not _is_int(getattr(job, name), 0):
            raise ValidationError(name, f"{getattr(job, name)!r} of tracer activation "
                                  f"{job.id!r} must be an integer >= 0")
    check_aware(job.started_at, "started_at")
    check_aware(job.updated_at, "updated_at")
    if job.finished_at is not None:
        check_aware(job.finished_at, "finished_at")
