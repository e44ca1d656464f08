"""`!vm.list` ops (IREE 3.13's list.c / bytecode dispatch semantics).

A list ref is a `ListDesc*` (runtime/abi.py); its elements are 16-byte slots (u32 tag, u64
canonical value: integers sign-extended, f32 bits zero-extended). size/get/set are inline:
null check (TRAP_NULL_REF), list-type check (TRAP_TYPE), index as an unsigned 32-bit count
checked against the size (TRAP_OUT_OF_BOUNDS), then the slot. alloc/reserve/resize call the
`list_*` helpers (runtime/lists.py), which trap with TRAP_HELPER past MAX_LIST_CAPACITY.

Conversions follow `iree_vm_list_get_value_as` / `iree_vm_list_set_value`: integer types
truncate / sign-extend among themselves, f32 <-> f64 convert, integer <-> float give 0. An
element that is not a value (empty variant, ref, any element of a ref list) traps on a value
get (TRAP_TYPE), like IREE's FAILED_PRECONDITION; so do value sets on ref lists, ref gets
and sets on value lists, and storing a ref of the wrong type into a ref list. `list.get.ref`
of a ref whose type differs from the op's type_def yields null (IREE's behaviour, not a trap).
"""
from __future__ import annotations

from ..runtime import abi
from ..runtime.lists import element_kind, ref_type_tag
from . import operands as R
from .operands import dword, qword
from .ops_memory import _call_helper

TAG = {"i32": abi.ELEM_I32, "i64": abi.ELEM_I64, "f32": abi.ELEM_F32, "f64": abi.ELEM_F64}
OTHER_FLOAT = {abi.ELEM_F32: abi.ELEM_F64, abi.ELEM_F64: abi.ELEM_F32}


def _list(L, reg, into=R.r10):
    """`into` = the ListDesc* in ref `reg`; traps on null or on a ref that is not a list."""
    L.read_ref(reg, into)
    L.check_nonnull(into)
    L.a.cmp(dword[into + abi.LIST_TYPE], abi.TYPE_LIST)
    L.a.jne(L.trap_label(abi.TRAP_TYPE))
    return into


def _slot(L, list_reg, index_reg):
    """rax = address of slot `index` (unsigned) after the bounds check; r10 = ListDesc*."""
    a = L.a
    _list(L, list_reg)
    L.load_gpr(index_reg, R.rax)             # 32-bit load: zero-extends into rax
    a.cmp(R.rax, qword[R.r10 + abi.LIST_COUNT])
    a.jae(L.trap_label(abi.TRAP_OUT_OF_BOUNDS))
    a.shl(R.rax, 4)
    a.add(R.rax, qword[R.r10 + abi.LIST_STORAGE])


def _value_tag(L):
    """ecx = the slot's tag; traps unless it holds a value (ELEM_I8 .. ELEM_F64)."""
    a = L.a
    a.mov(R.ecx, dword[R.rax])
    a.mov(R.edx, R.ecx)
    a.sub(R.edx, abi.ELEM_I8)
    a.cmp(R.edx, abi.ELEM_F64 - abi.ELEM_I8)
    a.ja(L.trap_label(abi.TRAP_TYPE))


def size(L, ins):
    a, args = L.a, ins.args
    _list(L, args["list"])
    a.mov(R.eax, dword[R.r10 + abi.LIST_COUNT])
    L.write_gpr(args["result"], R.eax)


def get_int(L, ins):
    """list.get.i32/i64: integer elements give their (truncated) value, float elements 0."""
    a, args = L.a, ins.args
    _slot(L, args["list"], args["index"])
    _value_tag(L)
    a.mov(R.rdx, qword[R.rax + 8])
    a.xor(R.r11d, R.r11d)
    a.cmp(R.ecx, abi.ELEM_F32)
    a.cmovae(R.rdx, R.r11)
    L.write_gpr(args["result"], R.rdx)


