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
from itertools import islice, zip_longest
from operator import attrgetter
from types import MappingProxyType, SimpleNamespace

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
from .frame import CTX_OFF, RESULTS_OFF, SIZE, Frame
from .lower import FunctionLowering
from .operands import Label, dword, qword, rbp
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

    # the same for every baseline function (read-only; the mappings cannot be changed)
    slots = SLOTS
    imm_only = frozenset()
    alloc = _NO_REGISTERS
    interval_end = MappingProxyType({})
    point = MappingProxyType({})
    constants = MappingProxyType({})
    red_zone = False
    frameless = False
    # (no range-check elimination: an op copied from a template checks every access, so
    # it could not keep the facts of the ops lowered around it up to date)
    checked = baseline_templates.NO_FACTS
    caches = CachePlan([], 0)  # (no loop buffer caches; only lower.py reads its slot_end)

    def __init__(self, asm: Assembler, module: LoadedModule, fn, entries: dict, handlers: dict,
                 fuel: bool = False, imports=None, tier_up=None, tags: bool = True):
        """`tier_up`: the module's `runtime.tier_up.TierUp` (entry stubs through its cells,
        budget counting), or None for plain baseline code. `tags`: whether each op's code
        is tagged with its (function, bytecode offset) (only listings and the tag map need
        them; traps carry their offsets in their code)."""
        self.tags = tags
        self.fuel_checks = fuel
        self.tier_up = tier_up
        # FunctionLowering burns fuel per call and loop entry: tier-up counts there too
        self.fuel = fuel or tier_up is not None
        self.import_targets = imports
        self.a, self.mod, self.m = asm, module, module.defn
        self.entries = entries
        self.handlers = handlers
        #: the fast path's shape -> Template table (`baseline_templates.quick_table`)
        self.quick_table = baseline_templates.quick_table(asm.features)
        #: the size of every trap block stub, or None (`_trap_block_size`)
        self.stub_size = _trap_block_size(asm.features)
        self.start(fn)

    def start(self, fn) -> "BaselineLowering":
        """This lowering, made that of `fn` (a function of the same module, to be lowered
        next into the same assembler): every per-function field set afresh. A module's
        functions share one lowering (`compile_module`)."""
        self.__dict__.pop("_stack_trap", None)  # (a non-leaf prologue's; see _prologue)
        self._in_prologue = None  # (budget, on_hot key) while emitting a tier-up prologue
        out_size, calls = call_area(fn, self.m)
        self.leaf = not calls
        self.deferred = []
        self.fn = fn
        self.next_ins = self.flags = self.ins = None
        self.fused = None  # the next op, when a template copied it with this one
        self.frame = _frame(fn.i32_count, fn.ref_count, out_size)
        self.block_labels = [Label() for _ in fn.blocks]
        self.epilogue = Label()
        self.exit_no_depth = Label()
        self.traps = []
        self.trap_block = None  # Label of the trap block, once a copy asks for a stub in it
        self.block_traps = []  # (trap code, bytecode offset) of its stubs, in order
        self._homes = {}
        self.unsupported = []
        self._mems: dict = {}  # (bank, ordinal, bits) -> its frame operand
        #: `Assembler.here()` at the epilogue's label (the trap block's jumps go there)
        self._epilogue_at = None
        return self

    #: (code, fixup position, size, addend) of the module's loop-header budget check
    #: (`_burn_fuel`; its budget's address written in), once a header asked for it
    _header_code = None

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
    def trap_block_stubs(self, codes) -> list[tuple[Label, int]]:
        """Traps of the current op, one per trap code of `codes`, in the function's trap
        block (for template copies): per code (the block's label, its stub's byte offset
        in it); without one stub size (`_trap_block_size`) each trap gets its own label."""
        claimed = self._claim_block_stubs(codes)
        if claimed is None:
            return [(self.trap_label(code), 0) for code in codes]
        label, base, size = claimed
        return [(label, base + j * size) for j in range(len(codes))]

    def trap_fixups(self, codes, plan) -> tuple:
        """The fixups of a template copy whose every fixup goes to one of the current op's
        traps (`codes`, in order): `plan` gives per fixup (position, size, which trap,
        addend) (`Template.trap_plan`); `trap_block_stubs` without the list of stubs."""
        claimed = self._claim_block_stubs(codes)
        if claimed is None:
            stubs = self.trap_block_stubs(codes)
            return tuple([(pos, width, stubs[k][0], addend + stubs[k][1])
                          for pos, width, k, addend in plan])
        label, base, size = claimed
        if len(plan) == 1:  # (most copies: one trap, one jump to it)
            ((pos, width, k, addend),) = plan
            return ((pos, width, label, addend + base + k * size),)
        return tuple([(pos, width, label, addend + base + k * size)
                      for pos, width, k, addend in plan])

    def _claim_block_stubs(self, codes) -> tuple[Label, int, int] | None:
        """Appends stubs for `codes` (reporting the current op's offset) to the trap block:
        (the block's label, the first one's byte offset in it, the stub size), the k-th
        stub of the block being at k * size; None when trap stubs differ in size."""
        size = self.stub_size
        if size is None:
            return None
        label = self.trap_block
        if label is None:
            label = self.trap_block = Label()
        traps, offset = self.block_traps, self.ins.offset
        base = len(traps) * size
        for code in codes:
            traps.append((code, offset))
        return label, base, size

    def _trap_stubs(self) -> None:
        """The trap block (one run of equal-size `_trap_stub`s, `_trap_block_size` bytes
        each), then FunctionLowering's stubs for the other traps; those without a status
        operand copied from one template per (trap code, features) with the offset and
        function patched in."""
        a, ordinal, tags = self.a, self.fn.ordinal, self.tags
        if self.block_traps:
            n, size, epilogue = len(self.block_traps), self.stub_size, self.epilogue
            if tags:
                a.set_tag((ordinal, -1))
            a.label(self.trap_block)
            here, there = a.here(), self._epilogue_at
            # where both code offsets are known (packed code), each stub's jump displacement
            # to the epilogue is written in; else (0 there) it is a fixup
            known = here is not None and there is not None
            disp = there - here if known else 0  # (the first stub's, less its end)
            step = size if known else 0
            parts = []
            stubs = _BLOCK_STUBS.get(a.features) or _BLOCK_STUBS.setdefault(a.features, {})
            for code, offset in self.block_traps:  # (`_stub_bytes` of each, inline)
                pack, c0, c1, c2, offset_first = stubs.get(code) or _block_stub(a.features, code)
                disp -= step
                parts.append(pack(c0, offset, c1, ordinal, c2, disp) if offset_first
                             else pack(c0, ordinal, c1, offset, c2, disp))
            if known:
                a.copy_code(b"".join(parts))
            else:
                a.copy_code(b"".join(parts), tuple([((k + 1) * size - 4, 4, epilogue,
                                                     (n - 1 - k) * size) for k in range(n)]))
        for label, code, offset, status in self.traps:
            if tags:
                a.set_tag((ordinal, offset))
            a.label(label)
            if status is None:
                data = _trap_stub(a.features, code, offset, ordinal)
                a.copy_code(data, ((len(data) - 4, 4, self.epilogue, 0),))
            else:
                self._emit_trap_store(code, offset, status)
                a.jmp(self.epilogue)
        if tags:
            a.set_tag((ordinal, -1))

    def trap_label(self, code: int, status=None) -> Label:
        """As FunctionLowering's, with an anonymous label (templates ask for these too)."""
        label = Label()
        self.traps.append((label, code, self.ins.offset if self.ins else 0, status))
        return label

    def _prologue(self) -> None:
        """The prologue (with tier-up, the entry stub and the budget's charge first), copied
        from a template per key unless fuel is burnt (a fuel trap names the first op)."""
        tu = self.tier_up
        if self.fuel_checks:
            if tu is not None:
                self._emit_prologue(tu.cells_address + 8 * self.fn.ordinal,
                                    tu.budget_address, tu.hot_key())
            else:
                self._emit_prologue()
            return
        fn, f = self.fn, self.frame
        key = (self.a.features, self.leaf, fn.ref_count, tuple(fn.signature.args),
               f.size, f.i32_base, f.ref_base, tu is not None)
        prologue = _PROLOGUES.get(key)
        if prologue is None:
            if len(_PROLOGUES) >= _PROLOGUES_LIMIT:
                _PROLOGUES.clear()
            prologue = _PROLOGUES[key] = self._record_prologue()
        elif baseline_templates.VERIFY and self._record_prologue() != prologue:
            raise AssertionError(f"the prologue of {key} does not fit {fn.name}")
        data, fixups, marks = prologue
        if fixups:  # the jump to the stack-overflow trap in the epilogue
            self._stack_trap = Label()
            fixups = tuple((pos, size, self._stack_trap, addend)
                           for pos, size, _, addend in fixups)
        if marks:
            data = marks((tu.cells_address + 8 * fn.ordinal, tu.budget_address, tu.hot_key()))
        self.a.copy_code(data, fixups)

    def _emit_prologue(self, cell=None, budget=None, hot_key=None) -> None:
        """FunctionLowering's prologue; with tier-up (`cell` given) the entry stub first
        (the code at `cell`'s address if set, else this body) and the budget's charge at
        `budget` with its call of on_hot(`hot_key`) inline (no label leaves the prologue)."""
        if cell is not None:
            a, body = self.a, Label()
            a.mov(R.rax, cell)
            a.mov(R.rax, qword[R.rax])
            a.test(R.rax, R.rax)
            a.jz(body)
            a.jmp(R.rax)
            a.label(body)
        self._in_prologue = (budget, hot_key) if cell is not None else None
        super()._prologue()
        self._in_prologue = None

    def _epilogue(self) -> None:
        """FunctionLowering's epilogue, copied: its code before and after `exit_no_depth`
        is the same for every baseline function of a kind (`_epilogue_parts`); a non-leaf's
        stack-overflow trap after it is `_trap_stub` jumping to `exit_no_depth`."""
        a = self.a
        head, tail = _epilogue_parts(self)
        a.label(self.epilogue)
        self._epilogue_at = a.here()
        if head:
            a.copy_code(head)
        a.label(self.exit_no_depth)
        a.copy_code(tail)
        if not self.leaf:
            a.label(self._stack_trap)
            stub = _trap_stub(a.features, abi.TRAP_STACK, 0, self.fn.ordinal)
            a.copy_code(stub, ((len(stub) - 4, 4, self.exit_no_depth, 0),))

    def _record_epilogue(self) -> tuple[bytes, bytes]:
        """`FunctionLowering._epilogue`'s code for this function, recorded on a scratch
        assembler: (the part before `exit_no_depth`, the part from it up to the stack trap);
        checks that the stack trap is `_trap_stub`'s."""
        a, labels = self.a, (self.epilogue, self.exit_no_depth, getattr(self, "_stack_trap", None))
        self.a = scratch = Assembler(a.features, relax=False)
        self.epilogue, self.exit_no_depth, self._stack_trap = Label(), Label(), Label()
        try:
            FunctionLowering._epilogue(self)
            code = scratch.finish()
            exit_at = scratch.label_offset(self.exit_no_depth)
            end = len(code) if self.leaf else scratch.label_offset(self._stack_trap)
        finally:
            self.a = a
            self.epilogue, self.exit_no_depth, self._stack_trap = labels
        stub = _trap_stub(a.features, abi.TRAP_STACK, 0, self.fn.ordinal)
        if not self.leaf and code[end:-4] != stub[:-4]:
            raise AssertionError("a baseline epilogue's stack trap is not its trap stub")
        return code[:exit_at], code[exit_at:end]

    def _record_prologue(self) -> tuple:
        """This function's prologue as (code, fixups naming the stack-overflow trap label,
        positions of the tier-up fields (cell, budget, key) or ()): recorded on a scratch
        assembler with marker values in those fields, laid out once."""
        a = self.a
        self.a = scratch = Assembler(a.features, relax=False)
        try:
            if self.tier_up is not None:
                self._emit_prologue(*_MARKS)
            else:
                self._emit_prologue()
        finally:
            self.a = a
        stack_trap = getattr(self, "_stack_trap", None)  # (set when not a leaf)
        flat = baseline_templates.flat_code(
            scratch, {} if stack_trap is None else {stack_trap: ("stack", None)})
        if flat is None:
            raise AssertionError("a baseline prologue names a label other than its stack trap")
        data, _, _, fixups = flat
        return data, fixups, (_mark_sites(data, _MARKS) if self.tier_up is not None else ())

    def _burn_fuel(self) -> None:
        """Fuel (when asked for) and the tier-up budget: CALL_COST per call (the prologue),
        1 per loop header; out of budget, the module's `on_hot` runs, then this code goes on
        (nothing lives in registers at a block start; the prologue keeps rdi and rsi).
        At a loop header the hot path (out of line, `_header_hot_path`) first and last looks
        at the header's OSR cell: once set, the rest of the call runs in optimizing code."""
        if self.fuel_checks:
            super()._burn_fuel()
        tu = self.tier_up
        if tu is None:
            return
        a = self.a
        if self._in_prologue is not None:
            budget, hot_key = self._in_prologue
            back = Label()
            a.mov(R.rax, budget)
            a.sub(qword[R.rax], tiering.CALL_COST)
            a.jg(back)
            _call_on_hot(a, hot_key)
            a.label(back)
            return
        hot, back = Label(), Label()
        check = self._header_code
        if check is None:  # (the same bytes at every header of the module)
            data, ((pos, size, _, addend),), sites = _header_check(a.features)
            check = self._header_code = (sites((tu.budget_address,)), pos, size, addend)
        code, pos, size, addend = check
        a.copy_code(code, ((pos, size, hot, addend),))
        a.label(back)
        site, osr_cell = tu.osr_site(self.fn.ordinal, self.block.index)
        self.deferred.append(lambda: self._header_hot_path(hot, back, site, osr_cell))

    def _header_hot_path(self, hot: Label, back: Label, site: int, osr_cell: int) -> None:
        """The out-of-line code a loop header's budget check jumps to (at `hot`), copied
        from a template: enter the OSR variant if its cell (at `osr_cell`) is set; else
        call on_hot with the header's `site` (which tiers the module up, then compiles the
        variant), and enter it if that set the cell; else go `back`."""
        tu, a, f = self.tier_up, self.a, self.frame
        assert f.ref_base + 8 * self.fn.ref_count == f.i32_base
        data, plan, marks = _hot_path(a.features, f.ref_base, self.leaf)
        labels = (back, self.exit_no_depth)
        a.label(hot)
        a.copy_code(marks((osr_cell, tu.hot_key(site))),
                    tuple([(pos, size, labels[k], addend) for pos, size, k, addend in plan]))

    def lower(self) -> BaselineInfo:
        """FunctionLowering.lower's order of code (entry, prologue, blocks, epilogue,
        deferred code, trap stubs) in one lean loop: no loop alignment, no range-check
        facts; each op from its template (`baseline_templates.emit`) or its lowering."""
        a, fn = self.a, self.fn
        ordinal = fn.ordinal
        a.align(16)
        if self.tags:
            a.set_tag((ordinal, -1))
        a.label(self.entries[ordinal])
        self._prologue()
        headers = loop_headers(fn) if self.fuel else ()
        emit, handlers, block_labels = baseline_templates.emit, _OP_HANDLERS, self.block_labels
        # the fast path: an op with the decoder's shape whose template exists (the module
        # docstring of baseline_templates says which key to look up)
        table = self.quick_table
        fast = table is not None
        copy, template = baseline_templates.copy, baseline_templates.Template
        context_keys, fusing = baseline_templates.CONTEXT_KEYS, baseline_templates.FUSING
        pair_shape = baseline_templates.pair_shape
        copy_code, i32_base, ref_base = a.copy_code, self.frame.i32_base, self.frame.ref_base
        set_tag = a.set_tag if self.tags else None
        # untagged, consecutive copies without fixups are appended as one (the listing of
        # untagged code is coarse anyway): `pending` holds their bytes until then
        pending: list = []
        batch = set_tag is None
        untemplated = 0  # ops that ran their lowering
        for block in fn.blocks:
            if pending:
                copy_code(b"".join(pending))
                pending.clear()
            self.block = block
            a.label(block_labels[block.index])
            instrs = block.instrs
            if block.index in headers:
                self.ins = instrs[0]
                self._burn_fuel()
            # each op with the one after it (None after the last); an op copied with the
            # one before it is taken off `pairs` then
            pairs = zip_longest(instrs, islice(instrs, 1, None))
            for ins, nxt in pairs:
                if set_tag is not None:
                    set_tag((ordinal, ins.offset))
                shape = ins.shape
                if shape is not None and fast and self.flags is None:
                    # a compare followed by a fusing op is copied with it, from the pair's
                    # template; an op whose lowering reads more than the op has the
                    # facts it reads at the end of its key (never in a pair)
                    pair = nxt is not None and nxt.op.mnemonic in fusing
                    key_of = context_keys.get(ins.op.mnemonic)
                    if pair:
                        shape = pair_shape(ins, nxt) if key_of is None else None
                    elif key_of is not None:
                        shape = (shape[0] + (key_of(self, ins),), shape[1], shape[2])
                    t = table.get(shape[0]) if shape is not None else None
                    if type(t) is template:
                        quick = t.quick
                        if quick is not None:  # (copy's commonest case: no traps)
                            if batch:
                                pending.append(quick(shape[1], i32_base, ref_base))
                            else:
                                copy_code(quick(shape[1], i32_base, ref_base))
                        else:
                            if pending:
                                copy_code(b"".join(pending))
                                pending.clear()
                            self.ins, self.next_ins = ins, nxt
                            copy(self, ins, t, shape[1], shape[2])
                        if pair:
                            self._skip_fused(pairs, set_tag, ordinal)
                        continue
                if pending:
                    copy_code(b"".join(pending))
                    pending.clear()
                self.ins, self.next_ins = ins, nxt
                handler = handlers.get(ins.op.mnemonic)
                if handler is None:
                    self.unsupported.append(ins.op.name)
                    a.jmp(self.trap_label(abi.TRAP_UNSUPPORTED))
                    untemplated += 1
                elif not emit(self, ins, handler):
                    untemplated += 1
                elif self.fused is not None:  # (a pair's template: `emit` copied nxt too)
                    self.fused = None
                    self._skip_fused(pairs, set_tag, ordinal)
        if pending:
            copy_code(b"".join(pending))
        self.ins = None
        if set_tag is not None:
            set_tag((ordinal, -1))
        self._epilogue()  # right after the last block: a final return falls into it
        for out_of_line in self.deferred:
            out_of_line()
        self.deferred = []  # its closures refer to self: no cycle left for the collector
        self._trap_stubs()
        return BaselineInfo(fn.name, ordinal, self.entries[ordinal], self.alloc, self.slots,
                            self.frame, sorted(set(self.unsupported)) if self.unsupported
                            else _NONE_UNSUPPORTED, "stack",
                            templated=sum(map(len, map(_INSTRS, fn.blocks))) - untemplated)

    @staticmethod
    def _skip_fused(pairs, set_tag, ordinal: int) -> None:
        """Takes the op a pair template copied with the one before it off `pairs` (its
        tag set when tags are on, as for every op of function `ordinal`)."""
        ins, _ = next(pairs)
        if set_tag is not None:
            set_tag((ordinal, ins.offset))

    def rotatable(self, header: int) -> bool:
        return False  # one copy of each op: a back edge jumps to its header


