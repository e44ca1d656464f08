"""Control flow and calls: branches with their remap copies, br_table, return, fail, calls.

The twin of emit_x64/ops_control.py. Branch remaps follow the interpreter's sequential
order; they are turned into a parallel move set (`regalloc.parallel_move`) and sequenced
with x16 breaking cycles (x0 is the temporary of memory-to-memory copies).
"""
from __future__ import annotations

from ..regalloc.parallel_move import from_sequential, sequence
from ..lowering import call_layout, mixes_memory_widths
from ..regalloc.variables import remap_copies
from ..runtime import abi
from . import operands as R
from .frame import RESULTS_OFF
from .lower import fview, gview
from .operands import FPReg, GPR, Label, mem, sp, x29

SCRATCH = ("scratch",)


def _location(L, kind: str, slot: int):
    if kind == "ref":
        return ("ref", slot)
    v = L.slots.var_at.get(slot)
    if v is not None and L.alloc.location(v) is not None:
        return ("var", v)
    return ("mem", slot, 64 if kind == "w" else 32)


def _width(loc) -> int:
    if loc[0] in ("ref", "scratch"):  # the cycle scratch (x16) holds a whole 64-bit value
        return 64
    if loc[0] == "var":
        return 64 if loc[1].wide else 32
    return loc[2]


def _read_into(L, loc, target: GPR) -> GPR:
    """Copy `loc`'s value into general register `target` (returned sized)."""
    a = L.a
    bits = _width(loc)
    t = gview(target, bits)
    if loc[0] == "ref":
        a.ldr(target.x, L.sp_mem(L.frame.ref(loc[1]), 8))
    elif loc[0] == "mem":
        a.ldr(t, L.slot_mem(loc[1], bits))
    elif loc == SCRATCH:
        a.mov(t, gview(R.x16, bits))
    else:
        r = L.var_location(loc[1])
        if isinstance(r, FPReg):
            a.fmov(t, r)
        elif r != t:
            a.mov(t, r)
    return t


def _move(L, dst, src):
    a = L.a
    if dst[0] == "var":
        d = L.var_location(dst[1])
        if isinstance(d, FPReg):
            if src[0] == "var" and isinstance(L.var_location(src[1]), FPReg):
                a.fmov(d, fview(L.var_location(src[1]).code, d.size * 8))
            elif src[0] == "mem":
                a.ldr(d, L.slot_mem(src[1], d.size * 8))
            else:
                a.fmov(d, _read_into(L, src, R.x0))
            return
        _read_into(L, src, d)
        return
    if dst == SCRATCH:
        _read_into(L, src, R.x16)
        return
    if src[0] == "var" and isinstance(L.var_location(src[1]), FPReg) and dst[0] == "mem":
        a.str(fview(L.var_location(src[1]).code, dst[2]), L.slot_mem(dst[1], dst[2]))
        return
    t = _read_into(L, src, R.x0)
    if dst[0] == "ref":
        a.str(t.x, L.sp_mem(L.frame.ref(dst[1]), 8))
    else:
        a.str(gview(t, dst[2]), L.slot_mem(dst[1], dst[2]))


def edge_moves(L, succ) -> None:
    """Emit the copies of one branch edge (may be none); see emit_x64/ops_control.py."""
    copies = remap_copies(succ.remap, L.slots.wide_slots)
    pairs = [(_location(L, k, s), _location(L, k, d)) for k, s, d in copies]
    if mixes_memory_widths(pairs):
        _sequential_in_memory(L, succ, pairs)
        return
    for dst, src in sequence(from_sequential(pairs), SCRATCH):
        _move(L, dst, src)


def _sequential_in_memory(L, succ, pairs) -> None:
    a = L.a
    sources = {src[1] for src, _ in pairs if src[0] == "var"}
    targets = {dst[1] for _, dst in pairs if dst[0] == "var"}
    for v in sorted(sources, key=lambda v: v.slot):
        _move(L, ("mem", v.slot, 64 if v.wide else 32), ("var", v))
    for src, dst in succ.remap:
        if src.is_ref:
            a.ldr(R.x0, L.ref_mem(src))
            a.str(R.x0, L.ref_mem(dst))
        else:
            a.ldr(R.w0, L.slot_mem(src.ordinal, 32))
            a.str(R.w0, L.slot_mem(dst.ordinal, 32))
    for v in sorted(targets, key=lambda v: v.slot):
        _move(L, ("var", v), ("mem", v.slot, 64 if v.wide else 32))


def branch(L, ins):
    succ = ins.args["dest_pc"]
    edge_moves(L, succ)
    L.jump(succ.block)


