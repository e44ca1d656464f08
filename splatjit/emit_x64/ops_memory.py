"""Buffers, globals and refs (iree/vm/buffer.h semantics, bounds checked on every access).

A ref register holds a `BufferDesc*` (runtime/abi.py) or 0. Element offsets are unsigned
64-bit counts of elements; an access traps unless offset (+ length) fits the buffer, checked
without overflow (the interpreter's `(offset + n) * size` can wrap; ours cannot).
"""
from __future__ import annotations

from ..ir import Reg
from ..frontend.opcodes import JIT_SIZES
from ..lowering import ref_type_tag
from ..runtime import abi
from . import operands as R
from .ops_float import libc_address
from .operands import dword, qword, rbp, xmmword

#: buffer op mnemonic -> (element bytes, load extension or None)
LOADS = {"buffer.load.i8.u": (1, "zx"), "buffer.load.i8.s": (1, "sx"), "buffer.load.i16.u": (2, "zx"),
         "buffer.load.i16.s": (2, "sx"), "buffer.load.i32": (4, None), "buffer.load.i64": (8, None),
         "buffer.load.f32": (4, None), "buffer.load.f64": (8, None)}
STORES = {"buffer.store.i8": 1, "buffer.store.i16": 2, "buffer.store.i32": 4,
          "buffer.store.i64": 8, "buffer.store.f32": 4, "buffer.store.f64": 8}
FILLS = {"buffer.fill.i8": 1, "buffer.fill.i16": 2, "buffer.fill.i32": 4, "buffer.fill.i64": 8,
         "buffer.fill.f32": 4, "buffer.fill.f64": 8}
SHIFT = {1: 0, 2: 1, 4: 2, 8: 3}
SIZED = {1: R.byte, 2: R.word, 4: dword, 8: qword}


def _element_address(L, buf_reg, index_reg, size: int, *, writable: bool, pointer: bool = True):
    """The element's memory operand: r10 = data pointer, index = the checked element index
    (its own register if promoted, else rax); traps on null / range / read-only. rcx is
    clobbered. Inside a loop with cached buffer facts (buffer_cache.py) the check is one
    compare against the cached element count; the full sequence runs out of line. Without
    `pointer`, r10 may be left unset (a check whose address nobody uses)."""
    a = L.a
    cached = L.caches.lookup(L.block.index, buf_reg.ordinal, size, writable)
    if L.checked.proven(buf_reg, index_reg, size, writable):  # checked earlier in the block
        index = L.read_gpr(index_reg, R.rax)
        if cached is not None:
            a.mov(R.r10, qword[rbp + L.frame.slot(cached[1])])
        else:
            b = L.read_ref(buf_reg, R.r10)
            a.mov(R.r10, qword[b + abi.BUF_DATA])
        return R.Mem(R.r10, index, size)
    if cached is None and L.checked.in_bounds(buf_reg, index_reg, size):  # only mutability left
        b = L.read_ref(buf_reg, R.r10)
        a.test(R.byte[R.r10 + abi.BUF_ACCESS], abi.ACCESS_MUTABLE)
        a.jz(L.trap_label(abi.TRAP_READ_ONLY))
        L.checked.add(buf_reg, index_reg, size, True)
        index = L.read_gpr(index_reg, R.rax)
        a.mov(R.r10, qword[b + abi.BUF_DATA])
        return R.Mem(R.r10, index, size)
    L.checked.add(buf_reg, index_reg, size, writable)
    if cached is not None:
        count_slot, data_slot = cached
        index = L.read_gpr(index_reg, R.rax)
        slow, done = R.Label(), R.Label()
        a.cmp(index, qword[rbp + L.frame.slot(count_slot)])
        a.jae(slow)
        if pointer:
            a.mov(R.r10, qword[rbp + L.frame.slot(data_slot)])
        a.label(done)
        codes = (abi.TRAP_NULL_REF, abi.TRAP_OUT_OF_BOUNDS) + ((abi.TRAP_READ_ONLY,) if writable else ())
        traps = {code: L.trap_label(code) for code in codes}
        tag = (L.fn.ordinal, L.ins.offset)

        def slow_path():  # what the count check stands for; every way out of it traps
            a.set_tag(tag)
            a.label(slow)
            _full_check(L, buf_reg, index, size, writable, traps)
            a.jmp(done)

        L.deferred.append(slow_path)
        return R.Mem(R.r10, index, size)
    b = L.read_ref(buf_reg, R.r10)
    index = L.read_gpr(index_reg, R.rax)
    _full_check(L, buf_reg, index, size, writable, None)
    return R.Mem(R.r10, index, size)


