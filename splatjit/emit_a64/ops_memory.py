"""Buffers, globals and refs (iree/vm/buffer.h semantics, bounds checked on every access).

The twin of emit_x64/ops_memory.py. A ref register holds a `BufferDesc*` (runtime/abi.py)
or 0. Element offsets are unsigned 64-bit counts of elements; an access traps unless offset
(+ length) fits the buffer, checked without overflow. Scratch use: x3 = descriptor, x0/x1
offsets and lengths, x2 values.
"""
from __future__ import annotations

from ..frontend.opcodes import JIT_SIZES
from ..lowering import ref_type_tag
from ..runtime import abi
from . import operands as R
from .lower import gview
from .operands import Label, mem, sp

#: buffer op mnemonic -> (element bytes, load extension or None)
LOADS = {"buffer.load.i8.u": (1, "zx"), "buffer.load.i8.s": (1, "sx"), "buffer.load.i16.u": (2, "zx"),
         "buffer.load.i16.s": (2, "sx"), "buffer.load.i32": (4, None), "buffer.load.i64": (8, None),
         "buffer.load.f32": (4, None), "buffer.load.f64": (8, None)}
STORES = {"buffer.store.i8": 1, "buffer.store.i16": 2, "buffer.store.i32": 4,
          "buffer.store.i64": 8, "buffer.store.f32": 4, "buffer.store.f64": 8}
FILLS = {"buffer.fill.i8": 1, "buffer.fill.i16": 2, "buffer.fill.i32": 4, "buffer.fill.i64": 8,
         "buffer.fill.f32": 4, "buffer.fill.f64": 8}
SHIFT = {1: 0, 2: 1, 4: 2, 8: 3}
#: Fills of at least this many bytes store one element and then double the filled prefix
#: with memmove (log2(n) calls), so huge fills run at memmove speed (and under emulation).
FILL_LOOP_BYTES = 1024
LOAD_INSN = {(1, "zx"): "ldrb", (1, "sx"): "ldrsb", (2, "zx"): "ldrh", (2, "sx"): "ldrsh",
             (4, None): "ldr", (8, None): "ldr"}
STORE_INSN = {1: "strb", 2: "strh", 4: "str", 8: "str"}


def _check_writable(L, desc) -> None:
    L.a.ldrb(R.w16, mem(desc, abi.BUF_ACCESS))
    L.a.tbz(R.w16, 0, L.trap_label(abi.TRAP_READ_ONLY))  # ACCESS_MUTABLE is bit 0


def _element_address(L, buf_reg, index_reg, size: int, *, writable: bool):
    """x3 = data pointer, x0 = checked element index; traps on null / range / read-only."""
    a = L.a
    idx = L.load_gpr(index_reg, R.x0)
    b = L.read_ref(buf_reg, R.x3)
    if L.checked.in_bounds(buf_reg, index_reg, size):  # same element checked earlier in the block
        if writable and not L.checked.proven(buf_reg, index_reg, size, True):
            _check_writable(L, b)
            L.checked.add(buf_reg, index_reg, size, True)
        a.ldr(R.x3, mem(b, abi.BUF_DATA))
        return mem(R.x3, R.x0.lsl(SHIFT[size])) if size > 1 else mem(R.x3, R.x0)
    L.checked.add(buf_reg, index_reg, size, writable)
    L.check_nonnull(b)
    if writable:
        _check_writable(L, b)
    a.ldr(R.x1, mem(b, abi.BUF_LENGTH))
    a.cmp(idx.x, R.x1.lsr(SHIFT[size]))
    a.b_hs(L.trap_label(abi.TRAP_OUT_OF_BOUNDS))
    a.ldr(R.x3, mem(b, abi.BUF_DATA))
    return mem(R.x3, R.x0.lsl(SHIFT[size])) if size > 1 else mem(R.x3, R.x0)


def load(L, ins):
    a, args = L.a, ins.args
    size, ext = LOADS[ins.op.mnemonic]
    address = _element_address(L, args["source_buffer"], args["source_offset"], size, writable=False)
    dst = args["result"]
    if dst.type in ("f32", "f64"):
        d = L.dest_fpr(dst, R.v0)
        a.ldr(d, address)
        L.write_fpr(dst, d)
        return
    d = L.dest_gpr(dst, R.x2)
    getattr(a, LOAD_INSN[(size, ext)])(gview(d, 64 if size == 8 else 32), address)
    L.write_gpr(dst, d)