def copy_nest(L, ins):
    """`jit.copy.nest` (copy_nests.py) without a native copy: always its loop edge, which
    its contract allows (the loop computes what the copy would). The AArch64 pipeline does
    not plan copy nests; this only keeps the op lowerable on both ISAs."""
    succ = ins.args["loop_pc"]
    edge_moves(L, succ)
    L.jump(succ.block)


def cond_branch(L, ins):
    """Edge moves never touch NZCV (ldr/str/mov/fmov), so the condition survives them."""
    a, args = L.a, ins.args
    t, f = args["true_dest_pc"], args["false_dest_pc"]
    if L.flags is not None and L.flags[0] == args["condition"]:
        cond = L.flags[1]  # the compare just before left its condition in NZCV
        take = lambda label: a.b_cond(cond, label)  # noqa: E731
        skip = lambda label: a.b_cond(R.invert_cond(cond), label)  # noqa: E731
    else:
        c = L.read_gpr(args["condition"], R.x1)
        take = lambda label: a.cbnz(c, label)  # noqa: E731
        skip = lambda label: a.cbz(c, label)  # noqa: E731
    L.flags = None
    if not t.remap and not f.remap:
        if t.block == L.block.index + 1:
            skip(L.block_labels[f.block])
            return
        take(L.block_labels[t.block])
        L.jump(f.block)
        return
    false_edge = Label()
    skip(false_edge)
    edge_moves(L, t)
    a.b(L.block_labels[t.block])
    a.bind(false_edge)
    edge_moves(L, f)
    L.jump(f.block)


def branch_table(L, ins):
    """Index in range: a table of `b` instructions reached through `bl` (x30 = its own
    address; the epilogue reloads x30 from the frame); else the default edge."""
    a, args = L.a, ins.args
    cases = args["cases"]
    default = args["default_dest_pc"]
    idx = L.load_gpr(args["index"], R.x1)
    default_edge = Label()
    if len(cases) < 4096:
        a.cmp(idx, len(cases))
    else:
        a.mov(R.w16, len(cases))
        a.cmp(idx, R.w16)
    a.b_hs(default_edge)
    targets, stubs = [], []
    for s in cases:
        if s.remap:
            lbl = Label()
            stubs.append((lbl, s))
            targets.append(lbl)
        else:
            targets.append(L.block_labels[s.block])
    here = Label()
    a.bl(here)
    a.bind(here)                       # x30 = here; the table starts 3 instructions on
    a.add(R.x16, R.x30, 12)
    a.add(R.x16, R.x16, R.x1.lsl(2))
    a.br(R.x16)
    for target in targets:
        a.b(target)
    for lbl, s in stubs:
        a.bind(lbl)
        edge_moves(L, s)
        a.b(L.block_labels[s.block])
    a.bind(default_edge)
    edge_moves(L, default)
    a.b(L.block_labels[default.block])


def _store_values(L, regs, types, base: GPR, offsets):
    """Write VM registers into an args/results buffer at `base` + offsets."""
    a = L.a
    for reg, t, off in zip(regs, types, offsets):
        if t == "ref":
            L.read_ref(reg, R.x3)
            a.str(R.x3, mem(base, off))
        elif t in ("f32", "f64"):
            a.str(L.read_fpr(reg.__class__(t, reg.ordinal), R.v0), mem(base, off))
        else:
            a.str(L.read_gpr(reg.__class__(t, reg.ordinal), R.x3), mem(base, off))


def _load_values(L, regs, types, base: GPR, offsets):
    a = L.a
    for reg, t, off in zip(regs, types, offsets):
        if t == "ref":
            a.ldr(R.x3, mem(base, off))
            L.write_ref(reg, R.x3)
        elif t in ("f32", "f64"):
            r = reg.__class__(t, reg.ordinal)
            d = L.dest_fpr(r, R.v0)
            a.ldr(d, mem(base, off))
            L.write_fpr(r, d)
        else:
            r = reg.__class__(t, reg.ordinal)
            d = L.dest_gpr(r, R.x3)
            a.ldr(d, mem(base, off))
            L.write_gpr(r, d)


def return_(L, ins):
    a = L.a
    results = list(L.fn.signature.results)
    offsets, _ = abi.cconv_layout(results)
    a.ldur(R.x4, mem(x29, RESULTS_OFF))
    _store_values(L, ins.args["operands"], results, R.x4, offsets)
    a.mov(R.w0, 0)
    a.b(L.epilogue)


def fail(L, ins):
    s = L.load_gpr(ins.args["status"], R.x5)
    L.a.cbnz(s, L.trap_label(abi.TRAP_FAIL, status=R.w5))
    if L.fn.blocks[-1].instrs[-1] is ins:  # status 0 would run off the end of the function
        L.a.b(L.trap_label(abi.TRAP_FAIL, status=R.w5))


