"""Lowering of verified IR to x86-64: the per-function framework.

`FunctionLowering` owns one function's frame, allocation and labels and offers the operand
helpers op lowerings use (`read_gpr`, `write_gpr`, `read_xmm`, ...); the op lowerings live in
`ops_int.py`, `ops_float.py`, `ops_memory.py` and `ops_control.py`, each a table of
`mnemonic -> function(lowering, instr)`.

Contract: `compile_module(loaded, features)` returns a `CompiledModule` whose code follows the
native ABI of `runtime/abi.py`; functions that use an op without a lowering are listed in
`unsupported` (calling them traps with TRAP_UNSUPPORTED) instead of failing the module.
"""
from __future__ import annotations

from ..frontend.loader import LoadedModule
from ..frontend.verifier import arg_registers
from ..ir import Function, Instr, Reg
from ..lowering import (CheckedAccesses, CompiledModule, FunctionInfo, constant_slots,
                        finished_fields, immediate_only, loop_headers, module_fields,
                        outgoing_area_size)
from ..regalloc.linear_scan import allocate
from ..regalloc.liveness import live_intervals
from ..regalloc.variables import Var, classify, successors, typed_regs
from ..regalloc.webs import rename_webs
from .. import buffer_cache
from ..constant_folding import fold_constants
from ..div_rem_pairs import pair_divisions
from ..range_folding import fold_ranges
from ..element_promotion import promote_elements
from ..copy_nests import plan_copy_nests
from ..osr import origin
from ..regalloc.coalesce import coalesce_remaps
from ..runtime import abi
from . import operands as R
from .assembler import Assembler
from .ops_int import IMMEDIATE_OPERANDS
from .frame import CTX_OFF, GPR_BY_NAME, RESULTS_OFF, SIZE, X64_TARGET, XMM_BY_NAME, Frame
from .operands import Label, dword, qword, rbp

LOOP_ALIGN = 32
_UNKNOWN = object()
#: the operands every trap stub writes (made once: a function may have hundreds of stubs)
_CTX = qword[rbp + CTX_OFF]
_TRAP_STATUS = qword[R.rcx + abi.CTX_TRAP_STATUS]
_TRAP_CODE = dword[R.rcx + abi.CTX_TRAP_CODE]
_TRAP_OFFSET = dword[R.rcx + abi.CTX_TRAP_OFFSET]
_TRAP_FUNCTION = dword[R.rcx + abi.CTX_TRAP_FUNCTION]


#: Bytes below rsp that the SysV ABI keeps from signal handlers: a frame that makes no
#: calls may live there without moving rsp.
RED_ZONE_BYTES = 128
#: Op stems whose lowerings are plain register / frame code: no calls (libm, helpers,
#: imports), no traps, no Context. A function of only these gets a red-zone frame.
_RED_ZONE_STEMS = frozenset({
    "add", "sub", "mul", "and", "or", "xor", "not", "shl", "shr", "cmp", "select", "ext",
    "trunc", "const", "neg", "abs", "min", "max", "fma", "ctlz", "bitcast", "br", "cond_br",
    "return"})


def stays_in_red_zone(mnemonic: str) -> bool:
    answer = _RED_ZONE_OPS.get(mnemonic)
    if answer is None:
        answer = _RED_ZONE_OPS[mnemonic] = (mnemonic.split(".", 1)[0] in _RED_ZONE_STEMS
                                            and "ref" not in mnemonic)
    return answer


_RED_ZONE_OPS: dict[str, bool] = {}  # mnemonic -> stays_in_red_zone (the op table is finite)


def immediate(value: int, type_: str) -> int | None:
    """`value` of an i32 / i64 constant as the sign-extended 32-bit immediate that ALU and
    compare forms take, or None when it does not fit (or the type is not an integer)."""
    if type_ not in ("i32", "i64"):
        return None
    bits = 32 if type_ == "i32" else 64
    v = value & ((1 << bits) - 1)
    v = v - (1 << bits) if v >> (bits - 1) else v
    return v if -(1 << 31) <= v < (1 << 31) else None




