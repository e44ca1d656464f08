"""Assembler behaviour: branch targets and rel8/rel32 relaxation, RIP-relative constants and
labels, alignment, CPU features, tags and the listing, and native execution of small functions.
"""
from __future__ import annotations

import ctypes
import mmap
import random
import struct

import capstone
import pytest

from splatjit.emit_x64 import ALL_FEATURES, Assembler, AsmError, Label, cpu
from splatjit.emit_x64.encoding import nop_padding
from splatjit.emit_x64.isa import CONDITIONS
from splatjit.emit_x64.operands import (dword, eax, ecx, edi, esi, qword, r11, rax, rcx, rdi,
                                        rip, rsi, xmm0, xmm1, xmm16, ymm0, ymm1, ymmword,
                                        zmm0)

CS = capstone.Cs(capstone.CS_ARCH_X86, capstone.CS_MODE_64)
CS.detail = True


def disasm(code: bytes) -> list:
    return list(CS.disasm(code, 0))


def at(code: bytes, offset: int):
    return next(CS.disasm(code[offset:], offset))


def rip_target(insn) -> int:
    """Effective address of the RIP-relative memory operand of a decoded instruction."""
    mem = next(op.mem for op in insn.operands if op.type == capstone.x86_const.X86_OP_MEM)
    assert mem.base == capstone.x86_const.X86_REG_RIP
    return insn.address + insn.size + mem.disp


# --------------------------------------------------------------------------- branches

def test_forward_and_backward_short_branches_land_on_their_labels() -> None:
    a = Assembler(ALL_FEATURES)
    top, end = Label("top"), Label("end")
    a.label(top)
    a.jmp(end)
    a.db(b"\x90" * 10)
    a.jne(top)
    a.label(end)
    a.ret()
    code = a.finish()
    first, back = at(code, 0), at(code, 12)
    assert (first.size, int(first.op_str, 0)) == (2, a.label_offset(end))
    assert (back.mnemonic, back.size, int(back.op_str, 0)) == ("jne", 2, 0)


@pytest.mark.parametrize("relax, gap", [(True, 300), (False, 3)])
def test_far_branches_and_unrelaxed_ones_are_near_and_land_on_their_labels(relax, gap) -> None:
    """Relaxation grows branches whose targets are far to rel32; `relax=False` makes every
    branch rel32 at once, near targets too."""
    a = Assembler(ALL_FEATURES, relax=relax)
    top, end = Label(), Label()
    a.label(top)
    a.je(end)
    a.db(b"\x90" * gap)
    a.jmp(top)
    a.label(end)
    code = a.finish()
    je, jmp = at(code, 0), at(code, 6 + gap)
    assert je.size == 6 and int(je.op_str, 0) == a.label_offset(end) == len(code)
    assert jmp.size == 5 and int(jmp.op_str, 0) == 0


def test_copied_code_with_fixups_keeps_its_size_and_patches_each_field() -> None:
    """`copy_code(data, fixups)`: each field gets label + addend - end of the copy, and the
    branches around it still relax."""
    a = Assembler(ALL_FEATURES)
    target, after = Label(), Label()
    a.jmp(after)
    a.label(target)
    a.db(b"\x90" * 4)
    a.copy_code(b"\xe9\0\0\0\0\x90", ((1, 4, target, 1),))  # jmp target; nop
    a.label(after)
    code = a.finish()
    assert at(code, 0).size == 2  # (short: the copy's 6 bytes are known)
    jmp = at(code, 6)
    # (addend 1: the field is relative to the end of the jmp, one byte before the copy ends)
    assert jmp.size == 5 and int(jmp.op_str, 0) == a.label_offset(target) == 2


def _mixed_stream(a: Assembler, seed: int) -> list:
    """Labels, copies with fixups (forward and backward), branches, alignment and constants
    in a seeded random order; returns the labels in binding order."""
    rng = random.Random(seed)
    labels = [Label(f"x{i}") for i in range(12)]
    bound = []
    for k in range(60):
        a.set_tag(k)
        choice = rng.randrange(6)
        if choice == 0 and len(bound) < len(labels):
            a.label(labels[len(bound)])
            bound.append(labels[len(bound)])
        elif choice == 1:
            target = rng.choice(labels)
            a.copy_code(b"\x90\xe9\0\0\0\0\xcc", ((2, 4, target, rng.randrange(-3, 4)),))
        elif choice == 2:
            a.jne(rng.choice(labels))
        elif choice == 3:
            a.db(bytes([0x90]) * rng.randrange(1, 9))
        elif choice == 4:
            a.align(16)
        else:
            a.mov(rax, a.const_i64(rng.randrange(1 << 40)))
    for label in labels[len(bound):]:
        a.label(label)
        bound.append(label)
        a.db(b"\xc3")
    return bound


