"""Runtime objects that generated code holds as refs but Python implements (HAL buffers,
buffer views, devices, ... and `!vm.buffer`s made by Python imports).

Contract:
* every `HostObject` owns one 24-byte descriptor laid out like `abi.BufferDesc`; its address
  (`ref_address`) is the ref native code sees, its type tag (offset 20) says what it is. A
  `VmBuffer`'s descriptor is a real buffer descriptor (data, length, access), so
  `vm.buffer.*` ops work on it directly; other objects leave the first 20 bytes zero.
  Descriptors are slots of process-wide chunks, one pool per type tag: a slot is reused
  by an object of the same type once its object is gone (as freed memory would be).
* `lookup(address)` finds the live object for a ref, process-wide (a map of weak
  references: an entry lives exactly as long as its object).
* What keeps an object alive while only native code holds it is an `ObjectSpace`: a
  module's strong set of the objects handed to its code (import results); `collect(live)`
  drops the ones no ref global reaches once the module's outermost call has returned.
"""
from __future__ import annotations

import ctypes
import struct
import weakref

import numpy as np

from . import abi

_HEAD = struct.Struct("<QQI")  # a descriptor's fields before its type tag


class _Slots:
    """Descriptor slots per type tag, `size` bytes each (a multiple of 8, at least
    abi.BUF_SIZE): `take(tag, size)` -> (address, writable memoryview of exactly the slot's
    bytes) of a free slot whose type tag is `tag` (the other bytes zero unless its last
    owner wrote them), `give(tag, slot)` returns that pair. Every object of one tag asks
    for the same size. Writing through the memoryview (struct.pack_into) is the cheap way
    to update a descriptor from Python."""
    CHUNK = 256

    def __init__(self):
        self.free: dict[int, list[tuple[int, memoryview]]] = {}
        self.chunks: list = []  # every chunk lives as long as the process

    def take(self, tag: int, size: int) -> tuple[int, memoryview]:
        free = self.free.get(tag)
        if not free:
            slot = (bytes(abi.BUF_TYPE) + struct.pack("<I", tag)).ljust(size, b"\0")
            chunk = (ctypes.c_char * (size * self.CHUNK)).from_buffer_copy(slot * self.CHUNK)
            self.chunks.append(chunk)
            first, view = ctypes.addressof(chunk), memoryview(chunk).cast("B")
            free = self.free[tag] = [(first + k * size, view[k * size:(k + 1) * size])
                                     for k in reversed(range(self.CHUNK))]
        return free.pop()

    def give(self, tag: int, slot: tuple[int, memoryview]) -> None:
        self.free[tag].append(slot)


_SLOTS = _Slots()
#: descriptor address -> weak reference to its live HostObject
_BY_ADDRESS: dict[int, "weakref.ref[HostObject]"] = {}


class HostObject:
    """Base of Python-implemented ref types. Subclasses set `TYPE_TAG` (abi.TYPE_*) and may
    keep state native code reads in their descriptor: its first 20 bytes (`describe`) and,
    with a larger `DESC_SIZE`, the bytes after the type tag."""
    TYPE_TAG = abi.TYPE_OTHER
    DESC_SIZE = abi.BUF_SIZE
    #: `_desc`: a writable memoryview of exactly the descriptor's bytes
    __slots__ = ("ref_address", "_desc", "__weakref__")

    def __init__(self):
        slot = _SLOTS.take(self.TYPE_TAG, self.DESC_SIZE)
        address, self._desc = slot
        self.ref_address = address
        _BY_ADDRESS[address] = weakref.ref(self)

    def describe_natively(self, data: int = 0, length: int = 0, access: int = 0) -> None:
        """Write the descriptor's fields (as abi.BufferDesc: u64, u64, u32; the tag stays)."""
        _HEAD.pack_into(self._desc, 0, data, length, access)

    def __del__(self):
        try:
            del _BY_ADDRESS[self.ref_address]
            _SLOTS.give(self.TYPE_TAG, (self.ref_address, self._desc))
        except Exception:  # noqa: BLE001 - interpreter shutdown: the slots go with the process
            pass


class VmBuffer(HostObject):
    """A `!vm.buffer` over numpy memory (`array`: a uint8 view; the descriptor points at it;
    `access`: abi.ACCESS_MUTABLE or 0)."""
    TYPE_TAG = abi.TYPE_BUFFER
    __slots__ = ("array", "access")

    def __init__(self, array: np.ndarray, mutable: bool = True):
        super().__init__()
        if array.dtype != np.uint8 or array.ndim != 1 or not array.flags.c_contiguous:
            array = np.ascontiguousarray(array).reshape(-1).view(np.uint8)
        self.array = array
        self.access = abi.ACCESS_MUTABLE if mutable and array.flags.writeable else 0
        self.describe_natively(array_address(array), array.nbytes, self.access)

    def __len__(self):
        return self.array.nbytes


def array_address(array: np.ndarray) -> int:
    """The address of a C-contiguous numpy array's first byte."""
    if array.flags.writeable and array.nbytes:
        return ctypes.addressof(ctypes.c_char.from_buffer(array))  # quicker than .ctypes
    return array.ctypes.data


def lookup(address: int) -> HostObject | None:
    ref = _BY_ADDRESS.get(address)
    return None if ref is None else ref()


def type_tag(address: int) -> int:
    """The type tag of the ref at `address` (a BufferDesc / ListDesc / HostObject)."""
    return ctypes.c_uint32.from_address(address + abi.BUF_TYPE).value


class ObjectSpace:
    """The objects one module's native code may still hold (see the module docstring)."""

    def __init__(self):
        self.held: dict[int, HostObject] = {}

    def hold(self, obj: HostObject) -> int:
        self.held[obj.ref_address] = obj
        return obj.ref_address

    def get(self, address: int) -> HostObject | None:
        obj = self.held.get(address)
        if obj is None:
            ref = _BY_ADDRESS.get(address)
            obj = None if ref is None else ref()
        return obj

    def collect(self, live: set[int]) -> None:
        """Holds exactly the live objects at the addresses in `live`: drops the others (in
        place: `held` stays the same dict) and adopts live objects it did not hold (refs
        native code got without a Python call, e.g. a view's buffer)."""
        held = self.held
        for a in [a for a in held if a not in live]:
            del held[a]
        for a in live:
            if a not in held:
                ref = _BY_ADDRESS.get(a)
                obj = None if ref is None else ref()
                if obj is not None:
                    held[a] = obj
