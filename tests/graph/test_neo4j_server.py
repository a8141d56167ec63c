"""The local Neo4j server manager (graph.neo4j_server, `learngraph neo4j ...`).

Unit tests use stand-in processes (a Python sleeper whose command line looks like the launcher)
and a stand-in ``mvn`` script; the ``neo4j``-marked test starts the real server.
"""

from __future__ import annotations

import argparse
import os
import socket
import stat
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from api.cli import build_parser, main
from graph.neo4j_launcher import LauncherBuildError, build_launcher, launcher_classpath
from graph.neo4j_server import (
    MAIN_CLASS,
    PID_FILE,
    URL_FILE,
    Neo4jServerError,
    PortInUseError,
    ServerConfig,
    ToolMissingError,
    find_tools,
    free_port,
    is_our_server,
    port_in_use,
    process_alive,
    read_pid,
    start,
    status,
    stop,
    write_pid,
)
from graph.server_cli import STATUS_NOT_RUNNING, port_arg
from tests.conftest import neo4j_url
from tests.patience import PATIENCE_S


@contextmanager
def fake_launcher(data_dir: Path, *, ignore_sigterm: bool = False) -> Iterator[int]:
    """A live process whose command line names the launcher class and ``data_dir``."""
    code = "import signal, time\n"
    if ignore_sigterm:
        code += "signal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
    code += "print('ready', flush=True)\ntime.sleep(60)\n"
    argv = [sys.executable, "-c", code, MAIN_CLASS, "--data", str(data_dir.resolve())]
    with subprocess.Popen(argv, stdout=subprocess.PIPE, text=True) as proc:
        try:
            assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
            yield proc.pid
        finally:
            if proc.poll() is None:
                proc.kill()


@pytest.fixture
def dead_pid() -> int:
    """The pid of a process that has exited and been reaped."""
    with subprocess.Popen([sys.executable, "-c", "pass"]) as proc:
        pass
    return proc.pid


# -- arguments -------------------------------------------------------------------------------


@given(st.integers(min_value=-(10**6), max_value=10**6))
def test_port_arg_accepts_exactly_the_tcp_range(port: int) -> None:
    if 0 <= port <= 65535:
        assert port_arg(str(port)) == port
    else:
        with pytest.raises(argparse.ArgumentTypeError, match=str(port)):
            port_arg(str(port))


def test_cli_rejects_a_bad_port_with_the_value_and_the_range(
    capsys: pytest.CaptureFixture[str],
) -> None:
    for bad in ("70000", "seven"):
        with pytest.raises(SystemExit) as exc:
            main(["neo4j", "start", "--port", bad])
        assert exc.value.code == 2
        err = capsys.readouterr().err
        assert bad in err and "1..65535" in err


def test_cli_defaults() -> None:
    args = build_parser().parse_args(["neo4j", "start"])
    assert (args.port, args.data, args.password, args.timeout) == (7687, Path(".neo4j"), None, 120)
    args = build_parser().parse_args(["neo4j", "stop", "--data", "/x/y"])
    assert args.data == Path("/x/y") and args.timeout == 60


def test_config_rejects_short_password_bad_heap_and_port() -> None:
    with pytest.raises(Neo4jServerError, match="5 characters.*at least 8"):
        ServerConfig(password="short")
    with pytest.raises(Neo4jServerError, match="'lots'"):
        ServerConfig(heap="lots")
    with pytest.raises(Neo4jServerError, match="70000"):
        ServerConfig(port=70000)
    assert ServerConfig(password="long enough", heap="512m", port=0).port == 0


# -- pid file and process identity -----------------------------------------------------------


def test_pid_file_round_trip_and_garbage(tmp_path: Path) -> None:
    assert read_pid(tmp_path) is None
    write_pid(tmp_path, 4242, "bolt://127.0.0.1:7999")
    assert read_pid(tmp_path) == 4242
    assert (tmp_path / URL_FILE).read_text().strip() == "bolt://127.0.0.1:7999"
    assert sorted(p.name for p in tmp_path.iterdir()) == [PID_FILE, URL_FILE]  # no temp left
    for garbage in ("", "abc", "-5", "0", "12 34"):
        (tmp_path / PID_FILE).write_text(garbage)
        assert read_pid(tmp_path) is None