@pytest.mark.parametrize("seed", range(32))
def test_packed_code_is_the_unrelaxed_code(seed: int) -> None:
    """`packed=True` (labels take their code offsets when bound, copies' fixups are patched
    at finish) gives the bytes, label offsets, listing and tag map of `relax=False` for the
    same stream."""
    plain, packed = Assembler(ALL_FEATURES, relax=False), Assembler(ALL_FEATURES, relax=False,
                                                                    packed=True)
    plain_labels, packed_labels = _mixed_stream(plain, seed), _mixed_stream(packed, seed)
    assert packed.finish() == plain.finish()
    assert [packed.label_offset(x) for x in packed_labels] == [
        plain.label_offset(x) for x in plain_labels]
    assert packed.listing == plain.listing and packed.tag_map == plain.tag_map
    assert len(packed._items) < len(plain._items)  # (the point: fewer stream items)


def test_packed_code_reports_unbound_labels_and_needs_fixed_sizes() -> None:
    a = Assembler(ALL_FEATURES, relax=False, packed=True)
    a.db(b"\x90")
    a.copy_code(b"\xe9\0\0\0\0", ((1, 4, Label("nowhere"), 0),))
    with pytest.raises(AsmError, match="nowhere"):
        a.finish()
    with pytest.raises(AsmError, match="relax=False"):
        Assembler(ALL_FEATURES, packed=True)


@pytest.mark.parametrize("field, message", [((1, 1, 0), "1-byte field"),
                                            ((1, 4, (1 << 31) + 5), "cannot reach")])
def test_packed_copies_patch_only_rel32_fields_in_reach(field, message) -> None:
    """A copy's fixup is a rel32 field whose value fits: a 1-byte field, or a target out
    of int32 reach (an addend of 2 GiB), is an AsmError at finish, not wrong bytes."""
    pos, size, addend = field
    a = Assembler(ALL_FEATURES, relax=False, packed=True)
    target = a.label()
    a.copy_code(b"\xe9\0\0\0\0", ((pos, size, target, addend),))
    with pytest.raises(AsmError, match=message):
        a.finish()


def test_a_label_bound_twice_is_an_error() -> None:
    for packed in (False, True):
        a = Assembler(ALL_FEATURES, relax=False, packed=packed)
        target = a.label()
        a.db(b"\x90")
        with pytest.raises(AsmError, match="bound twice"):
            a.label(target)


@pytest.mark.parametrize("gap, size", [(127, 2), (128, 5)])
def test_forward_rel8_boundary(gap: int, size: int) -> None:
    a = Assembler(ALL_FEATURES)
    end = Label()
    a.jmp(end)
    a.db(b"\xcc" * gap)
    a.label(end)
    code = a.finish()
    insn = at(code, 0)
    assert insn.size == size and int(insn.op_str, 0) == size + gap


@pytest.mark.parametrize("gap, size", [(126, 2), (127, 6)])
def test_backward_rel8_boundary(gap: int, size: int) -> None:
    a = Assembler(ALL_FEATURES)
    top = Label()
    a.label(top)
    a.db(b"\xcc" * gap)
    a.jl(top)                    # disp = -(gap + 2) for the short form: -128 fits, -129 not
    code = a.finish()
    insn = at(code, gap)
    assert insn.size == size and int(insn.op_str, 0) == 0


def test_relaxation_reaches_a_fixed_point_when_growth_cascades() -> None:
    """Growing the second branch pushes the first one's target out of rel8 range."""
    a = Assembler(ALL_FEATURES)
    near, far = Label("near"), Label("far")
    a.jz(near)                   # 2 bytes while short; disp 123 + 2 = 125 before, 128 after
    a.db(b"\x90" * 123)
    a.jmp(far)                   # must become rel32 (5 bytes)
    a.label(near)
    a.db(b"\x90" * 200)
    a.label(far)
    a.ret()
    code = a.finish()
    first = at(code, 0)
    assert first.size == 6 and int(first.op_str, 0) == a.label_offset(near)
    second = at(code, 6 + 123)
    assert second.size == 5 and int(second.op_str, 0) == a.label_offset(far)


