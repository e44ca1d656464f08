"""`!vm.list` at run time: native lists (abi.ListDesc), the helpers that allocate and grow
them, and conversion between Python lists and native lists.

Semantics are IREE 3.13's (`runtime/src/iree/vm/list.c`): a list is a variant list
(`!vm.list<?>`, each element empty, a value of any type, or a ref), a value list (`i8` ..
`f64`, values converted to the element type on set and from it on get) or a ref list (refs of
one type). Generated code does get/set/size inline (emit_x64/ops_list.py); only alloc,
reserve and resize call the helpers here, which may move a list's slot array.

Invariant: slots past `count` are fresh (tag = the list's kind, value 0), so growing a list
within its capacity needs no clearing; shrinking clears the dropped slots, as IREE does.

Ownership: every NativeList is in `_REGISTRY`, a map of weak references that `list_at`
reads (helpers find a list by address);
lists made by helpers are held by their module's `ListHeap` until a collection finds them
unreachable; lists made from Python arguments are held by the call's Arena.
"""
from __future__ import annotations

import ctypes
import functools
import struct
import weakref

import numpy as np

from . import abi
from .objects import array_address

#: Most elements a list may hold; larger reserve/resize/alloc requests fail (TRAP_HELPER)
#: instead of exhausting memory.
MAX_LIST_CAPACITY = 1 << 24

SLOT = np.dtype([("tag", "<u4"), ("pad", "<u4"), ("value", "<i8")])
assert SLOT.itemsize == abi.LIST_SLOT

VALUE_KINDS = {"i8": abi.ELEM_I8, "i16": abi.ELEM_I16, "i32": abi.ELEM_I32, "i64": abi.ELEM_I64,
               "f32": abi.ELEM_F32, "f64": abi.ELEM_F64}
KIND_NAMES = {k: n for n, k in VALUE_KINDS.items()}
INT_BITS = {abi.ELEM_I8: 8, abi.ELEM_I16: 16, abi.ELEM_I32: 32, abi.ELEM_I64: 64}
REF_NAMES = {abi.TYPE_BUFFER: "!vm.buffer", abi.TYPE_LIST: "!vm.list", abi.TYPE_OTHER: "!vm.ref"}

_REGISTRY: "dict[int, weakref.ref[NativeList]]" = {}


def list_at(address: int) -> "NativeList | None":
    """The live NativeList whose ListDesc is at `address`, if any."""
    ref = _REGISTRY.get(address)
    return None if ref is None else ref()


def ref_type_tag(type_name: str):
    """The TYPE_* tag objects of ref type `type_name` carry; None for value types and for
    `!vm.opaque` (IREE's undefined type, which no ref matches)."""
    if type_name == "!vm.buffer":
        return abi.TYPE_BUFFER
    if type_name.startswith("!vm.list"):
        return abi.TYPE_LIST
    if type_name in VALUE_KINDS or type_name in ("!vm.opaque", "?"):
        return None
    return abi.HOST_TYPE_TAGS.get(type_name, abi.TYPE_OTHER)


def element_kind(type_name: str) -> tuple[int, int]:
    """(LIST_KIND, LIST_REF_TYPE) of a list whose element type is `type_name` (a name from
    the module's type table: `i8`.. `f64`, `!vm.opaque` for `?`, or a ref type)."""
    if type_name in VALUE_KINDS:
        return VALUE_KINDS[type_name], 0
    tag = ref_type_tag(type_name)
    return (abi.ELEM_NONE, 0) if tag is None else (abi.ELEM_REF, tag)


def _fresh(kind: int, n: int) -> np.ndarray:
    """max(n, 1) fresh slots of a list of `kind` (tag = kind, value 0)."""
    slots = np.zeros(max(n, 1), SLOT)
    if kind:
        slots["tag"] = kind
    return slots


def is_list(address: int) -> bool:
    """Whether the ref `address` (a BufferDesc* or ListDesc*, non-null) is a list."""
    return ctypes.c_uint32.from_address(address + abi.LIST_TYPE).value == abi.TYPE_LIST


