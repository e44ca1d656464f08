"""Native x86-64 entries for `vmvx.pack` and `vmvx.unpack` (the data-tiling layout changes
around mmt4d), every element type and flag combination the model accepts: pack f32 / i32 /
i8, unpack f32 / i32, with or without TRANSPOSE_INNER / TRANSPOSE_OUTER, partial tiles and
padding included.

Contract (see native_entry.py for the frame and the fallback): an ordinary call runs entirely
in machine code, any other tail-jumps to the Python model (intrinsics/vmvx.py), which keeps
IREE's errors and its write order for overlapping outputs. Ordinary means: flags are a known
type plus transpose bits and nothing else; every size in [1, 2**31); offsets and the strides
the op uses in [0, 2**31); a tile of at most 4096 bytes (pack.c / unpack.c's buffer; larger
tiles can make IREE hang, the model decides); a tiled row (size1 * tile elements) below 2**31;
tiles covering the plain matrix; every element the model reads or writes in bounds; an
output that cannot overlap itself (pack: one row, or a row stride >= the row; unpack: a
column stride >= 1 and a row stride beyond the last column, or one row / column); and the
output's byte range disjoint from the input's (IREE's pointers are `restrict`; the model
reads everything first). Under those conditions every output element is written once, so
any order gives the model's bytes.

Pack walks the output in memory order: row r0, tile r1, tile row a, element b. The tile's
input elements sit at strides (step_a, step_b) from its origin; its first `na` rows hold `nb`
input elements each (the rest of the tile is padding), where na / nb are what is left of the
input along a / b from the tile's origin, clamped to the tile (whole tiles skip that). A
tile of one column (out_size3 = 1, every f32 matmul's) is walked as one row, a and b traded
(the output order is the same), so its inner loop runs along the tile. Unpack walks the
output row by row, each row in chunks of one tile's width, copying from the tile holding
that chunk. Rows that are consecutive in both buffers are copied 16 bytes at a time.

`ASSEMBLERS` maps op name -> `assemble(name, fallback) -> bytes` (native_x64 registers them).
"""
from __future__ import annotations

from ..emit_x64 import operands as R
from ..emit_x64.operands import Label, qword, xmmword
from .native_entry import MAX_31, SAVED_ARGS, SIZED, Entry, copy_bytes
from .vmvx import (PACK_TYPE_F32F32, PACK_TYPE_I8I8, PACK_TYPE_I32I32, TRANSPOSE_INNER,
                   TRANSPOSE_OUTER, UNPACK_TYPE_F32F32, UNPACK_TYPE_I32I32)

PACK_FIELDS = ("in", "in_offset", "in_stride0", "in_stride1",
               "out", "out_offset", "out_stride0", "out_stride1",
               "in_size0", "in_size1", "out_size0", "out_size1", "out_size2", "out_size3",
               "padding_value", "flags")
UNPACK_FIELDS = ("in", "in_offset", "in_stride0", "in_stride1",
                 "out", "out_offset", "out_stride0", "out_stride1",
                 "in_size0", "in_size1", "in_size2", "in_size3", "out_size0", "out_size1",
                 "flags")
#: type byte of the flags -> log2 of the element size
PACK_SHIFT = {PACK_TYPE_F32F32: 2, PACK_TYPE_I32I32: 2, PACK_TYPE_I8I8: 0}
UNPACK_SHIFT = {UNPACK_TYPE_F32F32: 2, UNPACK_TYPE_I32I32: 2}
TILE_BYTES = 4096
_KNOWN_FLAG_BITS = 0xFF | TRANSPOSE_INNER | TRANSPOSE_OUTER


def _slots(names: tuple[str, ...]) -> tuple[dict, int]:
    """Frame slots (qword operands) for loop state above the saved arguments; frame size."""
    base = SAVED_ARGS + 24
    slots = {n: qword[R.rsp + base + 8 * k] for k, n in enumerate(names)}
    frame = base + 8 * len(names)
    return slots, frame + (8 - frame % 16) % 16


_PACK_SLOTS, _PACK_FRAME = _slots((
    "out_row", "in_r0", "rem_a_r0", "rem_b_r0", "r0_left", "r1_left", "r0_in", "r0_da",
    "r0_db", "r1_in", "r1_da", "r1_db", "os0_bytes", "tiles", "pad_tail"))