def call(L, ins):
    """Internal or import call: args and results through buffers in the outgoing area at
    [sp] (lowering.call_layout; a variadic call stores each span's count before it).
    Internal callees are direct `bl`s; imports go through the Context's import table
    (entry, callee Context)."""
    a, args = L.a, ins.args
    callee = args["callee_ordinal"]
    is_import = bool(callee & 0x80000000)
    lay = call_layout(L.m, ins)
    for off, count in lay.counts:
        a.mov(R.w3, count)
        a.str(R.w3, mem(sp, off))
    _store_values(L, args["operands"], lay.arg_types, sp, lay.arg_offsets)
    a.mov(R.x1, sp)
    a.add(R.x2, sp, lay.arg_size)
    if is_import:
        entry = abi.IMPORT_ENTRY_SIZE * (callee & 0x7FFFFFFF)
        L.ctx(R.x16)
        a.ldr(R.x16, mem(R.x16, abi.CTX_IMPORTS))
        L.add_imm(R.x16, R.x16, entry)
        a.ldr(R.x0, mem(R.x16, 8))
        a.ldr(R.x16, mem(R.x16, 0))
        a.blr(R.x16)
        a.cbnz(R.w0, L.trap_label(abi.TRAP_IMPORT))
    else:
        L.ctx(R.x0)
        a.bl(L.entries[callee])
        a.cbnz(R.w0, L.epilogue)  # the callee trapped: its report stands, unwind with its code
    if args["results"]:
        a.add(R.x4, sp, lay.arg_size)
        _load_values(L, args["results"], lay.result_types, R.x4, lay.result_offsets)


def call_yieldable(L, ins):
    """`call.yieldable` / `call.variadic.yieldable`: a call, then on to `dest_pc`. Imports
    and internal functions here never suspend (the host runs them to completion; `vm.yield`
    resumes at once), so the call always completes before the branch."""
    call(L, ins)
    branch(L, ins)


def import_resolved(L, ins):
    """1 when the import has a provider (its table entry is non-null), else 0."""
    a = L.a
    entry = abi.IMPORT_ENTRY_SIZE * (ins.args["import_ordinal"] & 0x7FFFFFFF)
    L.ctx(R.x16)
    a.ldr(R.x16, mem(R.x16, abi.CTX_IMPORTS))
    L.add_imm(R.x16, R.x16, entry)
    a.ldr(R.x16, mem(R.x16, 0))
    a.cmp(R.x16, 0)
    L.flags_result(ins.args["result"], "ne")


def switch(L, ins):
    """result = values[index] if 0 <= index < len(values) else default_value; an in-range
    `vm.switch.i64` value is read through its 32-bit view and sign-extended, as IREE 3.13
    does (see emit_x64/ops_control.py)."""
    a, args = L.a, ins.args
    dst, values = args["result"], args["values"]
    kind = dst.type
    done = Label()

    def load(reg, low_half_sign_extended=False):
        if kind == "ref":
            L.read_ref(reg, R.x0)
        elif kind in ("f32", "f64"):
            L.load_fpr(reg.__class__(kind, reg.ordinal), R.v0)
        else:
            t = L.load_gpr(reg.__class__(kind, reg.ordinal), R.x0)
            if low_half_sign_extended:
                a.sxtw(R.x0, t.w)

    idx = L.load_gpr(args["index"], R.x1)
    load(args["default_value"])
    for k, reg in enumerate(values):
        skip = Label()
        if k < 4096:
            a.cmp(idx, k)
        else:
            a.mov(R.w16, k)
            a.cmp(idx, R.w16)
        a.b_ne(skip)
        load(reg, low_half_sign_extended=kind == "i64")
        a.b(done)
        a.bind(skip)
    a.bind(done)
    if kind == "ref":
        L.write_ref(dst, R.x0)
    elif kind in ("f32", "f64"):
        L.write_fpr(dst, fview(0, 32 if kind == "f32" else 64))
    else:
        L.write_gpr(dst, gview(R.x0, 32 if kind == "i32" else 64))


def trace(L, ins):
    """vm.trace / vm.print: no-ops in IREE 3.13's interpreter (their refs are not owned here)."""


HANDLERS = {"trace": trace, "print": trace,
            "break": branch,  # resumes at the target's block marker, a no-op: a plain branch
            "switch.i32": switch, "switch.i64": switch, "switch.f32": switch, "switch.f64": switch,
            "switch.ref": switch,
            "br": branch, "cond_br": cond_branch, "br_table": branch_table, "return": return_,
            "jit.copy.nest": copy_nest,
            "fail": fail, "call": call, "call.variadic": call,
            "call.yieldable": call_yieldable, "call.variadic.yieldable": call_yieldable,
            "yield": branch,  # a synchronous host resumes a yielded function at once
            "import.resolved": import_resolved}
CALLS = {"call", "call.variadic", "call.yieldable", "call.variadic.yieldable"}