_INSTRS = attrgetter("instrs")
#: a baseline function's `FunctionInfo.unsupported` when every op has a lowering (shared:
#: read-only)
_NONE_UNSUPPORTED: tuple = ()
#: (i32 count, ref count, outgoing area size) -> the Frame of a baseline function (shared
#: by every function of that shape: nothing changes a Frame); bounded: cleared when full
_FRAMES: dict = {}


def _frame(i32_count: int, ref_count: int, out_size: int) -> Frame:
    key = (i32_count, ref_count, out_size)
    frame = _FRAMES.get(key)
    if frame is None:
        if len(_FRAMES) >= _PROLOGUES_LIMIT:
            _FRAMES.clear()
        frame = _FRAMES[key] = Frame.layout((), i32_count, ref_count, out_size)
    return frame


#: (features, leaf, ref count, argument types, frame size, i32 base, ref base, tier-up) ->
#: the prologue's (code, fixups, tier-up field sites) (`_record_prologue`); bounded: cleared
#: when full
_PROLOGUES: dict = {}
_PROLOGUES_LIMIT = 1 << 12
_U32 = struct.Struct("<I")
_U64 = struct.Struct("<Q")
#: marker values recorded in the imm64 fields of tier-up code (entry stub's cell or a
#: header's OSR cell, budget address, on_hot key), found in the template and patched per
#: copy: 64-bit values, so the recording takes the `mov r64, imm64` form any value fits
_MARKS = (0x6C1A_2B3C_4D5E_6F70, 0x6B2A_3B4C_5D6E_7F80, 0x6A3A_4B5C_6D7E_8F90)
_HEADER_CHECKS: dict = {}  # features -> (code, fixups, _Patcher)
_HOT_PATHS: dict = {}  # (features, ref base, leaf) -> `_hot_path`'s (code, fixup plan, _Patcher)
#: (features, leaf, saved registers, red zone, frameless) -> `_record_epilogue`'s parts
_EPILOGUES: dict = {}


