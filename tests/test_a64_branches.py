"""Labels, fixups, branch veneers, the literal pool, listings and tags."""
from __future__ import annotations

import re
import struct

import pytest
from capstone import CS_ARCH_ARM64, CS_MODE_ARM, Cs
from unicorn import UC_ARCH_ARM64, UC_MODE_ARM, Uc
from unicorn.arm64_const import (UC_ARM64_REG_Q0, UC_ARM64_REG_X0, UC_ARM64_REG_X1,
                                 UC_ARM64_REG_X30)

from splatjit.emit_a64 import Assembler, AsmError, Label
from splatjit.emit_a64.operands import d0, q0, s0, w0, w1, x0, x1, x2

_MD = Cs(CS_ARCH_ARM64, CS_MODE_ARM)
BASE = 0x10_0000


def decode(code: bytes, offset: int) -> tuple[str, int | None]:
    """(text, branch target offset or None) of the word at `offset`."""
    insn = next(_MD.disasm(code[offset:offset + 4], offset))
    text = f"{insn.mnemonic} {insn.op_str}".strip()
    m = re.search(r"#(0x[0-9a-f]+|\d+)$", insn.op_str)
    return text, (int(m[1], 0) if m else None)


def run(code: bytes, x0_value: int, **extra) -> Uc:
    uc = Uc(UC_ARCH_ARM64, UC_MODE_ARM)
    size = (len(code) + 0xFFFF) & ~0xFFFF
    uc.mem_map(BASE, size + 0x1_0000)
    uc.mem_write(BASE, code)
    uc.reg_write(UC_ARM64_REG_X0, x0_value)
    stop = BASE + size
    uc.reg_write(UC_ARM64_REG_X30, stop)
    uc.emu_start(BASE, stop, count=10_000)
    return uc


# --------------------------------------------------------------------------- short branches

BRANCHES = [
    ("b", lambda a, t: a.b(t)),
    ("bl", lambda a, t: a.bl(t)),
    ("b.ne", lambda a, t: a.b_ne(t)),
    ("b.lt", lambda a, t: a.b_cond("lt", t)),
    ("cbz", lambda a, t: a.cbz(x2, t)),
    ("cbnz", lambda a, t: a.cbnz(w1, t)),
    ("tbz", lambda a, t: a.tbz(x0, 37, t)),
    ("tbnz", lambda a, t: a.tbnz(w0, 3, t)),
]


@pytest.mark.parametrize("mnemonic, emit", BRANCHES, ids=[b[0] for b in BRANCHES])
def test_forward_and_backward_branches_land_on_their_labels(mnemonic, emit):
    a = Assembler()
    back = a.bind(a.label("back"))
    a.nop()
    a.nop()
    emit(a, back)          # offset 8 -> 0
    emit(a, fwd := Label("fwd"))  # offset 12 -> 28
    for _ in range(3):
        a.nop()
    a.bind(fwd)
    a.nop()
    code = a.finish()
    assert a.label_offset(back) == 0 and a.label_offset(fwd) == 28
    for off, target in ((8, 0), (12, 28)):
        text, got = decode(code, off)
        assert text.startswith(mnemonic) and got == target, text


def test_branch_to_label_bound_at_end_of_code():
    a = Assembler()
    end = a.label()
    a.b(end)
    a.nop()
    a.bind(end)
    code = a.finish()
    assert decode(code, 0)[1] == 8 == len(code)


@pytest.mark.parametrize("emit, veneer", [
    (lambda a, t: a.tbz(x0, 3, t), "tbnz"),
    (lambda a, t: a.tbnz(x0, 40, t), "tbz"),
])
def test_tbz_beyond_32k_gets_a_veneer_and_still_lands(emit, veneer):
    a = Assembler()
    far, end = a.label("far"), a.label("end")
    a.mov(x1, 0)
    emit(a, far)
    a.mov(x1, 1)
    a.b(end)
    a.align(1 << 16)        # 64 KiB of padding: beyond TBZ's +-32 KiB
    a.bind(far)
    a.mov(x1, 2)
    a.bind(end)
    a.ret()
    code = a.finish()
    text, target = decode(code, 4)
    assert text.startswith(veneer) and target == 12   # inverted, skips the B
    text, target = decode(code, 8)
    assert text.startswith("b ") and target == a.label_offset(far)
    assert [t for o, t in a.listing if o in (4, 8)] == \
        [f"{veneer} x0, {'#3' if veneer == 'tbnz' else '#0x28'}, .+8", "b far"]
    bit = 3 if veneer == "tbnz" else 40
    taken_when_clear = veneer == "tbnz"  # original was tbz
    for x in (0, 1 << bit):
        taken = (x & (1 << bit) == 0) == taken_when_clear
        assert run(code, x).reg_read(UC_ARM64_REG_X1) == (2 if taken else 1)


