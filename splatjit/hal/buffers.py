"""HAL buffers and buffer views over numpy memory, shared by the local HAL (`hal.*`) and the
inline HAL (`hal_inline.*`).

Contract:
* `Buffer.array` is a C-contiguous uint8 numpy array (a subspan is a view of its parent's);
  `Buffer.storage()` is the `!vm.buffer` over the same bytes (inline programs' kernels read
  and write it directly), made once per buffer.
* `BufferView` = (buffer, shape, element type, encoding type) as IREE's
  `iree_hal_buffer_view_t`; `BufferView.from_array` copies nothing when the array is
  C-contiguous and writable-or-not as given; `to_array` is a view with the numpy dtype.
* Element types are IREE's `(numerical_type << 24) | bit_count` values.
"""
from __future__ import annotations

import math
import struct
from ctypes import addressof, c_char

import numpy as np

from ..errors import SplatJitError
from ..runtime import abi
from ..runtime.objects import HostObject, VmBuffer, array_address, lookup

_TAGS = abi.HOST_TYPE_TAGS

# numerical types (iree/hal/buffer_view.h)
NT_UNKNOWN, NT_INTEGER, NT_SINT, NT_UINT, NT_BOOL = 0x00, 0x10, 0x11, 0x12, 0x13
NT_FLOAT_IEEE, NT_FLOAT_BRAIN, NT_FLOAT_COMPLEX = 0x21, 0x22, 0x23
ENCODING_OPAQUE, ENCODING_DENSE_ROW_MAJOR = 0, 1


def element_type(numerical: int, bits: int) -> int:
    return (numerical << 24) | bits


#: numpy dtype <-> IREE element type. Signless integers (`i32`, what the compiler asserts)
#: are what numpy signed ints map to; unsigned numpy ints map to `ui*`.
DTYPE_ELEMENT = {
    np.dtype(np.float32): element_type(NT_FLOAT_IEEE, 32),
    np.dtype(np.float64): element_type(NT_FLOAT_IEEE, 64),
    np.dtype(np.float16): element_type(NT_FLOAT_IEEE, 16),
    np.dtype(np.int8): element_type(NT_INTEGER, 8),
    np.dtype(np.int16): element_type(NT_INTEGER, 16),
    np.dtype(np.int32): element_type(NT_INTEGER, 32),
    np.dtype(np.int64): element_type(NT_INTEGER, 64),
    np.dtype(np.uint8): element_type(NT_UINT, 8),
    np.dtype(np.uint16): element_type(NT_UINT, 16),
    np.dtype(np.uint32): element_type(NT_UINT, 32),
    np.dtype(np.uint64): element_type(NT_UINT, 64),
    np.dtype(np.bool_): element_type(NT_BOOL, 8),
}
ELEMENT_DTYPE = {v: k for k, v in DTYPE_ELEMENT.items()}
ELEMENT_DTYPE.update({element_type(NT_SINT, b): np.dtype(f"int{b}") for b in (8, 16, 32, 64)})
ELEMENT_DTYPE[element_type(NT_BOOL, 1)] = np.dtype(np.bool_)  # i1 is stored one byte each
ELEMENT_DTYPE[element_type(NT_INTEGER, 1)] = np.dtype(np.bool_)
_PREFIX = {NT_BOOL: "i", NT_INTEGER: "i", NT_SINT: "si", NT_UINT: "ui", NT_FLOAT_IEEE: "f",
           NT_FLOAT_BRAIN: "bf", NT_FLOAT_COMPLEX: "cf"}


#: buffer view descriptors (see BufferView): dims inline up to this rank, from this byte
INLINE_RANK = 8
VIEW_DIMS = abi.BUF_SIZE
#: a PooledView's subspan (parent buffer ref, offset, length: u64 each) from this byte
VIEW_SUBSPAN = VIEW_DIMS + 8 * INLINE_RANK
VIEW_RANK_UNKNOWN = 0xFFFFFFFF
_VIEW_HEAD = struct.Struct(f"<QQII{INLINE_RANK}q")
#: per rank up to INLINE_RANK: the descriptor's fields, type tag and that many dims
_VIEW_BY_RANK = [struct.Struct(f"<QQII{r}q") for r in range(INLINE_RANK + 1)]
_NO_DIMS = (0,) * INLINE_RANK


class HalError(SplatJitError):
    """A HAL call failed the way IREE's HAL module reports a non-OK status."""


def element_type_name(et: int) -> str:
    """`f32`, `i32`, `ui8`, ... as iree_hal_format_element_type prints them."""
    numerical, bits = et >> 24, et & 0xFF
    if numerical == NT_BOOL:
        bits = 1
    return f"{_PREFIX.get(numerical, '*')}{bits}"


