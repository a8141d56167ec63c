"""Write the schema's SDL to ``schema.graphql`` at the repository root.

    python -m api.schema_export            # regenerate
    python -m api.schema_export --check    # exit 1 when schema.graphql is stale
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from api.schema import schema_sdl

SCHEMA_FILE = Path(__file__).resolve().parents[1] / "schema.graphql"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m api.schema_export", description=__doc__)
    parser.add_argument("--check", action="store_true", help="only check; do not write")
    parser.add_argument("--out", type=Path, default=SCHEMA_FILE)
    args = parser.parse_args(argv)
    sdl = schema_sdl()
    if args.check:
        current = args.out.read_text() if args.out.exists() else ""
        if current != sdl:
            print(f"{args.out} is stale; run `python -m api.schema_export`", file=sys.stderr)
            return 1
        return 0
    args.out.write_text(sdl)
    print(f"wrote {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
