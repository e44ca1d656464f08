"""Differential testing: the same module, function and inputs through `iree.runtime` and splatjit.

`Oracle` wraps IREE's interpreter; `edge_inputs(signature)` yields argument tuples built from
edge values of each type; `same(a, b)` compares results bit for bit (all NaNs compare equal:
NaN payloads depend on the C compiler's operand order, not on the VM's semantics).
"""
from __future__ import annotations

import itertools
import math
import random
import struct

import numpy as np

EDGE = {
    "i32": [0, 1, -1, 2, 7, -7, 31, 32, 33, 100, 0x7FFFFFFF, -0x80000000, 0x12345678, -255],
    "i64": [0, 1, -1, 2, 63, 64, 65, 2**32, -(2**32), 2**63 - 1, -(2**63), 0x123456789ABCDEF, -1000],
    "f32": [0.0, -0.0, 1.0, -1.5, 0.5, 2.5, -2.5, 3.7, 1e-40, 3.4e38, math.inf, -math.inf,
            math.nan, 1e10, -123.456, 2.0**31, 2.0**63, 4e9],
    "f64": [0.0, -0.0, 1.0, -1.5, 0.5, 2.5, -2.5, 3.7, 1e-310, 1.7e308, math.inf, -math.inf,
            math.nan, 1e10, -123.456, 2.0**31, 2.0**63, 1e19],
}
INT_MIN = {"i32": -(2**31), "i64": -(2**63)}


class Oracle:
    """IREE's bytecode interpreter over one or more modules (later ones may import earlier)."""

    def __init__(self, modules: list[bytes]):
        import iree.runtime as rt
        self.rt = rt
        self.instance = rt.VmInstance()
        self.modules = [rt.VmModule.copy_buffer(self.instance, m) for m in modules]
        self.context = rt.VmContext(self.instance, modules=self.modules)

    def call(self, function: str, args, types) -> list:
        rt = self.rt
        fn = self.modules[-1].lookup_function(function)
        arglist = rt.VmVariantList(len(args))
        buffers = []
        for v, t in zip(args, types):
            if t == "ref":
                if v is None:
                    arglist.push_ref(None) if False else arglist.push_list(rt.VmVariantList(0))
                    continue
                vb = rt.VmBuffer(v.nbytes, 16, v.flags.writeable)
                np.frombuffer(vb, dtype=np.uint8)[:] = np.frombuffer(v.tobytes(), dtype=np.uint8)
                arglist.push_ref(vb)
                buffers.append((vb, v))
            elif t in ("f32", "f64"):
                arglist.push_float(v)
            else:
                arglist.push_int(v)
        results = rt.VmVariantList(4)
        self.context.invoke(fn, arglist, results)
        for vb, v in buffers:  # make the oracle's writes visible like splatjit's zero-copy ones
            if v.flags.writeable:
                v.view(np.uint8)[:] = np.frombuffer(vb, dtype=np.uint8)
        return [results.get_variant(i) for i in range(results.size)]


def _bits(x, t):
    return struct.pack("<f" if t == "f32" else "<d", x)


def same(a, b, t: str) -> bool:
    if t in ("f32", "f64"):
        if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
            return True
        return _bits(a, t) == _bits(b, t)
    return a == b


def _to_i(v, t):
    """The oracle returns i32 as Python ints already signed; normalise i64 too."""
    bits = 32 if t == "i32" else 64
    v &= (1 << bits) - 1
    return v - (1 << bits) if v >> (bits - 1) else v


def normalise(v, t):
    if t in ("i32", "i64"):
        return _to_i(int(v), t)
    if t == "f32":
        return struct.unpack("<f", struct.pack("<f", v))[0]
    return float(v)


def edge_inputs(types, *, limit: int = 40, seed: int = 0, avoid_div_traps: bool = False):
    """Argument tuples: all combinations when few, else a seeded sample (plus diagonals)."""
    pools = [EDGE[t] for t in types]
    if not pools:
        return [()]
    if math.prod(map(len, pools)) <= limit:
        combos = list(itertools.product(*pools))
    else:
        rng = random.Random(seed)
        diag = [tuple(p[i % len(p)] for p in pools) for i in range(max(map(len, pools)))]
        combos = diag + [tuple(rng.choice(p) for p in pools) for _ in range(limit)]
    if avoid_div_traps:  # the interpreter dies of SIGFPE on these: never send them to it
        combos = [c for c in combos if not (c[-1] == 0 or (len(c) >= 2 and types[0] in INT_MIN
                                                            and c[0] == INT_MIN[types[0]] and c[1] == -1))]
    return combos