def element_byte_count(et: int) -> int:
    """Bytes per element as stored (sub-byte types are not supported: one byte)."""
    return max(1, (et & 0xFF) // 8)


def dtype_of(et: int) -> np.dtype:
    dtype = ELEMENT_DTYPE.get(et)
    if dtype is None:
        raise HalError(f"element type {element_type_name(et)} ({et:08X}) has no numpy dtype")
    return dtype


def _compatible(actual: int, expected: int) -> bool:
    """iree_hal_element_types_are_compatible: opaque matches anything, integers of one width
    match each other, otherwise exact."""
    if actual >> 24 == NT_UNKNOWN:
        return True
    if actual >> 28 == expected >> 28 == 1 and actual & 0xFF == expected & 0xFF:
        return True
    return actual == expected


_BUFFER_HEAD = struct.Struct("<QQI")  # a buffer descriptor's data, length, access
_NO_BYTES = np.zeros(0, np.uint8)
_NO_BYTES.flags.writeable = False
_NO_DESC = bytes(abi.BUF_TYPE)


class Buffer(HostObject):
    """`!hal.buffer`: `array` holds its bytes (uint8, C-contiguous); `address` is their
    start address, `access` abi.ACCESS_MUTABLE if the array is writeable (else 0). Its
    descriptor holds (address, length, access) as a BufferDesc does, under the
    `!hal.buffer` tag (hal/native.py reads them). Immutable once made."""
    TYPE_TAG = _TAGS["!hal.buffer"]
    #: `pool_class`: set on buffers hal/pools.BufferPool made (their size class)
    __slots__ = ("array", "address", "access", "memory_type", "usage", "_storage", "pool_class")

    def __init__(self, array: np.ndarray, memory_type: int = 0xFFFFFFFF, usage: int = 0xFFFFFFFF,
                 address: int | None = None):
        super().__init__()
        self.memory_type, self.usage = memory_type, usage
        self._storage: VmBuffer | None = None
        self.rebind(array, address)

    def rebind(self, array: np.ndarray, address: int | None = None) -> None:
        """Points this buffer (its `array` and descriptor) at `array`'s bytes. Only for a
        buffer being made, or one nothing else refers to (hal/program_call.py reuses its
        argument buffers once they are unobservable): buffers are otherwise immutable."""
        self.array = array
        writeable = array.flags.writeable
        if address is None:
            address = (addressof(c_char.from_buffer(array)) if writeable and array.nbytes
                       else array_address(array))
        self.address = address
        self.access = access = abi.ACCESS_MUTABLE if writeable else 0
        _BUFFER_HEAD.pack_into(self._desc, 0, address, array.nbytes, access)

    def forget(self) -> None:
        """Lets go of its bytes (an empty array, a descriptor of no bytes): only for a
        buffer nothing else refers to, kept for `rebind` (hal/program_call.py)."""
        self.array, self.address, self.access = _NO_BYTES, 0, 0
        self._desc[:abi.BUF_TYPE] = _NO_DESC

    @classmethod
    def allocate(cls, length: int, alignment: int = 64, **kw) -> "Buffer":
        if not 0 <= length <= 1 << 34:
            raise HalError(f"buffer allocation of {length} bytes is out of range")
        alignment = alignment if alignment and not alignment & (alignment - 1) else 64
        alignment = max(alignment, 64)
        try:
            raw = np.zeros(length + alignment, np.uint8)
        except MemoryError:
            raise HalError(f"out of memory: a buffer of {length} bytes cannot be "
                           f"allocated") from None
        address = array_address(raw)
        start = (-address) % alignment
        return cls(raw[start:start + length], address=address + start, **kw)

    @property
    def length(self) -> int:
        return self.array.nbytes

    def subspan(self, offset: int, length: int) -> "Buffer":
        if offset < 0 or length < 0 or offset + length > self.length:
            raise HalError(f"invalid subspan of an existing buffer (source_offset={offset}, "
                           f"length={length}) of a {self.length}-byte buffer")
        return Buffer(self.array[offset:offset + length], self.memory_type, self.usage,
                      self.address + offset)

    def storage(self) -> VmBuffer:
        if self._storage is None:
            self._storage = VmBuffer(self.array)
        return self._storage

    def span(self, offset: int, length: int) -> int:
        """The length of the bytes [offset, offset + length) (length -1: to the end), after
        checking that they lie inside the buffer (HalError if not)."""
        if length == -1 or length == (1 << 64) - 1:
            length = self.array.nbytes - offset
        if offset < 0 or length < 0 or offset + length > self.array.nbytes:
            raise HalError(f"range [{offset}, {offset}+{length}) outside a {self.length}-byte buffer")
        return length

    def range(self, offset: int, length: int) -> np.ndarray:
        """The bytes [offset, offset + length) (length -1: to the end), bounds-checked."""
        length = self.span(offset, length)
        return self.array[offset:offset + length]


class BufferView(HostObject):
    """`!hal.buffer_view`: a shaped, typed window on a Buffer. Its descriptor holds (for
    hal/native.py) the buffer's ref address, element_type | encoding << 32, and the rank
    (VIEW_RANK_UNKNOWN above INLINE_RANK), then the dims as i64 when the rank is at most
    INLINE_RANK (`VIEW_DIMS` bytes in; the slots past the rank are unspecified), then
    three words only PooledView uses (VIEW_SUBSPAN). Immutable once made."""
    TYPE_TAG = _TAGS["!hal.buffer_view"]
    DESC_SIZE = VIEW_SUBSPAN + 24
    __slots__ = ("buffer", "shape", "element_type", "encoding")

    def __init__(self, buffer: Buffer, shape, element_type: int, encoding: int = ENCODING_DENSE_ROW_MAJOR):
        """`shape`: Python ints; `element_type`, `encoding`: u32 values."""
        super().__init__()
        self.buffer, self.encoding = buffer, encoding
        self.reshape(tuple(shape), element_type)

    def reshape(self, shape: tuple, element_type: int) -> None:
        """Sets shape (a tuple of Python ints) and element type, descriptor included. Only
        for a view being made, or one nothing else refers to (hal/program_call.py reuses
        its argument views once they are unobservable): views are otherwise immutable."""
        self.shape, self.element_type = shape, element_type
        buffer = self.buffer
        buffer_ref = buffer.ref_address if isinstance(buffer, Buffer) else 0
        types, rank = element_type | self.encoding << 32, len(shape)
        try:  # dims past `rank` keep an earlier owner's values: native code never reads them
            _VIEW_BY_RANK[rank].pack_into(self._desc, 0, buffer_ref, types, rank, self.TYPE_TAG,
                                          *shape)
        except (struct.error, IndexError):  # dims out of i64 range or too many
            _VIEW_HEAD.pack_into(self._desc, 0, buffer_ref, types, VIEW_RANK_UNKNOWN,
                                 self.TYPE_TAG, *_NO_DIMS)

    @classmethod
    def from_array(cls, array) -> "BufferView":
        """Zero-copy for C-contiguous arrays of a supported dtype (copied otherwise)."""
        array = np.asarray(array)
        et = DTYPE_ELEMENT.get(array.dtype)
        if et is None:
            raise TypeError(f"arrays of dtype {array.dtype} cannot be passed as tensors")
        if not array.flags.c_contiguous:
            array = np.ascontiguousarray(array)
        raw = np.frombuffer(array, np.uint8) if array.size else np.zeros(0, np.uint8)
        return cls(Buffer(raw), array.shape, et)

    def to_array(self) -> np.ndarray:
        return _array_of(self.buffer.array, self.shape, self.element_type, self)

    def _shaped(self, raw: np.ndarray) -> np.ndarray:
        """The view's elements in `raw` (its buffer's bytes) as a shaped numpy array."""
        return _array_of(raw, self.shape, self.element_type, self)

    def describe(self) -> str:
        return "x".join([*map(str, self.shape), element_type_name(self.element_type)])

    def matches(self, element_type: int, encoding: int, shape: tuple) -> bool:
        """Whether `check` passes trivially: the same element type and shape, a matching
        (or opaque) encoding."""
        return (self.element_type == element_type and self.shape == shape
                and (self.encoding == encoding or self.encoding == ENCODING_OPAQUE))

    def check(self, message: str, element_type: int, encoding: int, shape) -> None:
        """hal.buffer_view.assert (iree_hal_modules_buffer_view_assert)."""
        if self.encoding != ENCODING_OPAQUE and self.encoding != encoding:
            raise HalError(f"{message} encoding mismatch; expected {encoding:08X} but have "
                           f"{self.encoding:08X}")
        if not _compatible(self.element_type, element_type):
            raise HalError(f"{message} element type mismatch; expected "
                           f"{element_type_name(element_type)} ({element_type:08X}) but have "
                           f"{element_type_name(self.element_type)} ({self.element_type:08X})")
        shape = tuple(shape)
        problem = None
        if len(shape) != len(self.shape):
            problem = (f"{message} shape rank mismatch; expected {len(shape)}"
                       f"{' (scalar)' if not shape else ''} but have {len(self.shape)}"
                       f"{' (scalar)' if not self.shape else ''}")
        else:
            for i, (want, have) in enumerate(zip(shape, self.shape)):
                if want != have:
                    problem = (f"{message} shape dimension {i} mismatch; expected {want} but "
                               f"have {have}")
                    break
        if problem is not None:
            raise HalError(f"{problem}; expected shape `{'x'.join(map(str, shape))}`, actual "
                           f"shape `{'x'.join(map(str, self.shape))}`")


def _array_of(raw: np.ndarray, shape: tuple, element_type: int, view) -> np.ndarray:
    """The numpy view of the first bytes of `raw` (a buffer's uint8 bytes) as `shape` x
    `element_type` (zero-copy: it refers to `raw`'s memory owner, so it keeps the bytes
    alive and a pool sees them in use); HalError if `raw` is too short for `view` or a
    dimension is negative (as a dimension IREE reads unsigned, it would be huge)."""
    dtype = ELEMENT_DTYPE.get(element_type)
    if dtype is None:
        dtype = dtype_of(element_type)  # raises
    if shape and min(shape) < 0:
        raise HalError(f"buffer view {view.describe()} has a negative dimension")
    need = math.prod(shape) * dtype.itemsize  # exact: a product of huge dims must not wrap
    if raw.nbytes < need:
        raise HalError(f"buffer view {view.describe()} needs {need} bytes, its buffer has "
                       f"{raw.nbytes}")
    return np.ndarray(shape, dtype, raw)


_DIMS_BY_RANK = [struct.Struct(f"<{r}q") for r in range(INLINE_RANK + 1)]
_VIEW_FIELDS = struct.Struct("<QIII")  # buffer ref, element type, encoding, rank
_REF = struct.Struct("<Q")
_BLANK_VIEW = bytes(20)


class PooledView(BufferView):
    """A BufferView that native code fills in (hal/pools.NativeViewCreate): its buffer ref,
    element type, encoding, rank (at most INLINE_RANK) and dims live only in its
    descriptor, and the Python fields are read from there. The buffer is found by its ref
    (runtime/objects.lookup) while native code holds it; `bind()` takes a strong reference
    to it, which the pool does for every view it handed out before the module's ObjectSpace
    lets go of anything (so an escaped view keeps its buffer), and `reset()` drops it.

    A view of a subspan: native code leaves the buffer ref 0 (so native readers of it fall
    back to Python) and writes (parent buffer ref, offset, length) at VIEW_SUBSPAN, already
    checked to lie inside the parent; `buffer` makes the subspan Buffer when first asked
    (as `parent.subspan(offset, length)`, what the Python buffer_view.create makes) and
    writes its ref into the descriptor; `bind()` keeps the parent until then."""
    __slots__ = ("_buffer", "_parent")

    def __init__(self):
        HostObject.__init__(self)
        self.reset()

    def _fields(self) -> tuple[int, int, int, int]:
        return _VIEW_FIELDS.unpack_from(self._desc, 0)

    @property
    def buffer(self):
        bound = self._buffer
        if bound is not None:
            return bound
        ref = _REF.unpack_from(self._desc, 0)[0]
        if ref:
            return lookup(ref)
        parent, offset, length = _SUBSPAN.unpack_from(self._desc, VIEW_SUBSPAN)
        if not parent:
            return None
        parent = self._parent if self._parent is not None else lookup(parent)
        self._buffer = buffer = parent.subspan(offset, length)
        self._parent = None
        _REF.pack_into(self._desc, 0, buffer.ref_address)
        return buffer

    def to_array(self) -> np.ndarray:
        """As BufferView.to_array; a subspan not made yet is read through its parent (the
        same bytes, no Buffer made). The descriptor's fields are read once."""
        ref, element_type, _, rank = _VIEW_FIELDS.unpack_from(self._desc, 0)
        shape = _DIMS_BY_RANK[rank].unpack_from(self._desc, VIEW_DIMS)
        buffer = self._buffer
        if buffer is None:
            if not ref:
                parent, offset, length = _SUBSPAN.unpack_from(self._desc, VIEW_SUBSPAN)
                if parent:
                    parent = self._parent if self._parent is not None else lookup(parent)
                    return _array_of(parent.array[offset:offset + length], shape,
                                     element_type, self)
            buffer = lookup(ref) if ref else self.buffer
        return _array_of(buffer.array, shape, element_type, self)

    @property
    def element_type(self) -> int:
        return self._fields()[1]

    @property
    def encoding(self) -> int:
        return self._fields()[2]

    @property
    def shape(self) -> tuple:
        return _DIMS_BY_RANK[self._fields()[3]].unpack_from(self._desc, VIEW_DIMS)

    def bind(self) -> None:
        if self._buffer is not None or self._parent is not None:
            return
        ref = _REF.unpack_from(self._desc, 0)[0]
        if ref:
            self._buffer = lookup(ref)
        else:
            parent = _SUBSPAN.unpack_from(self._desc, VIEW_SUBSPAN)[0]
            self._parent = lookup(parent) if parent else None

    def reset(self) -> None:
        """An empty rank-0 view of no buffer (until native code fills it in)."""
        self._buffer = self._parent = None
        self._desc[:20] = _BLANK_VIEW
        _SUBSPAN.pack_into(self._desc, VIEW_SUBSPAN, 0, 0, 0)


_SUBSPAN = struct.Struct("<QQQ")