class NativeList:
    """One list: its ListDesc (at a stable `address`) and its slot array `storage` (replaced
    on growth; at least one slot, so it always has an address, even at capacity 0)."""

    __slots__ = ("desc", "storage", "address", "__weakref__")

    def __init__(self, kind: int, ref_type: int = 0, capacity: int = 0):
        """An empty list of `kind` (and `ref_type` for ref lists) with room for `capacity`
        elements (at most MAX_LIST_CAPACITY)."""
        shift = 64 - INT_BITS[kind] if kind in INT_BITS else 0
        self.storage = _fresh(kind, capacity)
        self.desc = abi.ListDesc(array_address(self.storage), 0, kind, abi.TYPE_LIST,
                                 capacity, ref_type, shift)
        self.address = ctypes.addressof(self.desc)
        _REGISTRY[self.address] = weakref.ref(self)

    def __del__(self):
        try:
            del _REGISTRY[self.address]
        except Exception:  # noqa: BLE001 - interpreter shutdown
            pass

    def _fresh(self, n: int) -> np.ndarray:
        return _fresh(self.desc.kind, n)

    def reserve(self, minimum: int) -> bool:
        """Capacity >= `minimum` (elements); False when that exceeds MAX_LIST_CAPACITY."""
        d = self.desc
        if d.capacity >= minimum:
            return True
        if minimum > MAX_LIST_CAPACITY:
            return False
        capacity = min(max(minimum, 2 * d.capacity), MAX_LIST_CAPACITY)
        slots = self._fresh(capacity)
        if d.capacity:
            slots[:d.capacity] = self.storage[:d.capacity]
        self.storage = slots
        d.storage, d.capacity = array_address(slots), capacity
        return True

    def resize(self, n: int) -> bool:
        """IREE's resize: shrinking clears the dropped elements, growing adds fresh ones."""
        d = self.desc
        if n < d.count:
            self.storage[n:d.count] = self._fresh(d.count - n)
        elif n > d.capacity and not self.reserve(n):
            return False
        d.count = n
        return True

    def refs(self) -> list[int]:
        """Addresses of the non-null refs this list holds."""
        s = self.storage[:self.desc.count]
        return s["value"][(s["tag"] == abi.ELEM_REF) & (s["value"] != 0)].tolist()


# ---------------------------------------------------------------- helpers (abi.HELPERS)
ALLOC_FN = ctypes.CFUNCTYPE(ctypes.c_uint64, ctypes.c_void_p, ctypes.c_uint32, ctypes.c_uint32,
                            ctypes.c_uint32)
GROW_FN = ctypes.CFUNCTYPE(ctypes.c_uint64, ctypes.c_void_p, ctypes.c_uint64, ctypes.c_uint32)


def _list_alloc(by_address: dict, ctx, kind: int, ref_type: int, capacity: int) -> int:
    try:
        if kind > abi.ELEM_REF or capacity > MAX_LIST_CAPACITY:
            return 0
        lst = NativeList(kind, ref_type)
        lst.reserve(capacity)
        by_address[lst.address] = lst
        return lst.address
    except Exception:  # noqa: BLE001 - MemoryError and the like: the op traps
        return 0


def _list_reserve(ctx, address: int, minimum: int) -> int:
    lst = list_at(address)
    try:
        return address if lst is not None and lst.reserve(minimum) else 0
    except Exception:  # noqa: BLE001
        return 0


def _list_resize(ctx, address: int, n: int) -> int:
    lst = list_at(address)
    try:
        return address if lst is not None and lst.resize(n) else 0
    except Exception:  # noqa: BLE001
        return 0


#: shared by every heap: they keep no state
_RESERVE_FN, _RESIZE_FN = GROW_FN(_list_reserve), GROW_FN(_list_resize)
_RESERVE_ADDRESS, _RESIZE_ADDRESS = abi.function_address(_RESERVE_FN), abi.function_address(_RESIZE_FN)
_ALLOC_SLOT, _RESERVE_SLOT, _RESIZE_SLOT = (abi.HELPERS.index(n) for n in (
    "list_alloc", "list_reserve", "list_resize"))


class ListHeap:
    """The list helpers of one module (installed into its helper `table`) and the lists they
    made, which live until `collect` finds them unreachable. The alloc callback refers to
    `by_address`, not to the heap (no reference cycle)."""

    def __init__(self, table, alloc: int | None = None):
        """`alloc`: the address of a list_alloc callback that finds this heap's
        `by_address` itself (shared by every heap, runtime/helpers.py); None: one of its own."""
        self.by_address: dict[int, NativeList] = {}
        if alloc is None:
            self._fns = (ALLOC_FN(functools.partial(_list_alloc, self.by_address)),)
            alloc = abi.function_address(self._fns[0])
        table[_ALLOC_SLOT] = alloc
        table[_RESERVE_SLOT] = _RESERVE_ADDRESS
        table[_RESIZE_SLOT] = _RESIZE_ADDRESS

    def lookup(self, address: int):
        return self.by_address.get(address)

    def collect(self, keep) -> None:
        """Drops the lists this heap made that are not in `keep` (see `reachable`); in place,
        so a reference to `by_address` stays valid."""
        for a in [a for a in self.by_address if a not in keep]:
            del self.by_address[a]