_UNPACK_SLOTS, _UNPACK_FRAME = _slots((
    "in_lo0", "i_left", "tile0", "step_lo0", "cols"))


def _dispatch_on_type(e: Entry, shifts: dict, body) -> None:
    """Fall back on unknown flag bits or types; run `body(e, shift)` for each element size."""
    a = e.a
    a.mov(R.eax, e.arg("flags", 32))
    a.test(R.eax, 0xFFFFFFFF & ~_KNOWN_FLAG_BITS)
    a.jnz(e.slow)
    a.movzx(R.ecx, R.al)
    done = Label("done")
    by_shift: dict[int, Label] = {}
    for typ, shift in shifts.items():
        a.cmp(R.ecx, typ)
        a.je(by_shift.setdefault(shift, Label(f"es{1 << shift}")))
    a.jmp(e.slow)
    for shift, label in by_shift.items():
        a.label(label)
        body(e, shift)
        a.jmp(done)
    a.label(done)


def _swap_if(e: Entry, bit: int, x, y) -> None:
    """Exchange registers x and y when `bit` is set in the flags."""
    a, keep = e.a, Label()
    a.test(e.arg("flags", 32), bit)
    a.jz(keep)
    a.xchg(x, y)
    a.label(keep)


def _check_tiling(e: Entry, shift: int, sizes: tuple[str, str, str, str],
                  plain: tuple[str, str]) -> None:
    """Falls back unless the tile holds at most TILE_BYTES, the tiled row (size1 * tile
    elements) is below 2**31, and the oriented tiles cover the plain matrix. Leaves the
    tiled row length (elements) in rbx."""
    a, slow = e.a, e.slow
    s0, s1, s2, s3 = sizes
    a.mov(R.rax, e.arg(s2))
    a.imul(R.rax, e.arg(s3))                          # < 2**62: no overflow
    a.cmp(R.rax, TILE_BYTES >> shift)
    a.ja(slow)
    a.mov(R.rbx, e.arg(s1))
    a.imul(R.rbx, R.rax)
    a.cmp(R.rbx, MAX_31)
    a.ja(slow)
    a.mov(R.rax, e.arg(s2))                           # tile extents along the plain dims
    a.mov(R.rcx, e.arg(s3))
    _swap_if(e, TRANSPOSE_INNER, R.rax, R.rcx)
    a.mov(R.r8, e.arg(s0))                            # tile counts along the plain dims
    a.mov(R.r9, e.arg(s1))
    _swap_if(e, TRANSPOSE_OUTER, R.r8, R.r9)
    a.imul(R.r8, R.rax)
    a.cmp(R.r8, e.arg(plain[0]))
    a.jb(slow)
    a.imul(R.r9, R.rcx)
    a.cmp(R.r9, e.arg(plain[1]))
    a.jb(slow)


def _shl(a, reg, shift: int) -> None:
    if shift:
        a.shl(reg, shift)


def _last(e: Entry, size: str, stride: str, extra) -> None:
    """rax = (size - 1) * stride + extra (a register holding the second dimension's last
    index relative to the row start)."""
    a = e.a
    a.mov(R.rax, e.arg(size))
    a.sub(R.rax, 1)
    a.imul(R.rax, e.arg(stride))
    a.add(R.rax, extra)


# --- pack -----------------------------------------------------------------------------------