def test_bcond_and_cbz_beyond_1m_get_veneers():
    a = Assembler()
    far = a.label("far")
    a.cmp(x0, 0)
    a.b_eq(far)
    a.cbz(x0, far)
    a.b(far)                # unconditional: no veneer, B reaches 128 MiB
    a.align(1 << 21)        # 2 MiB
    a.bind(far)
    a.ret()
    code = a.finish()
    far_off = a.label_offset(far)
    assert decode(code, 4) == ("b.ne #0xc", 12)
    assert decode(code, 8)[1] == far_off
    assert decode(code, 12)[0] == "cbnz x0, #0x14"
    assert decode(code, 16)[1] == far_off
    assert decode(code, 20)[1] == far_off


def test_in_range_conditional_branch_is_not_relaxed():
    a = Assembler()
    t = a.label()
    a.b_eq(t)
    a.align(1 << 19)       # 512 KiB: still inside +-1 MiB
    a.bind(t)
    code = a.finish()
    assert decode(code, 0)[1] == 1 << 19


def test_label_errors():
    a = Assembler()
    lab = a.label("x")
    a.bind(lab)
    with pytest.raises(AsmError, match="bound twice"):
        a.bind(lab)
    b = Assembler()
    b.b(Label("nowhere"))
    with pytest.raises(AsmError, match="never bound"):
        b.finish()
    with pytest.raises(AsmError, match="out of range|outside"):
        Assembler().b(1 << 28)


# --------------------------------------------------------------------------- literal pool

def test_literal_pool_constants_load_the_right_values():
    a = Assembler()
    a.ldr_const(x0, 0x1122_3344_5566_7788)
    a.ldr_const(w1, 0xDEADBEEF)
    a.ldr_const(d0, 2.718281828459045)
    a.ldr_const(x2, 0x1122_3344_5566_7788)    # shared slot
    a.ldr_const(q0, 0x0123_4567_89AB_CDEF_FEDC_BA98_7654_3210)
    a.ret()
    code = a.finish()
    pool = [o for o, t in a.listing if t.startswith(".")]
    assert len(pool) == 4 and pool[0] % 16 == 0          # q constant first, 16-aligned
    assert decode(code, 0)[1] == decode(code, 12)[1]       # deduplicated
    uc = run(code, 0)
    assert uc.reg_read(UC_ARM64_REG_X0) == 0x1122_3344_5566_7788
    assert uc.reg_read(UC_ARM64_REG_X1) == 0xDEADBEEF
    assert uc.reg_read(UC_ARM64_REG_Q0) == 0x0123_4567_89AB_CDEF_FEDC_BA98_7654_3210


def test_load_const_picks_the_cheapest_form():
    a = Assembler()
    a.load_const(s0, 1.0)                    # fmov #imm
    a.load_const(d0, 0.0)                    # fmov d0, xzr
    a.load_const(q0, 0)                      # movi v0.2d, #0
    a.load_const(s0, 0.1)                    # pool
    a.load_const(x0, 0xFFFF_0000)            # movz
    a.load_const(x1, 0x1234_5678_9ABC_DEF1)  # pool: four MOVs otherwise
    code = a.finish()
    texts = [decode(code, off)[0] for off in range(0, 24, 4)]
    assert texts[0] == "fmov s0, #1.00000000"
    assert texts[1] == "fmov d0, xzr"
    assert texts[2].startswith("movi v0.2d")
    assert texts[3].startswith("ldr s0, #") and texts[5].startswith("ldr x1, #")
    assert texts[4] == "mov x0, #0xffff0000"
    pool_s0 = decode(code, 12)[1]
    assert struct.unpack("<f", code[pool_s0:pool_s0 + 4])[0] == struct.unpack(
        "<f", struct.pack("<f", 0.1))[0]


def test_literal_pool_out_of_range_raises():
    a = Assembler()
    a.ldr_const(x0, 0x1234_5678_9ABC_DEF1)
    a.align(1 << 21)
    with pytest.raises(AsmError, match="out of range"):
        a.finish()


# --------------------------------------------------------------------------- listing and tags

def test_listing_and_tags_follow_code_offsets():
    a = Assembler()
    far = a.label("far")
    a.add(x0, x0, 1)
    with a.tagged(0x10):
        a.mul(x0, x0, x1)
        a.cbz(x0, far)        # becomes two words, both tagged
    a.tag = 0x24
    a.sub(w0, w0, w1)
    a.tag = None
    a.align(1 << 21)          # out of CBZ range
    a.bind(far)
    a.ret()
    code = a.finish()
    assert a.tags == {4: 0x10, 8: 0x10, 12: 0x10, 16: 0x24}
    offsets = [o for o, _ in a.listing]
    assert offsets == sorted(offsets) and offsets[:5] == [0, 4, 8, 12, 16]
    assert a.listing[0] == (0, "add x0, x0, #1") and a.listing[1] == (4, "mul x0, x0, x1")
    assert a.listing[-1] == (len(code) - 4, "ret")
    assert "cbnz x0, .+8" in a.listing_text()
