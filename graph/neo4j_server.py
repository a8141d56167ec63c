"""Start, stop and inspect a local Neo4j Community server for development and tests.

The server is the small Java launcher in ``graph/neo4j_launcher/`` (a pom naming Neo4j
Community 5.26 LTS and one main class that runs it embedded with a Bolt connector on
127.0.0.1). The first start builds it with Maven, which fetches Neo4j from Maven Central into
``~/.m2`` (set ``MAVEN_OPTS=-Dmaven.repo.local=DIR`` to use another cache); later starts reuse
the build. The JVM runs detached; its files live in the data directory:

* ``neo4j.pid``: the JVM's process id (present while it runs),
* ``neo4j.url``: the bolt URL it serves,
* ``neo4j.log``: its stdout and stderr; Neo4j's own logs are under ``logs/``.

``learngraph neo4j start|stop|status`` (``graph/server_cli.py``) is the command-line face.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from graph.neo4j_launcher import (
    LAUNCHER_DIR,
    MAIN_CLASS,
    Progress,
    build_launcher,
)
from graph.neo4j_launcher import (
    Neo4jServerError as Neo4jServerError,  # the root error, re-exported
)

HOST = "127.0.0.1"
DEFAULT_PORT = 7687
DEFAULT_DATA_DIR = Path(".neo4j")
PASSWORD_ENV = "LEARNGRAPH_NEO4J_PASSWORD"  # read by Launcher.java; kept out of argv
MIN_PASSWORD_LENGTH = 8  # Neo4j 5's default dbms.security.auth_minimum_password_length
PID_FILE = "neo4j.pid"
URL_FILE = "neo4j.url"
LOG_FILE = "neo4j.log"
READY_MARKER = "learngraph-neo4j: ready on "

INSTALL_HINTS = {
    "java": "install a JDK 17 or 21 (Debian/Ubuntu: `apt-get install openjdk-17-jdk-headless`; "
    "Fedora: `dnf install java-17-openjdk-devel`; macOS: `brew install openjdk@17`)",
    "mvn": "install Apache Maven 3.8+ (Debian/Ubuntu: `apt-get install maven`; "
    "Fedora: `dnf install maven`; macOS: `brew install maven`)",
}


class ToolMissingError(Neo4jServerError):
    """``java`` or ``mvn`` is not on the PATH."""

    def __init__(self, tool: str) -> None:
        self.tool = tool
        super().__init__(
            f"`{tool}` was not found on PATH, and `learngraph neo4j` needs it: "
            f"{INSTALL_HINTS[tool]}"
        )


class PortInUseError(Neo4jServerError):
    """Something else already listens on the requested port."""

    def __init__(self, port: int) -> None:
        self.port = port
        super().__init__(
            f"port {port} on {HOST} is already in use by another program; choose another "
            "with --port N (--port 0 picks a free one) or stop what is using it"
        )


class Neo4jStartError(Neo4jServerError):
    """The launcher exited during startup or did not answer in time."""


@dataclass(frozen=True)
class ServerConfig:
    """How to run one server.

    Args:
        data_dir: where the databases, logs, pid and url files go (created if missing).
        port: Bolt port on 127.0.0.1; 0 picks a free one.
        password: None turns authentication off; otherwise the password of user ``neo4j``
            (at least 8 characters).
        heap: the JVM's maximum heap, as for ``-Xmx``.
        pagecache_mb: Neo4j's page cache size in MiB.
        timeout: seconds to wait for Bolt to answer before giving up.
    """

    data_dir: Path = DEFAULT_DATA_DIR
    port: int = DEFAULT_PORT
    password: str | None = None
    heap: str = "1g"
    pagecache_mb: int = 512
    timeout: float = 120.0

    def __post_init__(self) -> None:
        check_port(self.port, allow_zero=True)
        if self.password is not None and len(self.password) < MIN_PASSWORD_LENGTH:
            raise Neo4jServerError(
                f"--password is {len(self.password)} characters long; Neo4j requires at "
                f"least {MIN_PASSWORD_LENGTH}: choose a longer one, or leave it out to run "
                "without authentication"
            )
        if not re.fullmatch(r"[1-9][0-9]*[kmgKMG]?", self.heap):
            raise Neo4jServerError(f"heap {self.heap!r} is not a JVM size: write e.g. 1g or 512m")
        if self.pagecache_mb < 8:
            raise Neo4jServerError(f"pagecache_mb={self.pagecache_mb} is too small: use >= 8")
        if self.timeout <= 0:
            raise Neo4jServerError(f"timeout={self.timeout} must be a positive number of seconds")


@dataclass(frozen=True)
class ServerStatus:
    """What ``status`` found: ``running`` with pid and url, or not (``stale`` when a pid file
    named a process that is gone or is not this server)."""

    running: bool
    pid: int | None = None
    url: str | None = None
    stale: bool = False


@dataclass(frozen=True)
class StartResult:
    url: str
    pid: int
    already_running: bool
    seconds: float


@dataclass(frozen=True)
class StopResult:
    was_running: bool
    pid: int | None
    killed: bool  # True when SIGTERM was not enough and SIGKILL was sent
    seconds: float
    removed_stale_pid_file: bool = False


def check_port(port: int, *, allow_zero: bool = False) -> int:
    """``port`` if it is a valid TCP port (0 too when ``allow_zero``), else a clear error."""
    low = 0 if allow_zero else 1
    if not low <= port <= 65535:
        raise Neo4jServerError(f"port {port} is out of range: use {low}..65535")
    return port


def find_tools(path: str | None = None) -> tuple[str, str]:
    """The ``java`` and ``mvn`` executables on ``path`` (default: $PATH), or ToolMissingError."""
    found = []
    for tool in ("java", "mvn"):
        exe = shutil.which(tool, path=path)
        if exe is None:
            raise ToolMissingError(tool)
        found.append(exe)
    return found[0], found[1]


def port_in_use(port: int, host: str = HOST) -> bool:
    """True when binding ``host:port`` fails because something listens there."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        # SO_REUSEADDR as Neo4j's Netty sets it: TIME_WAIT leftovers do not count as in use.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return True
    return False


