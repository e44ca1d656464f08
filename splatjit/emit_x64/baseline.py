"""The baseline tier for x86-64: one pass from verified IR to machine code, no analysis.

Every VM register lives in its frame slot (the i32 bank holds i64 pairs at their even
slot, refs in the ref bank, exactly the interpreter's register file), so nothing is
renamed, folded, allocated or coalesced: each op is lowered on its own by the optimizing
tier's op table (`ops.HANDLERS`) through a `FunctionLowering` whose allocation is empty.
Ops whose code depends only on their operand kinds come from byte templates
(`baseline_templates.py`): assembled once per process, then copied with their slot
displacements patched in.

Contract: `compile_module(loaded, features, imports=...)` returns a `CompiledModule` with
the native ABI of `runtime/abi.py` (the optimizing tier's `lower.compile_module` contract),
traps reporting the same (function, bytecode offset) as the optimizing tier. A function
using an op without a lowering traps TRAP_UNSUPPORTED when run, as in that tier.
A program's nested VMVX kernels take the program's tier (hal/local.py).
"""
from __future__ import annotations

import struct
from dataclasses import dataclass
from types import SimpleNamespace

from ..buffer_cache import CachePlan
from ..frontend.loader import LoadedModule
from ..lowering import (CompiledModule, FunctionInfo, call_area, loop_headers,
                        module_fields)
from ..regalloc.linear_scan import Allocation
from ..regalloc.variables import SlotMap
from ..runtime import abi
from ..runtime import tier_up as tiering
from . import baseline_templates
from . import operands as R
from .assembler import Assembler
from .frame import CTX_OFF, SIZE, Frame
from .lower import FunctionLowering
from .operands import Label, qword, rbp
from .ops import HANDLERS as _OP_HANDLERS

#: The allocation of a baseline function: no variable has a register.
_NO_REGISTERS = Allocation()


class _EverySlot:
    """Every slot may be half of a wide value: a remap's pair of 32-bit copies of an even
    slot pair moves as one 64-bit copy (the same bytes in memory; a list that also touches
    one of those slots as 32 bits takes the sequential route, lowering.mixes_memory_widths)."""

    def __contains__(self, slot) -> bool:
        return True


#: The slot map of a baseline function: no promoted variables.
SLOTS = SlotMap(None, {}, _EverySlot())


@dataclass
class BaselineInfo(FunctionInfo):
    """FunctionInfo of a baseline function; `templated`: how many of its ops were copied
    from byte templates (the others ran their lowering)."""
    templated: int = 0


