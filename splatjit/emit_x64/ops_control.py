"""Control flow and calls: branches with their remap copies, br_table, return, fail, calls.

Branch remaps follow the interpreter's sequential order; they are turned into a parallel
move set (`regalloc.parallel_move`) and sequenced with r11 breaking cycles.
"""
from __future__ import annotations

from ..regalloc.parallel_move import from_sequential, sequence
from ..lowering import call_layout, mixes_memory_widths
from ..regalloc.variables import remap_copies
from ..runtime import abi
from . import operands as R
from .frame import CTX_OFF
from .ops_memory import fill_loop_caches
from .operands import dword, qword, rbp, rsp

SCRATCH = ("scratch",)


def _location(L, kind: str, slot: int):
    if kind == "ref":
        return ("ref", slot)
    v = L.slots.var_at.get(slot)
    if v is not None and L.alloc.location(v) is not None:
        return ("var", v)
    return ("mem", slot, 64 if kind == "w" else 32)


def _width(loc) -> int:
    if loc[0] in ("ref", "scratch"):  # the cycle scratch (r11) holds a whole 64-bit value
        return 64
    if loc[0] == "var":
        return 64 if loc[1].wide else 32
    return loc[2]


def _read_into(L, loc, target):
    """Copy `loc`'s value into general register `target` (64-bit name)."""
    a = L.a
    bits = _width(loc)
    t = target.view(bits)
    if loc[0] == "ref":
        a.mov(target, qword[rbp + L.frame.ref(loc[1])])
    elif loc[0] == "mem":
        a.mov(t, L.slot_mem(loc[1], bits))
    elif loc == SCRATCH:
        a.mov(t, R.r11.view(bits))
    else:
        r = L.var_location(loc[1])
        if isinstance(r, R.XMM):
            (a.movd if bits == 32 else a.movq)(t, r)
        elif r != t:
            a.mov(t, r)
    return t


def _move(L, dst, src):
    a = L.a
    if dst[0] == "var":
        d = L.var_location(dst[1])
        if src[0] == "var":
            s = L.var_location(src[1])
            if isinstance(d, R.XMM) and isinstance(s, R.XMM):
                a.movaps(d, s)
                return
        if isinstance(d, R.XMM):
            if src[0] == "mem":
                bits = _width(dst)
                (a.movss if bits == 32 else a.movsd)(d, L.slot_mem(src[1], bits))
                return
            t = _read_into(L, src, R.rax)
            (a.movd if t.bits == 32 else a.movq)(d, t)
            return
        _read_into(L, src, d.view(64))
        return
    if dst == SCRATCH:
        _read_into(L, src, R.r11)
        return
    t = _read_into(L, src, R.rax)
    if dst[0] == "ref":
        a.mov(qword[rbp + L.frame.ref(dst[1])], R.rax)
    else:
        a.mov(L.slot_mem(dst[1], dst[2]), t.view(dst[2]))


def edge_moves(L, succ) -> None:
    """Emit the copies of one branch edge (may be none).

    Fast path: whole-value parallel moves between promoted variables and memory slots. When
    the list mixes 32- and 64-bit copies of one memory slot (the compiler reuses halves of
    dead pairs), fall back to the interpreter's own procedure: promoted sources are stored to
    their home slots, the raw 32-bit copies run in order on memory, destinations reload.
    """
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
            a.mov(R.rax, qword[rbp + L.frame.ref(src.ordinal)])
            a.mov(qword[rbp + L.frame.ref(dst.ordinal)], R.rax)
        else:
            a.mov(R.eax, L.slot_mem(src.ordinal, 32))
            a.mov(L.slot_mem(dst.ordinal, 32), R.eax)
    for v in sorted(targets, key=lambda v: v.slot):
        _move(L, ("var", v), ("mem", v.slot, 64 if v.wide else 32))


def _has_moves(L, succ) -> bool:
    """Whether an edge needs code of its own: remap copies, or loop caches to fill."""
    return bool(succ.remap) or bool(L.caches.entering(L.block.index, succ.block))


def edge(L, succ) -> None:
    """Everything one edge does before reaching its block: remaps, then loop caches."""
    edge_moves(L, succ)
    fill_loop_caches(L, succ.block)


def branch(L, ins):
    succ = ins.args["dest_pc"]
    edge(L, succ)
    if not L.rotate_into(succ.block):  # a back edge runs a copy of a small loop header
        L.jump(succ.block)


