"""Lowering of verified IR to AArch64: the per-function framework.

The twin of `emit_x64/lower.py`: `FunctionLowering` owns one function's frame, allocation and
labels and offers the operand helpers op lowerings use (`read_gpr`, `write_gpr`,
`read_fpr`, ...); the op lowerings live in `ops_int.py`, `ops_float.py`, `ops_memory.py`,
`ops_control.py` and `ops_list.py`, each a table of `mnemonic -> function(lowering, instr)`.

Contract: `compile_module(loaded, fuel=False, resolve=None)` returns a `CompiledModule`
(`splatjit/lowering.py`) whose code follows the native ABI of `runtime/abi.py` in its
AAPCS64 form (x0 = Context*, x1 = args, x2 = results, status in w0). Code outside the module
(libm, memmove/memcmp) is reached with `blr` to `resolve(name)`, an absolute address; the
default resolves to the host-call stubs of `runtime/a64_backend.py` (Unicorn). Runtime
helpers and imports go through the Context's tables, as on x86. Functions that use an op
without a lowering are listed in `unsupported` (calling them traps with TRAP_UNSUPPORTED).
"""
from __future__ import annotations

from ..constant_folding import fold_constants
from ..div_rem_pairs import pair_divisions
from ..range_folding import fold_ranges
from ..element_promotion import promote_elements
from ..regalloc.coalesce import coalesce_remaps
from ..frontend.loader import LoadedModule
from ..frontend.verifier import arg_registers
from ..ir import Function, Instr, Reg
from ..lowering import (CheckedAccesses, CompiledModule, FunctionInfo, constant_slots,
                        loop_headers, module_fields, outgoing_area_size)
from ..regalloc.linear_scan import allocate
from ..regalloc.liveness import live_intervals
from ..regalloc.variables import Var, classify
from ..regalloc.webs import rename_webs
from ..runtime import abi
from . import operands as R
from .assembler import Assembler
from .frame import A64_TARGET, CTX_OFF, FPR_BY_NAME, GPR_BY_NAME, RESULTS_OFF, Frame
from .operands import GPR, FPReg, Label, mem, sp, x29

__all__ = ["CompiledModule", "FunctionInfo", "FunctionLowering", "compile_module"]

SIZE = {"i32": 32, "f32": 32, "i64": 64, "f64": 64, "x32": 32}
#: Scratch registers with fixed roles (see frame.py): x16 call targets and move cycles,
#: x17 addresses of frame slots beyond the reach of a scaled offset.
IP0, IP1 = R.x16, R.x17


def gview(reg: GPR, bits: int) -> GPR:
    return reg.x if bits == 64 else reg.w