def _pack_body(e: Entry, shift: int) -> None:
    a, slow, S = e.a, e.slow, _PACK_SLOTS
    size = 1 << shift
    for f in ("in_size0", "in_size1", "out_size0", "out_size1", "out_size2", "out_size3"):
        e.size_minus_1(R.rax, f)
    e.below_2_31("in_offset", "in_stride0", "in_stride1", "out_offset", "out_stride0")
    _check_tiling(e, shift, ("out_size0", "out_size1", "out_size2", "out_size3"),
                  ("in_size0", "in_size1"))                      # rbx = row length
    a.mov(R.rcx, e.arg("in_size1"))
    a.sub(R.rcx, 1)
    a.imul(R.rcx, e.arg("in_stride1"))
    _last(e, "in_size0", "in_stride0", R.rcx)
    e.map_buffer("in", "in_offset", R.rax, shift, False, R.r12, R.r13)
    _last(e, "out_size0", "out_stride0", R.rbx)
    a.sub(R.rax, 1)
    e.map_buffer("out", "out_offset", R.rax, shift, True, R.r14, R.r15)
    e.disjoint((R.r12, R.r13), (R.r14, R.r15))
    one_row = Label()
    a.cmp(e.arg("out_size0"), 1)                      # rows cannot overlap each other
    a.je(one_row)
    a.cmp(e.arg("out_stride0"), R.rbx)
    a.jb(slow)
    a.label(one_row)
    # dims a / b of a tile: (rows, cols) of the input, swapped by TRANSPOSE_INNER
    a.mov(S["out_row"], R.r14)
    a.mov(S["in_r0"], R.r12)
    a.mov(R.r8, e.arg("in_size0"))
    a.mov(R.r9, e.arg("in_size1"))
    a.mov(R.r12, e.arg("in_stride0"))
    a.mov(R.r13, e.arg("in_stride1"))
    _swap_if(e, TRANSPOSE_INNER, R.r8, R.r9)
    _swap_if(e, TRANSPOSE_INNER, R.r12, R.r13)
    _shl(a, R.r12, shift)                              # step_a, step_b in bytes
    _shl(a, R.r13, shift)
    a.mov(R.r14, e.arg("out_size2"))
    a.mov(R.r15, e.arg("out_size3"))
    # Output rows step along a unless exactly one transpose flag is set (edx bit 8). A tile
    # of one column (s3 = 1, every f32 matmul's) is walked as one row instead: a and b trade
    # places (same output order), so the inner loop runs along the tile's long side.
    a.mov(R.edx, e.arg("flags", 32))
    a.mov(R.eax, R.edx)
    a.shr(R.eax, 1)
    a.xor(R.edx, R.eax)
    one_column = Label("one_column")
    a.cmp(R.r15, 1)
    a.jne(one_column)
    for x, y in ((R.r8, R.r9), (R.r12, R.r13), (R.r14, R.r15)):
        a.xchg(x, y)
    a.xor(R.edx, TRANSPOSE_INNER)
    a.label(one_column)
    a.mov(S["rem_a_r0"], R.r8)
    a.mov(S["rem_b_r0"], R.r9)
    # a tile step along a: in += s2 * step_a, rem_a -= s2; along b: in += s3 * step_b,
    # rem_b -= s3.
    a.mov(R.rax, R.r14)
    a.imul(R.rax, R.r12)
    a.mov(R.rcx, R.r15)
    a.imul(R.rcx, R.r13)
    swapped, oriented = Label("swapped"), Label("oriented")
    a.test(R.edx, TRANSPOSE_INNER)
    a.jnz(swapped)
    for k, (row_step, tile_step) in enumerate(((("a", R.rax, R.r14), ("b", R.rcx, R.r15)),
                                               (("b", R.rcx, R.r15), ("a", R.rax, R.r14)))):
        if k:
            a.label(swapped)
        for level, (dim, in_step, count) in (("r0", row_step), ("r1", tile_step)):
            a.mov(S[f"{level}_in"], in_step)
            a.mov(S[f"{level}_da"], count if dim == "a" else 0)
            a.mov(S[f"{level}_db"], count if dim == "b" else 0)
        if not k:
            a.jmp(oriented)
    a.label(oriented)
    a.mov(R.rax, e.arg("out_stride0"))
    _shl(a, R.rax, shift)
    a.mov(S["os0_bytes"], R.rax)
    a.mov(R.rax, e.arg("out_size0"))
    a.mov(S["r0_left"], R.rax)
    a.mov(R.rax, e.arg("out_size1"))
    a.mov(S["tiles"], R.rax)
    a.mov(R.rbx, e.arg("padding_value"))              # its low `size` bytes
    contiguous, done = Label("pack_contiguous"), Label("pack_done")
    a.cmp(R.r13, size)
    a.je(contiguous)
    _pack_loops(a, size, False)
    a.jmp(done)
    a.label(contiguous)
    _pack_loops(a, size, True)
    a.label(done)


