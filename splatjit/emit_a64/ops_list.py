"""`!vm.list` ops (IREE 3.13's list.c / bytecode dispatch semantics).

The twin of emit_x64/ops_list.py, whose docstring states the semantics: a list ref is a
`ListDesc*` with 16-byte slots (u32 tag, u64 canonical value); size/get/set are inline with
null (TRAP_NULL_REF), type (TRAP_TYPE) and bounds (TRAP_OUT_OF_BOUNDS) checks;
alloc/reserve/resize call the `list_*` helpers. Scratch: x3 = ListDesc*, x0 = slot address,
w1 = tag or kind, x2 = value.
"""
from __future__ import annotations

from ..runtime import abi
from ..runtime.lists import element_kind, ref_type_tag
from . import operands as R
from .lower import fview, gview
from .operands import Label, mem
from .ops_memory import call_helper

TAG = {"i32": abi.ELEM_I32, "i64": abi.ELEM_I64, "f32": abi.ELEM_F32, "f64": abi.ELEM_F64}
OTHER_FLOAT = {abi.ELEM_F32: abi.ELEM_F64, abi.ELEM_F64: abi.ELEM_F32}


def _list(L, reg, into=R.x3):
    """`into` = the ListDesc* in ref `reg`; traps on null or on a ref that is not a list."""
    a = L.a
    L.read_ref(reg, into)
    L.check_nonnull(into)
    a.ldr(R.w16, mem(into, abi.LIST_TYPE))
    a.cmp(R.w16, abi.TYPE_LIST)
    a.b_ne(L.trap_label(abi.TRAP_TYPE))
    return into


def _slot(L, list_reg, index_reg):
    """x0 = address of slot `index` (unsigned 32-bit) after the bounds check; x3 = ListDesc*."""
    a = L.a
    _list(L, list_reg)
    idx = L.load_gpr(index_reg, R.x0)       # a W write: zero-extended into x0
    a.ldr(R.x16, mem(R.x3, abi.LIST_COUNT))
    a.cmp(idx.x, R.x16)
    a.b_hs(L.trap_label(abi.TRAP_OUT_OF_BOUNDS))
    a.ldr(R.x16, mem(R.x3, abi.LIST_STORAGE))
    a.add(R.x0, R.x16, R.x0.lsl(4))


def _value_tag(L):
    """w1 = the slot's tag; traps unless it holds a value (ELEM_I8 .. ELEM_F64)."""
    a = L.a
    a.ldr(R.w1, mem(R.x0, 0))
    a.sub(R.w2, R.w1, abi.ELEM_I8)
    a.cmp(R.w2, abi.ELEM_F64 - abi.ELEM_I8)
    a.b_hi(L.trap_label(abi.TRAP_TYPE))


def size(L, ins):
    args = ins.args
    _list(L, args["list"])
    d = L.dest_gpr(args["result"], R.x0)
    L.a.ldr(d, mem(R.x3, abi.LIST_COUNT))   # the low half of the u64 count
    L.write_gpr(args["result"], d)


def get_int(L, ins):
    """list.get.i32/i64: integer elements give their (truncated) value, float elements 0."""
    a, args = L.a, ins.args
    _slot(L, args["list"], args["index"])
    _value_tag(L)
    a.ldr(R.x2, mem(R.x0, 8))
    a.cmp(R.w1, abi.ELEM_F32)
    a.csel(R.x2, R.xzr, R.x2, "hs")
    L.write_gpr(args["result"], R.x2)


def get_float(L, ins):
    """list.get.f32/f64: same-width floats as stored, the other width converted, ints 0."""
    a, args = L.a, ins.args
    want = TAG[args["result"].type]
    bits = 32 if want == abi.ELEM_F32 else 64
    other = 64 if bits == 32 else 32
    _slot(L, args["list"], args["index"])
    _value_tag(L)
    same, conv, done = Label(), Label(), Label()
    a.cmp(R.w1, want)
    a.b_eq(same)
    a.cmp(R.w1, OTHER_FLOAT[want])
    a.b_eq(conv)
    a.fmov(fview(0, bits), gview(R.xzr, bits))
    a.b(done)
    a.bind(same)
    a.ldr(fview(0, bits), mem(R.x0, 8))
    a.b(done)
    a.bind(conv)
    a.ldr(fview(1, other), mem(R.x0, 8))
    a.fcvt(fview(0, bits), fview(1, other))
    a.bind(done)
    L.write_fpr(args["result"], fview(0, bits))


def _store_kind(L, variant):
    """w1 = the list's kind; jumps to `variant` for variant lists, traps for ref lists."""
    a = L.a
    a.ldr(R.w1, mem(R.x3, abi.LIST_KIND))
    a.cbz(R.w1, variant)
    a.cmp(R.w1, abi.ELEM_REF)
    a.b_hs(L.trap_label(abi.TRAP_TYPE))