def _epilogue_parts(L: BaselineLowering) -> tuple[bytes, bytes]:
    """The epilogue code of `L`'s kind of function (made the first time it is asked for)."""
    key = (L.a.features, L.leaf, L.frame.saved, L.red_zone, L.frameless)
    parts = _EPILOGUES.get(key)
    if parts is None or baseline_templates.VERIFY:
        fresh = L._record_epilogue()
        if parts is not None and fresh != parts:
            raise AssertionError(f"the epilogue of {key} does not fit {L.fn.name}")
        parts = _EPILOGUES[key] = fresh
    return parts


def _mark_sites(data: bytes, marks) -> "_Patcher":
    """The sites (position, k) of every occurrence of marks[k] as 8 little-endian bytes in
    `data`, as a `_Patcher` of `data`."""
    sites = []
    for k, mark in enumerate(marks):
        raw, at = _U64.pack(mark), -1
        while (at := data.find(raw, at + 1)) >= 0:
            sites.append((at, k))
    return _Patcher(data, tuple(sorted(sites)))


class _Patcher:
    """`data` with values[k] written as a u64 at each (position, k) of `sites`: calling it
    with `values` returns those bytes (one struct pack of the constant runs and the
    values). Equal when the sites are; false when there are none."""

    __slots__ = ("sites", "_pack")

    def __init__(self, data: bytes, sites: tuple):
        self.sites = sites
        fmt, args, prev = "<", [], 0
        for pos, k in sites:  # (sorted, never overlapping)
            fmt += f"{pos - prev}sQ"
            args.append(data[prev:pos])
            prev = pos + 8
        fmt += f"{len(data) - prev}s"
        pack, tail, ks = struct.Struct(fmt).pack, data[prev:], [k for _, k in sites]
        if len(sites) == 1:
            (c0,), (k0,) = args, ks
            self._pack = lambda v: pack(c0, v[k0], tail)
        elif len(sites) == 3:
            (c0, c1, c2), (k0, k1, k2) = args, ks
            self._pack = lambda v: pack(c0, v[k0], c1, v[k1], c2, v[k2], tail)
        else:
            self._pack = lambda v: pack(*[x for c, k in zip(args, ks) for x in (c, v[k])], tail)

    def __call__(self, values) -> bytes:
        return self._pack(values)

    def __eq__(self, other) -> bool:
        return type(other) is _Patcher and self.sites == other.sites

    __hash__ = None

    def __bool__(self) -> bool:
        return bool(self.sites)