def _full_check(L, buf_reg, index, size: int, writable: bool, traps) -> None:
    """Null, mutability and bounds checks of an access; leaves r10 = data pointer. `traps`:
    trap labels made earlier (out-of-line code), else this instruction's."""
    a = L.a

    def trap(code):
        return traps[code] if traps is not None else L.trap_label(code)

    L.read_ref(buf_reg, R.r10)
    a.test(R.r10, R.r10)
    a.jz(trap(abi.TRAP_NULL_REF))
    if writable:
        a.test(R.byte[R.r10 + abi.BUF_ACCESS], abi.ACCESS_MUTABLE)
        a.jz(trap(abi.TRAP_READ_ONLY))
    a.mov(R.rcx, qword[R.r10 + abi.BUF_LENGTH])
    if SHIFT[size]:
        a.shr(R.rcx, SHIFT[size])
    a.cmp(index, R.rcx)
    a.jae(trap(abi.TRAP_OUT_OF_BOUNDS))
    a.mov(R.r10, qword[R.r10 + abi.BUF_DATA])


def fill_loop_caches(L, target_block: int) -> None:
    """On an edge entering loops from outside: compute their cached buffer facts (element
    counts, 0 for a null buffer or, for stores, a read-only one; data pointers)."""
    a = L.a
    for loop in L.caches.entering(L.block.index, target_block):
        for ref, data_slot in loop.data.items():
            keys = [(k, slot) for k, slot in loop.counts.items() if k[0] == ref]
            null, done = R.Label(), R.Label()
            L.read_ref(Reg("ref", ref), R.r10)
            a.test(R.r10, R.r10)
            a.jz(null)
            a.mov(R.rax, qword[R.r10 + abi.BUF_DATA])
            a.mov(qword[rbp + L.frame.slot(data_slot)], R.rax)
            a.xor(R.edx, R.edx)
            for (_, size, store), slot in keys:
                a.mov(R.rax, qword[R.r10 + abi.BUF_LENGTH])
                if SHIFT[size]:
                    a.shr(R.rax, SHIFT[size])
                if store:
                    a.test(R.byte[R.r10 + abi.BUF_ACCESS], abi.ACCESS_MUTABLE)
                    a.cmovz(R.rax, R.rdx)
                a.mov(qword[rbp + L.frame.slot(slot)], R.rax)
            a.jmp(done)
            a.label(null)
            for _, slot in keys:
                a.mov(qword[rbp + L.frame.slot(slot)], 0)
            a.label(done)


def load(L, ins):
    a, args = L.a, ins.args
    size, ext = LOADS[ins.op.mnemonic]
    mem = _element_address(L, args["source_buffer"], args["source_offset"], size, writable=False)
    dst = args["result"]
    home = L.var_reg(dst)  # load straight into the result's register when it has one
    if dst.type in ("f32", "f64"):
        x = home if isinstance(home, R.XMM) else R.xmm0
        (a.movss if size == 4 else a.movsd)(x, SIZED[size][mem])
        L.write_xmm(dst, x)
        return
    if ext == "zx":
        a.movzx(R.ecx, SIZED[size][mem])
        t = R.ecx
    elif ext == "sx":
        a.movsx(R.ecx, SIZED[size][mem])
        t = R.ecx
    else:
        t = (home if isinstance(home, R.GPR) else R.rcx).view(size * 8)
        a.mov(t, SIZED[size][mem])
    L.write_gpr(dst, t)


def store(L, ins):
    a, args = L.a, ins.args
    size = STORES[ins.op.mnemonic]
    value = args["value"]
    if value.type in ("f32", "f64"):
        x = L.read_xmm(value, R.xmm0)
        mem = _element_address(L, args["target_buffer"], args["target_offset"], size, writable=True)
        (a.movss if size == 4 else a.movsd)(SIZED[size][mem], x)
        return
    v = L.read_gpr(value, R.rdx)
    mem = _element_address(L, args["target_buffer"], args["target_offset"], size, writable=True)
    a.mov(SIZED[size][mem], v.view(size * 8))