def store(L, ins):
    a, args = L.a, ins.args
    size = STORES[ins.op.mnemonic]
    value = args["value"]
    if value.type in ("f32", "f64"):
        v = L.read_fpr(value, R.v0)
    else:
        v = gview(L.read_gpr(value, R.x2), 64 if size == 8 else 32)
    address = _element_address(L, args["target_buffer"], args["target_offset"], size, writable=True)
    getattr(a, "str" if value.type in ("f32", "f64") else STORE_INSN[size])(v, address)


def fill(L, ins):
    """Fill `length` elements from `offset`: both unsigned element counts, checked."""
    a, args = L.a, ins.args
    size = FILLS[ins.op.mnemonic]
    value = args["value"]
    vbits = 64 if size == 8 else 32
    if value.type in ("f32", "f64"):
        x = L.read_fpr(value, R.v0)
        a.fmov(gview(R.x2, vbits), x)
    else:
        L.load_gpr(value, R.x2)
    off = L.load_gpr(args["target_offset"], R.x0).x
    n = L.load_gpr(args["length"], R.x4).x
    b = L.read_ref(args["target_buffer"], R.x3)
    L.check_nonnull(b)
    _check_writable(L, b)
    a.ldr(R.x1, mem(b, abi.BUF_LENGTH))
    if SHIFT[size]:
        a.lsr(R.x1, R.x1, SHIFT[size])
    oob = L.trap_label(abi.TRAP_OUT_OF_BOUNDS)
    a.cmp(off, R.x1)
    a.b_hi(oob)
    a.sub(R.x1, R.x1, off)                   # elements available after offset
    a.cmp(n, R.x1)
    a.b_hi(oob)
    a.ldr(R.x3, mem(b, abi.BUF_DATA))
    a.add(R.x3, R.x3, off.lsl(SHIFT[size]) if SHIFT[size] else off)
    loop, big, done = Label(), Label(), Label()
    value = gview(R.x2, vbits)
    a.cbz(n, done)
    a.lsl(R.x5, n, SHIFT[size]) if SHIFT[size] else a.mov(R.x5, n)  # bytes: <= the length
    a.cmp(R.x5, FILL_LOOP_BYTES)
    a.b_hs(big)
    a.bind(loop)
    getattr(a, STORE_INSN[size])(value, R.post(R.x3, size))
    a.subs(n, n, 1)
    a.b_ne(loop)
    a.b(done)
    a.bind(big)  # one element, then memmove the filled prefix onto the rest, doubling it
    getattr(a, STORE_INSN[size])(value, mem(R.x3, 0))
    a.mov(R.x6, size)
    a.stp(R.x3, R.x5, R.pre(sp, -32))        # [sp]: data, bytes, bytes done (memmove
    again, out = Label(), Label()            # clobbers the caller-saved registers)
    a.str(R.x6, mem(sp, 16))
    a.bind(again)
    a.ldp(R.x3, R.x5, mem(sp, 0))
    a.ldr(R.x6, mem(sp, 16))
    a.cmp(R.x6, R.x5)
    a.b_hs(out)
    a.sub(R.x2, R.x5, R.x6)
    a.cmp(R.x2, R.x6)
    a.csel(R.x2, R.x2, R.x6, "lo")            # min(bytes left, bytes done)
    a.add(R.x7, R.x6, R.x2)
    a.str(R.x7, mem(sp, 16))
    a.add(R.x0, R.x3, R.x6)
    a.mov(R.x1, R.x3)
    L.call_symbol("memmove")
    a.b(again)
    a.bind(out)
    a.add(sp, sp, 32)
    a.bind(done)


def length(L, ins):
    a, args = L.a, ins.args
    b = L.read_ref(args["buffer"], R.x3)
    L.check_nonnull(b)
    d = L.dest_gpr(args["result"], R.x0)
    a.ldr(d, mem(b, abi.BUF_LENGTH))
    L.write_gpr(args["result"], d)