def set_int(L, ins):
    """list.set.i32/i64: value lists keep the value converted to their element type (ints
    wrap to its width, float lists get 0); variant elements become an i32/i64 value."""
    a, args = L.a, ins.args
    value = args["value"]
    v = L.read_gpr(value, R.x2)
    if value.type == "i32":
        a.sxtw(R.x2, v)
    elif v != R.x2:
        a.mov(R.x2, v)
    _slot(L, args["list"], args["index"])
    variant, ints, store = Label(), Label(), Label()
    _store_kind(L, variant)
    a.cmp(R.w1, abi.ELEM_F32)
    a.b_lo(ints)
    a.mov(R.x2, 0)
    a.b(store)
    a.bind(ints)
    a.ldr(R.w1, mem(R.x3, abi.LIST_SHIFT))
    a.lslv(R.x2, R.x2, R.x1)
    a.asrv(R.x2, R.x2, R.x1)
    a.b(store)
    a.bind(variant)
    a.mov(R.w16, TAG[value.type])
    a.str(R.w16, mem(R.x0, 0))
    a.bind(store)
    a.str(R.x2, mem(R.x0, 8))


def set_float(L, ins):
    """list.set.f32/f64: float lists store it (converted to their width), integer lists get
    0; variant elements become an f32/f64 value."""
    a, args = L.a, ins.args
    value = args["value"]
    tag = TAG[value.type]
    bits = 32 if tag == abi.ELEM_F32 else 64
    other = 64 if bits == 32 else 32
    v = L.load_fpr(value, R.v0)
    _slot(L, args["list"], args["index"])
    variant, same, conv, done = Label(), Label(), Label(), Label()
    _store_kind(L, variant)
    a.cmp(R.w1, tag)
    a.b_eq(same)
    a.cmp(R.w1, OTHER_FLOAT[tag])
    a.b_eq(conv)
    a.str(R.xzr, mem(R.x0, 8))
    a.b(done)
    a.bind(conv)
    a.fcvt(fview(1, other), v)
    a.fmov(gview(R.x2, other), fview(1, other))  # an f32 zero-extends: canonical
    a.str(R.x2, mem(R.x0, 8))
    a.b(done)
    a.bind(variant)
    a.mov(R.w16, tag)
    a.str(R.w16, mem(R.x0, 0))
    a.bind(same)
    a.fmov(gview(R.x2, bits), v)
    a.str(R.x2, mem(R.x0, 8))
    a.bind(done)


def get_ref(L, ins):
    """list.get.ref: the element ref (null for an empty variant), or null when its type is
    not `type_def`'s. A result register with the move bit moves the ref out (IREE does)."""
    a, args = L.a, ins.args
    _slot(L, args["list"], args["index"])
    ok = Label()
    a.ldr(R.w1, mem(R.x0, 0))
    a.cbz(R.w1, ok)
    a.cmp(R.w1, abi.ELEM_REF)
    a.b_ne(L.trap_label(abi.TRAP_TYPE))
    a.bind(ok)
    a.ldr(R.x2, mem(R.x0, 8))
    result = args["result"]
    if result.move:                          # element becomes fresh: null ref / empty variant
        a.str(R.xzr, mem(R.x0, 8))
        a.ldr(R.w1, mem(R.x3, abi.LIST_KIND))
        a.str(R.w1, mem(R.x0, 0))
    want = ref_type_tag(L.m.types[args["type_def"]])
    if want is None or want == abi.TYPE_OTHER:  # no runtime object has this type
        a.mov(R.x2, 0)
    else:
        keep = Label()
        a.cbz(R.x2, keep)
        a.ldr(R.w1, mem(R.x2, abi.LIST_TYPE))
        a.cmp(R.w1, want)
        a.csel(R.x2, R.x2, R.xzr, "eq")
        a.bind(keep)
    L.write_ref(result, R.x2)


def set_ref(L, ins):
    """list.set.ref: ref lists check the ref's type (null always fits); variant elements
    become the ref, or empty for null."""
    a, args = L.a, ins.args
    L.read_ref(args["value"], R.x2)
    _slot(L, args["list"], args["index"])
    variant, store = Label(), Label()
    a.ldr(R.w1, mem(R.x3, abi.LIST_KIND))
    a.cbz(R.w1, variant)
    a.cmp(R.w1, abi.ELEM_REF)
    a.b_ne(L.trap_label(abi.TRAP_TYPE))
    a.cbz(R.x2, store)
    a.ldr(R.w1, mem(R.x2, abi.LIST_TYPE))
    a.ldr(R.w16, mem(R.x3, abi.LIST_REF_TYPE))
    a.cmp(R.w1, R.w16)
    a.b_ne(L.trap_label(abi.TRAP_TYPE))
    a.b(store)
    a.bind(variant)
    a.mov(R.w16, abi.ELEM_REF)
    a.cmp(R.x2, 0)
    a.csel(R.w1, R.w16, R.wzr, "ne")
    a.str(R.w1, mem(R.x0, 0))
    a.bind(store)
    a.str(R.x2, mem(R.x0, 8))


# ---------------------------------------------------------------- helper calls
def alloc(L, ins):
    a, args = L.a, ins.args
    kind, ref_type = element_kind(L.m.types[args["element_type"]])
    L.load_gpr(args["initial_capacity"], R.x3)
    a.mov(R.w1, kind)
    a.mov(R.w2, ref_type)
    L.ctx(R.x0)
    call_helper(L, "list_alloc")
    L.write_ref(args["result"], R.x0)


def _grow(L, ins, count: str, helper: str):
    """list.reserve / list.resize: the count is unsigned 32-bit, like IREE's."""
    a, args = L.a, ins.args
    L.load_gpr(args[count], R.x2)
    _list(L, args["list"])
    a.mov(R.x1, R.x3)
    L.ctx(R.x0)
    call_helper(L, helper)


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