def fill(L, ins):
    """Fill `length` elements from `offset`: both unsigned element counts, checked."""
    a, args = L.a, ins.args
    size = FILLS[ins.op.mnemonic]
    value = args["value"]
    if value.type in ("f32", "f64"):
        x = L.read_xmm(value, R.xmm0)
        (a.movd if size == 4 else a.movq)(R.rdx.view(size * 8), x)
    else:
        L.load_gpr(value, R.rdx)
    b = L.read_ref(args["target_buffer"], R.r10)
    L.check_nonnull(b)
    a.test(R.byte[R.r10 + abi.BUF_ACCESS], abi.ACCESS_MUTABLE)
    a.jz(L.trap_label(abi.TRAP_READ_ONLY))
    L.load_gpr(args["target_offset"], R.rax)
    a.mov(R.rcx, qword[R.r10 + abi.BUF_LENGTH])
    if SHIFT[size]:
        a.shr(R.rcx, SHIFT[size])
    oob = L.trap_label(abi.TRAP_OUT_OF_BOUNDS)
    a.cmp(R.rax, R.rcx)
    a.ja(oob)
    a.sub(R.rcx, R.rax)                      # elements available after offset
    L.load_gpr(args["length"], R.r11)
    a.cmp(R.r11, R.rcx)
    a.ja(oob)
    a.mov(R.r10, qword[R.r10 + abi.BUF_DATA])
    a.lea(R.r10, R.Mem(R.r10, R.rax, size))
    store_fill(a, size)


#: a `size`-byte value times this spreads it over 8 bytes (the value zero-extended first)
_SPREAD = {1: 0x0101010101010101, 2: 0x0001000100010001, 4: 0x0000000100000001}
_ZERO_EXTEND = {1: R.dl, 2: R.dx}


def wide_stores(a, ptr, nbytes, vec) -> None:
    """`vec` (16 bytes) stored at `ptr`, `ptr + 16`, ... while `nbytes` >= 16 (at least 16
    on entry); `ptr` and `nbytes` advance past what was stored."""
    wide = R.Label("wide")
    a.label(wide)
    a.movdqu(xmmword[ptr], vec)
    a.add(ptr, 16)
    a.sub(nbytes, 16)
    a.cmp(nbytes, 16)
    a.jae(wide)


def store_fill(a, size: int) -> None:
    """Stores rdx's low `size` bytes into r11 consecutive elements from r10 (bounds already
    checked): 16 bytes per SSE2 store while 16 or more remain, the rest element by element.
    Every store lands on a whole number of elements from the start, so the repeated
    pattern puts each element's bytes where the element-by-element loop would. Uses rcx,
    r10, r11, xmm0 (rdx is spread in place)."""
    tail, elements, done = R.Label(), R.Label(), R.Label()
    if SHIFT[size]:
        a.shl(R.r11, SHIFT[size])                 # bytes to fill
    if size in _ZERO_EXTEND:
        a.movzx(R.edx, _ZERO_EXTEND[size])
    elif size == 4:
        a.mov(R.edx, R.edx)
    if size in _SPREAD:
        a.mov(R.rcx, _SPREAD[size])
        a.imul(R.rdx, R.rcx)
    a.cmp(R.r11, 16)
    a.jb(tail)
    a.movq(R.xmm0, R.rdx)
    a.punpcklqdq(R.xmm0, R.xmm0)
    wide_stores(a, R.r10, R.r11, R.xmm0)
    a.label(tail)
    a.test(R.r11, R.r11)
    a.jz(done)
    a.label(elements)
    a.mov(SIZED[size][R.r10], R.rdx.view(size * 8))
    a.add(R.r10, size)
    a.sub(R.r11, size)
    a.jnz(elements)
    a.label(done)


def length(L, ins):
    a, args = L.a, ins.args
    b = L.read_ref(args["buffer"], R.r10)
    L.check_nonnull(b)
    a.mov(R.rax, qword[R.r10 + abi.BUF_LENGTH])
    L.write_gpr(args["result"], R.rax)


