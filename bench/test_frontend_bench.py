"""Frontend throughput: decode + verify of every corpus module, in bytecode ops per second.

Run: python -m pytest bench --benchmark-enable. Target: >= 200k ops/s (decode + verify).
"""
from __future__ import annotations

import corpus
from splatjit.frontend.decoder import decode_module_functions
from splatjit.frontend.loader import load_module
from splatjit.frontend.verifier import verify_function


def _definitions():
    defs = []
    for item in corpus.all_items():
        try:
            data = corpus.compile_item(item)
            mod = load_module(data)
        except Exception:  # noqa: BLE001 - compile failures and known-bad encodings
            continue
        defs.append(mod.defn)
        defs.extend(e.module.defn for e in mod.executables)
    return defs


def test_decode_verify_throughput(benchmark):
    defs = _definitions()
    ops = sum(f.op_count for d in defs for f in decode_module_functions(d))

    def run():
        for d in defs:
            for fn in decode_module_functions(d):
                verify_function(fn, d)

    benchmark.pedantic(run, rounds=5, iterations=1, warmup_rounds=1)
    if benchmark.disabled:  # --benchmark-disable: the run above only checked it works
        return
    rate = ops / benchmark.stats.stats.min
    benchmark.extra_info.update(ops=ops, ops_per_second=round(rate))
    print(f"\ndecode+verify: {ops} ops, {rate / 1e3:.0f}k ops/s (best of 5)")


def test_whole_load_throughput(benchmark):
    blobs = []
    for item in corpus.all_items():
        try:
            data = corpus.compile_item(item)
            load_module(data)
        except Exception:  # noqa: BLE001
            continue
        blobs.append(data)
    ops = sum(load_module(b).op_count for b in blobs)

    def run():
        for b in blobs:
            load_module(b)

    benchmark.pedantic(run, rounds=5, iterations=1, warmup_rounds=1)
    if benchmark.disabled:
        return
    rate = ops / benchmark.stats.stats.min
    benchmark.extra_info.update(ops=ops, ops_per_second=round(rate))
    print(f"\nload (container + decode + verify + nested): {rate / 1e3:.0f}k ops/s")