def _pack_loops(a, size: int, contiguous: bool) -> None:
    """The pack loop nest (registers as set up by `_pack_body`): rdi out, r8 tile origin in
    the input, r9 / r10 input left along a / b from it, r12 / r13 step_a / step_b (bytes),
    r14 / r15 tile rows / columns, rbx padding; `contiguous`: step_b is the element size."""
    S = _PACK_SLOTS
    pad = R.rbx.view(8 * size)
    r0_loop, tile, row, pad_rows, next_tile = (Label("r0"), Label("tile"), Label("tile_row"),
                                               Label("pad_rows"), Label("next_tile"))
    partial, full_row = Label("partial"), Label("full_row")
    a.label(r0_loop)
    a.mov(R.rdi, S["out_row"])
    a.mov(R.r8, S["in_r0"])
    a.mov(R.r9, S["rem_a_r0"])
    a.mov(R.r10, S["rem_b_r0"])
    a.mov(R.rax, S["tiles"])
    a.mov(S["r1_left"], R.rax)
    row_end = Label("row_end")
    _whole_row_tiles(a, size, contiguous, tile, row_end)
    a.label(tile)
    a.cmp(R.r9, R.r14)                                 # a whole tile of input: no padding
    a.jl(partial)
    a.cmp(R.r10, R.r15)
    a.jl(partial)
    a.mov(R.rsi, R.r8)
    a.mov(R.rdx, R.r14)
    a.label(full_row)
    a.mov(R.r11, R.rsi)
    a.mov(R.rcx, R.r15)
    _copy_run(a, size, contiguous)
    a.add(R.rsi, R.r12)
    a.dec(R.rdx)
    a.jnz(full_row)
    a.jmp(next_tile)
    a.label(partial)
    a.xor(R.eax, R.eax)
    for dst, rem, limit in ((R.rdx, R.r9, R.r14), (R.rbp, R.r10, R.r15)):
        a.mov(dst, rem)                                # clamp(rem, 0, limit)
        a.test(dst, dst)
        a.cmovs(dst, R.rax)
        a.cmp(dst, limit)
        a.cmovg(dst, limit)
    a.mov(R.rax, R.r14)                                # padding rows: (s2 - na) * s3
    a.sub(R.rax, R.rdx)
    a.imul(R.rax, R.r15)
    a.mov(S["pad_tail"], R.rax)
    a.mov(R.rsi, R.r8)
    a.test(R.rdx, R.rdx)
    a.jz(pad_rows)
    a.label(row)                                       # nb input elements, then padding
    a.mov(R.r11, R.rsi)
    a.mov(R.rcx, R.rbp)
    _copy_run(a, size, contiguous)
    a.mov(R.rcx, R.r15)
    a.sub(R.rcx, R.rbp)
    _store_padding(a, size, pad)
    a.add(R.rsi, R.r12)
    a.dec(R.rdx)
    a.jnz(row)
    a.label(pad_rows)
    a.mov(R.rcx, S["pad_tail"])
    _store_padding(a, size, pad)
    a.label(next_tile)
    a.add(R.r8, S["r1_in"])
    a.sub(R.r9, S["r1_da"])
    a.sub(R.r10, S["r1_db"])
    a.dec(S["r1_left"])
    a.jnz(tile)
    a.label(row_end)
    for slot, step, op in (("out_row", "os0_bytes", a.add), ("in_r0", "r0_in", a.add),
                           ("rem_a_r0", "r0_da", a.sub), ("rem_b_r0", "r0_db", a.sub)):
        a.mov(R.rax, S[slot])
        op(R.rax, S[step])
        a.mov(S[slot], R.rax)
    a.dec(S["r0_left"])
    a.jnz(r0_loop)


def _whole_row_tiles(a, size: int, contiguous: bool, tile: Label, row_end: Label) -> None:
    """At the start of an output row: the leading tiles that are one input row each (r14 =
    1), whole (no padding), and step along a by one tile row (r1_da = 1) are packed by a
    tight loop, then the general tile loop (`tile`) takes the rest of the row, or `row_end`
    when none is left. Contiguous runs are copied 16 bytes at a time (tile bytes a multiple
    of 16); strided 4-byte elements whose consecutive tiles are adjacent in the input
    (r1_in = 4, tile columns a multiple of 4) go four tiles at a time through 4 x 4
    transposes. Either reads and writes exactly the elements the general loop would, each
    once, so the bytes are the same. Tile t (counted from the row's first) is whole when
    r10 >= r15 and r9 - t >= 1, so the run is r9 tiles (none if r10 < r15), at most r1_left
    as the tiles cover the input (`_check_tiling`)."""
    S = _PACK_SLOTS
    a.cmp(R.r14, 1)
    a.jne(tile)
    a.cmp(S["r1_da"], 1)
    a.jne(tile)
    if contiguous:
        a.mov(R.rbp, R.r15)
        _shl(a, R.rbp, size.bit_length() - 1)         # tile bytes
        a.test(R.ebp, 15)
        a.jnz(tile)
    else:
        if size != 4:
            return
        a.cmp(S["r1_in"], 4)
        a.jne(tile)
        a.test(R.r15d, 3)
        a.jnz(tile)
        a.lea(R.rbp, R.Mem(None, R.r15, 4, 0))        # tile bytes
    a.cmp(R.r10, R.r15)
    a.jl(tile)
    a.mov(R.rdx, R.r9)                                 # tiles in the run (<= r1_left)
    if not contiguous:
        a.and_(R.rdx, -4)                              # whole groups of four
    a.test(R.rdx, R.rdx)
    a.jle(tile)
    a.sub(S["r1_left"], R.rdx)
    a.sub(R.r9, R.rdx)
    if contiguous:
        _copy_tiles(a)
    else:
        a.shr(R.rdx, 2)
        _transpose_tiles(a)
    a.cmp(S["r1_left"], 0)
    a.je(row_end)


