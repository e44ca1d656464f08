"""Crash hunt over whole programs: mutate corpus program modules and run `main` on the
programs' own random inputs, so that mutants get past the shape checks into the dispatches.

    python tools/fuzz_programs.py CASES SEED [NAME[VARIANT],...]

Prints one FAILURE line per outcome that is neither a `SplatJitError` nor a `TypeError`,
then the outcome counts and "done". A crash kills the process: run it in a loop over seeds
from a shell and watch the exit status (non-zero without "done" is a finding). Memory is
capped at 8 GiB so that a runaway allocation shows as a MemoryError. Session 5 ran 321 runs
(19,212 mutants that loaded); its findings are fixed and have tests.
"""
import random
import resource
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

import corpus  # noqa: E402
from fuzz_vmfb import make_seed, mutate  # noqa: E402
from program_runs import random_inputs  # noqa: E402
from splatjit import SplatJitError, load_module  # noqa: E402
from splatjit.module import JitModule  # noqa: E402

DEFAULT = ("matmul[datatiled],elementwise_f32[ukernel],dynamic_shape[datatiled],"
           "softmax[ukernel],matmul[inline],conv2d[datatiled]")


def main(cases: int, seed: int, names: list[str]) -> None:
    pool = [(make_seed(corpus.compile_item(it)), random_inputs(it, 5))
            for it in corpus.program_items() if f"{it.name}[{it.variant}]" in names]
    resource.setrlimit(resource.RLIMIT_AS, (8 << 30, 8 << 30))
    rng = random.Random(seed)
    outcomes: dict[str, int] = {}
    for i in range(cases):
        data_seed, inputs = pool[i % len(pool)]
        kind, data = mutate(data_seed, rng)
        try:
            load_module(data)
        except SplatJitError:
            continue
        try:
            m = JitModule(data, fuel=200_000)
            if "main" not in m.exports:
                continue
            for _ in range(2):
                m["main"](*[a.copy() for a in inputs])
            outcomes["returned"] = outcomes.get("returned", 0) + 1
        except (SplatJitError, TypeError) as e:
            outcomes[type(e).__name__] = outcomes.get(type(e).__name__, 0) + 1
        except Exception as e:  # noqa: BLE001 - the point is to catch everything else
            print("FAILURE", i, kind, repr(e)[:300])
    print("outcomes", outcomes)
    print("done")


if __name__ == "__main__":
    main(int(sys.argv[1]), int(sys.argv[2]), (sys.argv[3] if len(sys.argv) > 3 else DEFAULT).split(","))