def cond_branch(L, ins):
    a, args = L.a, ins.args
    t, f = args["true_dest_pc"], args["false_dest_pc"]
    cond = "nz"
    if L.flags is not None and L.flags[0] == args["condition"]:
        cond = L.flags[1]  # the compare just before left its condition in EFLAGS
    else:
        c = L.read_gpr(args["condition"], R.rcx)
        a.test(c, c)
    L.flags = None
    if not _has_moves(L, t) and not _has_moves(L, f):
        if t.block == L.block.index + 1:  # fall into the true block, branch out on false
            getattr(a, "j" + INVERSE[cond])(L.block_labels[f.block])
            return
        getattr(a, "j" + cond)(L.block_labels[t.block])
        L.jump(f.block)
        return
    false_edge = R.Label()
    getattr(a, "j" + INVERSE[cond])(false_edge)
    edge(L, t)
    a.jmp(L.block_labels[t.block])
    a.label(false_edge)
    edge(L, f)
    L.jump(f.block)


INVERSE = {"nz": "z", "z": "nz", "e": "ne", "ne": "e", "l": "ge", "ge": "l", "b": "ae", "ae": "b",
           "le": "g", "g": "le", "be": "a", "a": "be", "s": "ns", "ns": "s", "p": "np", "np": "p",
           "o": "no", "no": "o"}


def branch_table(L, ins):
    a, args = L.a, ins.args
    cases = args["cases"]
    default = args["default_dest_pc"]
    L.load_gpr(args["index"], R.rcx)
    default_edge = R.Label()
    a.cmp(R.ecx, len(cases))
    a.jae(default_edge)
    targets, stubs = [], []
    for s in cases:
        if _has_moves(L, s):
            lbl = R.Label()
            stubs.append((lbl, s))
            targets.append(lbl)
        else:
            targets.append(L.block_labels[s.block])
    table = a.jump_table(targets)
    a.lea(R.r11, table.with_size(None))
    a.movsxd(R.rax, R.dword[R.r11 + R.rcx * 4])
    a.add(R.rax, R.r11)
    a.jmp(R.rax)
    for lbl, s in stubs:
        a.label(lbl)
        edge(L, s)
        a.jmp(L.block_labels[s.block])
    a.label(default_edge)
    edge(L, default)
    a.jmp(L.block_labels[default.block])


def _store_values(L, regs, types, base, offsets):
    """Write VM registers into an args/results buffer at `base` (a GPR) + offsets."""
    a = L.a
    for reg, t, off in zip(regs, types, offsets):
        if t == "ref":
            L.read_ref(reg, R.rax)
            a.mov(qword[base + off], R.rax)
        elif t in ("f32", "f64"):
            x = L.read_xmm(reg.__class__(t, reg.ordinal), R.xmm0)
            (a.movss if t == "f32" else a.movsd)(R.SizeSpec(32 if t == "f32" else 64)[base + off], x)
        else:
            g = L.read_gpr(reg.__class__(t, reg.ordinal), R.rax)
            a.mov(R.SizeSpec(g.bits)[base + off], g)


def _load_values(L, regs, types, base, offsets):
    a = L.a
    for reg, t, off in zip(regs, types, offsets):
        if t == "ref":
            a.mov(R.rax, qword[base + off])
            L.write_ref(reg, R.rax)
        else:
            L.load_from(reg.__class__(t, reg.ordinal), base + off)


def return_(L, ins):
    a = L.a
    results = list(L.fn.signature.results)
    offsets, _ = abi.cconv_layout(results)
    a.mov(R.r11, L.results_mem())
    _store_values(L, ins.args["operands"], results, R.r11, offsets)
    a.xor(R.eax, R.eax)
    if L.fn.blocks[-1].instrs[-1] is not ins:  # the epilogue follows the last block
        a.jmp(L.epilogue)


def fail(L, ins):
    a = L.a
    s = L.load_gpr(ins.args["status"], R.rdx)
    a.test(s, s)
    a.jnz(L.trap_label(abi.TRAP_FAIL, status=R.edx))
    if L.fn.blocks[-1].instrs[-1] is ins:  # status 0 would run off the end of the function
        a.jmp(L.trap_label(abi.TRAP_FAIL, status=R.edx))


