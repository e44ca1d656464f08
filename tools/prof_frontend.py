"""Frontend speed over the corpus bench/test_speed.py uses: µs per bytecode op of each
loader phase, and the fixed per-module cost of `JitModule(...)` outside code generation.

    python tools/prof_frontend.py            # loader phases (best of N passes, interleaved)
    python tools/prof_frontend.py setup      # and JitModule setup of the small modules

Loader phases, summed over every corpus module and its nested executables (µs / op):
  def      archive.load_module_def (container + FlatBuffer schema)
  decode   decoder.decode_module_functions
  verify   verifier.verify_function over every function
  fused    fastload.decode_verified (what load_module runs: decode + verify in one pass)
  nested   loader.executable_references (rodata dataflow for nested executables)
  load     loader.load_module, all of the above together
Setup: `JitModule(b)` with `compile_module` timed separately; "setup" is the rest (ms).
Run from the repository root so the tree's own `splatjit` is imported.
"""
import gc
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "bench"), str(ROOT / "tests")]

import speed_support as ss  # noqa: E402
from splatjit.frontend import loader  # noqa: E402
from splatjit.frontend.archive import load_module_def  # noqa: E402
from splatjit.frontend.decoder import decode_module_functions  # noqa: E402
try:
    from splatjit.frontend.fastload import decode_verified  # noqa: E402
except ImportError:  # a tree from before the fused pass
    decode_verified = None
from splatjit.frontend.verifier import verify_function  # noqa: E402

ROUNDS = 15


def _flatten(data, out):
    """Every (bytes) module of the corpus: `data` and its nested executables, depth first."""
    loaded = loader.load_module(data)
    out.append(data)
    for e in loaded.executables:
        _flatten(loaded.defn.rodata[e.rodata_ordinal].data, out)


def phases(blobs):
    defs = [load_module_def(b) for b in blobs]
    fns = [decode_module_functions(d) for d in defs]
    ops = sum(sum(f.op_count for f in fs) for fs in fns)

    def p_def():
        for b in blobs:
            load_module_def(b)

    def p_decode():
        for d in defs:
            decode_module_functions(d)

    def p_verify():
        for d in defs:
            for f in decode_module_functions(d):
                verify_function(f, d)

    def p_fused():
        for d in defs:
            decode_verified(d)

    def p_nested():
        for d, fs in zip(defs, fns):
            loader.executable_references(d, fs)

    def p_load():
        for b in blobs:
            loader.load_module(b, nested=False)

    funcs = {"def": p_def, "decode": p_decode, "verify+decode": p_verify, "fused": p_fused,
             "nested": p_nested, "load": p_load}
    if decode_verified is None:
        del funcs["fused"]
    best = {k: float("inf") for k in funcs}
    gc.disable()  # as JitModule loads: the collector paused (its deferred pass is setup cost)
    for _ in range(ROUNDS):
        for k, f in funcs.items():
            t = time.perf_counter()
            f()
            best[k] = min(best[k], time.perf_counter() - t)
    gc.enable()
    best["verify"] = best.pop("verify+decode") - best["decode"]
    print(f"{len(blobs)} modules (nested included), {ops} ops; best of {ROUNDS}, µs/op:")
    for k in ("def", "decode", "verify", "fused", "nested", "load"):
        if k not in best:
            continue
        print(f"  {k:8s} {best[k] / ops * 1e6:7.2f}   ({best[k] * 1e3:7.2f} ms)")


def setup(modules):
    from splatjit.emit_x64 import lower
    from splatjit.module import JitModule
    names = dict(modules)
    imports = {"native_import_module": JitModule(names["vm/native_import_module"])}
    original = lower.compile_module
    spent = []

    def timed(*a, **k):
        t = time.perf_counter()
        r = original(*a, **k)
        spent.append(time.perf_counter() - t)
        return r

    lower.compile_module = timed
    try:
        small = [(n, b) for n, b in modules if n.startswith("vm/")]
        print("JitModule of vm/ modules: best of 15, ms (total, compile_module, rest)")
        rest_sum = 0.0
        for name, b in small:
            best = (float("inf"), 0.0)
            try:
                JitModule(b, imports=imports).close()
            except Exception:  # noqa: BLE001
                continue
            for _ in range(15):
                spent.clear()
                t = time.perf_counter()
                JitModule(b, imports=imports).close()
                total = time.perf_counter() - t
                best = min(best, (total, sum(spent)))
            total, comp = best
            rest_sum += total - comp
            print(f"  {name:36s} {total * 1e3:7.3f} {comp * 1e3:7.3f} {(total - comp) * 1e3:7.3f}")
        print(f"  mean rest {rest_sum / len(small) * 1e3:.3f} ms")
    finally:
        lower.compile_module = original


def main():
    modules, _ = ss.corpus_modules()
    blobs = []
    for _, b in modules:
        try:
            _flatten(b, blobs)
        except Exception:  # noqa: BLE001 - the corpus' deliberately bad modules
            continue
    phases(blobs)
    if "setup" in sys.argv[1:]:
        setup(modules)


if __name__ == "__main__":
    main()