class BaselineLowering(FunctionLowering):
    """A `FunctionLowering` with every value in memory: only the per-function facts the op
    lowerings read are computed (slot kinds for branch remaps, the outgoing call area)."""

    def __init__(self, asm: Assembler, module: LoadedModule, fn, entries: dict, handlers: dict,
                 fuel: bool = False, imports=None, tier_up=None):
        """`tier_up`: the module's `runtime.tier_up.TierUp` (entry stubs through its cells,
        budget counting), or None for plain baseline code."""
        self.fuel_checks = fuel
        self.tier_up = tier_up
        # FunctionLowering burns fuel per call and loop entry: tier-up counts there too
        self.fuel = fuel or tier_up is not None
        self._in_prologue = False
        # no range-check elimination: an op copied from a template checks every access, so
        # it could not keep the facts of the ops lowered around it up to date
        self.checked = baseline_templates.NO_FACTS
        self.import_targets = imports
        self.constants = {}
        self.caches = CachePlan([], fn.i32_count)
        out_size, calls = call_area(fn, module.defn)
        self.leaf = not calls
        self.deferred = []
        self.a, self.mod, self.m, self.fn = asm, module, module.defn, fn
        self.entries = entries
        self.handlers = handlers
        self.slots = SLOTS
        self.imm_only = frozenset()
        self.alloc = _NO_REGISTERS
        self.interval_end = {}
        self.point = {}
        self.next_ins = None
        self.flags = None
        self.frame = Frame.layout((), fn.i32_count, fn.ref_count, out_size)
        self.red_zone = False
        self.frameless = False
        self.block_labels = [Label() for _ in fn.blocks]
        self.epilogue = Label()
        self.exit_no_depth = Label()
        self.traps = []
        self._homes = {}
        self.unsupported = []
        self.ins = None
        self.fused = None  # the next op, when a template copied it with this one
        self._mems: dict = {}  # (bank, ordinal, bits) -> its frame operand

    # ------------------------------------------------------------------ operands
    # FunctionLowering's helpers for a function without registers: the same code, with
    # each frame operand made once per function.
    def var_reg(self, reg):
        return None

    def slot_mem(self, ordinal: int, bits: int):
        key = (ordinal, bits)
        mem = self._mems.get(key)
        if mem is None:
            mem = self._mems[key] = (rbp + self.frame.slot(ordinal)).with_size(bits)
        return mem

    def ref_mem(self, reg):
        key = (reg.ordinal, "ref")
        mem = self._mems.get(key)
        if mem is None:
            mem = self._mems[key] = (rbp + self.frame.ref(reg.ordinal)).with_size(64)
        return mem

    def gpr_src(self, reg):
        return self.slot_mem(reg.ordinal, SIZE[reg.type])

    def read_gpr(self, reg, scratch):
        bits = SIZE[reg.type]
        t = scratch.view(bits)
        self.a.mov(t, self.slot_mem(reg.ordinal, bits))
        return t

    def load_gpr(self, reg, target):
        return self.read_gpr(reg, target)

    def write_gpr(self, reg, src) -> None:
        bits = SIZE[reg.type]
        self.a.mov(self.slot_mem(reg.ordinal, bits), src.view(bits))

    # ------------------------------------------------------------------ traps
    def _trap_stubs(self) -> None:
        """FunctionLowering's stubs; those without a status operand copied from one
        template per (trap code, features) with the offset and function patched in."""
        a, ordinal = self.a, self.fn.ordinal
        for label, code, offset, status in self.traps:
            a.set_tag((ordinal, offset))
            a.label(label)
            if status is None:
                data, at_offset, at_function = _trap_template(a.features, code)
                data = bytearray(data)
                _U32.pack_into(data, at_offset, offset)
                _U32.pack_into(data, at_function, ordinal)
                a.copy_code(bytes(data), ((len(data) - 4, 4, self.epilogue, 0),))
            else:
                self._emit_trap_store(code, offset, status)
                a.jmp(self.epilogue)
        a.set_tag((ordinal, -1))

    def trap_label(self, code: int, status=None) -> Label:
        """As FunctionLowering's, with an anonymous label (templates ask for these too)."""
        label = Label()
        self.traps.append((label, code, self.ins.offset if self.ins else 0, status))
        return label

    def _prologue(self) -> None:
        if not self.fuel:  # (no fuel, no tier-up: the code depends on the key alone)
            fn, f = self.fn, self.frame
            key = (self.a.features, self.leaf, fn.ref_count, tuple(fn.signature.args),
                   f.size, f.i32_base, f.ref_base)
            prologue = _PROLOGUES.get(key)
            if prologue is None:
                if len(_PROLOGUES) >= _PROLOGUES_LIMIT:
                    _PROLOGUES.clear()
                prologue = _PROLOGUES[key] = self._record_prologue()
            elif baseline_templates.VERIFY and self._record_prologue() != prologue:
                raise AssertionError(f"the prologue of {key} does not fit {fn.name}")
            data, fixups = prologue
            if fixups:  # the jump to the stack-overflow trap in the epilogue
                self._stack_trap = Label()
                fixups = tuple((pos, size, self._stack_trap, addend)
                               for pos, size, _, addend in fixups)
            self.a.copy_code(data, fixups)
            return
        tu = self.tier_up
        if tu is not None:  # the entry stub: the cell's code if set, else this body
            a, body = self.a, Label()
            a.mov(R.rax, tu.cells_address + 8 * self.fn.ordinal)
            a.mov(R.rax, qword[R.rax])
            a.test(R.rax, R.rax)
            a.jz(body)
            a.jmp(R.rax)
            a.label(body)
        self._in_prologue = True
        super()._prologue()
        self._in_prologue = False

    def _record_prologue(self) -> tuple:
        """FunctionLowering's prologue for this function as (code, fixups naming the
        stack-overflow trap label): recorded on a scratch assembler, laid out once."""
        a = self.a
        self.a = scratch = Assembler(a.features, relax=False)
        try:
            super()._prologue()
        finally:
            self.a = a
        stack_trap = getattr(self, "_stack_trap", None)  # (set when not a leaf)
        flat = baseline_templates.flat_code(
            scratch, {} if stack_trap is None else {stack_trap: ("stack", None)})
        if flat is None:
            raise AssertionError("a baseline prologue names a label other than its stack trap")
        data, _, _, fixups = flat
        return data, fixups

    def _burn_fuel(self) -> None:
        """Fuel (when asked for) and the tier-up budget: CALL_COST per call (the prologue),
        1 per loop header; out of budget, the module's `on_hot` runs, then this code goes on
        (nothing lives in registers at a block start; the prologue keeps rdi and rsi).
        At a loop header the hot path first and last looks at the header's OSR cell: once
        set, the rest of the call runs in optimizing code (`_enter_osr`)."""
        if self.fuel_checks:
            super()._burn_fuel()
        tu = self.tier_up
        if tu is None:
            return
        a, hot, back = self.a, Label(), Label()
        a.mov(R.rax, tu.budget_address)
        a.sub(qword[R.rax], tiering.CALL_COST if self._in_prologue else 1)
        a.jle(hot)
        a.label(back)
        osr_cell = None if self._in_prologue else tu.osr_cell_address(self.fn.ordinal,
                                                                       self.block.index)

        def call_on_hot():
            a.label(hot)
            if osr_cell is not None:
                osr = Label()
                self._load_osr_entry(osr_cell)
                a.jnz(osr)
            a.push(R.rsi)
            a.push(R.rdi)  # two pushes: rsp stays 16-byte aligned for the call
            a.mov(R.rdi, tu.key)
            a.mov(R.rax, tiering.ON_HOT_ADDRESS)
            a.call(R.rax)
            a.pop(R.rdi)
            a.pop(R.rsi)
            if osr_cell is None:
                a.jmp(back)
                return
            self._load_osr_entry(osr_cell)
            a.jz(back)
            a.label(osr)
            self._enter_osr()
        self.deferred.append(call_on_hot)

    def _load_osr_entry(self, cell: int) -> None:
        """rax = the OSR cell at `cell`, flags set by `test rax, rax` (ZF: not compiled)."""
        a = self.a
        a.mov(R.rax, cell)
        a.mov(R.rax, qword[R.rax])
        a.test(R.rax, R.rax)

    def _enter_osr(self) -> None:
        """Finish this call in the OSR variant at rax (`splatjit/osr.py`): its args buffer
        is this frame's register file (the ref bank, then the i32 bank right above it), its
        results buffer this call's; its status is this call's."""
        a, f = self.a, self.frame
        assert f.ref_base + 8 * self.fn.ref_count == f.i32_base
        a.mov(R.rdi, qword[rbp + CTX_OFF])
        a.lea(R.rsi, qword[rbp + f.ref_base])
        a.mov(R.rdx, self.results_mem())
        a.call(R.rax)
        a.jmp(self.epilogue)

    def lower(self) -> BaselineInfo:
        """FunctionLowering.lower's order of code (entry, prologue, blocks, epilogue,
        deferred code, trap stubs) in one lean loop: no loop alignment, no range-check
        facts; each op from its template (`baseline_templates.emit`) or its lowering."""
        a, fn = self.a, self.fn
        ordinal = fn.ordinal
        a.align(16)
        a.set_tag((ordinal, -1))
        a.label(self.entries[ordinal])
        self._prologue()
        headers = loop_headers(fn) if self.fuel else ()
        emit, handlers, block_labels = baseline_templates.emit, _OP_HANDLERS, self.block_labels
        templated = 0
        for block in fn.blocks:
            self.block = block
            a.label(block_labels[block.index])
            instrs = block.instrs
            if block.index in headers:
                self.ins = instrs[0]
                self._burn_fuel()
            last = len(instrs) - 1
            for k, ins in enumerate(instrs):
                self.ins = ins
                self.next_ins = instrs[k + 1] if k < last else None
                a.set_tag((ordinal, ins.offset))
                handler = handlers.get(ins.op.mnemonic)
                if handler is None:
                    self.unsupported.append(ins.op.name)
                    a.jmp(self.trap_label(abi.TRAP_UNSUPPORTED))
                elif emit(self, ins, handler):
                    templated += 1
        self.ins = None
        a.set_tag((ordinal, -1))
        self._epilogue()  # right after the last block: a final return falls into it
        for out_of_line in self.deferred:
            out_of_line()
        self.deferred = []  # its closures refer to self: no cycle left for the collector
        self._trap_stubs()
        return BaselineInfo(fn.name, ordinal, self.entries[ordinal], self.alloc, self.slots,
                            self.frame, sorted(set(self.unsupported)), "stack",
                            templated=templated)

    def rotatable(self, header: int) -> bool:
        return False  # one copy of each op: a back edge jumps to its header