def _byte_range(L, buf, offset, *, writable: bool, ptr_out):
    """ptr_out = data + offset after checking [offset, offset + x2) lies in `buf` (bytes).
    `offset` is an X register holding the byte offset; uses x16 and x3."""
    a = L.a
    oob = L.trap_label(abi.TRAP_OUT_OF_BOUNDS)
    b = L.read_ref(buf, R.x3)
    L.check_nonnull(b)
    if writable:
        _check_writable(L, b)
    a.ldr(R.x16, mem(b, abi.BUF_LENGTH))
    a.cmp(offset, R.x16)
    a.b_hi(oob)
    a.sub(R.x16, R.x16, offset)
    a.cmp(R.x2, R.x16)                       # x2 holds the length
    a.b_hi(oob)
    a.ldr(ptr_out, mem(b, abi.BUF_DATA))
    a.add(ptr_out, ptr_out, offset)


def _two_ranges(L, ins, first: str, second: str, *, first_writable: bool):
    """x0, x1 = checked pointers into the two buffers; x2 = length (memmove's arguments)."""
    args = ins.args
    L.load_gpr(args["length"], R.x2)
    L.load_gpr(args[first + "_offset"], R.x4)
    L.load_gpr(args[second + "_offset"], R.x5)
    _byte_range(L, args[first + "_buffer"], R.x4, writable=first_writable, ptr_out=R.x0)
    _byte_range(L, args[second + "_buffer"], R.x5, writable=False, ptr_out=R.x1)


def copy(L, ins):
    """buffer.copy: byte ranges, overlapping allowed (memmove)."""
    _two_ranges(L, ins, "target", "source", first_writable=True)
    L.call_symbol("memmove")


def compare(L, ins):
    """buffer.compare: 1 when the byte ranges are equal, else 0."""
    _two_ranges(L, ins, "lhs", "rhs", first_writable=False)
    L.call_symbol("memcmp")
    L.a.cmp(R.w0, 0)
    d = L.dest_gpr(ins.args["result"], R.x1)
    L.a.cset(d, "eq")
    L.write_gpr(ins.args["result"], d)


def call_helper(L, name: str) -> None:
    """Call helper `name` (args already in x0 = Context*, x1..x4); trap if it returns 0."""
    a = L.a
    a.ldr(R.x16, mem(R.x0, abi.CTX_HELPERS))
    a.ldr(R.x16, mem(R.x16, 8 * abi.HELPERS.index(name)))
    a.blr(R.x16)
    a.cbz(R.x0, L.trap_label(abi.TRAP_HELPER))


def alloc(L, ins):
    args = ins.args
    L.load_gpr(args["length"], R.x1)
    L.load_gpr(args["alignment"], R.x2)
    L.ctx(R.x0)
    call_helper(L, "buffer_alloc")
    L.write_ref(args["result"], R.x0)


def clone(L, ins):
    args = ins.args
    L.read_ref(args["source"], R.x1)
    L.check_nonnull(R.x1)
    L.load_gpr(args["offset"], R.x2)
    L.load_gpr(args["length"], R.x3)
    L.load_gpr(args["alignment"], R.x4)
    L.ctx(R.x0)
    call_helper(L, "buffer_clone")
    L.write_ref(args["result"], R.x0)


def hash_(L, ins):
    """result = SipHash-2-4 of bytes [offset, offset + length) (runtime helper
    `buffer_hash`); the range is checked here, as iree_vm_buffer_map_ro does."""
    a, args = L.a, ins.args
    L.read_ref(args["source_buffer"], R.x5)
    L.check_nonnull(R.x5)
    oob = L.trap_label(abi.TRAP_OUT_OF_BOUNDS)
    L.load_gpr(args["source_offset"], R.x1)
    L.load_gpr(args["length"], R.x2)
    a.ldr(R.x3, mem(R.x5, abi.BUF_LENGTH))
    a.cmp(R.x1, R.x3)
    a.b_hi(oob)
    a.sub(R.x3, R.x3, R.x1)
    a.cmp(R.x2, R.x3)
    a.b_hi(oob)
    a.ldr(R.x4, mem(R.x5, abi.BUF_DATA))
    a.add(R.x1, R.x4, R.x1)
    L.ctx(R.x0)
    a.ldr(R.x16, mem(R.x0, abi.CTX_HELPERS))
    a.ldr(R.x16, mem(R.x16, 8 * abi.HELPERS.index("buffer_hash")))
    a.blr(R.x16)
    L.write_gpr(args["result"], R.x0)


# ---------------------------------------------------------------- globals
GLOBAL_BITS = {"i32": 32, "f32": 32, "i64": 64, "f64": 64}