def free_port(host: str = HOST) -> int:
    """A port that was free a moment ago (the kernel's pick)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


# -- pid file --------------------------------------------------------------------------------


def read_pid(data_dir: Path) -> int | None:
    """The pid recorded in ``data_dir``; None when there is no pid file or it is garbage."""
    try:
        text = (data_dir / PID_FILE).read_text().strip()
    except FileNotFoundError:
        return None
    return int(text) if text.isdigit() and int(text) > 0 else None


def write_pid(data_dir: Path, pid: int, url: str) -> None:
    """Record the server's pid and url atomically (temp file + rename)."""
    for name, value in ((PID_FILE, str(pid)), (URL_FILE, url)):
        tmp = data_dir / f".{name}.tmp"
        tmp.write_text(value + "\n")
        os.replace(tmp, data_dir / name)


def clear_pid(data_dir: Path) -> None:
    for name in (PID_FILE, URL_FILE):
        (data_dir / name).unlink(missing_ok=True)


def process_alive(pid: int) -> bool:
    """True when ``pid`` exists and is not a zombie (an orphan nobody has reaped yet)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return True
    return state not in ("Z", "X")


def _command_line(pid: int) -> list[str]:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace").split("\0")
    except OSError:  # no /proc (macOS): ask ps
        out = subprocess.run(
            ["ps", "-o", "command=", "-p", str(pid)], capture_output=True, text=True, check=False
        )
        return out.stdout.split()


def is_our_server(pid: int, data_dir: Path) -> bool:
    """True when ``pid`` is a live launcher JVM serving ``data_dir`` (a recycled pid is not)."""
    if not process_alive(pid):
        return False
    args = _command_line(pid)
    want = str(data_dir.resolve())
    return MAIN_CLASS in args and any(
        a == "--data" and b == want for a, b in zip(args, args[1:], strict=False)
    )


def status(data_dir: Path = DEFAULT_DATA_DIR) -> ServerStatus:
    """Whether a server runs on ``data_dir``, from its pid file and the process table."""
    has_pid_file = (data_dir / PID_FILE).exists()
    pid = read_pid(data_dir)
    if pid is not None and is_our_server(pid, data_dir):
        try:
            url = (data_dir / URL_FILE).read_text().strip() or None
        except FileNotFoundError:
            url = None
        return ServerStatus(running=True, pid=pid, url=url)
    return ServerStatus(running=False, pid=pid, stale=has_pid_file)


# -- start / stop ----------------------------------------------------------------------------


def _log_tail(path: Path, lines: int = 30, since: int = 0) -> str:
    """The last ``lines`` lines of ``path`` written after byte offset ``since``."""
    try:
        with open(path, "rb") as f:
            f.seek(since)
            text = f.read().decode(errors="replace")
    except FileNotFoundError:
        return "(no log written)"
    return "\n".join(text.splitlines()[-lines:])


def _stderr(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def start(
    config: ServerConfig,
    progress: Progress = _stderr,
    environ: Mapping[str, str] | None = None,
    launcher_dir: Path = LAUNCHER_DIR,
) -> StartResult:
    """Start a server on ``config.data_dir`` unless one runs there already; wait for Bolt.

    Order of checks: already running (report it), port free, java and mvn present, launcher
    built (from ``launcher_dir``). On any failure after launch the JVM is stopped and the
    log's tail is in the error. ``environ`` (default: the process's) supplies PATH and
    MAVEN_OPTS and is passed on to Maven and the JVM.
    """
    env = dict(os.environ if environ is None else environ)
    began = time.monotonic()
    data_dir = config.data_dir
    if data_dir.exists() and not data_dir.is_dir():
        raise Neo4jServerError(f"--data {data_dir} is a file, not a directory: name a directory")
    current = status(data_dir)
    if current.running and current.pid is not None:
        url = current.url or f"bolt://{HOST}:{config.port}"
        return StartResult(url, current.pid, True, time.monotonic() - began)
    if current.stale:
        progress(f"removing a stale pid file in {data_dir} (pid {current.pid} is not running)")
        clear_pid(data_dir)
    port = config.port or free_port()
    if port_in_use(port):
        raise PortInUseError(port)
    java, mvn = find_tools(env.get("PATH"))
    classpath = build_launcher(mvn, progress, launcher_dir, env)

    data_dir.mkdir(parents=True, exist_ok=True)
    data = data_dir.resolve()
    log_path = data / LOG_FILE
    url = f"bolt://{HOST}:{port}"
    java_cmd = [
        java, f"-Xmx{config.heap}", "-XX:+ExitOnOutOfMemoryError", "-cp", classpath,
        MAIN_CLASS, "--data", str(data), "--port", str(port),
        "--pagecache", str(config.pagecache_mb * 1024 * 1024),
    ]
    child_env = {k: v for k, v in env.items() if k != PASSWORD_ENV}
    if config.password is not None:
        child_env[PASSWORD_ENV] = config.password
    child_env["LEARNGRAPH_NEO4J_LOG"] = str(log_path)
    with open(log_path, "a") as log:  # the log is kept across runs; this run starts here
        log.write(f"--- learngraph neo4j start {time.strftime('%Y-%m-%dT%H:%M:%S')} {url}\n")
        log_start = log.tell()
    # A throwaway shell backgrounds the JVM and exits, so the JVM is nobody's child here
    # (no zombie, no Popen left running) and lives in its own session, immune to Ctrl-C.
    spawn = subprocess.run(
        ["sh", "-c", '"$@" </dev/null >>"$LEARNGRAPH_NEO4J_LOG" 2>&1 & echo $!', "sh", *java_cmd],
        env=child_env, capture_output=True, text=True, start_new_session=True, check=False,
    )
    if spawn.returncode != 0 or not spawn.stdout.strip().isdigit():
        raise Neo4jStartError(f"could not launch java: {spawn.stderr.strip() or spawn.stdout}")
    pid = int(spawn.stdout.strip())
    write_pid(data, pid, url)
    progress(f"started Neo4j (pid {pid}) on {url}; waiting for Bolt (log: {log_path})")
    try:
        _wait_ready(pid, url, config, log_path, log_start, progress)
    except BaseException:
        _terminate(pid, timeout=30.0)
        clear_pid(data)
        raise
    return StartResult(url, pid, False, time.monotonic() - began)


def _wait_ready(
    pid: int, url: str, config: ServerConfig, log_path: Path, log_start: int, progress: Progress
) -> None:
    from neo4j import GraphDatabase
    from neo4j.exceptions import Neo4jError, ServiceUnavailable

    auth = ("neo4j", config.password) if config.password is not None else None
    started = time.monotonic()
    deadline = started + config.timeout
    last_report = started
    while True:
        now = time.monotonic()
        if not process_alive(pid):
            raise Neo4jStartError(
                f"Neo4j exited during startup; last lines of {log_path}:\n"
                f"{_log_tail(log_path, since=log_start)}"
            )
        if now > deadline:
            raise Neo4jStartError(
                f"Neo4j did not answer on {url} within {config.timeout:.0f} s (stopped it); "
                f"raise --timeout on a slow machine. Last lines of {log_path}:\n"
                f"{_log_tail(log_path, since=log_start)}"
            )
        if READY_MARKER in _log_tail(log_path, 200, since=log_start):
            try:
                with GraphDatabase.driver(url, auth=auth, connection_timeout=5.0) as driver:
                    records, _, _ = driver.execute_query("RETURN 1 AS ok")
                if records and records[0]["ok"] == 1:
                    return
            except (ServiceUnavailable, Neo4jError, OSError) as exc:
                if isinstance(exc, Neo4jError) and "auth" in str(exc.code or "").lower():
                    raise Neo4jStartError(
                        f"Neo4j on {url} refused the password: {exc}; the data directory "
                        "keeps the password it was first given unless the launcher set it"
                    ) from exc
        if now - last_report >= 5.0:
            last_report = now
            progress(f"  still starting ({now - started:.0f} s)")
        time.sleep(0.25)


def _terminate(pid: int, timeout: float) -> bool:
    """SIGTERM, wait up to ``timeout`` s, then SIGKILL. True when SIGKILL was needed."""
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return False
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not process_alive(pid):
            return False
        time.sleep(0.1)
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        return False
    deadline = time.monotonic() + 10.0
    while process_alive(pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    return True


def stop(data_dir: Path = DEFAULT_DATA_DIR, timeout: float = 60.0) -> StopResult:
    """Stop the server on ``data_dir`` (SIGTERM, then SIGKILL after ``timeout`` s) and remove
    its pid file. Not running is not an error; a stale pid file is removed, and a pid that now
    belongs to some other process is never signalled."""
    began = time.monotonic()
    current = status(data_dir)
    if not current.running or current.pid is None:
        if current.stale:
            clear_pid(data_dir)
        return StopResult(False, current.pid, False, 0.0, removed_stale_pid_file=current.stale)
    killed = _terminate(current.pid, timeout)
    clear_pid(data_dir)
    return StopResult(True, current.pid, killed, time.monotonic() - began)