def fview(code: int, bits: int) -> FPReg:
    return FPReg(code, bits // 8)


class FunctionLowering:
    def __init__(self, asm: Assembler, module: LoadedModule, fn: Function, entries: dict[int, Label],
                 handlers: dict, clobbers, fuel: bool = False, resolve=None, pure=None):
        self.fuel = fuel
        self.checked = CheckedAccesses()  # range-check elimination within a block
        first_renamed = fn.i32_count
        fn = rename_webs(fn)  # reused slots -> one slot per value, so more of them promote
        fn = fold_constants(fn, first_renamed, pure)  # e.g. tile sizes the kernel queries
        fn = fold_ranges(fn)  # sign fixups of non-negative indices, unsigned div / rem
        fn = pair_divisions(fn, first_renamed)  # div and rem of the same operands: one divide
        fn = promote_elements(fn)  # a loop's one stored element kept in a register
        fn = coalesce_remaps(fn)  # values made only for a br's remap go straight to its target
        self.constants = constant_slots(fn, first_renamed)  # single-def integer constants
        # No copy_nests.plan_copy_nests here: AArch64 has no `jit.copy.nest` lowering yet,
        # so element-copy loops run as the per-element loop (x86-64 runs them as a nest).
        self.a, self.mod, self.m, self.fn = asm, module, module.defn, fn
        self.entries = entries
        self.handlers = handlers
        self.resolve = resolve
        self.slots = classify(fn)
        intervals = live_intervals(fn, self.slots, clobbers)
        self.alloc = allocate(intervals, A64_TARGET)
        self.interval_end = {iv.var: iv.end for iv in intervals}
        self.point = {id(ins): 2 * i for i, ins in enumerate(fn.instrs())}
        self.next_ins: Instr | None = None
        self.flags: tuple[Reg, str] | None = None  # (i32 result, condition) still in NZCV
        used = self.alloc.used & A64_TARGET.callee_saved
        saved = sorted((r for r in used if r[0] == "x"), key=lambda r: int(r[1:])) + \
            sorted((r for r in used if r[0] == "d"), key=lambda r: int(r[1:]))
        self.frame = Frame.layout(saved, fn.i32_count, fn.ref_count, outgoing_area_size(fn, self.m))
        self.block_labels = [Label(f"{fn.name}.bb{b.index}") for b in fn.blocks]
        self.epilogue = Label(f"{fn.name}.epilogue")
        self.exit_no_depth = Label(f"{fn.name}.exit")
        self.traps: list[tuple[Label, int, int, object]] = []  # label, code, offset, status reg
        self.unsupported: list[str] = []
        self.ins: Instr | None = None

    # ------------------------------------------------------------------ frame helpers
    def sp_mem(self, offset: int, nbytes: int):
        """[sp + offset] for an access of `nbytes`; through x17 beyond the scaled range."""
        if offset % nbytes == 0 and offset // nbytes < 4096:
            return mem(sp, offset)
        self.add_imm(IP1, sp, offset)
        return mem(IP1, 0)

    def slot_mem(self, ordinal: int, bits: int):
        return self.sp_mem(self.frame.slot(ordinal), bits // 8)

    def ref_mem(self, reg: Reg):
        return self.sp_mem(self.frame.ref(reg.ordinal), 8)

    def ctx(self, into=R.x0) -> GPR:
        self.a.ldur(into, mem(x29, CTX_OFF))
        return into

    def add_imm(self, rd: GPR, rn: GPR, value: int) -> None:
        """rd = rn + value (rn may be sp); uses x16 for values beyond two imm12 halves."""
        a = self.a
        if value < 0:
            raise ValueError("add_imm takes a non-negative value")
        if value < 4096:
            a.add(rd, rn, value)
        elif value < 1 << 24:
            a.add(rd, rn, value & ~0xFFF)
            if value & 0xFFF:
                a.add(rd, rd, value & 0xFFF)
        else:
            a.mov(IP0, value)
            a.add(rd, rn, IP0)

    def call_symbol(self, name: str) -> None:
        """blr to external code (libm, libc) at the resolved absolute address."""
        self.a.mov(IP0, self.resolve(name))
        self.a.blr(IP0)

    # ------------------------------------------------------------------ operand access
    def var_location(self, v: Var | None):
        """The machine register of promoted variable `v` (sized view), or None (memory)."""
        name = self.alloc.location(v)
        if name is None:
            return None
        bits = 64 if v.wide else 32
        if v.cls == "fpr":
            return fview(FPR_BY_NAME[name].code, bits)
        return gview(GPR_BY_NAME[name], bits)

    def var_reg(self, reg: Reg):
        """The machine register holding `reg` (sized), or None if it lives in memory."""
        return self.var_location(self.slots.var_of(reg))

    def read_gpr(self, reg: Reg, scratch: GPR) -> GPR:
        """`reg`'s value in a general register (`scratch`, sized, unless already in one)."""
        bits = SIZE[reg.type]
        r = self.var_reg(reg)
        t = gview(scratch, bits)
        if r is None:
            self.a.ldr(t, self.slot_mem(reg.ordinal, bits))
            return t
        if isinstance(r, GPR):
            return r
        self.a.fmov(t, r)  # an f32/f64 variable read as bits
        return t

    def load_gpr(self, reg: Reg, target: GPR) -> GPR:
        """`reg`'s value copied into `target` (sized); returns the sized register."""
        t = gview(target, SIZE[reg.type])
        src = self.read_gpr(reg, t)
        if src != t:
            self.a.mov(t, src)
        return t

    def write_gpr(self, reg: Reg, src: GPR) -> None:
        bits = SIZE[reg.type]
        src = gview(src, bits)
        r = self.var_reg(reg)
        if r is None:
            self.a.str(src, self.slot_mem(reg.ordinal, bits))
        elif isinstance(r, GPR):
            if r != src:
                self.a.mov(r, src)
        else:
            self.a.fmov(r, src)

    def dest_gpr(self, reg: Reg, scratch: GPR) -> GPR:
        """Where to compute `reg`'s new value: its own register, or `scratch` (then call
        `write_gpr`, which is a no-op for the register case)."""
        r = self.var_reg(reg)
        return r if isinstance(r, GPR) else gview(scratch, SIZE[reg.type])

    def read_fpr(self, reg: Reg, scratch=R.v0) -> FPReg:
        bits = SIZE[reg.type]
        r = self.var_reg(reg)
        if isinstance(r, FPReg):
            return r
        t = fview(scratch.code, bits)
        if r is None:
            self.a.ldr(t, self.slot_mem(reg.ordinal, bits))
        else:
            self.a.fmov(t, r)  # an integer variable read as float bits
        return t

    def load_fpr(self, reg: Reg, target=R.v0) -> FPReg:
        t = fview(target.code, SIZE[reg.type])
        src = self.read_fpr(reg, target)
        if src != t:
            self.a.fmov(t, src)
        return t

    def write_fpr(self, reg: Reg, src: FPReg) -> None:
        bits = SIZE[reg.type]
        src = fview(src.code, bits)
        r = self.var_reg(reg)
        if r is None:
            self.a.str(src, self.slot_mem(reg.ordinal, bits))
        elif isinstance(r, FPReg):
            if r != src:
                self.a.fmov(r, src)
        else:
            self.a.fmov(r, src)

    def dest_fpr(self, reg: Reg, scratch=R.v0) -> FPReg:
        r = self.var_reg(reg)
        return r if isinstance(r, FPReg) else fview(scratch.code, SIZE[reg.type])

    def read_ref(self, reg: Reg, into=R.x3) -> GPR:
        self.a.ldr(into, self.ref_mem(reg))
        return into

    def write_ref(self, reg: Reg, src: GPR) -> None:
        self.a.str(src, self.ref_mem(reg))

    def jump(self, block_index: int) -> None:
        """Jump to a block, or fall through when it is laid out right after this one."""
        if block_index != self.block.index + 1:
            self.a.b(self.block_labels[block_index])

    # ------------------------------------------------------------------ compare + branch fusion
    def branch_on_flags(self, result: Reg) -> bool:
        """True when the next op is a cond_br on `result`: the compare leaves its condition
        in NZCV for the branch (cset, str and fmov between them do not touch the flags)."""
        nxt = self.next_ins
        return nxt is not None and nxt.op.mnemonic == "cond_br" and nxt.args["condition"] == result

    def dead_after_next(self, result: Reg) -> bool:
        """True when `result` is a promoted variable nobody reads after the next op (the
        cond_br consuming it), so it need not be materialised at all."""
        v = self.slots.var_of(result)
        if v is None or self.alloc.location(v) is None:
            return False
        nxt = self.next_ins
        if self.interval_end.get(v, 1 << 30) > self.point[id(nxt)]:
            return False
        for f in ("true_dest_pc", "false_dest_pc"):
            if any(s.ordinal in v.slots_covered for s, _ in nxt.args[f].remap if not s.is_ref):
                return False
        return True

    def flags_result(self, result: Reg, cond: str) -> None:
        """Materialise a 0/1 result from NZCV condition `cond` unless only the next cond_br
        reads it; leave the condition in NZCV for a directly following cond_br either way."""
        fused = self.branch_on_flags(result)
        if not (fused and self.dead_after_next(result)):
            d = self.dest_gpr(result, R.w1)
            self.a.cset(d, cond)
            self.write_gpr(result, d)
        if fused:
            self.flags = (result, cond)

    # ------------------------------------------------------------------ traps
    def trap_label(self, code: int, status=None) -> Label:
        """A label that, jumped to, traps with `code` at the current op (stubs go after the
        body). `status` names a register holding the vm.fail status (not x0-x2)."""
        label = Label(f"{self.fn.name}.trap{len(self.traps)}")
        self.traps.append((label, code, self.ins.offset if self.ins else 0, status))
        return label

    def check_nonnull(self, ref_reg: GPR) -> None:
        self.a.cbz(ref_reg, self.trap_label(abi.TRAP_NULL_REF))

    # ------------------------------------------------------------------ body
    def lower(self) -> FunctionInfo:
        a, fn = self.a, self.fn
        a.tag = (fn.ordinal, -1)
        a.align(16)
        a.bind(self.entries[fn.ordinal])
        self._prologue()
        headers = loop_headers(fn) if self.fuel else set()
        for block in fn.blocks:
            self.block = block
            self.checked.reset()
            self.flags = None
            a.bind(self.block_labels[block.index])
            if block.index in headers:
                self.ins = block.instrs[0]
                a.tag = (fn.ordinal, self.ins.offset)
                self._burn_fuel()
            for k, ins in enumerate(block.instrs):
                self.ins = ins
                self.next_ins = block.instrs[k + 1] if k + 1 < len(block.instrs) else None
                a.tag = (fn.ordinal, ins.offset)
                handler = self.handlers.get(ins.op.mnemonic)
                if handler is None:
                    self.unsupported.append(ins.op.name)
                    a.b(self.trap_label(abi.TRAP_UNSUPPORTED))
                    continue
                handler(self, ins)
                self.checked.kill(ins)
        self.ins = None
        a.tag = (fn.ordinal, -1)
        self._epilogue()
        self._trap_stubs()
        a.tag = None
        return FunctionInfo(fn.name, fn.ordinal, self.entries[fn.ordinal], self.alloc, self.slots,
                            self.frame, sorted(set(self.unsupported)))

    def _burn_fuel(self) -> None:
        """One unit of fuel per loop iteration and per call; TRAP_FUEL when none is left."""
        a = self.a
        self.ctx(IP0)
        a.ldr(IP1, mem(IP0, abi.CTX_FUEL))
        a.subs(IP1, IP1, 1)
        a.str(IP1, mem(IP0, abi.CTX_FUEL))
        a.b_mi(self.trap_label(abi.TRAP_FUEL))

    def _save_pairs(self):
        """(first save index, registers) groups: pairs of one kind for stp/ldp, else singles."""
        saved, i = self.frame.saved, 0
        while i < len(saved):
            if i + 1 < len(saved) and saved[i][0] == saved[i + 1][0]:
                yield i, (saved[i], saved[i + 1])
                i += 2
            else:
                yield i, (saved[i],)
                i += 1

    @staticmethod
    def _saved_reg(name: str):
        return R.x[int(name[1:])] if name[0] == "x" else R.d[int(name[1:])]

    def _saves(self, store: bool) -> None:
        a, f = self.a, self.frame
        for i, regs in self._save_pairs():
            if len(regs) == 2:  # slot i+1 is the lower address: it takes the second register
                pair = (self._saved_reg(regs[1]), self._saved_reg(regs[0]))
                (a.stp if store else a.ldp)(*pair, mem(x29, f.save_slot(i + 1)))
            else:
                (a.stur if store else a.ldur)(self._saved_reg(regs[0]), mem(x29, f.save_slot(i)))

    def _prologue(self) -> None:
        a, f = self.a, self.frame
        a.stp(x29, R.x30, R.pre(sp, -16))
        a.mov(x29, sp)
        if f.size < 4096:
            a.sub(sp, sp, f.size)
        else:
            a.mov(IP0, f.size)
            a.sub(sp, sp, IP0)
        a.stur(R.x0, mem(x29, CTX_OFF))
        a.stur(R.x2, mem(x29, RESULTS_OFF))
        self._saves(store=True)
        # Recursion budget: trap instead of overflowing the native stack.
        stack_trap = Label(f"{self.fn.name}.stack")
        a.ldr(R.w16, mem(R.x0, abi.CTX_DEPTH_LEFT))
        a.cbz(R.w16, stack_trap)
        a.sub(R.w16, R.w16, 1)
        a.str(R.w16, mem(R.x0, abi.CTX_DEPTH_LEFT))
        self._stack_trap = stack_trap
        if self.fuel:
            self.ins = self.fn.blocks[0].instrs[0] if self.fn.blocks and self.fn.blocks[0].instrs else None
            self._burn_fuel()
            self.ins = None
        for r in range(self.fn.ref_count):  # refs start null, like the interpreter's zeroed frame
            a.str(R.xzr, self.sp_mem(f.ref(r), 8))
        # Arguments: from the args buffer (x1) into their registers (IREE's placement).
        offsets, _ = abi.cconv_layout(list(self.fn.signature.args))
        for reg, off in zip(arg_registers(self.fn.signature), offsets):
            if reg.is_ref:
                a.ldr(R.x3, mem(R.x1, off))
                self.write_ref(reg, R.x3)
            elif reg.type in ("f32", "f64"):
                t = fview(0, SIZE[reg.type])
                a.ldr(t, mem(R.x1, off))
                self.write_fpr(reg, t)
            else:
                t = gview(R.x3, SIZE[reg.type])
                a.ldr(t, mem(R.x1, off))
                self.write_gpr(reg, t)

    def _epilogue(self) -> None:
        a = self.a
        a.bind(self.epilogue)            # w0 holds the status
        self.ctx(R.x1)
        a.ldr(R.w2, mem(R.x1, abi.CTX_DEPTH_LEFT))
        a.add(R.w2, R.w2, 1)
        a.str(R.w2, mem(R.x1, abi.CTX_DEPTH_LEFT))
        a.bind(self.exit_no_depth)
        self._saves(store=False)
        a.mov(sp, x29)
        a.ldp(x29, R.x30, R.post(sp, 16))
        a.ret()
        a.bind(self._stack_trap)
        self._emit_trap_store(abi.TRAP_STACK, 0, None)
        a.b(self.exit_no_depth)

    def _emit_trap_store(self, code: int, offset: int, status) -> None:
        a = self.a
        self.ctx(R.x1)
        if status is not None:
            a.sxtw(R.x2, status) if status.width == 32 else a.mov(R.x2, status)
            a.str(R.x2, mem(R.x1, abi.CTX_TRAP_STATUS))
        a.mov(R.w2, code)
        a.str(R.w2, mem(R.x1, abi.CTX_TRAP_CODE))
        a.mov(R.w2, offset)
        a.str(R.w2, mem(R.x1, abi.CTX_TRAP_OFFSET))
        a.mov(R.w2, self.fn.ordinal)
        a.str(R.w2, mem(R.x1, abi.CTX_TRAP_FUNCTION))
        a.mov(R.w0, code)

    def _trap_stubs(self) -> None:
        for label, code, offset, status in self.traps:
            self.a.tag = (self.fn.ordinal, offset)
            self.a.bind(label)
            self._emit_trap_store(code, offset, status)
            self.a.b(self.epilogue)
        self.a.tag = (self.fn.ordinal, -1)


def default_resolve(name: str) -> int:
    """External symbols -> the Unicorn runtime's host-call stubs (runtime/a64_backend.py)."""
    from ..runtime.a64_backend import host_symbol_address
    return host_symbol_address(name)


def compile_module(loaded: LoadedModule, fuel: bool = False, *, resolve=None, handlers=None,
                   clobbers=None, pure=None) -> CompiledModule:
    """Compiles every function of `loaded` (not its nested executables) into one code blob.

    With `fuel`, every loop iteration and call burns one unit of `Context.fuel` and the code
    traps (TRAP_FUEL) when it runs out. `resolve(name) -> address` places libm / libc
    symbols (see `default_resolve`); code is position independent apart from them.
    `pure`: import ordinal -> callable of the imports folded at compile time (as on x86-64).
    """
    from .ops import HANDLERS, clobbers_caller_saved
    handlers = HANDLERS if handlers is None else handlers
    clobbers = clobbers_caller_saved if clobbers is None else clobbers
    resolve = default_resolve if resolve is None else resolve
    a = Assembler()
    return CompiledModule(**module_fields(
        a, loaded, Label, lambda fn, entries: FunctionLowering(
            a, loaded, fn, entries, handlers, clobbers, fuel, resolve, pure).lower()))