class FunctionLowering:
    def __init__(self, asm: Assembler, module: LoadedModule, fn: Function, entries: dict[int, Label | int],
                 handlers: dict, clobbers, fuel: bool = False, imports=None, pure=None):
        """`imports` / `pure`: see compile_module."""
        self.fuel = fuel
        self.checked = CheckedAccesses()  # range-check elimination within a block
        self.import_targets = imports
        first_renamed = fn.i32_count
        fn = rename_webs(fn)  # reused slots -> one slot per value, so more of them promote
        fn = fold_constants(fn, first_renamed, pure)  # e.g. tile sizes the kernel queries
        fn = fold_ranges(fn)  # sign fixups of non-negative indices, unsigned div / rem
        fn = pair_divisions(fn, first_renamed)  # div and rem of the same operands: one divide
        fn = promote_elements(fn)  # a loop's one stored element kept in a register
        fn = coalesce_remaps(fn)  # values made only for a br's remap go straight to its target
        self.constants = constant_slots(fn, first_renamed)  # single-def integer constants
        if not fuel:  # element-copy loops run as one native copy when their checks pass
            fn = plan_copy_nests(fn, self.constants)
        self.caches = buffer_cache.plan(fn, fn.i32_count)  # loop-invariant buffer facts
        self.leaf = not any("callee_ordinal" in ins.args for ins in fn.instrs())
        self.deferred: list = []  # out-of-line code (slow paths), emitted after the body
        self.a, self.mod, self.m, self.fn = asm, module, module.defn, fn
        self.entries = entries
        self.handlers = handlers
        self.slots = classify(fn)
        # constants every reader takes as an immediate: never materialised, no register
        self.imm_only = immediate_only(fn, self.constants, IMMEDIATE_OPERANDS,
                                       lambda value, t: immediate(value, t) is not None)
        intervals = [iv for iv in live_intervals(fn, self.slots, clobbers)
                     if iv.var.slot not in self.imm_only]
        self.alloc = allocate(intervals, X64_TARGET)
        self.interval_end = {iv.var: iv.end for iv in intervals}
        self.point = {}  # id(instr) -> program point (see regalloc/liveness.py)
        for i, ins in enumerate(fn.instrs()):
            self.point[id(ins)] = 2 * i
        self.next_ins: Instr | None = None
        self.flags: tuple[Reg, str] | None = None  # (i32 result, condition code) still in EFLAGS
        saved = sorted(r for r in self.alloc.used if r in X64_TARGET.callee_saved)
        self.frame = Frame.layout(saved, self.caches.slot_end, fn.ref_count,
                                  outgoing_area_size(fn, self.m))
        # A function of plain register arithmetic makes no calls, cannot trap and never
        # needs its Context: its frame stays in the red zone below rsp (no `sub rsp`).
        self.red_zone = (not fuel and self.frame.size <= RED_ZONE_BYTES
                         and all(stays_in_red_zone(ins.op.mnemonic) for ins in fn.instrs()))
        self.block_labels = [Label(f"{fn.name}.bb{b.index}") for b in fn.blocks]
        self.epilogue = Label(f"{fn.name}.epilogue")
        self.exit_no_depth = Label(f"{fn.name}.exit")
        self.traps: list[tuple[Label, int, int, object]] = []  # label, code, offset, status src
        self._homes: dict[tuple, object] = {}  # (type, ordinal) -> var_reg's answer
        # ... and one whose every value sits in a register (or is an immediate) needs no
        # frame at all: no `push rbp`; the results pointer waits at [rsp - 8].
        self.frameless = (self.red_zone and not saved and not fn.ref_count
                          and self._all_in_registers())
        self.unsupported: list[str] = []
        self.ins: Instr | None = None

    # ------------------------------------------------------------------ frame helpers
    def _all_in_registers(self) -> bool:
        """True when no operand of any instruction (arguments and branch remaps included)
        has a memory home: each is in a register or is a constant every reader takes as an
        immediate. (`slot_mem` asserts it for frameless functions.)"""
        regs = list(arg_registers(self.fn.signature))
        remapped = []
        for ins in self.fn.instrs():
            uses, defs = typed_regs(ins)
            regs += uses + defs
            for succ in successors(ins):
                remapped += [slot for pair in succ.remap for r in pair for slot in r.slots]
        var_at, location = self.slots.var_at, self.alloc.location
        return (all(r.ordinal in self.imm_only or self.var_reg(r) is not None for r in regs)
                and all(location(var_at.get(slot)) is not None for slot in remapped))

    def slot_mem(self, ordinal: int, bits: int):
        assert not self.frameless, f"{self.fn.name}: frameless function reads slot {ordinal}"
        return (rbp + self.frame.slot(ordinal)).with_size(bits)

    def ref_mem(self, reg: Reg):
        assert not self.frameless, f"{self.fn.name}: frameless function reads a ref"
        return (rbp + self.frame.ref(reg.ordinal)).with_size(64)

    def results_mem(self):
        """Where the prologue keeps the results buffer pointer (rdx at entry)."""
        return qword[R.rsp - 8] if self.frameless else qword[rbp + RESULTS_OFF]

    def ctx(self, into=R.rax):
        self.a.mov(into, _CTX)
        return into

    # ------------------------------------------------------------------ operand access
    def var_reg(self, reg: Reg):
        """The machine register holding `reg` (sized), or None if it lives in memory."""
        key = (reg.type, reg.ordinal)
        home = self._homes.get(key, _UNKNOWN)
        if home is _UNKNOWN:
            v = self.slots.var_of(reg)
            name = self.alloc.location(v)
            if name is None:
                home = None
            elif v.cls == "fpr":
                home = XMM_BY_NAME[name]
            else:
                home = GPR_BY_NAME[name].view(64 if v.wide else 32)
            self._homes[key] = home
        return home

    def var_location(self, v: Var | None):
        name = self.alloc.location(v)
        if name is None:
            return None
        return XMM_BY_NAME[name] if v.cls == "fpr" else GPR_BY_NAME[name].view(64 if v.wide else 32)

    def gpr_src(self, reg: Reg):
        """A register or memory operand readable by an ALU instruction."""
        r = self.var_reg(reg)
        if r is not None and isinstance(r, R.GPR):
            return r
        if r is not None:  # an f32/f64 variable read as bits
            return self.read_gpr(reg, R.rax)
        return self.slot_mem(reg.ordinal, SIZE[reg.type])

    def imm_or_src(self, reg: Reg):
        """A single-def integer constant as an immediate (when it fits a sign-extended 32-bit
        field, so ALU and compare forms take it), else `gpr_src(reg)`."""
        value = self.constants.get(reg.ordinal)
        if value is not None:
            imm = immediate(value, reg.type)
            if imm is not None:
                return imm
        return self.gpr_src(reg)

    def read_gpr(self, reg: Reg, scratch) -> R.GPR:
        """`reg`'s value in a general register (`scratch`, sized, unless already in one)."""
        bits = SIZE[reg.type]
        r = self.var_reg(reg)
        t = scratch.view(bits)
        if r is None:
            self.a.mov(t, self.slot_mem(reg.ordinal, bits))
            return t
        if isinstance(r, R.GPR):
            return r
        (self.a.movd if bits == 32 else self.a.movq)(t, r)
        return t

    def load_gpr(self, reg: Reg, target) -> R.GPR:
        """`reg`'s value copied into `target` (sized); returns the sized register."""
        bits = SIZE[reg.type]
        t = target.view(bits)
        src = self.read_gpr(reg, t)
        if src != t:
            self.a.mov(t, src)
        return t

    def write_gpr(self, reg: Reg, src: R.GPR) -> None:
        bits = SIZE[reg.type]
        src = src.view(bits)
        r = self.var_reg(reg)
        if r is None:
            self.a.mov(self.slot_mem(reg.ordinal, bits), src)
        elif isinstance(r, R.GPR):
            if r != src:
                self.a.mov(r, src)
        else:
            (self.a.movd if bits == 32 else self.a.movq)(r, src)

    def load_from(self, reg: Reg, address) -> None:
        """`reg` = the value of its type at `address` (a base + displacement expression),
        straight into its register when it has one of the right class."""
        bits = SIZE[reg.type]
        home, mem = self.var_reg(reg), R.SizeSpec(bits)[address]
        if reg.type in ("f32", "f64"):
            x = home if isinstance(home, R.XMM) else R.xmm0
            (self.a.movss if bits == 32 else self.a.movsd)(x, mem)
            self.write_xmm(reg, x)
        else:
            t = home if isinstance(home, R.GPR) else R.rax.view(bits)
            self.a.mov(t, mem)
            self.write_gpr(reg, t)

    def xmm_src(self, reg: Reg):
        r = self.var_reg(reg)
        if isinstance(r, R.XMM):
            return r
        if r is None:
            return self.slot_mem(reg.ordinal, SIZE[reg.type])
        return self.read_xmm(reg, R.xmm1)

    def read_xmm(self, reg: Reg, scratch) -> R.XMM:
        bits = SIZE[reg.type]
        r = self.var_reg(reg)
        if isinstance(r, R.XMM):
            return r
        if r is None:
            (self.a.movss if bits == 32 else self.a.movsd)(scratch, self.slot_mem(reg.ordinal, bits))
        else:
            (self.a.movd if bits == 32 else self.a.movq)(scratch, r)
        return scratch

    def xmm_work(self, result: Reg, *later_sources: Reg) -> R.XMM:
        """Where to compute `result`: its own XMM register when it has one that none of
        `later_sources` (operands read after the first is loaded) occupies, else xmm0."""
        home = self.var_reg(result)
        if isinstance(home, R.XMM) and all(self.var_reg(s) != home for s in later_sources):
            return home
        return R.xmm0

    def load_xmm(self, reg: Reg, target) -> R.XMM:
        src = self.read_xmm(reg, target)
        if src != target:
            self.a.movaps(target, src)
        return target

    def write_xmm(self, reg: Reg, src: R.XMM) -> None:
        bits = SIZE[reg.type]
        r = self.var_reg(reg)
        if r is None:
            (self.a.movss if bits == 32 else self.a.movsd)(self.slot_mem(reg.ordinal, bits), src)
        elif isinstance(r, R.XMM):
            if r != src:
                self.a.movaps(r, src)
        else:
            (self.a.movd if bits == 32 else self.a.movq)(r, src)

    def read_ref(self, reg: Reg, into=R.r10) -> R.GPR:
        self.a.mov(into, self.ref_mem(reg))
        return into

    def write_ref(self, reg: Reg, src: R.GPR) -> None:
        self.a.mov(self.ref_mem(reg), src)

    def jump(self, block_index: int) -> None:
        """Jump to a block, or fall through when it is laid out right after this one."""
        if block_index != self.block.index + 1:
            self.a.jmp(self.block_labels[block_index])

    # ------------------------------------------------------------------ loop rotation
    def rotatable(self, header: int) -> bool:
        """Whether a back edge to `header` may run a copy of it instead of jumping to it:
        the header is at most two compares and a cond_br whose edges copy nothing and fill
        no loop caches (so the copy at the latch does exactly what the header does), and no
        fuel is burnt on entry to it."""
        if self.fuel:
            return False
        *tests, term = self.fn.blocks[header].instrs
        if term.op.mnemonic != "cond_br" or len(tests) > 2:
            return False
        if not all(i.op.mnemonic.startswith("cmp.") and i.op.mnemonic != "cmp.eq.ref" for i in tests):
            return False
        edges = (term.args["true_dest_pc"], term.args["false_dest_pc"])
        return not any(e.remap or self.caches.entering(header, e.block) for e in edges)

    def rotate_into(self, header: int) -> bool:
        """At the end of a latch (after its edge moves) whose `br` goes back to `header`:
        emit the header's compares and cond_br here, so each iteration ends in one
        conditional branch instead of a jump plus the header's branch. Returns False
        (nothing emitted) when the header is not `rotatable`."""
        if header > self.block.index or not self.rotatable(header):
            return False
        instrs = self.fn.blocks[header].instrs
        saved = self.ins, self.next_ins
        for k, ins in enumerate(instrs):
            self.ins, self.next_ins = ins, instrs[k + 1] if k + 1 < len(instrs) else None
            self.a.set_tag((self.fn.ordinal, ins.offset))
            self.handlers[ins.op.mnemonic](self, ins)
        self.ins, self.next_ins = saved
        self.a.set_tag((self.fn.ordinal, self.ins.offset))
        return True

    # ------------------------------------------------------------------ compare + branch fusion
    def branch_on_flags(self, result: Reg) -> bool:
        """True when the next op is a cond_br on `result`: the compare leaves its condition in
        EFLAGS for the branch (mov/movzx/setcc between them do not touch the flags)."""
        nxt = self.next_ins
        return nxt is not None and nxt.op.mnemonic == "cond_br" and nxt.args["condition"] == result

    def select_on_flags(self, result: Reg) -> bool:
        """True when the next op is an integer select on `result` (ops_int.select reads the
        condition a compare leaves in EFLAGS)."""
        nxt = self.next_ins
        return (nxt is not None and nxt.op.mnemonic in ("select.i32", "select.i64")
                and nxt.args["condition"] == result
                and result not in (nxt.args["true_value"], nxt.args["false_value"]))

    def dead_after_next(self, result: Reg) -> bool:
        """True when `result` is a promoted variable nobody reads after the next op (the
        cond_br or select consuming it), so it need not be materialised at all."""
        v = self.slots.var_of(result)
        if v is None or self.alloc.location(v) is None:
            return False
        nxt = self.next_ins
        if self.interval_end.get(v, 1 << 30) > self.point[id(nxt)]:
            return False
        for f in ("true_dest_pc", "false_dest_pc"):
            if f in nxt.args and any(s.ordinal in v.slots_covered
                                     for s, _ in nxt.args[f].remap if not s.is_ref):
                return False
        return True

    # ------------------------------------------------------------------ traps
    def trap_label(self, code: int, status=None) -> Label:
        """A label that, jumped to, traps with `code` at the current op (stubs go after the body)."""
        label = Label(f"{self.fn.name}.trap{len(self.traps)}")
        self.traps.append((label, code, self.ins.offset if self.ins else 0, status))
        return label

    def check_nonnull(self, ref_reg) -> None:
        self.a.test(ref_reg, ref_reg)
        self.a.jz(self.trap_label(abi.TRAP_NULL_REF))

    # ------------------------------------------------------------------ body
    def lower(self) -> FunctionInfo:
        a, fn = self.a, self.fn
        a.align(16)
        a.set_tag((fn.ordinal, -1))
        a.label(self.entries[fn.ordinal])
        self._prologue()
        headers = loop_headers(fn)
        for block in fn.blocks:
            self.block = block
            self.checked.reset()
            if block.index in headers:
                a.align(LOOP_ALIGN)  # nops run once on the way in; each iteration fetches less
            a.label(self.block_labels[block.index])
            if self.fuel and block.index in headers:
                self.ins = block.instrs[0]
                self._burn_fuel()
            for k, ins in enumerate(block.instrs):
                self.ins = ins
                self.next_ins = block.instrs[k + 1] if k + 1 < len(block.instrs) else None
                a.set_tag((fn.ordinal, ins.offset))
                handler = self.handlers.get(ins.op.mnemonic)
                if handler is None:
                    self.unsupported.append(ins.op.name)
                    a.jmp(self.trap_label(abi.TRAP_UNSUPPORTED))
                    continue
                handler(self, ins)
                self.checked.kill(ins)
        self.ins = None
        a.set_tag((fn.ordinal, -1))
        self._epilogue()  # right after the last block: a final return falls into it
        for emit in self.deferred:
            emit()
        self.deferred = []  # its closures refer to self: no cycle left for the collector
        self._trap_stubs()
        kind = "none" if self.frameless else "red zone" if self.red_zone else "stack"
        return FunctionInfo(fn.name, fn.ordinal, self.entries[fn.ordinal], self.alloc, self.slots,
                            self.frame, sorted(set(self.unsupported)), kind)

    def _burn_fuel(self) -> None:
        """One unit of fuel per loop iteration and per call; TRAP_FUEL when none is left."""
        self.a.mov(R.r11, _CTX)
        self.a.dec(qword[R.r11 + abi.CTX_FUEL])
        self.a.js(self.trap_label(abi.TRAP_FUEL))

    def _prologue(self) -> None:
        a, f = self.a, self.frame
        if not self.frameless:
            a.push(R.rbp)
            a.mov(R.rbp, R.rsp)
        if not self.red_zone:
            a.sub(R.rsp, f.size)
            a.mov(_CTX, R.rdi)
        a.mov(self.results_mem(), R.rdx)
        for i, name in enumerate(f.saved):
            a.mov(qword[rbp + f.save_slot(i)], GPR_BY_NAME[name])
        # Recursion budget: trap instead of overflowing the native stack. A leaf (no VM
        # calls) cannot recurse: its one frame needs no accounting.
        if not self.leaf:
            a.mov(R.eax, dword[R.rdi + abi.CTX_DEPTH_LEFT])
            a.test(R.eax, R.eax)
            stack_trap = Label(f"{self.fn.name}.stack")
            a.jz(stack_trap)
            a.dec(R.eax)
            a.mov(dword[R.rdi + abi.CTX_DEPTH_LEFT], R.eax)
            self._stack_trap = stack_trap
        if self.fuel:
            self.ins = self.fn.blocks[0].instrs[0] if self.fn.blocks and self.fn.blocks[0].instrs else None
            self._burn_fuel()
            self.ins = None
        # Arguments: from the args buffer (rsi) into their registers (IREE's placement).
        # One argument may live in rsi itself: it is loaded last.
        types = [t for t in self.fn.signature.args]
        offsets, _ = abi.cconv_layout(types)
        if self.fn.ref_count:  # refs start null, like the interpreter's zeroed frame
            a.xor(R.eax, R.eax)
            for r in range(self.fn.ref_count):
                a.mov(qword[rbp + f.ref(r)], R.rax)
        args = list(zip(arg_registers(self.fn.signature), offsets))
        args.sort(key=lambda ro: not ro[0].is_ref and isinstance(self.var_reg(ro[0]), R.GPR)
                  and self.var_reg(ro[0]).view(64) == R.rsi)
        for reg, off in args:
            if reg.is_ref:
                a.mov(R.rax, qword[R.rsi + off])
                self.write_ref(reg, R.rax)
            else:
                self.load_from(reg, R.rsi + off)

    def _epilogue(self) -> None:
        a, f = self.a, self.frame
        a.label(self.epilogue)            # eax holds the status
        if not self.leaf:
            a.mov(R.rcx, _CTX)
            a.inc(dword[R.rcx + abi.CTX_DEPTH_LEFT])
        a.label(self.exit_no_depth)
        for i, name in enumerate(f.saved):
            a.mov(GPR_BY_NAME[name], qword[rbp + f.save_slot(i)])
        if not self.red_zone:
            a.mov(R.rsp, R.rbp)
        if not self.frameless:
            a.pop(R.rbp)
        a.ret()
        if not self.leaf:
            a.label(self._stack_trap)
            self._emit_trap_store(abi.TRAP_STACK, 0, None)
            a.jmp(self.exit_no_depth)

    def _emit_trap_store(self, code: int, offset: int, status) -> None:
        a = self.a
        a.mov(R.rcx, _CTX)
        if status is not None:
            a.movsxd(R.rax, status) if status.bits == 32 else a.mov(R.rax, status)
            a.mov(_TRAP_STATUS, R.rax)
        a.mov(_TRAP_CODE, code)
        a.mov(_TRAP_OFFSET, offset)
        a.mov(_TRAP_FUNCTION, origin(self.fn))  # (an OSR variant reports its function)
        a.mov(R.eax, code)

    def _trap_stubs(self) -> None:
        for label, code, offset, status in self.traps:
            self.a.set_tag((self.fn.ordinal, offset))
            self.a.label(label)
            self._emit_trap_store(code, offset, status)
            self.a.jmp(self.epilogue)
        self.a.set_tag((self.fn.ordinal, -1))


