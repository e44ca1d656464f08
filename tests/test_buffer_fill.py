"""vm.buffer.fill.* on x86-64 (16-byte SSE2 stores, then element by element) against
iree.runtime: every width, offsets 0-4, lengths 0-40 elements (fills shorter than, equal to
and longer than a 16-byte store, with every tail), values whose high bits must not leak
into narrower elements, and the traps (out of range, read-only)."""
from __future__ import annotations

import numpy as np
import pytest

import corpus
from differential import Oracle
from splatjit import TrapError
from splatjit.module import JitModule

WIDTHS = {"i8": (1, np.uint8), "i16": (2, np.uint16), "i32": (4, np.uint32),
          "i64": (8, np.uint64), "f32": (4, np.float32), "f64": (8, np.float64)}
VALUES = {"i8": [0x1234AB7F, -1], "i16": [0x7EADBEEF, -2], "i32": [0x12345678, -3],
          "i64": [0x0123456789ABCDEF, -4], "f32": [1.5, -0.0], "f64": [-2.25, 3e300]}
BUFFER_BYTES = 8 * 48


@pytest.fixture(scope="module")
def modules():
    data = corpus.compile_item(corpus.find_item("vm/buffers"))
    return JitModule(data), Oracle([data])


@pytest.mark.parametrize("width", list(WIDTHS))
def test_fills_match_the_interpreter(modules, width):
    jit, oracle = modules
    size, dtype = WIDTHS[width]
    fn = getattr(jit, f"fill_{width}")
    types = ["ref", "i64", "i64", {"i8": "i32", "i16": "i32"}.get(width, width)]
    rng = np.random.default_rng(size)
    for value in VALUES[width]:
        for off in range(5):
            for length in range(41):
                start = rng.integers(0, 256, BUFFER_BYTES, dtype=np.uint8)
                got, want = start.copy(), start.copy()
                fn(got, off, length, value)
                oracle.call(f"fill_{width}", [want, off, length, value], types)
                assert got.tobytes() == want.tobytes(), (value, off, length)


def test_fill_traps_as_the_interpreter_does(modules):
    jit, _ = modules
    elements = BUFFER_BYTES // 4
    buf = np.zeros(BUFFER_BYTES, np.uint8)
    with pytest.raises(TrapError, match="fill_i32"):
        jit.fill_i32(buf, 1, elements, 7)        # one element past the end
    assert not buf.any()                          # checked before any store
    jit.fill_i32(buf, 1, elements - 1, 7)
    assert (buf.view(np.uint32)[1:] == 7).all() and buf.view(np.uint32)[0] == 0
    ro = np.zeros(64, np.uint8)
    ro.flags.writeable = False
    with pytest.raises(TrapError, match="fill_i8"):
        jit.fill_i8(ro, 0, 1, 1)