def _copy_tiles(a) -> None:
    """rdx tiles of rbp bytes (a positive multiple of 16) each, the tile at r8 then r8 +
    r1_in ..., to rdi onwards; advances r8 and rdi, clobbers rcx, rsi, r11, xmm0."""
    tiles, chunk = Label("copy_tiles"), Label("copy_tile")
    a.mov(R.r11, _PACK_SLOTS["r1_in"])
    a.label(tiles)
    a.mov(R.rsi, R.r8)
    a.mov(R.rcx, R.rbp)
    a.label(chunk)
    a.movdqu(R.xmm0, xmmword[R.rsi])
    a.movdqu(xmmword[R.rdi], R.xmm0)
    a.add(R.rsi, 16)
    a.add(R.rdi, 16)
    a.sub(R.rcx, 16)
    a.jnz(chunk)
    a.add(R.r8, R.r11)
    a.dec(R.rdx)
    a.jnz(tiles)


def _transpose_tiles(a) -> None:
    """rdx groups of four tiles of 4-byte elements: tile t of a group holds the elements at
    r8 + 4t + c * r13 for c < r15 (r15 a multiple of 4, rbp = 4 * r15 bytes per tile), and
    goes to rdi + t * rbp. Per four columns, four 16-byte loads (one per column, across
    the group's tiles), a 4 x 4 transpose, four 16-byte stores (one per tile). Advances r8
    by 16 and rdi by 4 * rbp per group; clobbers rax, rcx, rsi, r11, xmm0-xmm5."""
    groups, quad = Label("transpose_tiles"), Label("transpose_quad")
    x0, x1, x2, x3, x4, x5 = (R.xmm0, R.xmm1, R.xmm2, R.xmm3, R.xmm4, R.xmm5)
    a.label(groups)
    a.mov(R.rsi, R.r8)                                 # column c of the group's tiles
    a.mov(R.r11, R.rdi)                                # element c of its first tile
    a.mov(R.rcx, R.r15)
    a.shr(R.rcx, 2)
    a.label(quad)
    a.lea(R.rax, R.Mem(R.rsi, R.r13, 2, 0))
    a.movups(x0, xmmword[R.rsi])                       # row q: column c + q of tiles 0-3
    a.movups(x1, xmmword[R.Mem(R.rsi, R.r13, 1, 0)])
    a.movups(x2, xmmword[R.rax])
    a.movups(x3, xmmword[R.Mem(R.rax, R.r13, 1, 0)])
    a.movaps(x4, x0)
    a.unpcklps(x4, x1)                                 # x0_0 x1_0 x0_1 x1_1
    a.unpckhps(x0, x1)                                 # x0_2 x1_2 x0_3 x1_3
    a.movaps(x5, x2)
    a.unpcklps(x5, x3)                                 # x2_0 x3_0 x2_1 x3_1
    a.unpckhps(x2, x3)                                 # x2_2 x3_2 x2_3 x3_3
    a.movaps(x1, x4)
    a.movlhps(x1, x5)                                  # tile 0: x0_0 x1_0 x2_0 x3_0
    a.movhlps(x5, x4)                                  # tile 1: x0_1 x1_1 x2_1 x3_1
    a.movaps(x3, x0)
    a.movlhps(x3, x2)                                  # tile 2
    a.movhlps(x2, x0)                                  # tile 3
    a.lea(R.rax, R.Mem(R.r11, R.rbp, 2, 0))
    a.movups(xmmword[R.r11], x1)
    a.movups(xmmword[R.Mem(R.r11, R.rbp, 1, 0)], x5)
    a.movups(xmmword[R.rax], x3)
    a.movups(xmmword[R.Mem(R.rax, R.rbp, 1, 0)], x2)
    a.add(R.r11, 16)
    a.lea(R.rsi, R.Mem(R.rsi, R.r13, 4, 0))
    a.dec(R.rcx)
    a.jnz(quad)
    a.add(R.r8, 16)
    a.lea(R.rdi, R.Mem(R.rdi, R.rbp, 4, 0))
    a.dec(R.rdx)
    a.jnz(groups)


