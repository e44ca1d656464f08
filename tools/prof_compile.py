"""Compile speed of `JitModule(...)` over the corpus bench/test_speed.py uses, per module.

    python tools/prof_compile.py            # ops/s overall and per module
    python tools/prof_compile.py p [N]      # and a cProfile of one pass (N rows, default 45)
    SPLATJIT_TIER=baseline python tools/prof_compile.py   # the baseline tier (tools/prof_tiers.py: A/B)

Run from the repository root so the tree's own `splatjit` is imported.
"""
import cProfile
import pstats
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "bench"), str(ROOT / "tests")]

import speed_support as ss  # noqa: E402
from splatjit.module import JitModule  # noqa: E402

blobs, imports, excluded, origin = ss.constructible_modules()
for name, e in excluded:
    print("excluded", name, type(e).__name__)
ops = ss.compiled_op_count([b for _, b in blobs], imports)


def build_all():
    for _, b in blobs:
        JitModule(b, imports=imports).close()


times = []
for _ in range(3):
    start = time.perf_counter()
    build_all()
    times.append(time.perf_counter() - start)
best = min(times)
print(f"{len(blobs)} modules, {ops} ops from {origin}: best of 3 {best:.3f} s, "
      f"{ops / best:,.0f} ops/s")
for name, b in blobs:
    t = time.perf_counter()
    JitModule(b, imports=imports).close()
    d = time.perf_counter() - t
    n = ss.compiled_op_count([b], imports)
    print(f"  {name:40s} {n:6d} ops {d * 1e3:8.1f} ms {n / d:8.0f}")
if len(sys.argv) > 1:
    rows = int(sys.argv[2]) if len(sys.argv) > 2 else 45
    cProfile.run("build_all()", "/tmp/prof_compile.out")
    p = pstats.Stats("/tmp/prof_compile.out")
    p.sort_stats("cumtime").print_stats(rows)
    p.sort_stats("tottime").print_stats(rows)
