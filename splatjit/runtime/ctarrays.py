"""ctypes array types made once per process.

`ctypes.c_uint64 * n` builds a new class unless one for (c_uint64, n) is still alive:
ctypes caches array types only weakly, and a class lives in a reference cycle, so after the
cycle collector has run the next `* n` builds the class again (~15 µs, and more garbage for
the collector). Construction-time code that makes arrays per module (import tables,
executable tables, pools, buffer views over rodata) takes its types from `array_type`,
which holds them strongly.

Contract: `array_type(item, n)` is `item * n` (the same class for equal arguments while it
stays cached); at most MAX_TYPES are held, after which the cache starts afresh.
"""
from __future__ import annotations

MAX_TYPES = 512

_TYPES: dict[tuple, type] = {}


def array_type(item, n: int) -> type:
    """`item * n` (a ctypes array class), held for later calls."""
    key = (item, n)
    cls = _TYPES.get(key)
    if cls is None:
        if len(_TYPES) >= MAX_TYPES:
            _TYPES.clear()
        cls = _TYPES[key] = item * n
    return cls