def _byte_range(L, buf, offset, *, writable: bool, ptr_out):
    """ptr_out = data + offset after checking [offset, offset + rdx) lies in `buf` (bytes).

    `offset` is a register already holding the byte offset; uses rcx and r10.
    """
    a = L.a
    oob = L.trap_label(abi.TRAP_OUT_OF_BOUNDS)
    b = L.read_ref(buf, R.r10)
    L.check_nonnull(b)
    if writable:
        a.test(R.byte[R.r10 + abi.BUF_ACCESS], abi.ACCESS_MUTABLE)
        a.jz(L.trap_label(abi.TRAP_READ_ONLY))
    a.mov(R.rcx, qword[R.r10 + abi.BUF_LENGTH])
    a.cmp(offset, R.rcx)
    a.ja(oob)
    a.sub(R.rcx, offset)
    a.cmp(R.rdx, R.rcx)                      # rdx holds the length
    a.ja(oob)
    a.mov(ptr_out, qword[R.r10 + abi.BUF_DATA])
    a.add(ptr_out, offset)


def _two_ranges(L, ins, first: str, second: str, *, first_writable: bool):
    """rdi, rsi = checked pointers into the two buffers; rdx = length. All operands are read
    before rdi/rsi (allocatable registers) are overwritten."""
    args = ins.args
    L.load_gpr(args["length"], R.rdx)
    L.load_gpr(args[first + "_offset"], R.rax)
    L.load_gpr(args[second + "_offset"], R.r11)
    _byte_range(L, args[first + "_buffer"], R.rax, writable=first_writable, ptr_out=R.rdi)
    _byte_range(L, args[second + "_buffer"], R.r11, writable=False, ptr_out=R.rsi)


def copy(L, ins):
    """buffer.copy: byte ranges, overlapping allowed (memmove)."""
    _two_ranges(L, ins, "target", "source", first_writable=True)
    L.a.mov(R.rax, libc_address("memmove"))
    L.a.call(R.rax)


def compare(L, ins):
    """buffer.compare: 1 when the byte ranges are equal, else 0."""
    a = L.a
    _two_ranges(L, ins, "lhs", "rhs", first_writable=False)
    a.mov(R.rax, libc_address("memcmp"))
    a.call(R.rax)
    a.test(R.eax, R.eax)
    a.sete(R.cl)
    a.movzx(R.ecx, R.cl)
    L.write_gpr(ins.args["result"], R.ecx)


def _call_helper(L, name: str) -> None:
    """Call helper `name` (args already in rdi, rsi, rdx, rcx, r8); trap if it returns 0."""
    a = L.a
    a.mov(R.rax, qword[R.rdi + abi.CTX_HELPERS])
    a.call(qword[R.rax + 8 * abi.HELPERS.index(name)])
    a.test(R.rax, R.rax)
    a.jz(L.trap_label(abi.TRAP_HELPER))


def alloc(L, ins):
    a, args = L.a, ins.args
    L.load_gpr(args["length"], R.rax)
    L.load_gpr(args["alignment"], R.r11)
    a.mov(R.rsi, R.rax)
    a.mov(R.edx, R.r11d)
    L.ctx(R.rdi)
    _call_helper(L, "buffer_alloc")
    L.write_ref(args["result"], R.rax)


def clone(L, ins):
    """Operands are read into scratch registers before the argument registers are set."""
    a, args = L.a, ins.args
    L.read_ref(args["source"], R.r10)
    L.check_nonnull(R.r10)
    L.load_gpr(args["offset"], R.r11)
    L.load_gpr(args["length"], R.rax)
    L.load_gpr(args["alignment"], R.rcx)
    a.mov(R.r8d, R.ecx)
    a.mov(R.rcx, R.rax)
    a.mov(R.rdx, R.r11)
    a.mov(R.rsi, R.r10)
    L.ctx(R.rdi)
    _call_helper(L, "buffer_clone")
    L.write_ref(args["result"], R.rax)