def _copy_run(a, size: int, contiguous: bool) -> None:
    """Copy rcx (may be 0) elements from r11 (stepping r13 bytes; `contiguous`: r13 is the
    element size) to rdi, advancing r11 and rdi; clobbers rax, rcx, xmm0."""
    if contiguous:
        _shl(a, R.rcx, size.bit_length() - 1)
        copy_bytes(a, R.r11, R.rdi, R.rcx, size, R.rax)
        return
    element = R.rax.view(8 * size)
    copied, loop = Label(), Label()
    a.test(R.rcx, R.rcx)
    a.jz(copied)
    a.label(loop)
    a.mov(element, SIZED[size][R.r11])
    a.mov(SIZED[size][R.rdi], element)
    a.add(R.r11, R.r13)
    a.add(R.rdi, size)
    a.dec(R.rcx)
    a.jnz(loop)
    a.label(copied)


def _store_padding(a, size: int, pad) -> None:
    """Store rcx (may be 0) copies of `pad` at rdi, advancing rdi."""
    done, loop = Label(), Label()
    a.test(R.rcx, R.rcx)
    a.jz(done)
    a.label(loop)
    a.mov(SIZED[size][R.rdi], pad)
    a.add(R.rdi, size)
    a.dec(R.rcx)
    a.jnz(loop)
    a.label(done)


def assemble_pack(name: str, fallback: int) -> bytes:
    e = Entry(name, PACK_FIELDS, _PACK_FRAME)
    _dispatch_on_type(e, PACK_SHIFT, _pack_body)
    return e.finish(fallback)


# --- unpack ---------------------------------------------------------------------------------

def _unpack_body(e: Entry, shift: int) -> None:
    a, slow, S = e.a, e.slow, _UNPACK_SLOTS
    size = 1 << shift
    for f in ("in_size0", "in_size1", "in_size2", "in_size3", "out_size0", "out_size1"):
        e.size_minus_1(R.rax, f)
    e.below_2_31("in_offset", "in_stride0", "out_offset", "out_stride0", "out_stride1")
    _check_tiling(e, shift, ("in_size0", "in_size1", "in_size2", "in_size3"),
                  ("out_size0", "out_size1"))                    # rbx = row length
    _last(e, "in_size0", "in_stride0", R.rbx)
    a.sub(R.rax, 1)
    e.map_buffer("in", "in_offset", R.rax, shift, False, R.r12, R.r13)
    a.mov(R.rbx, e.arg("out_size1"))
    a.sub(R.rbx, 1)
    a.imul(R.rbx, e.arg("out_stride1"))               # last column's index in a row
    _last(e, "out_size0", "out_stride0", R.rbx)
    e.map_buffer("out", "out_offset", R.rax, shift, True, R.r14, R.r15)
    e.disjoint((R.r12, R.r13), (R.r14, R.r15))
    one_col, one_row = Label(), Label()               # no element written twice
    a.cmp(e.arg("out_size1"), 1)
    a.je(one_col)
    a.cmp(e.arg("out_stride1"), 0)
    a.je(slow)
    a.label(one_col)
    a.cmp(e.arg("out_size0"), 1)
    a.je(one_row)
    a.cmp(e.arg("out_stride0"), R.rbx)
    a.jbe(slow)
    a.label(one_row)
    # steps (bytes): lo0 / lo1 = which tile, t0 / t1 = where in it, for output row / column
    a.mov(S["in_lo0"], R.r12)
    a.mov(R.r10, R.r14)                                # out row
    a.mov(R.rax, e.arg("in_size2"))
    a.imul(R.rax, e.arg("in_size3"))
    _shl(a, R.rax, shift)             # tile bytes
    a.mov(R.rcx, e.arg("in_stride0"))
    _shl(a, R.rcx, shift)
    _swap_if(e, TRANSPOSE_OUTER, R.rax, R.rcx)
    a.mov(S["step_lo0"], R.rcx)
    a.mov(R.r15, R.rax)                                # step_lo1
    a.mov(R.rbx, e.arg("in_size3"))
    _shl(a, R.rbx, shift)             # step_t0 (a row of a tile)
    a.mov(R.r12, size)                                 # step_t1
    _swap_if(e, TRANSPOSE_INNER, R.rbx, R.r12)
    a.mov(R.rax, e.arg("in_size2"))                    # tile0, tile1
    a.mov(R.r14, e.arg("in_size3"))
    _swap_if(e, TRANSPOSE_INNER, R.rax, R.r14)
    a.mov(S["tile0"], R.rax)
    a.mov(R.rax, e.arg("out_size0"))
    a.mov(S["i_left"], R.rax)
    a.mov(R.rax, e.arg("out_size1"))
    a.mov(S["cols"], R.rax)
    a.mov(R.rbp, e.arg("out_stride0"))
    a.mov(R.r13, e.arg("out_stride1"))
    _shl(a, R.rbp, shift)
    _shl(a, R.r13, shift)
    strided, done = Label("unpack_strided"), Label("unpack_done")
    a.cmp(R.r12, size)
    a.jne(strided)
    a.cmp(R.r13, size)
    a.jne(strided)
    _unpack_loops(a, size, True)
    a.jmp(done)
    a.label(strided)
    _unpack_loops(a, size, False)
    a.label(done)