def _call_on_hot(a: Assembler, hot_key: int) -> None:
    """Call on_hot(hot_key) from a block start or the prologue (rsi, rdi kept; two pushes
    keep rsp 16-byte aligned)."""
    a.push(R.rsi)
    a.push(R.rdi)
    a.mov(R.rdi, hot_key)
    a.mov(R.rax, tiering.ON_HOT_ADDRESS)
    a.call(R.rax)
    a.pop(R.rdi)
    a.pop(R.rsi)


def _flat(a: Assembler, outside: dict, marks) -> tuple:
    flat = baseline_templates.flat_code(a, outside)
    if flat is None:
        raise AssertionError("tier-up code names a label it should not")
    data, _, _, fixups = flat
    return data, fixups, _mark_sites(data, marks)


def _header_check(features) -> tuple:
    """A loop header's budget charge as (code, fixups, sites): `mov rax, budget; sub qword
    [rax], 1; jle hot` (the fixup names ("hot", None); the site is the budget's, k = 0)."""
    t = _HEADER_CHECKS.get(features)
    if t is None:
        a, hot = Assembler(features, relax=False), Label()
        a.mov(R.rax, _MARKS[1])
        a.sub(qword[R.rax], 1)
        a.jle(hot)
        t = _HEADER_CHECKS[features] = _flat(a, {hot: ("hot", None)}, _MARKS[1:2])
    return t


