"""Tier-up of a module compiled by the baseline tier: its hot code is recompiled by the
optimizing tier and every caller switches with one pointer store per function.

Mechanism (x86-64, `emit_x64/baseline.py` emits the machine-code side):

- Every baseline function starts with an entry stub that loads its *cell* (one uint64 per
  function in `TierUp.cells`, ordinary read-write memory, never executable): 0 means "run
  the baseline body that follows", anything else is the address to jump to. Everything
  that calls the function (other functions, exports, native imports of other modules, the
  HAL's grid loop, pyentry builtins) enters through that stub, so storing the optimizing
  entry in the cell switches them all.
- A per-module budget (`TierUp.budget`, an int64) is decremented by `CALL_COST` in every
  baseline prologue and by 1 at every loop header; when it drops to 0 or below, the code
  calls `on_hot(key)` (a ctypes callback) and then carries on in the baseline code.
- `on_hot` sets the budget out of reach, compiles the whole module with the optimizing tier
  into a new read-execute mapping (W^X: written while read-write, then made read-execute)
  and stores each function's optimizing entry in its cell. Calls already running, e.g. a
  single call that loops 10^6 times, finish in the baseline code; later calls (and the
  optimizing code's own calls) run the optimizing code.

A failure of the optimizing compile leaves the module in the baseline tier (`error` says why).
The old baseline code stays mapped as long as the module: a frame may still return into it.
"""
from __future__ import annotations

import ctypes
import itertools
import weakref

#: budget units a call costs (a loop iteration costs 1): tier-up after about
#: INITIAL_BUDGET / CALL_COST calls or INITIAL_BUDGET loop iterations, whichever comes first
CALL_COST = 64
INITIAL_BUDGET = 1 << 14
_NEVER = 1 << 62

HOT_FN = ctypes.CFUNCTYPE(None, ctypes.c_int64)
_registry: dict[int, weakref.ref] = {}
_keys = itertools.count(1)


class TierUp:
    """The tier-up state of one baseline-compiled module: cells, budget, and what the
    optimizing compile needs (`recompile(tierup)` returns (CompiledModule, mapping))."""

    def __init__(self, n_functions: int, recompile, budget: int = INITIAL_BUDGET):
        self.cells = (ctypes.c_uint64 * max(n_functions, 1))()
        self.budget = ctypes.c_int64(budget)
        self.key = next(_keys)
        self.recompile = recompile
        self.optimized = None  # (CompiledModule, ExecutableMemory) once tiered up
        self.error: BaseException | None = None
        _registry[self.key] = weakref.ref(self)

    @property
    def cells_address(self) -> int:
        return ctypes.addressof(self.cells)

    @property
    def budget_address(self) -> int:
        return ctypes.addressof(self.budget)

    def tier_up(self) -> bool:
        """Compile the optimizing code now and switch every function to it (once); True when
        the module runs optimizing code from now on."""
        if self.optimized is not None:
            return True
        self.budget.value = _NEVER
        if self.error is not None:
            return False
        try:
            compiled, memory = self.recompile()
        except Exception as e:  # noqa: BLE001 - the baseline code keeps running
            self.error = e
            return False
        self.optimized = (compiled, memory)
        for ordinal, offset in compiled.entries.items():
            self.cells[ordinal] = memory.address + offset
        return True

    def __del__(self):
        _registry.pop(self.key, None)


_MOVABS_RAX = b"\x48\xb8"  # the entry stub's first instruction: mov rax, imm64 (its cell)


def direct_entry(entry: int) -> int:
    """`entry` (a function's address), or, when it is the entry stub of a baseline function
    that has tiered up, the optimizing code its cell points to: calls compiled after the
    switch need not go through the stub. The cell's address is read from the stub's first
    instruction and must be a cell of a live TierUp."""
    if not entry:
        return entry
    head = ctypes.string_at(entry, 10)
    if head[:2] != _MOVABS_RAX:
        return entry
    cell = int.from_bytes(head[2:], "little")
    for ref in list(_registry.values()):
        tu = ref()
        if tu is not None and tu.optimized is not None:
            start = tu.cells_address
            if start <= cell < start + ctypes.sizeof(tu.cells) and not (cell - start) % 8:
                return tu.cells[(cell - start) // 8] or entry
    return entry


def _on_hot(key: int) -> None:
    ref = _registry.get(key)
    tu = ref() if ref is not None else None
    if tu is not None:
        tu.tier_up()


#: the one callback every baseline module's code calls (kept alive for the process)
ON_HOT = HOT_FN(_on_hot)
ON_HOT_ADDRESS = ctypes.cast(ON_HOT, ctypes.c_void_p).value
