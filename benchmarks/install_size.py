"""How much a slim install (``pip install .``) saves against one with the ``neural`` extra.

pip resolves both without installing anything (``--dry-run --report``, run from a clone in a
scratch venv); this script sums the installed size (the files in each package's RECORD) of
the packages each report would install, measured in the environment running it, so the CUDA
wheels need not be downloaded again where an environment already has them:

    python3 -m venv /tmp/v && /tmp/v/bin/pip install -U pip
    /tmp/v/bin/pip install --dry-run --quiet --report slim.json -e .
    /tmp/v/bin/pip install --dry-run --quiet --report full.json -e '.[neural]'
    .venv/bin/python benchmarks/install_size.py slim.json full.json

It prints the size of each install, the extra's share and its largest packages. A package the
environment lacks is listed as not measured (install it, or run this where it is), and the
versions measured are the environment's, which may differ from the ones resolved.
"""

from __future__ import annotations

import argparse
import importlib.metadata as md
import json
from collections.abc import Iterable
from pathlib import Path


def _norm(name: str) -> str:
    return name.lower().replace("_", "-").replace(".", "-")


def resolved(report: Path) -> set[str]:
    """The normalised names of the packages a ``pip install --report`` would install."""
    doc = json.loads(report.read_text())
    return {_norm(i["metadata"]["name"]) for i in doc["install"]}


def installed_sizes(names: Iterable[str]) -> tuple[dict[str, tuple[str, int]], list[str]]:
    """name -> (version, bytes of its installed files) in this environment; and the names
    it lacks (``learngraph`` itself is skipped: an editable install is a few links)."""
    dists = {_norm(d.metadata["Name"]): d for d in md.distributions()}
    sizes: dict[str, tuple[str, int]] = {}
    missing: list[str] = []
    for name in sorted(names):
        dist = dists.get(name)
        if name == "learngraph":
            continue
        if dist is None:
            missing.append(name)
            continue
        total = 0
        for f in dist.files or []:
            path = Path(str(dist.locate_file(f)))
            if path.is_file():
                total += path.stat().st_size
        sizes[name] = (dist.version, total)
    return sizes, missing


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("slim", type=Path, help="report of `pip install --dry-run -e .`")
    parser.add_argument("full", type=Path, help="report of `... -e '.[neural]'`")
    parser.add_argument("--top", type=int, default=8, help="largest extra packages shown (8)")
    args = parser.parse_args(argv)
    slim, full = resolved(args.slim), resolved(args.full)
    sizes, missing = installed_sizes(slim | full)

    def total(names: set[str]) -> float:
        return sum(sizes[n][1] for n in names if n in sizes) / 1e6

    extra = full - slim
    print(f"slim install ({len(slim)} packages): {total(slim):8.1f} MB")
    print(f"with [neural] ({len(full)} packages): {total(full):8.1f} MB")
    print(
        f"the extra: {len(extra)} packages, {total(extra):.1f} MB "
        f"(x{total(full) / max(total(slim), 1e-9):.1f} the slim install)"
    )
    for name in sorted(extra & sizes.keys(), key=lambda n: -sizes[n][1])[: args.top]:
        print(f"  {sizes[name][1] / 1e6:8.1f} MB  {name} {sizes[name][0]}")
    if missing:
        print(f"not measured (not installed here): {', '.join(missing)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