def call(L, ins):
    """Internal or import call: args and results through buffers in the outgoing area at
    [rsp] (lowering.call_layout; a variadic call stores each span's count before it).
    Internal callees are direct `call`s; imports go through the Context's import table
    (entry, callee Context), so another JitModule or a Python callable can serve them."""
    a, args = L.a, ins.args
    callee = args["callee_ordinal"]
    is_import = bool(callee & 0x80000000)
    lay = call_layout(L.m, ins)
    for off, count in lay.counts:
        a.mov(dword[rsp + off], count)
    _store_values(L, args["operands"], lay.arg_types, rsp, lay.arg_offsets)
    a.mov(R.rsi, rsp)
    a.lea(R.rdx, qword[rsp + lay.arg_size])
    if is_import:
        ordinal = callee & 0x7FFFFFFF
        linked = L.import_targets[ordinal] if L.import_targets else (0, 0)
        if linked[0]:  # linked before compiling: the entry and its Context are constants
            a.mov(R.rdi, linked[1])
            a.mov(R.rax, linked[0])
            a.call(R.rax)
        else:
            entry = abi.IMPORT_ENTRY_SIZE * ordinal
            a.mov(R.r11, qword[rbp + CTX_OFF])
            a.mov(R.r11, qword[R.r11 + abi.CTX_IMPORTS])
            a.mov(R.rdi, qword[R.r11 + entry + 8])
            a.call(qword[R.r11 + entry])
        a.test(R.eax, R.eax)
        a.jnz(L.trap_label(abi.TRAP_IMPORT))
    else:
        a.mov(R.rdi, qword[rbp + CTX_OFF])
        target = L.entries[callee]
        if type(target) is int:  # code compiled before this (an OSR variant's callees)
            a.mov(R.rax, target)
            a.call(R.rax)
        else:
            a.call(target)
        a.test(R.eax, R.eax)
        a.jnz(L.epilogue)  # the callee trapped: its report stands, unwind with its code
    if args["results"]:
        _load_values(L, args["results"], lay.result_types, rsp,
                     [lay.arg_size + off for off in lay.result_offsets])


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
    a.mov(R.r11, qword[rbp + CTX_OFF])
    a.mov(R.r11, qword[R.r11 + abi.CTX_IMPORTS])
    a.cmp(qword[R.r11 + entry], 0)
    a.setne(R.cl)
    a.movzx(R.ecx, R.cl)
    L.write_gpr(ins.args["result"], R.ecx)


def switch(L, ins):
    """result = values[index] if 0 <= index < len(values) else default_value.

    IREE 3.13's interpreter reads an in-range `vm.switch.i64` value through its 32-bit
    register view and sign-extends it (`*result = regs_i32[reg]`); splatjit reproduces that
    so results stay bit-identical (the default value keeps all 64 bits).
    """
    a, args = L.a, ins.args
    dst, values = args["result"], args["values"]
    kind = dst.type
    done = R.Label()

    def load(reg):
        if kind == "ref":
            L.read_ref(reg, R.rax)
        elif kind in ("f32", "f64"):
            L.load_xmm(reg.__class__(kind, reg.ordinal), R.xmm0)
        else:
            L.load_gpr(reg.__class__(kind, reg.ordinal), R.rax)

    L.load_gpr(args["index"], R.rcx)
    load(args["default_value"])
    for k, reg in enumerate(values):
        skip = R.Label()
        a.cmp(R.ecx, k)
        a.jne(skip)
        load(reg)
        if kind == "i64":
            a.movsxd(R.rax, R.eax)
        a.jmp(done)
        a.label(skip)
    a.label(done)
    if kind == "ref":
        L.write_ref(dst, R.rax)
    elif kind in ("f32", "f64"):
        L.write_xmm(dst, R.xmm0)
    else:
        L.write_gpr(dst, R.rax.view(32 if kind == "i32" else 64))


def trace(L, ins):
    """vm.trace / vm.print: no-ops in IREE 3.13's interpreter (their refs are not owned here)."""


HANDLERS = {"trace": trace, "print": trace,
            "break": branch,  # resumes at the target's block marker, a no-op: a plain branch
            "switch.i32": switch, "switch.i64": switch, "switch.f32": switch, "switch.f64": switch,
            "switch.ref": switch,
            "br": branch, "cond_br": cond_branch, "br_table": branch_table, "return": return_,
            "fail": fail, "call": call, "call.variadic": call,
            "call.yieldable": call_yieldable, "call.variadic.yieldable": call_yieldable,
            "yield": branch,  # a synchronous host resumes a yielded function at once
            "import.resolved": import_resolved}
CALLS = {"call", "call.variadic", "call.yieldable", "call.variadic.yieldable"}
