"""What the tracer-state watermark costs on the answer path (``tracing.watermark``).

Every saved tracer state carries a watermark (which attempts are folded into it) so that a
retried ``recordAttempts`` batch completes tracing that failed, without tracing any answer
twice. This script measures, on a fresh SQLite store (or ``--db``) with a curriculum of
``--skills`` skills (three items each) served by the default BKT:

1. **codec**: encoding and decoding one learner's state with a full watermark (``--keep``
   keys) against the bare ``LGS1`` state encoding it wraps (the baseline, same process, same
   state, interleaved): median, p99 and the ratio; and the stored size of each;
2. **apply**: ``MasteryService.apply`` of one fresh attempt per call (the API's common path),
   ``--calls`` calls on one learner whose watermark is full, against the baseline of the same
   ``apply`` with the pre-watermark codec (bare ``LGS1`` states) on another learner, the two
   interleaved: median, p99, ratio; and the floor, its three store calls made directly with
   the same payloads (load state, save a mastery row, save the state);
3. **retries**: ``apply`` of a batch that is all duplicates already traced (the client's
   retry after a success: one state read, no write), for 1 and 100 attempts.

Usage::

    nice .venv/bin/python benchmarks/bench_watermark.py              # 169 skills, 2,000 calls
    nice .venv/bin/python benchmarks/bench_watermark.py --skills 1000 --json
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

from graph.models import (  # noqa: E402
    Attempt,
    Item,
    ItemKind,
    Learner,
    Mastery,
    Skill,
    SkillWeight,
)
from graph.open import open_store  # noqa: E402
from migrations.runner import migrate  # noqa: E402
from tracing import serving  # noqa: E402
from tracing.bkt import BKTTracer  # noqa: E402
from tracing.data import vocabulary_from_items  # noqa: E402
from tracing.serving import (  # noqa: E402
    MasteryService,
    _decode_plain,
    _encode_plain,
    decode_traced,
    encode_state,
    mastery_uncertainty,
)
from tracing.watermark import KEEP, Watermark, attempt_key  # noqa: E402

T0 = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)


def summary(ns: list[int]) -> dict[str, float]:
    s = sorted(ns)
    return {"median_us": statistics.median(s) / 1e3,
            "p99_us": s[min(len(s) - 1, int(0.99 * len(s)))] / 1e3, "n": len(s)}


def progress(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def codec(state: Any, mark: Watermark, reps: int) -> dict[str, Any]:
    marked = encode_state(state, watermark=mark)
    plain = _encode_plain(state)
    t: dict[str, list[int]] = {"enc_new": [], "enc_old": [], "dec_new": [], "dec_old": []}
    for _ in range(reps):  # interleaved, so machine load touches both alike
        a = time.perf_counter_ns()
        encode_state(state, watermark=mark)
        b = time.perf_counter_ns()
        _encode_plain(state)
        c = time.perf_counter_ns()
        decode_traced(marked)
        d = time.perf_counter_ns()
        _decode_plain(plain)
        e = time.perf_counter_ns()
        t["enc_new"].append(b - a)
        t["enc_old"].append(c - b)
        t["dec_new"].append(d - c)
        t["dec_old"].append(e - d)
    out: dict[str, Any] = {k: summary(v) for k, v in t.items()}
    out["bytes_new"], out["bytes_old"] = len(marked), len(plain)
    return out


@contextmanager
def without_watermarks() -> Iterator[None]:
    """``MasteryService.apply`` as it was before watermarks: the bare ``LGS1`` state codec
    (no watermark written or read; only fresh attempts are sent to it here)."""
    saved = serving.encode_state, serving.decode_traced

    def encode(state: Any, *, watermark: Watermark) -> bytes:
        return _encode_plain(state)

    def decode(blob: bytes) -> tuple[Any, Watermark]:
        return _decode_plain(blob), Watermark()

    serving.encode_state, serving.decode_traced = encode, decode
    try:
        yield
    finally:
        serving.encode_state, serving.decode_traced = saved


async def timed(fn: Callable[[], Awaitable[Any]]) -> int:
    a = time.perf_counter_ns()
    await fn()
    return time.perf_counter_ns() - a


async def run(args: argparse.Namespace) -> dict[str, Any]:
    skills = [Skill(f"s{i:04d}", f"Skill {i}") for i in range(args.skills)]
    items = [Item(f"i{i:04d}-{j}", ItemKind.EXERCISE, f"item {i}/{j}",
                  (SkillWeight(s.id),)) for i, s in enumerate(skills) for j in range(3)]
    vocab = vocabulary_from_items(items, [])
    tracer = BKTTracer(prior=0.3, learn=0.15, guess=0.2, slip=0.1).with_vocab(vocab)
    svc = MasteryService(tracer, "bkt-default", items, keep=args.keep)

    full = Watermark().add(((k, f"a{k:06d}") for k in range(args.keep + 1)), args.keep)
    progress(f"codec: {args.codec_reps} encode/decode pairs")
    result: dict[str, Any] = {"skills": args.skills, "keep": args.keep,
                              "codec": codec(tracer.init_state(), full, args.codec_reps)}

    with tempfile.TemporaryDirectory() as tmp:
        store = await open_store(args.db or f"sqlite:///{tmp}/bench.db")
        try:
            await migrate(store)
            await store.upsert_skills(skills, actor="bench")
            await store.upsert_items(items, actor="bench")
            await store.upsert_learners([Learner(x, x) for x in ("l0", "l1", "l2")])
            rng = np.random.default_rng(args.seed)

            def attempt(n: int, learner: str = "l0") -> Attempt:
                it = items[int(rng.integers(len(items)))]
                return Attempt(f"{learner}-{n:06d}", learner, it.id, float(rng.random() < 0.6),
                               T0 + timedelta(seconds=n))

            warm = [attempt(n) for n in range(args.keep + 1)]  # fill the watermark first
            await store.record_attempts(warm)
            await svc.apply(store, warm)
            warm2 = [replace(w, attempt_id=w.attempt_id.replace("l0", "l2"), learner_id="l2")
                     for w in warm]
            await store.record_attempts(warm2)
            with without_watermarks():
                await svc.apply(store, warm2)
            apply_ns: list[int] = []
            base_ns: list[int] = []
            legacy_ns: list[int] = []
            sent: list[Attempt] = []
            for n in range(args.calls):
                a = attempt(args.keep + 1 + n)
                await store.record_attempts([a])
                sent.append(a)
                b = replace(a, attempt_id=a.attempt_id.replace("l0", "l2"), learner_id="l2")
                await store.record_attempts([b])
                pair = [(apply_ns, a, False), (legacy_ns, b, True)]
                for into, x, legacy in pair if n % 2 else pair[::-1]:  # alternate who goes first
                    with without_watermarks() if legacy else nullcontext():
                        into.append(await timed(partial(svc.apply, store, [x], {x.attempt_id})))
                # baseline: the same three store calls, made directly (l1's own rows)
                (blob,) = await store.load_tracer_states(["l0"], "bkt-default")
                assert blob is not None
                p = tracer.mastery(decode_traced(blob)[0])
                row = svc.vocab.skill_ids[0]
                m = Mastery("l1", row, float(p[0]), float(mastery_uncertainty(p)[0]), T0,
                            "bkt-default")

                async def direct(blob: bytes = blob, m: Mastery = m) -> None:
                    await store.load_tracer_states(["l1"], "bkt-default")
                    await store.save_mastery([m])
                    await store.save_tracer_states([("l1", "bkt-default", blob)])

                base_ns.append(await timed(direct))
                if (n + 1) % 500 == 0:
                    progress(f"apply: {n + 1}/{args.calls} calls")
            (blob,) = await store.load_tracer_states(["l0"], "bkt-default")
            assert blob is not None
            mark = decode_traced(blob)[1]
            assert len(mark.recent) == args.keep and mark.newest == attempt_key(a)
            result["apply_fresh_1"] = summary(apply_ns)
            result["baseline_store_calls"] = summary(base_ns)
            result["baseline_apply_without_watermark"] = summary(legacy_ns)

            old = sent[-100:]  # stored and traced: a retry finds nothing to do
            retry1: list[int] = []
            retry100: list[int] = []
            for _ in range(max(50, args.calls // 10)):
                retry1.append(await timed(lambda: svc.apply(store, old[-1:], frozenset())))
                retry100.append(await timed(lambda: svc.apply(store, old, frozenset())))
            (after,) = await store.load_tracer_states(["l0"], "bkt-default")
            assert after == blob, "a retry of traced attempts changed the state"
            result["retry_duplicates_1"] = summary(retry1)
            result["retry_duplicates_100"] = summary(retry100)
        finally:
            await store.close()
    return result


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--skills", type=int, default=169)
    ap.add_argument("--calls", type=int, default=2000)
    ap.add_argument("--codec-reps", type=int, default=5000)
    ap.add_argument("--keep", type=int, default=KEEP)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--db", default=None, help="store URL (default: a temporary SQLite file)")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    r = asyncio.run(run(args))
    if args.json:
        print(json.dumps(r, indent=2))
        return
    c = r["codec"]
    print(f"{r['skills']} skills, BKT state, watermark keep={r['keep']}")
    print("| step | median µs | p99 µs | baseline median µs | ratio |")
    print("|---|---:|---:|---:|---:|")
    for name, new, old in (("encode state", c["enc_new"], c["enc_old"]),
                           ("decode state", c["dec_new"], c["dec_old"]),
                           ("apply 1 fresh attempt", r["apply_fresh_1"],
                            r["baseline_apply_without_watermark"])):
        print(f"| {name} | {new['median_us']:.1f} | {new['p99_us']:.1f} | "
              f"{old['median_us']:.1f} | {new['median_us'] / old['median_us']:.2f} |")
    for name in ("retry_duplicates_1", "retry_duplicates_100"):
        s = r[name]
        print(f"| {name.replace('_', ' ')} | {s['median_us']:.1f} | {s['p99_us']:.1f} | | |")
    b = r["baseline_store_calls"]
    print(f"| the apply's 3 store calls alone | {b['median_us']:.1f} | {b['p99_us']:.1f} | | |")
    print(f"stored state: {c['bytes_new']} bytes with the watermark, {c['bytes_old']} without")


if __name__ == "__main__":
    main()
