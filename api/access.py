"""Who may read and write what.

* unauthenticated: the public curriculum only (skills, items, the graph);
* learner: their own learner record, attempts, mastery and goals;
* teacher: the learners of the groups they teach, and those groups (which they may rename);
  rosters (a group's learners and teachers) are set by admins only, so no mutation of a
  teacher's widens the learners they read;
* designer: edits the curriculum (skills, items, prerequisites) and reads its change log;
* admin: everything.
"""

from __future__ import annotations

from api.auth import Principal
from api.context import Context
from api.errors import ForbiddenError
from graph.models import Group, Role


def require_signed_in(ctx: Context, action: str) -> Principal:
    if ctx.principal is None:
        raise ForbiddenError(
            f"{action} needs a signed-in user; send `Authorization: Bearer <token>` "
            "(get one with `learngraph token`)"
        )
    return ctx.principal


def curriculum_denial(ctx: Context, action: str) -> str | None:
    """Why the caller may not edit the curriculum, or None when they may."""
    p = ctx.principal
    if p is None:
        return f"{action} needs a designer or admin token; none was sent"
    if p.role in (Role.DESIGNER, Role.ADMIN):
        return None
    return f"{action} needs the designer or admin role; this token has role {p.role.value!r}"


async def learner_denial(ctx: Context, learner_id: str, *, write: bool = False) -> str | None:
    """Why the caller may not read (or write) learner ``learner_id``'s data, or None."""
    p = ctx.principal
    verb = "write" if write else "read"
    if p is None:
        return f"learner {learner_id!r}'s data needs a token to {verb}; none was sent"
    if p.role is Role.ADMIN:
        return None
    if p.role is Role.LEARNER:
        if p.sub == learner_id:
            return None
        return f"a learner may {verb} only their own data ({p.sub!r} asked for {learner_id!r})"
    if p.role is Role.TEACHER and not write:
        groups = await ctx.loaders.groups_of_teacher.load(p.sub)
        if any(learner_id in g.learner_ids for g in groups):
            return None
        return f"teacher {p.sub!r} teaches no group containing learner {learner_id!r}"
    return f"role {p.role.value!r} may not {verb} learner {learner_id!r}'s data"


async def require_learner(ctx: Context, learner_id: str, *, write: bool = False) -> None:
    denial = await learner_denial(ctx, learner_id, write=write)
    if denial is not None:
        raise ForbiddenError(denial)


def group_read_denial(ctx: Context, group: Group) -> str | None:
    p = ctx.principal
    if p is None:
        return f"reading group {group.id!r} needs a teacher or admin token; none was sent"
    if p.role is Role.ADMIN or (p.role is Role.TEACHER and p.sub in group.teacher_ids):
        return None
    return f"{p.role.value} {p.sub!r} does not teach group {group.id!r}"


def group_write_denial(ctx: Context, current: Group | None, new: Group | None) -> str | None:
    """Why the caller may not make group ``current`` into ``new``, or None when they may.

    ``current`` None is a creation, ``new`` None a deletion. Rosters are the admins': who is
    in a group (its learners and its teachers) decides which learners a teacher reads, so
    only an admin creates, deletes or re-staffs a group or enrols learners in it. A teacher
    may rename a group they teach (sending its unchanged member lists back is fine)."""
    p = ctx.principal
    if p is None:
        return "managing groups needs a teacher or admin token; none was sent"
    if p.role is Role.ADMIN:
        return None
    if p.role is not Role.TEACHER:
        return f"managing groups needs the teacher or admin role, not {p.role.value!r}"
    if current is None:
        return (
            f"teacher {p.sub!r} may not create groups: an admin creates groups and enrols "
            "their learners and teachers"
        )
    if p.sub not in current.teacher_ids:
        return f"teacher {p.sub!r} does not teach group {current.id!r}"
    if new is None:
        return f"teacher {p.sub!r} may not delete group {current.id!r}: ask an admin"
    if set(new.learner_ids) != set(current.learner_ids):
        return (
            f"teacher {p.sub!r} may not change who learns in group {current.id!r}: "
            "an admin enrols learners"
        )
    if set(new.teacher_ids) != set(current.teacher_ids):
        return (
            f"teacher {p.sub!r} may not change who teaches group {current.id!r}: "
            "an admin assigns teachers"
        )
    return None


def admin_denial(ctx: Context, action: str) -> str | None:
    p = ctx.principal
    if p is not None and p.role is Role.ADMIN:
        return None
    return f"{action} needs the admin role"