def _hot_path(features, ref_base: int, leaf: bool) -> tuple:
    """A loop header's out-of-line hot path as (code, fixups (position, size, 0 for the
    jump "back" or 1 for the "exit", addend), sites of the OSR cell (k = 0, twice) and
    on_hot key (k = 1)):
    with rax = the OSR cell, if set enter the variant; else call on_hot and look again;
    still 0: jump back. Entering: rdi = the Context, rsi = rbp + `ref_base` (this frame's
    ref bank, then its i32 bank: the variant's args buffer), rdx = this call's results
    pointer (where the prologue keeps it), call, return its status through the epilogue's
    exit. The variant takes over this frame's unit of the call depth (a function that is
    not a `leaf` gives it back first and exits without taking it back), so a switch never
    counts twice."""
    key = (features, ref_base, leaf)
    t = _HOT_PATHS.get(key)
    if t is None:
        a, osr, back, exit_ = Assembler(features, relax=False), Label(), Label(), Label()
        cell, hot_key = _MARKS[0], _MARKS[2]
        for last in (False, True):
            a.mov(R.rax, cell)
            a.mov(R.rax, qword[R.rax])
            a.test(R.rax, R.rax)
            if last:
                a.jz(back)
            else:
                a.jnz(osr)
                _call_on_hot(a, hot_key)
        a.label(osr)
        a.mov(R.rdi, qword[rbp + CTX_OFF])
        if not leaf:
            a.inc(dword[R.rdi + abi.CTX_DEPTH_LEFT])
        a.lea(R.rsi, qword[rbp + ref_base])
        a.mov(R.rdx, qword[rbp + RESULTS_OFF])
        a.call(R.rax)
        a.jmp(exit_)
        data, fixups, marks = _flat(a, {back: ("back", None), exit_: ("exit", None)},
                                    (cell, hot_key))
        which = {"back": 0, "exit": 1}
        t = _HOT_PATHS[key] = (data, tuple((pos, size, which[target[0]], addend)
                                           for pos, size, target, addend in fixups), marks)
    return t