def test_every_condition_branches_to_its_label() -> None:
    a = Assembler(ALL_FEATURES)
    targets = [Label() for _ in CONDITIONS]
    for cc, label in zip(CONDITIONS, targets):
        getattr(a, f"j{cc}")(label)
    for i, label in enumerate(targets):
        a.label(label)
        a.db(b"\x90" * (i * 20))
    code = a.finish()
    off = 0
    for cc, label in zip(CONDITIONS, targets):
        insn = at(code, off)
        assert insn.mnemonic == f"j{cc}" and int(insn.op_str, 0) == a.label_offset(label)
        off += insn.size
    assert {at(code, 0).size, insn.size} == {2, 6}


def test_condition_aliases() -> None:
    a = Assembler(ALL_FEATURES)
    L = a.label()
    a.jz(L)
    a.jnae(L)
    a.cmovnc(eax, ecx)
    a.setnz(rax.b)
    assert [i.mnemonic for i in disasm(a.finish())] == ["je", "jb", "cmovae", "setne"]


def test_call_label_and_indirect_forms() -> None:
    a = Assembler(ALL_FEATURES)
    fn = Label("fn")
    a.call(fn)
    a.call(rax)
    a.jmp(qword[rdi + 8])
    a.ret()
    a.label(fn)
    a.ret()
    code = a.finish()
    call = at(code, 0)
    assert call.size == 5 and int(call.op_str, 0) == a.label_offset(fn)
    assert [i.op_str for i in disasm(code)[1:3]] == ["rax", "qword ptr [rdi + 8]"]


def test_label_errors() -> None:
    a = Assembler(ALL_FEATURES)
    a.jmp(Label("nowhere"))
    with pytest.raises(AsmError, match="nowhere"):
        a.finish()
    b = Assembler(ALL_FEATURES)
    L = b.label()
    with pytest.raises(AsmError, match="twice"):
        b.label(L)


# --------------------------------------------------------------------------- RIP-relative, constants

def test_rip_relative_label_resolves_to_the_label() -> None:
    a = Assembler(ALL_FEATURES)
    data = Label("data")
    a.lea(rax, rip + data)
    a.cmp(dword[rip + data + 4], 0x12345)      # immediate after the displacement
    a.ret()
    a.label(data)
    a.db(b"\x01\x02\x03\x04\x05\x06\x07\x08")
    code = a.finish()
    lea, cmp = disasm(code)[:2]
    assert rip_target(lea) == a.label_offset(data)
    assert rip_target(cmp) == a.label_offset(data) + 4


def test_constant_pool_addresses_hold_the_constants() -> None:
    a = Assembler(ALL_FEATURES)
    f32, f64 = a.const_f32(1.5), a.const_f64(-2.25)
    i64, v8 = a.const_i64(-7), a.const_f32s([float(i) for i in range(8)])
    v16 = a.const_i32s(list(range(16)))
    a.movss(xmm0, f32)
    a.addsd(xmm1, f64)
    a.mov(rax, i64)
    a.vmovups(ymm0, v8)
    a.vmovdqu32(zmm0, v16)
    a.ret()
    code = a.finish()
    insns = disasm(code)[:5]
    expect = [(struct.pack("<f", 1.5), 4), (struct.pack("<d", -2.25), 8),
              (struct.pack("<q", -7), 8), (struct.pack("<8f", *range(8)), 32),
              (struct.pack("<16i", *range(16)), 64)]
    for insn, (data, align) in zip(insns, expect):
        addr = rip_target(insn)
        assert addr % align == 0 and addr >= insn.address + insn.size
        assert code[addr:addr + len(data)] == data
    assert [i.op_str.split(", ")[-1].split(" ptr")[0] for i in insns] == \
        ["dword", "qword", "qword", "ymmword", "zmmword"]


def test_constants_are_deduplicated() -> None:
    a = Assembler(ALL_FEATURES)
    assert a.const_f32(3.0) == a.const_f32(3.0) == a.const_i32(0x40400000)
    assert Assembler(ALL_FEATURES).const_f32(3.0).label != a.const_f32(3.0).label
    a.addss(xmm0, a.const_f32(3.0))
    a.mulss(xmm0, a.const_f32(3.0))
    code = a.finish()
    t1, t2 = (rip_target(i) for i in disasm(code)[:2])
    assert t1 == t2 and len(code) == 16 + 4