def hash_(L, ins):
    """result = SipHash-2-4 of bytes [offset, offset + length) (runtime helper
    `buffer_hash`); the range is checked here, as iree_vm_buffer_map_ro does."""
    a, args = L.a, ins.args
    L.read_ref(args["source_buffer"], R.r10)
    L.check_nonnull(R.r10)
    oob = L.trap_label(abi.TRAP_OUT_OF_BOUNDS)
    L.load_gpr(args["source_offset"], R.rax)
    L.load_gpr(args["length"], R.rdx)
    a.mov(R.rcx, qword[R.r10 + abi.BUF_LENGTH])
    a.cmp(R.rax, R.rcx)
    a.ja(oob)
    a.sub(R.rcx, R.rax)
    a.cmp(R.rdx, R.rcx)
    a.ja(oob)
    a.mov(R.rsi, qword[R.r10 + abi.BUF_DATA])
    a.add(R.rsi, R.rax)
    L.ctx(R.rdi)
    a.mov(R.rax, qword[R.rdi + abi.CTX_HELPERS])
    a.call(qword[R.rax + 8 * abi.HELPERS.index("buffer_hash")])
    L.write_gpr(args["result"], R.rax)


# ---------------------------------------------------------------- globals
GLOBAL_BITS = {"i32": 32, "f32": 32, "i64": 64, "f64": 64}


