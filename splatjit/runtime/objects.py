"""Runtime objects that generated code holds as refs but Python implements (HAL buffers,
buffer views, devices, ... and `!vm.buffer`s made by Python imports).

Contract:
* every `HostObject` owns one 24-byte descriptor laid out like `abi.BufferDesc`; its address
  is the ref native code sees, its type tag (offset 20) says what it is. A `VmBuffer`'s
  descriptor is a real buffer descriptor (data, length, access), so `vm.buffer.*` ops work
  on it directly; other objects leave the first 20 bytes zero.
* `lookup(address)` finds the live object for a ref, process-wide (a weak map: an entry lives
  exactly as long as its object).
* What keeps an object alive while only native code holds it is an `ObjectSpace`: a
  module's strong set of the objects handed to its code (import results); `collect(live)`
  drops the ones no ref global reaches once the module's outermost call has returned.
"""
from __future__ import annotations

import ctypes
import weakref

import numpy as np

from . import abi

_BY_ADDRESS: "weakref.WeakValueDictionary[int, HostObject]" = weakref.WeakValueDictionary()


class HostObject:
    """Base of Python-implemented ref types. Subclasses set `TYPE_TAG` (abi.TYPE_*)."""
    TYPE_TAG = abi.TYPE_OTHER
    __slots__ = ("_desc", "ref_address", "__weakref__")

    def __init__(self):
        self._desc = abi.BufferDesc(0, 0, 0, self.TYPE_TAG)
        self.ref_address = ctypes.addressof(self._desc)
        _BY_ADDRESS[self.ref_address] = self


class VmBuffer(HostObject):
    """A `!vm.buffer` over numpy memory (`array`: a uint8 view; the descriptor points at it)."""
    TYPE_TAG = abi.TYPE_BUFFER
    __slots__ = ("array",)

    def __init__(self, array: np.ndarray, mutable: bool = True):
        super().__init__()
        if array.dtype != np.uint8 or array.ndim != 1 or not array.flags.c_contiguous:
            array = np.ascontiguousarray(array).reshape(-1).view(np.uint8)
        self.array = array
        self._desc.data = array.ctypes.data
        self._desc.length = array.nbytes
        self._desc.access = abi.ACCESS_MUTABLE if mutable and array.flags.writeable else 0

    def __len__(self):
        return self.array.nbytes


def lookup(address: int) -> HostObject | None:
    return _BY_ADDRESS.get(address)


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
        return self.held.get(address) or _BY_ADDRESS.get(address)

    def collect(self, live: set[int]) -> None:
        self.held = {a: o for a, o in self.held.items() if a in live}