def compile_osr_variant(loaded: LoadedModule, variant: Function, targets: dict[int, int],
                        features=None, fuel: bool = False, imports=None,
                        pure=None) -> CompiledModule:
    """An OSR variant (`splatjit/osr.py`) of a function of `loaded`, alone in one code blob;
    its calls of the module's functions call `targets` (function ordinal -> the address of
    that function's code, compiled before). `fuel`, `imports`, `pure` as in compile_module."""
    from .ops import HANDLERS, clobbers_caller_saved
    a = Assembler(features)
    entries: dict = dict(targets)
    entries[variant.ordinal] = Label(f"{variant.name}.osr")
    info = FunctionLowering(a, loaded, variant, entries, HANDLERS, clobbers_caller_saved, fuel,
                            imports, pure).lower()
    return CompiledModule(**finished_fields(a, {variant.ordinal: info}))


def compile_module(loaded: LoadedModule, features=None, handlers=None, clobbers=None,
                   fuel: bool = False, imports=None, pure=None) -> CompiledModule:
    """Compiles every function of `loaded` (not its nested executables) into one code blob.

    With `fuel`, every loop iteration and call burns one unit of `Context.fuel` and the code
    traps (TRAP_FUEL) when it runs out: a budget for untrusted or test inputs.
    `imports`: the linked import table's (entry address, callee Context address) per import
    ordinal, when the code will run in this process with that table: calls then embed both
    addresses instead of reading the table (entries of 0 still read it). The table's owner
    keeps every entry alive for as long as the code can run.
    `pure`: import ordinal -> the provider's callable, for imports whose provider marks
    them pure (constant_folding.py calls them at compile time with constant operands).
    """
    from .ops import HANDLERS, clobbers_caller_saved
    handlers = HANDLERS if handlers is None else handlers
    clobbers = clobbers_caller_saved if clobbers is None else clobbers
    a = Assembler(features)
    return CompiledModule(**module_fields(
        a, loaded, Label, lambda fn, entries: FunctionLowering(
            a, loaded, fn, entries, handlers, clobbers, fuel, imports, pure).lower()))