def get_float(L, ins):
    """list.get.f32/f64: same-width floats as stored, the other width converted, ints 0."""
    a, args = L.a, ins.args
    want = TAG[args["result"].type]
    _slot(L, args["list"], args["index"])
    _value_tag(L)
    same, other, done = R.Label(), R.Label(), R.Label()
    a.cmp(R.ecx, want)
    a.je(same)
    a.cmp(R.ecx, OTHER_FLOAT[want])
    a.je(other)
    a.xorps(R.xmm0, R.xmm0)
    a.jmp(done)
    a.label(same)
    if want == abi.ELEM_F32:
        a.movss(R.xmm0, dword[R.rax + 8])
    else:
        a.movsd(R.xmm0, qword[R.rax + 8])
    a.jmp(done)
    a.label(other)
    if want == abi.ELEM_F32:
        a.cvtsd2ss(R.xmm0, qword[R.rax + 8])
    else:
        a.cvtss2sd(R.xmm0, dword[R.rax + 8])
    a.label(done)
    L.write_xmm(args["result"], R.xmm0)


def _store_kind(L, variant):
    """ecx = the list's kind; jumps to `variant` for variant lists, traps for ref lists."""
    a = L.a
    a.mov(R.ecx, dword[R.r10 + abi.LIST_KIND])
    a.test(R.ecx, R.ecx)
    a.jz(variant)
    a.cmp(R.ecx, abi.ELEM_REF)
    a.jae(L.trap_label(abi.TRAP_TYPE))


def set_int(L, ins):
    """list.set.i32/i64: value lists keep the value converted to their element type (ints
    wrap to its width, float lists get 0); variant elements become an i32/i64 value."""
    a, args = L.a, ins.args
    value = args["value"]
    L.load_gpr(value, R.rdx)
    if value.type == "i32":
        a.movsxd(R.rdx, R.edx)
    _slot(L, args["list"], args["index"])
    variant, ints, store = R.Label(), R.Label(), R.Label()
    _store_kind(L, variant)
    a.cmp(R.ecx, abi.ELEM_F32)
    a.jb(ints)
    a.xor(R.edx, R.edx)
    a.jmp(store)
    a.label(ints)
    a.mov(R.ecx, dword[R.r10 + abi.LIST_SHIFT])
    a.shl(R.rdx, R.cl)
    a.sar(R.rdx, R.cl)
    a.jmp(store)
    a.label(variant)
    a.mov(dword[R.rax], TAG[value.type])
    a.label(store)
    a.mov(qword[R.rax + 8], R.rdx)


def set_float(L, ins):
    """list.set.f32/f64: float lists store it (converted to their width), integer lists get
    0; variant elements become an f32/f64 value."""
    a, args = L.a, ins.args
    value = args["value"]
    tag = TAG[value.type]
    L.load_xmm(value, R.xmm0)
    _slot(L, args["list"], args["index"])
    variant, same, other, done = R.Label(), R.Label(), R.Label(), R.Label()
    _store_kind(L, variant)
    a.cmp(R.ecx, tag)
    a.je(same)
    a.cmp(R.ecx, OTHER_FLOAT[tag])
    a.je(other)
    a.mov(qword[R.rax + 8], 0)
    a.jmp(done)
    a.label(other)
    if tag == abi.ELEM_F32:
        a.cvtss2sd(R.xmm1, R.xmm0)
        a.movsd(qword[R.rax + 8], R.xmm1)
    else:
        a.cvtsd2ss(R.xmm1, R.xmm0)
        a.movd(R.edx, R.xmm1)                # zero-extends: canonical f32
        a.mov(qword[R.rax + 8], R.rdx)
    a.jmp(done)
    a.label(variant)
    a.mov(dword[R.rax], tag)
    a.label(same)
    if tag == abi.ELEM_F32:
        a.movd(R.edx, R.xmm0)
        a.mov(qword[R.rax + 8], R.rdx)
    else:
        a.movsd(qword[R.rax + 8], R.xmm0)
    a.label(done)


