"""The Neo4j launcher: this directory is a Maven project (``pom.xml`` naming Neo4j Community
5.26 LTS, and ``src/main/java/org/learngraph/neo4j/Launcher.java``, which runs it embedded with
a Bolt connector), and this module builds it.

``build_launcher`` runs ``mvn package dependency:build-classpath`` once (Maven fetches Neo4j
from Maven Central into ``~/.m2`` the first time, or wherever ``MAVEN_OPTS=-Dmaven.repo.local=``
points) and returns the classpath; later calls reuse ``target/`` until the pom or the Java
source changes or a jar disappears from the Maven cache. ``graph.neo4j_server`` runs the result.
"""

from __future__ import annotations

import fcntl
import os
import re
import subprocess
import time
from collections.abc import Callable, Mapping
from pathlib import Path

from graph.store import GraphStoreError

LAUNCHER_DIR = Path(__file__).resolve().parent
MAIN_CLASS = "org.learngraph.neo4j.Launcher"

Progress = Callable[[str], None]


class Neo4jServerError(GraphStoreError):
    """The local Neo4j server could not be built, started or stopped."""


class LauncherBuildError(Neo4jServerError):
    """Maven failed to build the launcher (the message holds the tail of its log)."""


def _launcher_sources(launcher_dir: Path) -> list[Path]:
    return [launcher_dir / "pom.xml", *sorted((launcher_dir / "src").rglob("*.java"))]


def launcher_classpath(launcher_dir: Path = LAUNCHER_DIR) -> str | None:
    """The classpath of a finished, up-to-date build, or None when it must be (re)built."""
    target = launcher_dir / "target"
    cp_file = target / "classpath.txt"
    main = target / "classes" / (MAIN_CLASS.replace(".", "/") + ".class")
    if not (cp_file.exists() and main.exists()):
        return None
    built = min(cp_file.stat().st_mtime, main.stat().st_mtime)
    if any(src.stat().st_mtime > built for src in _launcher_sources(launcher_dir)):
        return None
    jars = [j for j in cp_file.read_text().strip().split(os.pathsep) if j]
    if not jars or not all(Path(j).exists() for j in jars):  # e.g. ~/.m2 was cleared
        return None
    return os.pathsep.join([str(target / "classes"), *jars])


def build_launcher(
    mvn: str,
    progress: Progress,
    launcher_dir: Path = LAUNCHER_DIR,
    environ: Mapping[str, str] | None = None,
) -> str:
    """Build the launcher with Maven if needed (locked against concurrent builds); its classpath."""
    target = launcher_dir / "target"
    target.mkdir(exist_ok=True)
    with open(target / ".build.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        classpath = launcher_classpath(launcher_dir)
        if classpath is not None:
            return classpath
        progress("building the Neo4j launcher with Maven (the first run downloads Neo4j "
                 "Community 5.26 from Maven Central into the Maven cache, ~150 MB)")
        # build-classpath leaves an unchanged file untouched (old mtime): start afresh.
        (target / "classpath.txt").unlink(missing_ok=True)
        _run_maven(mvn, launcher_dir, progress, environ)
        classpath = launcher_classpath(launcher_dir)
        if classpath is None:
            raise LauncherBuildError(
                f"Maven finished but left no launcher build in {target}; see {target}/build.log"
            )
        return classpath


_DOWNLOADED = re.compile(r"Downloaded from \S+: \S+ \(([\d.]+) (B|kB|MB|GB)")
_UNITS = {"B": 1e-6, "kB": 1e-3, "MB": 1.0, "GB": 1e3}


def _run_maven(
    mvn: str, launcher_dir: Path, progress: Progress, environ: Mapping[str, str] | None
) -> None:
    log_path = launcher_dir / "target" / "build.log"
    cmd = [
        mvn, "-B", "-f", str(launcher_dir / "pom.xml"), "-DskipTests",
        "package", "dependency:build-classpath", "-Dmdep.outputFile=target/classpath.txt",
    ]
    started = time.monotonic()
    files, megabytes, last_report = 0, 0.0, started
    with open(log_path, "w") as log, subprocess.Popen(
        cmd, cwd=launcher_dir, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        stdin=subprocess.DEVNULL, env=None if environ is None else dict(environ),
    ) as proc:
        assert proc.stdout is not None
        for line in proc.stdout:
            log.write(line)
            match = _DOWNLOADED.search(line)
            if match:
                files += 1
                megabytes += float(match.group(1)) * _UNITS[match.group(2)]
            if "[ERROR]" in line:
                progress("  maven: " + line.rstrip())
            now = time.monotonic()
            if match and now - last_report >= 2.0:
                last_report = now
                progress(f"  fetched {files} files, {megabytes:.1f} MB ({now - started:.0f} s)")
        code = proc.wait()
    if code != 0:
        tail = "\n".join(log_path.read_text().splitlines()[-25:])
        raise LauncherBuildError(
            f"building the launcher failed (mvn exit {code}); full log: {log_path}\n{tail}"
        )
    progress(f"  launcher built in {time.monotonic() - started:.0f} s "
             f"({files} files, {megabytes:.1f} MB fetched)")