def test_jump_table_entries_are_label_minus_table() -> None:
    a = Assembler(ALL_FEATURES)
    cases = [Label(f"case{i}") for i in range(3)]
    table = a.jump_table(cases)
    a.lea(r11, table)
    a.movsxd(rax, dword[r11 + rcx * 4])
    a.add(rax, r11)
    a.jmp(rax)
    for i, label in enumerate(cases):
        a.label(label)
        a.mov(eax, i)
        a.ret()
    code = a.finish()
    base = rip_target(disasm(code)[0])
    entries = struct.unpack_from("<3i", code, base)
    assert [base + e for e in entries] == [a.label_offset(c) for c in cases]


def test_align_pads_with_nops() -> None:
    a = Assembler(ALL_FEATURES)
    a.mov(eax, 1)
    a.align(32)
    top = a.label()
    a.ret()
    code = a.finish()
    assert a.label_offset(top) == 32
    assert all(i.mnemonic == "nop" for i in disasm(code[5:32]))
    assert sum(i.size for i in disasm(code[5:32])) == 27


# --------------------------------------------------------------------------- features

def test_missing_cpu_feature_raises() -> None:
    a = Assembler({"sse2"})
    a.addps(xmm0, xmm1)
    for build in (lambda: a.vaddps(ymm0, ymm1, ymm0), lambda: a.roundss(xmm0, xmm1, 4),
                  lambda: a.popcnt(eax, ecx), lambda: a.vfmadd231ps(xmm0, xmm1, xmm0),
                  lambda: a.tzcnt(eax, ecx)):
        with pytest.raises(AsmError, match="feature"):
            build()
    b = Assembler({"sse4_1"})
    b.roundss(xmm0, xmm1, 4)
    b.pmulld(xmm0, xmm1)
    c = Assembler({"avx2", "fma", "avx512f"})
    c.vaddps(zmm0, zmm0, zmm0)
    with pytest.raises(AsmError, match="avx512vl"):
        c.vaddps(xmm16, xmm0, xmm0)                 # EVEX.128 needs AVX512VL
    with pytest.raises(AsmError, match="avx512dq"):
        c.vxorps(zmm0, zmm0, zmm0)


def test_feature_detection_and_override(monkeypatch: pytest.MonkeyPatch) -> None:
    host = cpu.host_features()
    assert cpu.BASELINE <= host <= cpu.ALL_FEATURES
    monkeypatch.setenv(cpu.ENV_VAR, "sse2,sse4_1")
    cpu._detect.cache_clear()
    try:
        assert cpu.host_features() == {"base", "sse", "sse2", "sse3", "ssse3", "sse4_1"}
        with pytest.raises(AsmError):
            Assembler().vaddps(ymm0, ymm0, ymm0)
    finally:
        monkeypatch.delenv(cpu.ENV_VAR)
        cpu._detect.cache_clear()
    assert cpu.parse_features("avx512vl") >= {"avx512f", "avx2", "avx", "fma", "sse4_2"}
    assert cpu.parse_features("all") == cpu.ALL_FEATURES
    with pytest.raises(AsmError, match="sse41"):
        cpu.parse_features("sse2,sse41")


def test_cpuinfo_parsing(tmp_path) -> None:
    f = tmp_path / "cpuinfo"
    f.write_text("processor\t: 0\nflags\t\t: fpu sse sse2 pni ssse3 sse4_1 popcnt abm avx fma\n")
    feats = cpu.cpuinfo_features(str(f))
    assert {"sse3", "lzcnt", "popcnt", "avx", "fma", "sse4_2"} <= feats and "avx2" not in feats
    assert cpu.cpuinfo_features(str(tmp_path / "missing")) == cpu.BASELINE


# --------------------------------------------------------------------------- tags and listing

def test_tags_map_code_offsets_to_bytecode_offsets() -> None:
    a = Assembler(ALL_FEATURES)
    a.set_tag(0x10)
    a.mov(eax, edi)              # 0: 2 bytes
    a.add(eax, 1000)             # 2: 5 bytes
    a.set_tag(0x18)
    a.imul(eax, esi)             # 7: 3 bytes
    a.nop(tag=None)              # 10: untagged
    a.ret(tag=0x20)              # 11
    a.finish()
    assert a.tag_map == {0: 0x10, 2: 0x10, 7: 0x18, 11: 0x20}
    assert a.listing == [(0, "mov eax, edi"), (2, "add eax, 0x3e8"), (7, "imul eax, esi"),
                         (10, "nop"), (11, "ret")]
    assert [a.tag_at(o) for o in (0, 1, 6, 8, 10, 11)] == [0x10, 0x10, 0x10, 0x18, None, 0x20]