def get_ref(L, ins):
    """list.get.ref: the element ref (null for an empty variant), or null when its type is
    not `type_def`'s. A result register with the move bit moves the ref out (IREE does)."""
    a, args = L.a, ins.args
    _slot(L, args["list"], args["index"])
    ok = R.Label()
    a.mov(R.ecx, dword[R.rax])
    a.test(R.ecx, R.ecx)
    a.jz(ok)
    a.cmp(R.ecx, abi.ELEM_REF)
    a.jne(L.trap_label(abi.TRAP_TYPE))
    a.label(ok)
    a.mov(R.rdx, qword[R.rax + 8])
    result = args["result"]
    if result.move:                          # element becomes fresh: null ref / empty variant
        a.mov(qword[R.rax + 8], 0)
        a.mov(R.ecx, dword[R.r10 + abi.LIST_KIND])
        a.mov(dword[R.rax], R.ecx)
    want = ref_type_tag(L.m.types[args["type_def"]])
    if want is None or want == abi.TYPE_OTHER:  # no runtime object has this type
        a.xor(R.edx, R.edx)
    else:
        keep = R.Label()
        a.test(R.rdx, R.rdx)
        a.jz(keep)
        a.cmp(dword[R.rdx + abi.LIST_TYPE], want)
        a.je(keep)
        a.xor(R.edx, R.edx)
        a.label(keep)
    L.write_ref(result, R.rdx)


def set_ref(L, ins):
    """list.set.ref: ref lists check the ref's type (null always fits); variant elements
    become the ref, or empty for null (IREE's ref type def of a null ref is undefined)."""
    a, args = L.a, ins.args
    L.read_ref(args["value"], R.rdx)
    _slot(L, args["list"], args["index"])
    variant, store = R.Label(), R.Label()
    a.mov(R.ecx, dword[R.r10 + abi.LIST_KIND])
    a.test(R.ecx, R.ecx)
    a.jz(variant)
    a.cmp(R.ecx, abi.ELEM_REF)
    a.jne(L.trap_label(abi.TRAP_TYPE))
    a.test(R.rdx, R.rdx)
    a.jz(store)
    a.mov(R.ecx, dword[R.rdx + abi.LIST_TYPE])
    a.cmp(R.ecx, dword[R.r10 + abi.LIST_REF_TYPE])
    a.jne(L.trap_label(abi.TRAP_TYPE))
    a.jmp(store)
    a.label(variant)
    a.mov(R.r11d, abi.ELEM_REF)
    a.test(R.rdx, R.rdx)
    a.cmovnz(R.ecx, R.r11d)                  # ecx is 0 here (variant kind)
    a.mov(dword[R.rax], R.ecx)
    a.label(store)
    a.mov(qword[R.rax + 8], R.rdx)


# ---------------------------------------------------------------- helper calls
def alloc(L, ins):
    a, args = L.a, ins.args
    kind, ref_type = element_kind(L.m.types[args["element_type"]])
    L.load_gpr(args["initial_capacity"], R.rax)
    a.mov(R.ecx, R.eax)
    a.mov(R.esi, kind)
    a.mov(R.edx, ref_type)
    L.ctx(R.rdi)
    _call_helper(L, "list_alloc")
    L.write_ref(args["result"], R.rax)


def _grow(L, ins, count: str, helper: str):
    """list.reserve / list.resize: the count is unsigned 32-bit, like IREE's."""
    a, args = L.a, ins.args
    L.load_gpr(args[count], R.r11)
    _list(L, args["list"])
    a.mov(R.edx, R.r11d)
    a.mov(R.rsi, R.r10)
    L.ctx(R.rdi)
    _call_helper(L, helper)


def reserve(L, ins):
    _grow(L, ins, "minimum_capacity", "list_reserve")


def resize(L, ins):
    _grow(L, ins, "new_size", "list_resize")


HANDLERS = {"list.size": size, "list.alloc": alloc, "list.reserve": reserve,
            "list.resize": resize, "list.get.ref": get_ref, "list.set.ref": set_ref}
HANDLERS.update({f"list.get.{t}": get_int for t in ("i32", "i64")})
HANDLERS.update({f"list.set.{t}": set_int for t in ("i32", "i64")})
HANDLERS.update({f"list.get.{t}": get_float for t in ("f32", "f64")})
HANDLERS.update({f"list.set.{t}": set_float for t in ("f32", "f64")})
#: Ops lowered to helper calls (caller-saved registers die across them).
CALLS = {"list.alloc", "list.reserve", "list.resize"}