def test_dead_pid_is_a_stale_pid_file_that_stop_removes(
    tmp_path: Path, dead_pid: int, capsys: pytest.CaptureFixture[str]
) -> None:
    write_pid(tmp_path, dead_pid, "bolt://127.0.0.1:7999")
    current = status(tmp_path)
    assert not current.running and current.stale and current.pid == dead_pid
    assert main(["neo4j", "status", "--data", str(tmp_path)]) == STATUS_NOT_RUNNING
    assert main(["neo4j", "stop", "--data", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "stale pid file" in out and "not running" in out
    assert not (tmp_path / PID_FILE).exists() and not (tmp_path / URL_FILE).exists()


def test_stop_never_signals_a_recycled_pid(tmp_path: Path) -> None:
    """A pid file naming some unrelated live process: not ours, so it is left alone."""
    other = tmp_path / "other"
    other.mkdir()
    with fake_launcher(other) as pid:  # a launcher, but for another data dir
        write_pid(tmp_path, pid, "bolt://127.0.0.1:7999")
        assert not is_our_server(pid, tmp_path) and is_our_server(pid, other)
        result = stop(tmp_path, timeout=1.0)
        assert not result.was_running and result.removed_stale_pid_file
        assert process_alive(pid)


def test_stop_terminates_the_server_and_removes_the_pid_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with fake_launcher(tmp_path) as pid:
        write_pid(tmp_path, pid, "bolt://127.0.0.1:7999")
        assert main(["neo4j", "status", "--data", str(tmp_path)]) == 0
        assert f"pid {pid}, bolt://127.0.0.1:7999" in capsys.readouterr().out
        result = stop(tmp_path, timeout=PATIENCE_S)
        assert result.was_running and not result.killed and result.pid == pid
        assert not process_alive(pid)  # exited (a zombie until the test reaps it counts too)
        assert read_pid(tmp_path) is None


def test_stop_kills_a_server_that_ignores_sigterm(tmp_path: Path) -> None:
    with fake_launcher(tmp_path, ignore_sigterm=True) as pid:
        write_pid(tmp_path, pid, "bolt://127.0.0.1:7999")
        result = stop(tmp_path, timeout=0.5)
        assert result.was_running and result.killed
        assert not process_alive(pid)


def test_start_reports_a_running_server_without_needing_java(tmp_path: Path) -> None:
    with fake_launcher(tmp_path) as pid:
        write_pid(tmp_path, pid, "bolt://127.0.0.1:7999")
        result = start(ServerConfig(data_dir=tmp_path), environ={"PATH": str(tmp_path)})
        assert result.already_running and result.pid == pid
        assert result.url == "bolt://127.0.0.1:7999"


def test_cli_start_prints_only_the_url_on_stdout(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Scripts capture stdout (`URL=$(learngraph neo4j start)`): nothing else may go there."""
    with fake_launcher(tmp_path) as pid:
        write_pid(tmp_path, pid, "bolt://127.0.0.1:7999")
        assert main(["neo4j", "start", "--port", "7998", "--data", str(tmp_path)]) == 0
        captured = capsys.readouterr()
        assert captured.out == "bolt://127.0.0.1:7999\n"
        assert f"already running on {tmp_path} (pid {pid})" in captured.err
        assert "not port 7998: stop it first to change port" in captured.err


def test_start_refuses_a_data_path_that_is_a_file(tmp_path: Path) -> None:
    path = tmp_path / "file"
    path.write_text("x")
    with pytest.raises(Neo4jServerError, match="is a file"):
        start(ServerConfig(data_dir=path, port=free_port()))


# -- tools and ports -------------------------------------------------------------------------


def _executable(path: Path, text: str = "#!/bin/sh\nexit 0\n") -> Path:
    path.write_text(text)
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return path


def test_missing_java_then_missing_maven_name_what_to_install(tmp_path: Path) -> None:
    with pytest.raises(ToolMissingError, match="`java` was not found.*openjdk") as exc:
        find_tools(str(tmp_path))
    assert exc.value.tool == "java"
    _executable(tmp_path / "java")
    with pytest.raises(ToolMissingError, match="`mvn` was not found.*maven") as exc:
        find_tools(str(tmp_path))
    assert exc.value.tool == "mvn"
    _executable(tmp_path / "mvn")
    assert find_tools(str(tmp_path)) == (str(tmp_path / "java"), str(tmp_path / "mvn"))


def test_cli_start_without_java_exits_2_with_the_hint(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path / "empty-bin"))
    code = main(["neo4j", "start", "--port", str(free_port()), "--data", str(tmp_path / "d")])
    assert code == 2
    assert "error: `java` was not found on PATH" in capsys.readouterr().err
    assert not (tmp_path / "d" / PID_FILE).exists()


def test_port_in_use_is_detected_and_refused(tmp_path: Path) -> None:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        assert port_in_use(port)
        with pytest.raises(PortInUseError, match=f"port {port} on 127.0.0.1 is already in use"):
            start(ServerConfig(data_dir=tmp_path / "d", port=port))
        assert not (tmp_path / "d").exists()
    assert not port_in_use(port)


# -- building the launcher -------------------------------------------------------------------


def _launcher_copy(tmp_path: Path) -> Path:
    launcher = tmp_path / "launcher"
    src = launcher / "src" / "main" / "java" / "org" / "learngraph" / "neo4j"
    src.mkdir(parents=True)
    (launcher / "pom.xml").write_text("<project/>")
    (src / "Launcher.java").write_text("class Launcher {}")
    return launcher


def test_build_runs_maven_once_reports_downloads_and_returns_the_classpath(
    tmp_path: Path,
) -> None:
    launcher = _launcher_copy(tmp_path)
    jar = _executable(tmp_path / "neo4j.jar", "")
    calls = tmp_path / "calls"
    mvn = _executable(
        tmp_path / "mvn",
        f"""#!/bin/sh
echo run >> {calls}
echo "[INFO] Downloading from central: https://repo/neo4j.jar"
echo "[INFO] Downloaded from central: https://repo/neo4j.jar (6.7 MB at 18 MB/s)"
echo "[INFO] Downloaded from central: https://repo/neo4j.pom (80 kB at 1 MB/s)"
mkdir -p target/classes/org/learngraph/neo4j
touch target/classes/org/learngraph/neo4j/Launcher.class
printf '%s' {jar} > target/classpath.txt
""",
    )
    messages: list[str] = []
    classpath = build_launcher(str(mvn), messages.append, launcher)
    assert classpath == os.pathsep.join([str(launcher / "target" / "classes"), str(jar)])
    assert "2 files, 6.8 MB fetched" in messages[-1]
    assert build_launcher(str(mvn), messages.append, launcher) == classpath
    assert calls.read_text().count("run") == 1  # the second call reused the build
    newer = (launcher / "pom.xml").stat().st_mtime + 10
    os.utime(launcher / "pom.xml", (newer, newer))
    assert launcher_classpath(launcher) is None  # an edited pom means rebuild
    jar.unlink()
    os.utime(launcher / "pom.xml", (newer - 20, newer - 20))
    assert launcher_classpath(launcher) is None  # a jar gone from the cache means rebuild


def test_failed_maven_build_shows_the_log_tail(tmp_path: Path) -> None:
    launcher = _launcher_copy(tmp_path)
    mvn = _executable(
        tmp_path / "mvn", "#!/bin/sh\necho '[ERROR] Could not resolve org.neo4j'\nexit 1\n"
    )
    messages: list[str] = []
    with pytest.raises(LauncherBuildError, match="mvn exit 1(.|\n)*Could not resolve org.neo4j"):
        build_launcher(str(mvn), messages.append, launcher)
    assert any("[ERROR] Could not resolve" in m for m in messages)


# -- the real server -------------------------------------------------------------------------


@pytest.mark.neo4j
def test_real_server_starts_answers_keeps_data_and_stops(tmp_path: Path) -> None:
    neo4j_url()  # skipped unless LEARNGRAPH_TEST_NEO4J is set (this test starts its own)
    from neo4j import GraphDatabase

    data = tmp_path / "neo4j"
    config = ServerConfig(data_dir=data, port=0, password="test-password", timeout=300)
    auth = ("neo4j", "test-password")
    first = start(config, progress=lambda _: None)
    try:
        assert not first.already_running and first.url.startswith("bolt://127.0.0.1:")
        assert status(data).running and status(data).url == first.url
        with GraphDatabase.driver(first.url, auth=auth) as driver:
            records, _, _ = driver.execute_query("CREATE (n:Probe {v: $v}) RETURN n.v AS v", v=7)
            assert records[0]["v"] == 7
        again = start(config, progress=lambda _: None)
        assert again.already_running and again.pid == first.pid and again.url == first.url
    finally:
        stopped = stop(data)
    assert stopped.was_running and not stopped.killed
    assert not process_alive(first.pid) and read_pid(data) is None

    second = start(config, progress=lambda _: None)  # same data dir: the node is still there
    try:
        with GraphDatabase.driver(second.url, auth=auth) as driver:
            records, _, _ = driver.execute_query("MATCH (n:Probe) RETURN n.v AS v")
            assert [r["v"] for r in records] == [7]
    finally:
        stop(data)
    assert not status(data).running
