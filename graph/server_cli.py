"""``learngraph neo4j start|stop|status``: a local Neo4j Community server (see graph.neo4j_server).

``start`` prints only the bolt URL on stdout (progress goes to stderr), so scripts can write
``export LEARNGRAPH_TEST_NEO4J=$(learngraph neo4j start --port 7688 --data /tmp/n4j)``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

STATUS_NOT_RUNNING = 3  # the LSB init-script convention for "program is not running"


def port_arg(text: str) -> int:
    """argparse type for --port: an integer 0..65535 (0: any free port)."""
    try:
        port = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number: use 1..65535") from None
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"{port} is out of range: use 1..65535 (0: any free)")
    return port


def seconds_arg(text: str) -> float:
    """argparse type for timeouts: a positive number of seconds."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"{text!r} must be more than 0 seconds")
    return value


def register(sub: Any) -> None:
    """Add ``neo4j start|stop|status`` to the learngraph parser."""
    from graph.neo4j_server import DEFAULT_DATA_DIR, DEFAULT_PORT

    parser = sub.add_parser(
        "neo4j",
        help="start / stop a local Neo4j Community 5.26 server (needs java and mvn)",
        description="Run Neo4j Community 5.26 LTS locally, fetched from Maven Central on first "
        "use; bound to 127.0.0.1 only.",
    )
    actions = parser.add_subparsers(dest="neo4j_action", required=True, metavar="ACTION")
    data_help = f"data directory (default: ./{DEFAULT_DATA_DIR})"

    start = actions.add_parser("start", help="start a server and wait until Bolt answers")
    start.add_argument("--port", type=port_arg, default=DEFAULT_PORT,
                       help=f"Bolt port on 127.0.0.1 (default {DEFAULT_PORT}; 0: any free port)")
    start.add_argument("--data", type=Path, default=DEFAULT_DATA_DIR, help=data_help)
    start.add_argument("--password", default=None,
                       help="turn authentication on, user neo4j with this password "
                       "(default: authentication off)")
    start.add_argument("--timeout", type=seconds_arg, default=120.0,
                       help="seconds to wait for Bolt (default 120)")
    start.set_defaults(func=_start)

    stop = actions.add_parser("stop", help="stop the server on a data directory")
    stop.add_argument("--data", type=Path, default=DEFAULT_DATA_DIR, help=data_help)
    stop.add_argument("--timeout", type=seconds_arg, default=60.0,
                      help="seconds to wait after SIGTERM before SIGKILL (default 60)")
    stop.set_defaults(func=_stop)

    stat = actions.add_parser("status", help="say whether a server runs (exit 3 when not)")
    stat.add_argument("--data", type=Path, default=DEFAULT_DATA_DIR, help=data_help)
    stat.set_defaults(func=_status)


def _start(args: argparse.Namespace) -> int:
    from graph.neo4j_server import ServerConfig, start

    config = ServerConfig(
        data_dir=args.data, port=args.port, password=args.password, timeout=args.timeout
    )
    result = start(config)
    if result.already_running:
        note = ""
        if args.port not in (0, int(result.url.rsplit(":", 1)[1])):
            note = f"; it serves {result.url}, not port {args.port}: stop it first to change port"
        print(f"Neo4j is already running on {args.data} (pid {result.pid}){note}",
              file=sys.stderr)
    else:
        print(f"Neo4j ready in {result.seconds:.1f} s (pid {result.pid}, data {args.data}); "
              f"stop it with: learngraph neo4j stop --data {args.data}", file=sys.stderr)
    print(result.url, flush=True)
    return 0


def _stop(args: argparse.Namespace) -> int:
    from graph.neo4j_server import stop

    result = stop(args.data, timeout=args.timeout)
    if not result.was_running:
        extra = " (removed a stale pid file)" if result.removed_stale_pid_file else ""
        print(f"Neo4j is not running on {args.data}{extra}; nothing to stop")
    elif result.killed:
        print(f"Neo4j (pid {result.pid}) ignored SIGTERM for {args.timeout:.0f} s; killed it")
    else:
        print(f"Neo4j stopped (pid {result.pid}, {result.seconds:.1f} s)")
    return 0


def _status(args: argparse.Namespace) -> int:
    from graph.neo4j_server import status

    current = status(args.data)
    if current.running:
        print(f"running: pid {current.pid}, {current.url or 'url unknown'}, data {args.data}")
        return 0
    extra = f" (stale pid file names pid {current.pid})" if current.stale else ""
    print(f"not running on {args.data}{extra}")
    return STATUS_NOT_RUNNING
