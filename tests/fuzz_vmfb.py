"""A mutation fuzzer for the frontend: every mutated module loads or raises `SplatJitError`.

Mutations: bit flips, byte edits, truncation, insertion/deletion, FlatBuffer offset
corruption (u32 slots inside the FlatBuffer rewritten with hostile values), and edits aimed
at the bytecode section (opcodes, register ordinals, branch targets).
"""
from __future__ import annotations

import random
import signal
import struct
from dataclasses import dataclass, field

from splatjit import SplatJitError, load_module
from splatjit.frontend.archive import _strip_zip_header
from splatjit.frontend.dump import dump

HOSTILE_U32 = (0, 1, 2, 3, 4, 0x7F, 0x80, 0xFF, 0xFFFF, 0x7FFFFFFF, 0x80000000, 0xFFFFFFFF,
               0xFFFFFFFC, 0xFFFFFFFE)


@dataclass
class Seed:
    data: bytes
    fb_start: int  # FlatBuffer byte range in `data`
    fb_end: int
    bytecode: tuple[int, int]  # bytecode section byte range in `data`


def make_seed(data: bytes) -> Seed:
    from vmfb_edit import bytecode_base
    start = _strip_zip_header(data)
    length = struct.unpack_from("<I", data, start)[0]
    mod = load_module(data, nested=False)
    bc = bytecode_base(data)
    return Seed(data, start + 4, start + 4 + length, (bc, bc + len(mod.defn.bytecode)))


def _u32_slot(rng: random.Random, lo: int, hi: int) -> int:
    return lo + (rng.randrange(max(1, (hi - lo) // 4)) * 4)


def mutate(seed: Seed, rng: random.Random) -> tuple[str, bytes]:
    """One mutated copy of the seed and the name of the mutation."""
    d = bytearray(seed.data)
    kind = rng.choice(MUTATIONS)
    n = len(d)
    if kind == "bitflip":
        for _ in range(rng.randint(1, 4)):
            i = rng.randrange(n)
            d[i] ^= 1 << rng.randrange(8)
    elif kind == "byte":
        for _ in range(rng.randint(1, 8)):
            d[rng.randrange(n)] = rng.randrange(256)
    elif kind == "truncate":
        d = d[:rng.randrange(n)]
    elif kind == "insert":
        i = rng.randrange(n)
        d[i:i] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 16)))
    elif kind == "delete":
        i = rng.randrange(n)
        del d[i:i + rng.randint(1, 16)]
    elif kind == "fb_offset":
        for _ in range(rng.randint(1, 3)):
            pos = _u32_slot(rng, seed.fb_start, seed.fb_end - 4)
            old = struct.unpack_from("<I", d, pos)[0]
            value = rng.choice(HOSTILE_U32 + ((old + rng.randint(-64, 64)) & 0xFFFFFFFF,))
            struct.pack_into("<I", d, pos, value)
    elif kind == "fb_u16":
        pos = seed.fb_start + rng.randrange(max(1, seed.fb_end - seed.fb_start - 2))
        struct.pack_into("<H", d, pos, rng.choice((0, 1, 2, 3, 4, 0xFFFF, 0x8000, rng.randrange(65536))))
    else:  # bytecode-targeted
        lo, hi = seed.bytecode
        if hi - lo < 4:
            return kind, bytes(d)
        for _ in range(rng.randint(1, 3)):
            pos = lo + rng.randrange(hi - lo - 3)
            if kind == "bc_byte":
                d[pos] = rng.randrange(256)
            elif kind == "bc_u16":
                struct.pack_into("<H", d, pos, rng.choice((0, 1, 2, 0x7FFF, 0x8000, 0xC000, 0xFFFF,
                                                           rng.randrange(65536))))
            else:
                struct.pack_into("<I", d, pos, rng.choice(HOSTILE_U32 + (rng.randrange(hi - lo),)))
    return kind, bytes(d)


MUTATIONS = ("bitflip", "byte", "truncate", "insert", "delete", "fb_offset", "fb_u16",
             "bc_byte", "bc_byte", "bc_u16", "bc_u16", "bc_u32")


class _Timeout(Exception):
    pass


def _alarm(signum, frame):
    raise _Timeout()


@dataclass
class FuzzReport:
    cases: int = 0
    accepted: int = 0
    rejected: dict = field(default_factory=dict)  # error class name -> count
    failures: list = field(default_factory=list)  # (mutation, seed index, repr(exception), bytes)


def run(seeds: list[Seed], cases: int, seed: int = 0, per_case_seconds: int = 5) -> FuzzReport:
    """Runs `cases` mutations round-robin over `seeds`; collects any non-SplatJitError."""
    rng = random.Random(seed)
    report = FuzzReport()
    old = signal.signal(signal.SIGALRM, _alarm)
    try:
        for i in range(cases):
            s = i % len(seeds)
            kind, data = mutate(seeds[s], rng)
            signal.alarm(per_case_seconds)
            try:
                mod = load_module(data)
                dump(mod)  # a module that loads must also list
                report.accepted += 1
            except SplatJitError as e:
                name = type(e).__name__
                report.rejected[name] = report.rejected.get(name, 0) + 1
            except _Timeout:
                report.failures.append((kind, s, "timeout", data))
            except Exception as e:  # noqa: BLE001 - the point is to catch everything else
                report.failures.append((kind, s, repr(e), data))
            finally:
                signal.alarm(0)
            report.cases += 1
    finally:
        signal.signal(signal.SIGALRM, old)
    return report