_OFFSET_MARK, _FUNCTION_MARK = 0x5A6B7C8D, 0x4D3C2B1A
_TRAP_TEMPLATES: dict = {}  # (features, code) -> (bytes, offset field, function field)
_TRAP_BLOCK_SIZES: dict = {}  # features -> _trap_block_size's answer
_MISSING = object()


def _trap_block_size(features) -> int | None:
    """The size of every status-less trap code's `_trap_stub` when they all have one size
    (so stub k of a trap block starts at k * size), else None (each trap then gets its own
    stub)."""
    size = _TRAP_BLOCK_SIZES.get(features, _MISSING)
    if size is _MISSING:
        sizes = {len(_trap_template(features, code)[0]) for code in abi.TRAP_MESSAGES}
        size = _TRAP_BLOCK_SIZES[features] = sizes.pop() if len(sizes) == 1 else None
    return size


def _trap_stub(features, code: int, offset: int, ordinal: int) -> bytes:
    """`_trap_template(features, code)` reporting bytecode `offset` of function `ordinal`
    (its last 4 bytes: the jump's displacement to the epilogue, 0: still to be fixed up)."""
    return _stub_bytes(_block_stub(features, code), offset, ordinal, 0)


def _stub_bytes(stub: tuple, offset: int, ordinal: int, displacement: int) -> bytes:
    """The bytes of `_block_stub` `stub` with its three fields written in."""
    pack, c0, c1, c2, offset_first = stub
    return (pack(c0, offset, c1, ordinal, c2, displacement) if offset_first
            else pack(c0, ordinal, c1, offset, c2, displacement))


