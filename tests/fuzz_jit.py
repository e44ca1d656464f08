"""Whole-pipeline fuzzing: mutated modules that still load are compiled and run.

`run_jit_fuzz(cases, seed)` mutates the bundled example seeds (tests/fuzz_vmfb.py), and for
every mutant the frontend accepts, builds a `JitModule` with a fuel budget and calls each
export with small arguments (programs: `main` with arrays of the declared shapes). Allowed
outcomes: a SplatJitError (TrapError included) or a TypeError from argument checking.
Anything else is returned as a failure; a crash kills the process, so callers run this in a
subprocess (`python tests/fuzz_jit.py CASES SEED` prints one line per failure, then "done").
"""
from __future__ import annotations

import random
import resource
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from fuzz_vmfb import make_seed, mutate  # noqa: E402

from splatjit import SplatJitError, load_module  # noqa: E402
from splatjit.module import JitModule  # noqa: E402

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
FUEL = 200_000
ARGS = {"i32": 3, "i64": 5, "f32": 1.5, "f64": -2.25}


def seeds():
    matmul = (EXAMPLES / "matmul.vmfb").read_bytes()
    host = load_module(matmul)
    kernel = host.defn.rodata[host.executables[0].rodata_ordinal].data
    return [make_seed(b) for b in ((EXAMPLES / "loop_sum.vmfb").read_bytes(), kernel, matmul)]


def _arguments(module: JitModule, fn) -> list:
    if module._program:  # tensors of the example program's shapes, else empty buffers
        shapes = [(4, 8), (8, 4)]
        return [np.ones(shapes[i % 2], np.float32) if t == "ref" else ARGS[t]
                for i, t in enumerate(fn.signature.args)]
    return [np.zeros(64, np.uint8) if t == "ref" else ARGS.get(t, 0) for t in fn.signature.args]


def run_jit_fuzz(cases: int, seed: int) -> tuple[list, dict]:
    rng = random.Random(seed)
    pool = seeds()
    failures, outcomes = [], {}
    for i in range(cases):
        kind, data = mutate(pool[i % len(pool)], rng)
        try:
            load_module(data)
        except SplatJitError:
            continue
        try:
            module = JitModule(data, fuel=FUEL)
            for name, fn in list(module._exports.items()):
                if name.startswith("__"):
                    continue
                try:
                    fn(*_arguments(module, fn))
                    outcomes["returned"] = outcomes.get("returned", 0) + 1
                except (SplatJitError, TypeError) as e:
                    outcomes[type(e).__name__] = outcomes.get(type(e).__name__, 0) + 1
        except (SplatJitError, TypeError) as e:
            outcomes[type(e).__name__] = outcomes.get(type(e).__name__, 0) + 1
        except Exception as e:  # noqa: BLE001 - the point is to catch everything else
            failures.append((i, kind, repr(e)[:200]))
    return failures, outcomes


if __name__ == "__main__":
    gib = 1 << 30
    resource.setrlimit(resource.RLIMIT_AS, (8 * gib, 8 * gib))
    found, seen = run_jit_fuzz(int(sys.argv[1]), int(sys.argv[2]))
    for f in found:
        print("FAILURE", f)
    print("outcomes", seen)
    print("done")