def test_finished_assembler_rejects_more_code() -> None:
    a = Assembler(ALL_FEATURES)
    a.ret()
    assert a.finish() == a.finish() == b"\xc3"
    with pytest.raises(AsmError, match="finished"):
        a.ret()


# --------------------------------------------------------------------------- execution

class ExecutableCode:
    """Code in its own mapping: written while RW, then mprotect'ed to RX (never W+X)."""

    PROT_READ, PROT_WRITE, PROT_EXEC = 1, 2, 4

    def __init__(self, code: bytes):
        size = max(mmap.PAGESIZE, -(-len(code) // mmap.PAGESIZE) * mmap.PAGESIZE)
        self._map = mmap.mmap(-1, size, prot=mmap.PROT_READ | mmap.PROT_WRITE)
        self._map.write(code)
        self._anchor = ctypes.c_char.from_buffer(self._map)
        self.address = ctypes.addressof(self._anchor)
        libc = ctypes.CDLL(None, use_errno=True)
        libc.mprotect.argtypes = (ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int)
        if libc.mprotect(self.address, size, self.PROT_READ | self.PROT_EXEC) != 0:
            raise OSError(ctypes.get_errno(), "mprotect failed")

    def function(self, restype, *argtypes):
        """A ctypes callable; valid only while this object is alive."""
        return ctypes.CFUNCTYPE(restype, *argtypes)(self.address)


def test_execute_int_mul_add() -> None:
    a = Assembler()                      # int f(int a, int b) { return a*b + 7; }
    a.mov(eax, edi)
    a.imul(eax, esi)
    a.add(eax, 7)
    a.ret()
    code = ExecutableCode(a.finish())
    f = code.function(ctypes.c_int, ctypes.c_int, ctypes.c_int)
    assert f(6, 7) == 49 and f(-3, 5) == -8 and f(0x10000, 0x10000) == 7


def test_execute_loop_with_relaxed_branch_and_float_constants() -> None:
    a = Assembler()                      # float g(int n) { float s = 0; while (n) s += n-- * 0.5f; }
    loop, done = Label("loop"), Label("done")
    a.xorps(xmm0, xmm0)
    a.test(edi, edi)
    a.jz(done)
    a.label(loop)
    a.cvtsi2ss(xmm1, edi)
    a.mulss(xmm1, a.const_f32(0.5))
    a.addss(xmm0, xmm1)
    a.db(b"\x90" * 130)                  # forces the back edge to rel32
    a.dec(edi)
    a.jnz(loop)
    a.label(done)
    a.ret()
    code_bytes = a.finish()
    assert any(i.mnemonic == "jne" and i.size == 6 for i in disasm(code_bytes))
    code = ExecutableCode(code_bytes)    # keep the mapping alive while calling
    g = code.function(ctypes.c_float, ctypes.c_int)
    assert g(0) == 0.0 and g(10) == 27.5


@pytest.mark.skipif(not {"avx2", "fma"} <= cpu.host_features(), reason="host lacks AVX2/FMA")
def test_execute_avx2_fma_axpy() -> None:
    a = Assembler()                      # void axpy8(float *y, const float *x): y = 2x + y
    a.vmovups(ymm0, a.const_f32s([2.0] * 8))
    a.vmovups(ymm1, ymmword[rdi])
    a.vfmadd231ps(ymm1, ymm0, ymmword[rsi])
    a.vmovups(ymmword[rdi], ymm1)
    a.vzeroupper()
    a.ret()
    code = ExecutableCode(a.finish())
    f = code.function(None, ctypes.c_void_p, ctypes.c_void_p)
    y = (ctypes.c_float * 8)(*range(8))
    x = (ctypes.c_float * 8)(*[1.0] * 8)
    f(ctypes.addressof(y), ctypes.addressof(x))
    assert list(y) == [float(i + 2) for i in range(8)]


@pytest.mark.parametrize("length", [0, 1, 7, 9, 10, 15, 63, 64, 100])
def test_nop_padding_is_that_many_bytes_of_the_fewest_nops(length: int) -> None:
    """Padding (precomputed below 64 bytes, made above) is `length` bytes that capstone
    decodes as ceil(length / 9) NOPs, the longest recommended one being 9 bytes."""
    code = nop_padding(length)
    insns = list(CS.disasm(code, 0))
    assert len(code) == length and sum(i.size for i in insns) == length
    assert {i.mnemonic for i in insns} <= {"nop"} and len(insns) == -(-length // 9)