def _unpack_loops(a, size: int, contiguous: bool) -> None:
    """The unpack loop nest (registers as set up by `_unpack_body`): r10 out row, r11 input
    row (tile lo0, row t0 in it), rdx rows left in this tile row, rbx / rbp input / output
    row steps, r8 input at the current tile chunk, r9 columns left, r12 / r13 input / output
    column steps, r14 tile width, r15 next tile along the row; `contiguous`: both column
    steps are the element size."""
    S = _UNPACK_SLOTS
    element = R.rax.view(8 * size)
    lo0, t0, lo1 = Label("lo0"), Label("t0"), Label("lo1")
    a.label(lo0)
    a.mov(R.r11, S["in_lo0"])
    a.mov(R.rdx, S["tile0"])
    a.mov(R.rax, S["i_left"])
    a.cmp(R.rdx, R.rax)
    a.cmova(R.rdx, R.rax)
    a.sub(S["i_left"], R.rdx)
    a.label(t0)
    a.mov(R.r8, R.r11)
    a.mov(R.rdi, R.r10)
    a.mov(R.r9, S["cols"])
    a.label(lo1)
    a.mov(R.rcx, R.r14)                                # min(tile width, columns left)
    a.cmp(R.rcx, R.r9)
    a.cmova(R.rcx, R.r9)
    a.sub(R.r9, R.rcx)
    a.mov(R.rsi, R.r8)
    if contiguous:
        _shl(a, R.rcx, size.bit_length() - 1)
        copy_bytes(a, R.rsi, R.rdi, R.rcx, size, R.rax)
    else:
        cp = Label()
        a.label(cp)
        a.mov(element, SIZED[size][R.rsi])
        a.mov(SIZED[size][R.rdi], element)
        a.add(R.rsi, R.r12)
        a.add(R.rdi, R.r13)
        a.dec(R.rcx)
        a.jnz(cp)
    a.add(R.r8, R.r15)
    a.test(R.r9, R.r9)
    a.jnz(lo1)
    a.add(R.r10, R.rbp)
    a.add(R.r11, R.rbx)
    a.dec(R.rdx)
    a.jnz(t0)
    a.mov(R.rax, S["in_lo0"])
    a.add(R.rax, S["step_lo0"])
    a.mov(S["in_lo0"], R.rax)
    a.cmp(S["i_left"], 0)
    a.jne(lo0)


def assemble_unpack(name: str, fallback: int) -> bytes:
    e = Entry(name, UNPACK_FIELDS, _UNPACK_FRAME)
    _dispatch_on_type(e, UNPACK_SHIFT, _unpack_body)
    return e.finish(fallback)


ASSEMBLERS = {"pack": assemble_pack, "unpack": assemble_unpack}
