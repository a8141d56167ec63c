"""How long `learngraph neo4j start` and `stop` take.

Measures, in one process:

* baseline: a bare JVM start (``java -version``), the floor any Java server pays;
* cold first start: an empty Maven cache (a temporary ``-Dmaven.repo.local``) and an unbuilt
  copy of the launcher, so Neo4j is downloaded from Maven Central, built and started on a new
  data directory (skip with ``--no-cold``);
* first start on a new data directory with the launcher already built (Neo4j creates its
  system and default databases);
* warm start: the same data directory again (the usual developer and CI case);
* stop: SIGTERM until the JVM has exited (databases checkpointed and closed).

Usage: ``python benchmarks/bench_neo4j_server.py [--runs 3] [--no-cold]``
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from graph.neo4j_launcher import LAUNCHER_DIR
from graph.neo4j_server import ServerConfig, find_tools, start, stop


def _say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _summary(name: str, values: list[float], baseline: float) -> str:
    shown = ", ".join(f"{v:.1f}" for v in values)
    median = statistics.median(values)
    return (
        f"{name:<44} median {median:6.1f} s  max {max(values):6.1f} s  "
        f"x{median / baseline:5.1f} JVM baseline  (runs: {shown})"
    )


def _timed(fn: Callable[[], object]) -> float:
    began = time.perf_counter()
    fn()
    return time.perf_counter() - began


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3, help="warm start/stop repetitions")
    parser.add_argument("--no-cold", action="store_true", help="skip the empty-cache start")
    args = parser.parse_args()
    java, _ = find_tools()

    jvm = [_timed(lambda: subprocess.run([java, "-version"], capture_output=True, check=True))
           for _ in range(5)]
    baseline = statistics.median(jvm)
    lines = [f"{'baseline: bare JVM start (java -version)':<44} median {baseline:6.2f} s"]

    with tempfile.TemporaryDirectory(prefix="bench-neo4j-") as tmp_name:
        tmp = Path(tmp_name)
        if not args.no_cold:
            launcher = tmp / "launcher"
            shutil.copytree(LAUNCHER_DIR, launcher, ignore=shutil.ignore_patterns(
                "target", "__pycache__", "*.py"))
            env = dict(os.environ, MAVEN_OPTS=f"-Dmaven.repo.local={tmp / 'm2'}")
            _say("cold start: empty Maven cache, unbuilt launcher, new data directory")
            config = ServerConfig(data_dir=tmp / "cold", port=0, timeout=600)
            cold = start(config, progress=_say, environ=env, launcher_dir=launcher)
            stop(config.data_dir)
            fetched = sum(f.stat().st_size for f in (tmp / "m2").rglob("*") if f.is_file())
            lines.append(_summary("cold first start (download+build+new store)",
                                  [cold.seconds], baseline)
                         + f"  [{fetched / 1e6:.0f} MB fetched]")

        fresh, warm, stops = [], [], []
        for run in range(args.runs):
            data = tmp / f"data{run}"
            config = ServerConfig(data_dir=data, port=0, timeout=600)
            _say(f"run {run + 1}/{args.runs}: first start on a new data directory")
            fresh.append(start(config, progress=_say).seconds)
            stops.append(stop(data).seconds)
            _say(f"run {run + 1}/{args.runs}: warm start on the same data directory")
            warm.append(start(config, progress=_say).seconds)
            stops.append(stop(data).seconds)
        lines.append(_summary("first start, new data dir (launcher built)", fresh, baseline))
        lines.append(_summary("warm start, existing data dir", warm, baseline))
        lines.append(_summary("stop (SIGTERM until the JVM exits)", stops, baseline))
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