def reachable(roots) -> set[int]:
    """`roots` (ref addresses) plus every ref reachable from them through lists."""
    seen: set[int] = set()
    stack = [a for a in roots if a]
    while stack:
        a = stack.pop()
        if a in seen:
            continue
        seen.add(a)
        lst = list_at(a)
        if lst is not None and is_list(a):
            stack.extend(lst.refs())
    return seen


# ---------------------------------------------------------------- Python -> native
class TypedList(list):
    """A Python list that marshals as a typed `!vm.list<element_type>` (`i8` .. `f64`,
    `!vm.buffer`, `!vm.list`); a plain Python list marshals as a variant list `!vm.list<?>`.
    Typed lists a function returns come back as TypedList; compares equal to plain lists."""

    def __init__(self, element_type: str, values=()):
        super().__init__(values)
        if element_type.startswith("!vm.list"):
            element_type = "!vm.list"
        if element_type not in VALUE_KINDS and element_type not in REF_NAMES.values():
            raise ValueError(f"TypedList element type must be one of "
                             f"{', '.join([*VALUE_KINDS, *REF_NAMES.values()])}, got {element_type!r}")
        self.element_type = element_type

    def __repr__(self):
        return f"TypedList({self.element_type!r}, {list.__repr__(self)})"


def _sext(v: int, bits: int) -> int:
    v &= (1 << bits) - 1
    return v - (1 << bits) if v >> (bits - 1) else v


def _f32_bits(x) -> int:
    with np.errstate(over="ignore"):
        return int(np.float32(x).view(np.uint32))


def _f64_bits(x) -> int:
    return struct.unpack("<q", struct.pack("<d", float(x)))[0]


def _is_int(v) -> bool:
    return isinstance(v, (int, np.integer)) and not isinstance(v, (bool, np.bool_))


def _variant(v, arena, where: str) -> tuple[int, int]:
    """(tag, canonical value) of a Python value in a variant list (as IREE's Python binding
    pushes them: int -> i64, float -> f64; numpy scalars keep their width)."""
    if v is None:
        return abi.ELEM_NONE, 0
    if isinstance(v, list):
        return abi.ELEM_REF, pack(v, arena, where)
    if isinstance(v, np.integer) and not isinstance(v, np.bool_):
        bits = v.dtype.itemsize * 8
        return {8: abi.ELEM_I8, 16: abi.ELEM_I16, 32: abi.ELEM_I32, 64: abi.ELEM_I64}[bits], \
            _sext(int(v), bits)
    if _is_int(v):
        if not -(1 << 63) <= v < 1 << 64:
            raise TypeError(f"{where}: {v} does not fit i64")
        return abi.ELEM_I64, _sext(int(v), 64)
    if isinstance(v, np.floating):
        if v.dtype == np.float32:
            return abi.ELEM_F32, _f32_bits(v)
        if v.dtype == np.float64:
            return abi.ELEM_F64, _f64_bits(v)
        raise TypeError(f"{where}: {v.dtype} list elements are not supported (use f32 or f64)")
    if isinstance(v, float):
        return abi.ELEM_F64, _f64_bits(v)
    if isinstance(v, (bool, np.bool_)):
        raise TypeError(f"{where}: bool list elements are not supported")
    return abi.ELEM_REF, arena.buffer(v)


