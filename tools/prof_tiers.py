"""Compile speed of the two x86-64 tiers (splatjit/tiers.py), A/B in one process.

    python tools/prof_tiers.py [ROUNDS]      # default 5 rounds, interleaved
    python tools/prof_tiers.py --cold        # each tier's first pass, one fresh process each

For the corpus bench/test_speed.py uses, per tier: ops/s of whole `JitModule(...)`
constructions (best round), then the split of one pass into loading (frontend), the
compile_module call (the tier's own work, nested VMVX kernels' compiles included in their
program's JitModule but not here) and the rest (per-module setup), and ops/s per module.
Later passes reuse what the first one made once per process (encodings, baseline op and
prologue templates): `--cold` times a first pass in a fresh process per tier.
Run from the repository root so the tree's own `splatjit` is imported.
"""
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "bench"), str(ROOT / "tests")]

import speed_support as ss  # noqa: E402
from splatjit import tiers  # noqa: E402
from splatjit.module import JitModule  # noqa: E402

TIERS = tiers.TIERS
blobs, imports, excluded, origin = ss.constructible_modules(TIERS)
ops = ss.compiled_op_count([b for _, b in blobs], imports)
if sys.argv[1:2] == ["--cold"]:
    print(f"{len(blobs)} modules, {ops} ops from {origin}; each tier's first pass in a fresh "
          "process (after building the import provider):")
    for t in TIERS:
        seconds = ss.first_pass_seconds(t, [n for n, _ in blobs])
        print(f"  {t:11s} {seconds:.3f} s  {ops / seconds:9,.0f} ops/s")
    sys.exit(0)
rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 5
for name, e in excluded:
    print("excluded", name, type(e).__name__, e)

#: seconds spent loading and compiling during one timed pass (speed_support.CompilerClock)
clock = ss.CompilerClock().__enter__()


def one_pass(tier):
    start = time.perf_counter()
    for _, b in blobs:
        JitModule(b, imports=imports, tier=tier).close()
    return time.perf_counter() - start


def _one(b, tier):
    t = time.perf_counter()
    JitModule(b, imports=imports, tier=tier).close()
    return time.perf_counter() - t


best = {t: None for t in TIERS}
split = {}
for _ in range(rounds):
    for t in TIERS:
        clock.reset()
        d = one_pass(t)
        if best[t] is None or d < best[t]:
            best[t] = d
            split[t] = {"load": clock.load, "compile": clock.compile}
print(f"{len(blobs)} modules, {ops} ops from {origin}, best of {rounds} interleaved rounds")
for t in TIERS:
    s = split[t]
    print(f"  {t:11s} {best[t]:.3f} s  {ops / best[t]:9,.0f} ops/s   load {s['load']:.3f} s  "
          f"compile {s['compile']:.3f} s ({ops / s['compile']:,.0f} ops/s of compile alone)  "
          f"rest {best[t] - s['load'] - s['compile']:.3f} s")
print(f"  {'module':40s} {'ops':>6s} " + " ".join(f"{t + ' ms':>14s}" for t in TIERS))
for name, b in blobs:
    n = ss.compiled_op_count([b], imports)
    row = []
    for t in TIERS:
        d = min(_one(b, t) for _ in range(3))
        row.append(d)
    print(f"  {name:40s} {n:6d} " + " ".join(f"{d * 1e3:14.2f}" for d in row)
          + f"   x{row[0] / row[1]:.1f}")