def _block_stub(features, code: int) -> tuple:
    """(pack, c0, c1, c2, offset first): `_trap_template(features, code)` reporting bytecode
    `offset` of function `ordinal`, its jump's `displacement` written in, is
    `pack(c0, offset, c1, ordinal, c2, displacement)`, or with `ordinal` and `offset`
    swapped when the function field comes first (`_stub_bytes`): a function's trap stubs
    differ only in those three fields. Made once per (features, code)."""
    stubs = _BLOCK_STUBS.setdefault(features, {})
    stub = stubs.get(code)
    if stub is None:
        data, at_offset, at_function = _trap_template(features, code)
        (first, _), (second, _) = fields = sorted([(at_offset, 0), (at_function, 1)])
        if not first + 4 <= second <= len(data) - 8:
            raise AssertionError(f"trap code {code}: its fields overlap its jump")
        pack = struct.Struct(f"<{first}sI{second - first - 4}sI{len(data) - second - 8}si").pack
        stub = stubs[code] = (pack, data[:first], data[first + 4:second], data[second + 4:-4],
                              fields[0][1] == 0)
    return stub


#: features -> {trap code: `_block_stub`'s answer}
_BLOCK_STUBS: dict = {}


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
                   imports=None, tier_up=None, tags: bool = True) -> BaselineModule:
    """Compiles every function of `loaded` with the baseline tier into one code blob
    (`fuel` and `imports` as in `lower.compile_module`; `tier_up` and `tags` as in
    BaselineLowering: untagged code has no tag map and a coarser listing).
    Every branch takes its rel32 form (no relaxation: one layout pass), and labels and
    template fixups stay inside their runs of code (`Assembler(packed=True)`)."""
    a = Assembler(features, relax=False, packed=True)
    shared: list = []  # the module's one BaselineLowering, once its first function made it

    def lower_function(fn, entries) -> BaselineInfo:
        if shared:
            return shared[0].start(fn).lower()
        shared.append(BaselineLowering(a, loaded, fn, entries, _OP_HANDLERS, fuel, imports,
                                       tier_up, tags))
        return shared[0].lower()
    return BaselineModule(**module_fields(a, loaded, Label, lower_function), tier_up=tier_up)