def _typed(v, kind: int, ref_type: int, arena, where: str) -> tuple[int, int]:
    """(tag, canonical value) of a Python value in a value or ref list."""
    name = KIND_NAMES.get(kind) or REF_NAMES.get(ref_type, "!vm.ref")
    if kind in INT_BITS:
        bits = INT_BITS[kind]
        if not _is_int(v) or not -(1 << (bits - 1)) <= int(v) < 1 << bits:
            raise TypeError(f"{where}: {v!r} is not an {name}")
        return kind, _sext(int(v), bits)
    if kind in (abi.ELEM_F32, abi.ELEM_F64):
        if isinstance(v, (bool, np.bool_)) or not isinstance(v, (int, float, np.integer, np.floating)):
            raise TypeError(f"{where}: {v!r} is not an {name}")
        return kind, _f32_bits(v) if kind == abi.ELEM_F32 else _f64_bits(v)
    if v is None:
        return abi.ELEM_REF, 0
    if isinstance(v, list):
        if ref_type != abi.TYPE_LIST:
            raise TypeError(f"{where}: a list cannot be an element of a list of {name}")
        return abi.ELEM_REF, pack(v, arena, where)
    if ref_type != abi.TYPE_BUFFER:
        raise TypeError(f"{where}: {type(v).__name__} cannot be an element of a list of {name}")
    return abi.ELEM_REF, arena.buffer(v)


def pack(obj: list, arena, where: str = "list") -> int:
    """The ListDesc* of a new native list with `obj`'s elements, held by `arena` (which maps
    it back to `obj`). The same Python list packs once per call, so sharing and cycles stay."""
    address = arena.packed.get(id(obj))
    if address is not None:
        return address
    if isinstance(obj, TypedList):
        kind, ref_type = element_kind(obj.element_type)
        if kind == abi.ELEM_REF and obj.element_type == "!vm.ref":
            ref_type = abi.TYPE_OTHER
    else:
        kind, ref_type = abi.ELEM_NONE, 0
    if len(obj) > MAX_LIST_CAPACITY:
        raise TypeError(f"{where}: lists may hold at most {MAX_LIST_CAPACITY} elements")
    lst = NativeList(kind, ref_type, len(obj))
    lst.resize(len(obj))
    address = lst.address
    arena.packed[id(obj)] = address
    arena.by_address[address] = (lst, obj)
    for i, v in enumerate(obj):
        item = f"{where}[{i}]"
        tag, value = (_variant(v, arena, item) if kind == abi.ELEM_NONE
                      else _typed(v, kind, ref_type, arena, item))
        lst.storage[i] = (tag, 0, value)
    return address


# ---------------------------------------------------------------- native -> Python
class RefReader:
    """Turns the native refs one call left behind into Python objects: lists passed in map
    back to the Python lists passed (see `sync_arguments`), other lists become new Python
    lists (one per native list, so sharing and cycles survive), buffers go through the
    arena, then `lookup_ref` (module-owned buffers, rodata)."""

    def __init__(self, arena, lookup_ref):
        self.arena, self.lookup_ref = arena, lookup_ref
        self.memo: dict[int, list] = {}

    def to_python(self, address: int):
        if not address:
            return None
        if is_list(address):
            entry = self.arena.by_address.get(address)
            if entry is not None and isinstance(entry[0], NativeList):
                return entry[1]
            out = self.memo.get(address)
            if out is None:
                lst = list_at(address)
                if lst is None:
                    raise RuntimeError(f"splatjit: ref {address:#x} is not a known list")
                d = lst.desc
                out = [] if d.kind == abi.ELEM_NONE else TypedList(
                    KIND_NAMES.get(d.kind) or REF_NAMES.get(d.ref_type, "!vm.ref"))
                self.memo[address] = out
                out[:] = self.elements(lst)
            return out
        obj = self.arena.lookup(address)
        if obj is None:
            obj = self.lookup_ref(address)
            if obj is None:
                raise RuntimeError(f"splatjit: returned ref {address:#x} is not a known buffer")
        return obj[0] if isinstance(obj, tuple) else obj

    def elements(self, lst: NativeList) -> list:
        s = lst.storage[:lst.desc.count]
        return [self._element(t, v) for t, v in zip(s["tag"].tolist(), s["value"].tolist())]

    def _element(self, tag: int, value: int):
        if tag == abi.ELEM_NONE:
            return None
        if tag == abi.ELEM_REF:
            return self.to_python(value)
        if tag == abi.ELEM_F32:
            return struct.unpack("<f", struct.pack("<I", value & 0xFFFFFFFF))[0]
        if tag == abi.ELEM_F64:
            return struct.unpack("<d", struct.pack("<q", value))[0]
        return value

    def sync_arguments(self) -> None:
        """Writes each list argument's native contents back into the Python list passed in
        (the VM may have set, resized or filled it), like buffers passed zero-copy."""
        for entry in list(self.arena.by_address.values()):
            if isinstance(entry[0], NativeList):
                entry[1][:] = self.elements(entry[0])