def _global_mem(L, ins, offset_field: str, bits: int):
    a = L.a
    L.ctx(R.r10)
    v = ins.args[offset_field]
    a.mov(R.r11, qword[R.r10 + abi.CTX_GLOBALS])
    if isinstance(v, int):  # verified in range
        return R.SizeSpec(bits)[R.r11 + v]
    L.load_gpr(v, R.rax)
    a.movsxd(R.rax, R.eax)
    a.lea(R.rcx, qword[R.rax + bits // 8])
    a.test(R.rax, R.rax)
    oob = L.trap_label(abi.TRAP_OUT_OF_BOUNDS)
    a.js(oob)
    a.cmp(R.rcx, qword[R.r10 + abi.CTX_GLOBAL_BYTES])
    a.ja(oob)
    return R.SizeSpec(bits)[R.r11 + R.rax]


def global_load(L, ins):
    kind = ins.op.mnemonic.split(".")[-1]
    bits = GLOBAL_BITS[kind]
    field = "byte_offset"
    mem = _global_mem(L, ins, field, bits)
    dst = ins.args["result"]
    if kind in ("f32", "f64"):
        (L.a.movss if bits == 32 else L.a.movsd)(R.xmm0, mem)
        L.write_xmm(dst, R.xmm0)
    else:
        L.a.mov(R.rdx.view(bits), mem)
        L.write_gpr(dst, R.rdx.view(bits))


def global_store(L, ins):
    kind = ins.op.mnemonic.split(".")[-1]
    bits = GLOBAL_BITS[kind]
    value = ins.args["value"]
    if kind in ("f32", "f64"):
        x = L.load_xmm(value, R.xmm0)
        mem = _global_mem(L, ins, "byte_offset", bits)
        (L.a.movss if bits == 32 else L.a.movsd)(mem, x)
    else:
        L.load_gpr(value, R.rdx)
        mem = _global_mem(L, ins, "byte_offset", bits)
        L.a.mov(mem, R.rdx.view(bits))


def global_ref(L, ins):
    a, args = L.a, ins.args
    L.ctx(R.r10)
    a.mov(R.r11, qword[R.r10 + abi.CTX_REF_GLOBALS])
    g = args["global"]
    if not isinstance(g, int):
        L.load_gpr(g, R.rax)
        a.cmp(R.eax, L.m.global_refs)
        a.jae(L.trap_label(abi.TRAP_OUT_OF_BOUNDS))
        slot = qword[R.r11 + R.rax * 8]
    else:
        slot = qword[R.r11 + 8 * g]
    if "load" in ins.op.mnemonic:
        a.mov(R.rcx, slot)
        L.write_ref(args["value"], R.rcx)
    else:  # rax may hold the slot index: the value goes through rcx
        L.read_ref(args["value"], R.rcx)
        a.mov(slot, R.rcx)


# ---------------------------------------------------------------- refs
def const_ref_zero(L, ins):
    L.a.mov(L.ref_mem(ins.args["result"]), 0)


def const_ref_rodata(L, ins):
    a = L.a
    L.ctx(R.rax)
    a.mov(R.rax, qword[R.rax + abi.CTX_RODATA])
    a.add(R.rax, abi.BUF_SIZE * ins.args["rodata"])
    L.write_ref(ins.args["value"], R.rax)


def assign_ref(L, ins):
    src, dst = ins.args["source"], ins.args["result"]
    L.read_ref(src, R.rax)
    L.write_ref(dst, R.rax)


def discard_refs(L, ins):
    """No-op: buffers are owned by the runtime's arena, not counted in generated code."""


def cmp_ref(L, ins):
    a, args = L.a, ins.args
    if ins.op.mnemonic == "cmp.nz.ref":
        L.read_ref(args["operand"], R.rax)
        a.test(R.rax, R.rax)
        a.setne(R.cl)
    else:
        L.read_ref(args["left"], R.rax)
        a.cmp(R.rax, L.ref_mem(args["right"]))
        (a.sete if ins.op.mnemonic == "cmp.eq.ref" else a.setne)(R.cl)
    a.movzx(R.ecx, R.cl)
    L.write_gpr(args["result"], R.ecx)


def select_ref(L, ins):
    a, args = L.a, ins.args
    L.read_ref(args["false_value"], R.rax)
    c = L.read_gpr(args["condition"], R.rcx)
    a.test(c, c)
    a.cmovne(R.rax, L.ref_mem(args["true_value"]))
    L.write_ref(args["result"], R.rax)


def cast_any_ref(L, ins):
    """Null casts to null; a non-null ref must carry the target type's tag (buffers and lists
    keep it at the same offset)."""
    a, args = L.a, ins.args
    tag = ref_type_tag(L.m.types[args["result_type"]])
    L.read_ref(args["operand"], R.rax)
    if tag is not None:
        ok = R.Label()
        a.test(R.rax, R.rax)
        a.jz(ok)
        a.cmp(dword[R.rax + abi.BUF_TYPE], tag)
        a.jne(L.trap_label(abi.TRAP_TYPE))
        a.label(ok)
    L.write_ref(args["result"], R.rax)


def peek(L, ins):
    """jit.buffer.peek.T (element_promotion.py): the element, or 0 when the buffer is null or
    the index out of range; never traps."""
    a, args = L.a, ins.args
    dst = args["result"]
    size = JIT_SIZES[dst.type]
    done = R.Label()
    L.read_ref(args["source_buffer"], R.r10)
    index = L.read_gpr(args["source_offset"], R.rax)
    if dst.type in ("f32", "f64"):
        a.xorps(R.xmm0, R.xmm0)
    else:
        a.xor(R.edx, R.edx)
    a.test(R.r10, R.r10)
    a.jz(done)
    a.mov(R.rcx, qword[R.r10 + abi.BUF_LENGTH])
    a.shr(R.rcx, SHIFT[size])
    a.cmp(index, R.rcx)
    a.jae(done)
    a.mov(R.r10, qword[R.r10 + abi.BUF_DATA])
    if dst.type in ("f32", "f64"):
        (a.movss if size == 4 else a.movsd)(R.xmm0, SIZED[size][R.Mem(R.r10, index, size)])
        a.label(done)
        L.write_xmm(dst, R.xmm0)
    else:
        a.mov(R.rdx.view(size * 8), SIZED[size][R.Mem(R.r10, index, size)])
        a.label(done)
        L.write_gpr(dst, R.rdx)


def check(L, ins):
    """jit.buffer.check.T: the null and bounds checks of buffer.load.T, no load."""
    size = JIT_SIZES[ins.op.mnemonic.rsplit(".", 1)[1]]
    _element_address(L, ins.args["source_buffer"], ins.args["source_offset"], size, writable=False,
                     pointer=False)


def copy_value(L, ins):
    """jit.copy.T: result = operand, bit for bit."""
    src, dst = ins.args["operand"], ins.args["result"]
    if dst.type in ("f32", "f64"):
        L.write_xmm(dst, L.read_xmm(src, R.xmm0))
    else:
        L.write_gpr(dst, L.read_gpr(src, R.rax))


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
CALLS = {"buffer.copy", "buffer.compare", "buffer.alloc", "buffer.clone", "buffer.hash"}