#: (features, leaf, ref count, argument types, frame size, i32 base, ref base) -> the
#: prologue's (code, fixups) (`_record_prologue`); bounded: cleared when full
_PROLOGUES: dict = {}
_PROLOGUES_LIMIT = 1 << 12
_U32 = struct.Struct("<I")
_OFFSET_MARK, _FUNCTION_MARK = 0x5A6B7C8D, 0x4D3C2B1A
_TRAP_TEMPLATES: dict = {}  # (features, code) -> (bytes, offset field, function field)


def _trap_template(features, code: int) -> tuple:
    """The bytes `FunctionLowering._emit_trap_store(code, offset, None)` emits and then
    `jmp rel32` (its last 4 bytes: the displacement to the epilogue), with where the offset
    and the function ordinal go (both are imm32 fields)."""
    key = (features, code)
    t = _TRAP_TEMPLATES.get(key)
    if t is None:
        a = Assembler(features)
        scratch = SimpleNamespace(a=a, fn=SimpleNamespace(ordinal=_FUNCTION_MARK))
        FunctionLowering._emit_trap_store(scratch, code, _OFFSET_MARK, None)
        data = a.finish() + b"\xe9\0\0\0\0"
        at_offset = data.index(_U32.pack(_OFFSET_MARK))
        at_function = data.index(_U32.pack(_FUNCTION_MARK))
        assert data.count(_U32.pack(_OFFSET_MARK)) == data.count(_U32.pack(_FUNCTION_MARK)) == 1
        t = _TRAP_TEMPLATES[key] = (data, at_offset, at_function)
    return t


@dataclass
class BaselineModule(CompiledModule):
    """A baseline CompiledModule; `tier_up`: its TierUp (kept alive with the code), or None."""
    tier_up: object = None


def compile_module(loaded: LoadedModule, features=None, fuel: bool = False,
                   imports=None, tier_up=None) -> BaselineModule:
    """Compiles every function of `loaded` with the baseline tier into one code blob
    (`fuel` and `imports` as in `lower.compile_module`; `tier_up` as in BaselineLowering).
    Every branch takes its rel32 form (no relaxation: one layout pass), and labels and
    template fixups stay inside their runs of code (`Assembler(packed=True)`)."""
    a = Assembler(features, relax=False, packed=True)
    return BaselineModule(**module_fields(
        a, loaded, Label, lambda fn, entries: BaselineLowering(
            a, loaded, fn, entries, _OP_HANDLERS, fuel, imports, tier_up).lower()),
        tier_up=tier_up)