def _global_mem(L, ins, bits: int):
    """The global's address operand (x4 = globals base); indirect offsets are checked."""
    a = L.a
    ctx = L.ctx(R.x3)
    a.ldr(R.x4, mem(ctx, abi.CTX_GLOBALS))
    v = ins.args["byte_offset"]
    if isinstance(v, int):  # verified in range
        if v % (bits // 8) == 0 and v // (bits // 8) < 4096:
            return mem(R.x4, v)
        a.mov(R.x0, v)
        return mem(R.x4, R.x0)
    off = L.read_gpr(v, R.x0)
    a.sxtw(R.x0, off)
    oob = L.trap_label(abi.TRAP_OUT_OF_BOUNDS)
    a.tbnz(R.x0, 63, oob)
    a.add(R.x1, R.x0, bits // 8)
    a.ldr(R.x16, mem(ctx, abi.CTX_GLOBAL_BYTES))
    a.cmp(R.x1, R.x16)
    a.b_hi(oob)
    return mem(R.x4, R.x0)


def global_load(L, ins):
    kind = ins.op.mnemonic.split(".")[-1]
    bits = GLOBAL_BITS[kind]
    address = _global_mem(L, ins, bits)
    dst = ins.args["result"]
    if kind in ("f32", "f64"):
        d = L.dest_fpr(dst, R.v0)
        L.a.ldr(d, address)
        L.write_fpr(dst, d)
    else:
        d = L.dest_gpr(dst, R.x2)
        L.a.ldr(d, address)
        L.write_gpr(dst, d)


def global_store(L, ins):
    kind = ins.op.mnemonic.split(".")[-1]
    bits = GLOBAL_BITS[kind]
    value = ins.args["value"]
    if kind in ("f32", "f64"):
        v = L.read_fpr(value, R.v0)
    else:
        v = L.read_gpr(value, R.x2)
    address = _global_mem(L, ins, bits)
    L.a.str(v, address)


def global_ref(L, ins):
    a, args = L.a, ins.args
    ctx = L.ctx(R.x3)
    a.ldr(R.x4, mem(ctx, abi.CTX_REF_GLOBALS))
    g = args["global"]
    if not isinstance(g, int):
        idx = L.load_gpr(g, R.x0)
        a.mov(R.w16, L.m.global_refs)
        a.cmp(idx.w, R.w16)
        a.b_hs(L.trap_label(abi.TRAP_OUT_OF_BOUNDS))
        slot = mem(R.x4, R.x0.lsl(3))
    elif g < 4096:
        slot = mem(R.x4, 8 * g)
    else:
        a.mov(R.x0, 8 * g)
        slot = mem(R.x4, R.x0)
    if "load" in ins.op.mnemonic:
        a.ldr(R.x2, slot)
        L.write_ref(args["value"], R.x2)
    else:
        L.read_ref(args["value"], R.x2)
        a.str(R.x2, slot)


# ---------------------------------------------------------------- refs
def const_ref_zero(L, ins):
    L.a.str(R.xzr, L.ref_mem(ins.args["result"]))


def const_ref_rodata(L, ins):
    a = L.a
    ctx = L.ctx(R.x0)
    a.ldr(R.x0, mem(ctx, abi.CTX_RODATA))
    L.add_imm(R.x0, R.x0, abi.BUF_SIZE * ins.args["rodata"])
    L.write_ref(ins.args["value"], R.x0)


def assign_ref(L, ins):
    L.read_ref(ins.args["source"], R.x0)
    L.write_ref(ins.args["result"], R.x0)


def discard_refs(L, ins):
    """No-op: buffers are owned by the runtime, not counted in generated code."""


def cmp_ref(L, ins):
    a, args = L.a, ins.args
    if ins.op.mnemonic == "cmp.nz.ref":
        L.read_ref(args["operand"], R.x0)
        a.cmp(R.x0, 0)
        cond = "ne"
    else:
        L.read_ref(args["left"], R.x0)
        L.read_ref(args["right"], R.x1)
        a.cmp(R.x0, R.x1)
        cond = "eq" if ins.op.mnemonic == "cmp.eq.ref" else "ne"
    L.flags_result(args["result"], cond)


def select_ref(L, ins):
    a, args = L.a, ins.args
    c = L.read_gpr(args["condition"], R.x2)
    L.read_ref(args["true_value"], R.x0)
    L.read_ref(args["false_value"], R.x1)
    a.cmp(c, 0)
    a.csel(R.x0, R.x0, R.x1, "ne")
    L.write_ref(args["result"], R.x0)


def cast_any_ref(L, ins):
    """Null casts to null; a non-null ref must carry the target type's tag (buffers and lists
    keep it at the same offset)."""
    a, args = L.a, ins.args
    tag = ref_type_tag(L.m.types[args["result_type"]])
    L.read_ref(args["operand"], R.x0)
    if tag is not None:
        ok = Label()
        a.cbz(R.x0, ok)
        a.ldr(R.w1, mem(R.x0, abi.BUF_TYPE))
        a.cmp(R.w1, tag)
        a.b_ne(L.trap_label(abi.TRAP_TYPE))
        a.bind(ok)
    L.write_ref(args["result"], R.x0)


def peek(L, ins):
    """jit.buffer.peek.T (element_promotion.py): the element, or 0 when the buffer is null or
    the index out of range; never traps."""
    a, args = L.a, ins.args
    dst = args["result"]
    size = JIT_SIZES[dst.type]
    bits = gview(R.x2, size * 8)
    done = Label()
    idx = L.load_gpr(args["source_offset"], R.x0)
    b = L.read_ref(args["source_buffer"], R.x3)
    a.mov(bits, 0)
    a.cbz(b, done)
    a.ldr(R.x1, mem(b, abi.BUF_LENGTH))
    a.cmp(idx.x, R.x1.lsr(SHIFT[size]))
    a.b_hs(done)
    a.ldr(R.x3, mem(b, abi.BUF_DATA))
    a.ldr(bits, mem(R.x3, R.x0.lsl(SHIFT[size])))
    a.bind(done)
    if dst.type in ("f32", "f64"):
        d = L.dest_fpr(dst, R.v0)
        a.fmov(d, bits)
        L.write_fpr(dst, d)
    else:
        L.write_gpr(dst, bits)


def check(L, ins):
    """jit.buffer.check.T: the null and bounds checks of buffer.load.T, no load."""
    size = JIT_SIZES[ins.op.mnemonic.rsplit(".", 1)[1]]
    _element_address(L, ins.args["source_buffer"], ins.args["source_offset"], size, writable=False)


def copy_value(L, ins):
    """jit.copy.T: result = operand, bit for bit."""
    src, dst = ins.args["operand"], ins.args["result"]
    if dst.type in ("f32", "f64"):
        L.write_fpr(dst, L.read_fpr(src, R.v0))
    else:
        L.write_gpr(dst, L.read_gpr(src, R.x0))


HANDLERS = {}
for _k in JIT_SIZES:
    HANDLERS.update({f"jit.buffer.peek.{_k}": peek, f"jit.buffer.check.{_k}": check,
                     f"jit.copy.{_k}": copy_value})
HANDLERS.update({m: load for m in LOADS})
HANDLERS.update({m: store for m in STORES})
HANDLERS.update({m: fill for m in FILLS})
HANDLERS.update({"buffer.length": length, "buffer.copy": copy, "buffer.compare": compare,
                 "buffer.alloc": alloc, "buffer.clone": clone, "buffer.hash": hash_})
for _k in ("i32", "i64", "f32", "f64"):
    HANDLERS[f"global.load.{_k}"] = global_load
    HANDLERS[f"global.store.{_k}"] = global_store
    HANDLERS[f"global.load.indirect.{_k}"] = global_load
    HANDLERS[f"global.store.indirect.{_k}"] = global_store
for _m in ("global.load.ref", "global.store.ref", "global.load.indirect.ref", "global.store.indirect.ref"):
    HANDLERS[_m] = global_ref
HANDLERS.update({"const.ref.zero": const_ref_zero, "const.ref.rodata": const_ref_rodata,
                 "assign.ref": assign_ref, "discard.refs": discard_refs, "cmp.eq.ref": cmp_ref,
                 "cmp.ne.ref": cmp_ref, "cmp.nz.ref": cmp_ref, "select.ref": select_ref,
                 "cast.any.ref": cast_any_ref})
CALLS = {"buffer.copy", "buffer.compare", "buffer.alloc", "buffer.clone", "buffer.hash", *FILLS}
