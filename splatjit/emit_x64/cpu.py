"""Run-time x86-64 CPU feature detection.

Feature names are Linux /proc/cpuinfo flag names (``sse4_1``, ``avx2``, ``fma``,
``avx512f``, ...) plus ``base`` (the x86-64 integer ISA) and two normalisations:
``pni`` is reported as ``sse3`` and ``abm`` as ``lzcnt``. Every set includes the x86-64
baseline ``base, sse, sse2`` and is closed under `IMPLIES` (``avx2`` brings ``avx``, ...).

``SPLATJIT_X64_FEATURES`` overrides detection: a comma-separated list such as
``sse2,sse4_1`` (to exercise lower code paths), or ``all``.
"""
from __future__ import annotations

import functools
import os
from collections.abc import Iterable

from splatjit.emit_x64.errors import AsmError

ENV_VAR = "SPLATJIT_X64_FEATURES"
BASELINE = frozenset({"base", "sse", "sse2"})
IMPLIES = {
    "sse3": {"sse2"}, "ssse3": {"sse3"}, "sse4_1": {"ssse3"}, "sse4_2": {"sse4_1"},
    "avx": {"sse4_2"}, "avx2": {"avx"}, "fma": {"avx"},
    "avx512f": {"avx2", "fma"}, "avx512vl": {"avx512f"}, "avx512dq": {"avx512f"},
    "avx512bw": {"avx512f"},
}
ALL_FEATURES = frozenset({"base", "sse", "sse2", "sse3", "ssse3", "sse4_1", "sse4_2", "popcnt",
                          "lzcnt", "bmi1", "bmi2", "avx", "avx2", "fma", "avx512f", "avx512vl",
                          "avx512dq", "avx512bw"})
_RENAMES = {"pni": "sse3", "abm": "lzcnt"}


def closure(features: Iterable[str]) -> frozenset[str]:
    """``features`` plus the baseline and everything they imply; AsmError on unknown names.
    (A closed set, which every Assembler passes on to the next, is its own closure.)"""
    if type(features) is frozenset and features in _CLOSED:
        return features
    out = set(BASELINE)
    todo = [_RENAMES.get(f, f) for f in features]
    unknown = sorted(set(todo) - ALL_FEATURES)
    if unknown:
        raise AsmError(f"unknown x86-64 CPU feature(s) {', '.join(unknown)}; "
                       f"known: {', '.join(sorted(ALL_FEATURES))}")
    while todo:
        f = todo.pop()
        if f not in out:
            out.add(f)
            todo.extend(IMPLIES.get(f, ()))
    closed = frozenset(out)
    if len(_CLOSED) < 64:
        _CLOSED.add(closed)
    return closed


#: feature sets `closure` returned (a few per process)
_CLOSED: set[frozenset[str]] = set()


def parse_features(text: str) -> frozenset[str]:
    """``"sse2,sse4_1"`` -> closed feature set; ``"all"`` -> every feature the table uses."""
    names = [t.strip().lower() for t in text.replace(" ", ",").split(",") if t.strip()]
    if names == ["all"]:
        return ALL_FEATURES
    return closure(names)


def cpuinfo_features(path: str = "/proc/cpuinfo") -> frozenset[str]:
    """Flags of the first CPU in /proc/cpuinfo (baseline only if unreadable)."""
    try:
        with open(path, encoding="ascii", errors="replace") as f:
            for line in f:
                key, _, value = line.partition(":")
                if key.strip() == "flags":
                    flags = value.split()
                    return closure(f for f in flags if _RENAMES.get(f, f) in ALL_FEATURES)
    except OSError:
        pass
    return BASELINE


@functools.lru_cache(maxsize=None)
def _detect(override: str | None) -> frozenset[str]:
    return parse_features(override) if override else cpuinfo_features()


def host_features() -> frozenset[str]:
    """Features of the running CPU, or of ``$SPLATJIT_X64_FEATURES`` when set."""
    return _detect(os.environ.get(ENV_VAR) or None)
