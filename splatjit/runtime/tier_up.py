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
- `on_hot` compiles the whole module with the optimizing tier into a new read-execute
  mapping (W^X: written while read-write, then made read-execute) and stores each
  function's optimizing entry in its cell. Later calls (and the optimizing code's own
  calls) run the optimizing code.
- On-stack replacement (`splatjit/osr.py`) moves calls already running, e.g. a single call
  that loops 10^9 times: each baseline loop header is an *OSR site* with a cell
  (`osr_site(function, header)`, registered while the baseline code is emitted). After the
  tier-up compile the budget stays at 0, so the next loop header each running baseline
  frame reaches takes the hot path: its cell still 0, it calls on_hot with its site
  (`hot_key(site)`), which compiles that header's OSR variant alone (its calls go to the
  optimizing functions) and stores its entry in the cell; the frame then calls the variant
  with its own register file as the args buffer (`emit_x64/baseline.py`), whose status and
  results are the frame's own. Only headers a running frame reaches get a variant.

A failure of the optimizing compile leaves the module in the baseline tier (`error` says
why; the budget is then out of reach); a failed variant leaves its frames in baseline code
(`osr_errors`; the budget out of reach too). The old baseline code stays mapped as long as
the module: a frame may still return into it.
"""
from __future__ import annotations

import ctypes
import itertools
import weakref

from .ctarrays import array_type

#: budget units a call costs (a loop iteration costs 1): tier-up after about
#: INITIAL_BUDGET / CALL_COST calls or INITIAL_BUDGET loop iterations, whichever comes first
CALL_COST = 64
INITIAL_BUDGET = 1 << 14
_NEVER = 1 << 62

#: A testing knob (the differential tests' "auto+osr"): TierUps made while it is set start
#: out of budget and, once compiled, switch only their OSR cells, never the functions' own
#: cells; every call's prologue then sets the budget to the next of OSR_DELAYS. So each
#: call of a function with a loop runs baseline code for that many loop-header visits and
#: the rest in the OSR variant of the header it is at: outer and inner headers, first and
#: later iterations, as the calls go.
OSR_EVERY_CALL = False
OSR_DELAYS = (1, 2, 3, 5, 8, 13, 21, 34, 55, 89)

#: on_hot's argument: the module's key, and a loop header's site index + 1 above it
_SITE_SHIFT = 32
_MODULE_MASK = (1 << _SITE_SHIFT) - 1

#: OSR cells are allocated this many at a time (`TierUp.osr_site`)
_CELL_CHUNK = 16
_CELLS = array_type(ctypes.c_uint64, _CELL_CHUNK)

HOT_FN = ctypes.CFUNCTYPE(None, ctypes.c_int64)
_registry: dict[int, weakref.ref] = {}
_keys = itertools.count(1)


class TierUp:
    """The tier-up state of one baseline-compiled module: cells, OSR sites and cells, budget,
    and what the optimizing compiles need: `recompile()` returns (CompiledModule, mapping)
    of the module's functions; `compile_osr(site, targets)` returns (CompiledModule,
    mapping) of the OSR variant of `site` (function ordinal, header block) alone, entered at
    its `entries[n_functions]`, calling the functions at `targets` (ordinal -> address)."""

    def __init__(self, n_functions: int, recompile, compile_osr=None,
                 budget: int | None = None):
        self.n_functions = n_functions
        self.cells = array_type(ctypes.c_uint64, max(n_functions, 1))()
        self.compile_osr = compile_osr
        self.osr_sites: list[tuple[int, int]] = []  # site index -> (function, header)
        #: the OSR cells, site index i at word i % _CELL_CHUNK of chunk i // _CELL_CHUNK (a
        #: header's cell is one array slot, not a ctypes object of its own)
        self._cell_chunks: list = []
        self._site_index: dict[tuple[int, int], int] = {}
        self.osr_code: list = []  # (CompiledModule, mapping) of each variant compiled
        self.osr_errors: dict[tuple[int, int], BaseException] = {}
        self.targets: dict[int, int] = {}  # function ordinal -> its optimizing code
        self.osr_only = OSR_EVERY_CALL
        self._delays = itertools.cycle(OSR_DELAYS)
        if budget is None:
            budget = 0 if self.osr_only else INITIAL_BUDGET
        self.budget = ctypes.c_int64(budget)
        #: where code finds the cells (8 bytes per function ordinal) and the budget
        self.cells_address = ctypes.addressof(self.cells)
        self.budget_address = ctypes.addressof(self.budget)
        self.key = next(_keys)
        self.recompile = recompile
        self.optimized = None  # (CompiledModule, ExecutableMemory) once tiered up
        self.error: BaseException | None = None
        _registry[self.key] = weakref.ref(self)

    def osr_site(self, function: int, header: int) -> tuple[int, int]:
        """(site index, address of its OSR cell) of loop header block `header` of function
        ordinal `function` (registered on first request; the same afterwards)."""
        site = (function, header)
        index = self._site_index.get(site)
        if index is None:
            index = self._site_index[site] = len(self.osr_sites)
            self.osr_sites.append(site)
            if not index % _CELL_CHUNK:
                self._cell_chunks.append(_CELLS())
        chunk, slot = self._cell(index)
        return index, ctypes.addressof(chunk) + 8 * slot

    def _cell(self, index: int) -> tuple:
        """(the array holding site `index`'s OSR cell, the cell's slot in it)."""
        chunk, slot = divmod(index, _CELL_CHUNK)
        return self._cell_chunks[chunk], slot

    @property
    def osr_cells(self) -> dict[tuple[int, int], ctypes.c_uint64]:
        """(function, header) -> its OSR cell, as a c_uint64 over the cell's memory (live
        views, for tools and tests: the code reads and writes the same words)."""
        cells = {}
        for i, site in enumerate(self.osr_sites):
            chunk, slot = self._cell(i)
            cells[site] = ctypes.c_uint64.from_buffer(chunk, 8 * slot)
        return cells

    def hot_key(self, site: int | None = None) -> int:
        """The on_hot argument for this module (from a loop header: with its site index)."""
        return self.key if site is None else self.key | (site + 1) << _SITE_SHIFT

    def enter_osr(self, index: int) -> bool:
        """Compile the OSR variant of site `index` (once; the module has tiered up) and set
        its cell; True when the cell is set."""
        site, (chunk, slot) = self.osr_sites[index], self._cell(index)
        if chunk[slot]:
            return True
        if site in self.osr_errors or self.compile_osr is None:
            return False
        try:
            compiled, memory = self.compile_osr(site, self.targets)
        except Exception as e:  # noqa: BLE001 - the frame goes on in baseline code
            self.osr_errors[site] = e
            self.budget.value = _NEVER  # (its frames would take the hot path every time)
            return False
        self.osr_code.append((compiled, memory))
        chunk[slot] = memory.address + compiled.entries[self.n_functions]
        return True

    def tier_up(self) -> bool:
        """Compile the optimizing code now and switch every function to it (once); True when
        the module runs optimizing code from now on."""
        if self.optimized is not None:
            if self.osr_only:  # (a call's prologue: when this call switches)
                self.budget.value = next(self._delays)
            return True
        self.budget.value = _NEVER  # (no hot path while compiling; stays so on failure)
        if self.error is not None:
            return False
        try:
            compiled, memory = self.recompile()
        except Exception as e:  # noqa: BLE001 - the baseline code keeps running
            self.error = e
            return False
        self.optimized = (compiled, memory)
        self.targets = {o: memory.address + off for o, off in compiled.entries.items()}
        if not self.osr_only:
            for ordinal, address in self.targets.items():
                self.cells[ordinal] = address
        # running baseline frames take the hot path at their next loop header, and switch
        if self.osr_only:
            self.budget.value = next(self._delays)
        elif self.osr_sites:
            self.budget.value = 0
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
    ref = _registry.get(key & _MODULE_MASK)
    tu = ref() if ref is not None else None
    if tu is not None and tu.tier_up() and key >> _SITE_SHIFT:
        tu.enter_osr((key >> _SITE_SHIFT) - 1)


#: the one callback every baseline module's code calls (kept alive for the process)
ON_HOT = HOT_FN(_on_hot)
ON_HOT_ADDRESS = ctypes.cast(ON_HOT, ctypes.c_void_p).value
