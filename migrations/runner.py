"""Apply versioned schema migrations to a store, whatever its kind.

Migrations are files ``migrations/<store.kind>/NNNN_name.sql`` (or ``.cypher``): ``NNNN`` is
the version (applied in increasing order), the body holds statements separated by a ``;`` at
the end of a line. The store records each applied version with the sha256 of its file, via
``store.applied_migrations()`` and ``store.apply_migration(...)``; the runner never touches the
store otherwise, so it works the same on SQLite and Neo4j.

Safety: a recorded migration whose file changed (or vanished) stops everything with a
``MigrationError`` naming the file, before anything is applied. Running twice applies nothing
the second time.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

from graph.store import GraphStore, MigrationError

MIGRATIONS_ROOT = Path(__file__).resolve().parent
_FILE_RE = re.compile(r"^(\d{4})_([A-Za-z0-9_]+)\.(sql|cypher)$")
_SPLIT_RE = re.compile(r";[ \t]*(?:\r?\n|$)")
_COMMENT_PREFIXES = ("--", "//")


@dataclass(frozen=True, slots=True)
class Migration:
    """One migration file: its version, name (the file name), checksum and statements."""

    version: int
    name: str
    path: Path
    checksum: str
    statements: tuple[str, ...]


def split_statements(text: str) -> list[str]:
    """Statements of a migration body: split at ``;`` ending a line, comment-only parts
    (lines starting with ``--`` or ``//``) dropped."""
    statements = []
    for part in _SPLIT_RE.split(text):
        code = [ln for ln in part.splitlines()
                if ln.strip() and not ln.strip().startswith(_COMMENT_PREFIXES)]
        if code:
            statements.append(part.strip())
    return statements


def discover(kind: str, root: Path | None = None) -> list[Migration]:
    """The migrations for a store kind, ordered by version."""
    folder = (root or MIGRATIONS_ROOT) / kind
    if not folder.is_dir():
        raise MigrationError(f"no migrations folder for store kind {kind!r}: expected {folder}")
    found: dict[int, Migration] = {}
    for path in sorted(folder.iterdir()):
        if path.name.startswith((".", "_")) or path.is_dir():
            continue
        match = _FILE_RE.match(path.name)
        if not match:
            raise MigrationError(
                f"{path} is not named like a migration: use NNNN_name.sql or NNNN_name.cypher")
        version = int(match.group(1))
        if version in found:
            raise MigrationError(
                f"{path.name} and {found[version].name} share version {version}; renumber one")
        data = path.read_bytes()
        found[version] = Migration(
            version=version,
            name=path.name,
            path=path,
            checksum=hashlib.sha256(data).hexdigest(),
            statements=tuple(split_statements(data.decode("utf-8"))),
        )
    return [found[v] for v in sorted(found)]


async def _plan(store: GraphStore, root: Path | None) -> list[Migration]:
    """The pending migrations, after checking that every recorded one is unchanged."""
    migrations = discover(store.kind, root)
    by_version = {m.version: m for m in migrations}
    applied = await store.applied_migrations()
    for version, checksum in sorted(applied.items()):
        known = by_version.get(version)
        if known is None:
            raise MigrationError(
                f"the store records migration version {version}, which has no file in "
                f"{(root or MIGRATIONS_ROOT) / store.kind}; this code is older than the store")
        if known.checksum != checksum:
            raise MigrationError(
                f"migration {known.path} was changed after it was applied (recorded sha256 "
                f"{checksum[:12]}..., file now {known.checksum[:12]}...); restore the file "
                "and put the change in a new migration")
    return [m for m in migrations if m.version not in applied]


async def pending(store: GraphStore, *, root: Path | None = None) -> list[str]:
    """Names of the migrations not yet applied, in the order they would run."""
    return [m.name for m in await _plan(store, root)]


async def migrate(store: GraphStore, *, root: Path | None = None) -> list[str]:
    """Apply every pending migration in order; the names applied ([] when up to date)."""
    applied = []
    for m in await _plan(store, root):
        await store.apply_migration(m.version, m.name, m.checksum, m.statements)
        applied.append(m.name)
    return applied


async def ensure_migrated(
    store: GraphStore, db_url: str | None = None, *, root: Path | None = None
) -> None:
    """Raise ``MigrationError`` naming the command to run when migrations are pending."""
    waiting = await pending(store, root=root)
    if waiting:
        target = db_url or "URL"
        raise MigrationError(
            f"the store is not migrated ({len(waiting)} pending: {', '.join(waiting)}); "
            f"run `learngraph migrate --db {target}` first")
