"""The native ABI shared by generated code (both ISAs) and the Python runtime.

Every compiled VM function has the native signature

    int32 fn(Context* ctx, const uint8* args, uint8* results)

(SysV: rdi, rsi, rdx; AAPCS64: x0, x1, x2). It returns 0 on success or a trap code; on a
trap it has filled `ctx.trap_*`. `args`/`results` use IREE's calling-convention layout:
i32/f32 take 4 bytes, i64/f64 8 bytes aligned to 8, refs one 8-byte pointer aligned to 8.

A ref is a pointer to a `BufferDesc` (or 0 for null). Memory is owned by the Python runtime;
generated code never frees.
"""
from __future__ import annotations

import ctypes
import struct


def function_address(fn) -> int:
    """The code address a ctypes function pointer (a CFUNCTYPE callback, a library
    function) holds. Unlike `ctypes.cast(fn, c_void_p)`, which stores each object in the
    other's `_objects` (a reference cycle only the cycle collector frees), it links nothing."""
    return ctypes.c_void_p.from_address(ctypes.addressof(fn)).value


# Context field byte offsets (see `Context`).
CTX_TRAP_CODE = 0
CTX_TRAP_OFFSET = 4
CTX_TRAP_FUNCTION = 8
CTX_DEPTH_LEFT = 12
CTX_TRAP_STATUS = 16
CTX_GLOBALS = 24
CTX_GLOBAL_BYTES = 32
CTX_REF_GLOBALS = 40
CTX_RODATA = 48
CTX_HELPERS = 56
CTX_FUEL = 64
CTX_IMPORTS = 72
#: Import table entry: (native entry address, Context* to call it with), 16 bytes each.
IMPORT_ENTRY_SIZE = 16

#: Native call depth allowed before a stack-exhaustion trap (each frame is small).
MAX_DEPTH = 4096


class Context(ctypes.Structure):
    _fields_ = [
        ("trap_code", ctypes.c_int32),
        ("trap_offset", ctypes.c_int32),
        ("trap_function", ctypes.c_int32),
        ("depth_left", ctypes.c_int32),
        ("trap_status", ctypes.c_int64),
        ("globals", ctypes.c_uint64),
        ("global_bytes", ctypes.c_uint64),
        ("ref_globals", ctypes.c_uint64),
        ("rodata", ctypes.c_uint64),   # BufferDesc[rodata segment count]
        ("helpers", ctypes.c_uint64),  # void*[HELPER_COUNT], see HELPERS
        ("fuel", ctypes.c_int64),      # loop iterations + calls left (modules compiled with fuel)
        ("imports", ctypes.c_uint64),  # ImportEntry[import count]
    ]


class ImportEntry(ctypes.Structure):
    _fields_ = [("entry", ctypes.c_uint64), ("context", ctypes.c_uint64)]


# BufferDesc field byte offsets.
BUF_DATA = 0
BUF_LENGTH = 8
BUF_ACCESS = 16
BUF_TYPE = 20
BUF_SIZE = 24
ACCESS_MUTABLE = 1
#: Ref type tags, so cast.any.ref can check what it casts.
TYPE_BUFFER = 1


class BufferDesc(ctypes.Structure):
    _fields_ = [("data", ctypes.c_uint64), ("length", ctypes.c_uint64),
                ("access", ctypes.c_uint32), ("type", ctypes.c_uint32)]


assert ctypes.sizeof(Context) == CTX_IMPORTS + 8 and ctypes.sizeof(BufferDesc) == BUF_SIZE

# ListDesc (`!vm.list`) field byte offsets; the type tag sits where BufferDesc keeps its own.
# Elements live in a separate array of LIST_SLOT-byte slots: u32 tag, u32 pad, u64 value.
# Tags are ELEM_*: a value's type, ELEM_REF (value = ref pointer) or ELEM_NONE (empty).
# Values are canonical: integers sign-extended to 64 bits, f32 bits zero-extended.
LIST_STORAGE = 0    # u64 slot array pointer
LIST_COUNT = 8      # u64 element count (< 2**32)
LIST_KIND = 16      # u32 ELEM_NONE (variant list), ELEM_I8..ELEM_F64 (value list), ELEM_REF
LIST_TYPE = 20      # u32 TYPE_LIST
LIST_CAPACITY = 24  # u64 slots allocated
LIST_REF_TYPE = 32  # u32 ref type tag a ref list's elements must have (TYPE_*)
LIST_SHIFT = 36     # u32 64 - element bits for integer value lists (sign-extension shift)
LIST_SIZE = 40
LIST_SLOT = 16
TYPE_LIST = 2
TYPE_OTHER = 0xFF   # a ref type no runtime object has (types splatjit does not implement)
#: Ref types implemented by Python runtime objects (runtime/objects.py, splatjit/hal/), by
#: the type name a module's type table uses.
HOST_TYPE_TAGS = {"!hal.allocator": 16, "!hal.buffer": 17, "!hal.buffer_view": 18,
                  "!hal.command_buffer": 19, "!hal.device": 20, "!hal.executable": 21,
                  "!hal.fence": 22, "!hal.semaphore": 23, "!hal.file": 24, "!hal.channel": 25}
ELEM_NONE, ELEM_I8, ELEM_I16, ELEM_I32, ELEM_I64, ELEM_F32, ELEM_F64, ELEM_REF = range(8)


class ListDesc(ctypes.Structure):
    _fields_ = [("storage", ctypes.c_uint64), ("count", ctypes.c_uint64),
                ("kind", ctypes.c_uint32), ("type", ctypes.c_uint32),
                ("capacity", ctypes.c_uint64), ("ref_type", ctypes.c_uint32),
                ("shift", ctypes.c_uint32)]


assert ctypes.sizeof(ListDesc) == LIST_SIZE and ListDesc.type.offset == BUF_TYPE == LIST_TYPE

# Trap codes (returned by generated code, stored in ctx.trap_code).
TRAP_OUT_OF_BOUNDS = 1
TRAP_NULL_REF = 2
TRAP_DIV_BY_ZERO = 3
TRAP_DIV_OVERFLOW = 4
TRAP_FAIL = 5
TRAP_STACK = 6
TRAP_READ_ONLY = 7
TRAP_TYPE = 8
TRAP_HELPER = 9
TRAP_UNSUPPORTED = 10
TRAP_FUEL = 11
TRAP_IMPORT = 12

TRAP_MESSAGES = {
    TRAP_OUT_OF_BOUNDS: "out-of-bounds access",
    TRAP_NULL_REF: "null reference",
    TRAP_DIV_BY_ZERO: "integer division by zero",
    TRAP_DIV_OVERFLOW: "integer division overflow (INT_MIN / -1)",
    TRAP_FAIL: "vm.fail",
    TRAP_STACK: "call stack exhausted",
    TRAP_READ_ONLY: "buffer is read-only and cannot be mapped for mutation",
    TRAP_TYPE: "ref type mismatch",
    TRAP_HELPER: "runtime helper failed",
    TRAP_UNSUPPORTED: "op not supported by this JIT yet",
    TRAP_FUEL: "fuel exhausted (loop iteration / call budget)",
    TRAP_IMPORT: "imported function failed",
}

#: Helper function table (runtime callbacks and libm entry points), by index.
HELPERS = (
    "buffer_alloc",   # BufferDesc* (Context*, int64 length, int32 alignment) -> 0 on failure
    "buffer_clone",   # BufferDesc* (Context*, BufferDesc* src, int64 off, int64 len, int32 align)
    "list_alloc",     # ListDesc* (Context*, uint32 kind, uint32 ref_type, uint32 capacity)
    "list_reserve",   # ListDesc* (Context*, ListDesc* list, uint32 minimum_capacity)
    "list_resize",    # ListDesc* (Context*, ListDesc* list, uint32 new_size)
    "buffer_hash",    # uint64 (Context*, const uint8* data, int64 length): vm.buffer.hash
)

#: Largest buffer a module may allocate (bytes); larger requests trap instead of exhausting memory.
MAX_ALLOCATION = 1 << 31

#: x86-64 hosts: the helper table is followed by the state of the module's native arena
#: (runtime/native_arena.py), u64 words at these byte offsets from `Context.helpers`: the
#: next free byte, the end of the current chunk, where the next reset puts the cursor (the
#: chunk's start), the first byte from which the chunk is known to be zero, and the Python
#: refill callback (buffer_alloc's signature; returns a BufferDesc*, 0, or ARENA_RETRY).
ARENA = 8 * len(HELPERS)
ARENA_CURSOR, ARENA_LIMIT, ARENA_START, ARENA_CLEAN, ARENA_REFILL = (ARENA + 8 * i for i in range(5))
ARENA_WORDS = 5
#: what the refill callback returns when the arena now has room: allocate there again
ARENA_RETRY = 1

VALUE_SIZE = {"i32": 4, "f32": 4, "i64": 8, "f64": 8, "ref": 8}


def flatten_variadic(types, counts) -> list[str]:
    """The value types of a variadic call's args buffer: each span (a tuple in `types`)
    becomes an i32 element count followed by the span's types repeated `counts[i]` times.
    Non-variadic entries pass through (their `counts[i]` is ignored)."""
    out: list[str] = []
    for i, t in enumerate(types):
        if isinstance(t, tuple):
            out.append("i32")
            out.extend(list(t) * counts[i])
        else:
            out.append(t)
    return out


_CODE = {"i32": "i", "i64": "q", "f32": "f", "f64": "d", "ref": "Q"}


def layout_struct(types, start: int = 0, codes=None) -> tuple[struct.Struct, int]:
    """One `struct` for values laid out as `cconv_layout` places them from byte `start`
    (8-byte values 8-aligned in the buffer, refs as u64 addresses): (the struct, bytes it
    spans from `start`). `codes`: type -> struct code, default signed ints and floats."""
    codes = codes or _CODE
    fmt, pos = "<", start
    for t in types:
        size = VALUE_SIZE[t]
        if size == 8 and pos % 8:
            fmt += "x" * (8 - pos % 8)
            pos += 8 - pos % 8
        fmt += codes[t]
        pos += size
    return struct.Struct(fmt), pos - start


class _Layout:
    """Where an args buffer's values are once its span counts are known: one `struct` over
    the whole buffer (from byte 0, `size` bytes, `raw` the ctypes char array of them) and
    `values(flat, ref)`, which turns what the struct unpacks into the arguments. While a
    count is still unknown, `count_at` is its byte position and the rest is unset."""
    __slots__ = ("count_at", "struct", "size", "raw", "refs", "pieces")

    def __init__(self, arg_types, counts: tuple):
        self.count_at = None
        pos, flat, spans = 0, [], iter(counts)
        for t in arg_types:
            if isinstance(t, tuple):
                count = next(spans, None)
                if count is None:
                    self.count_at = pos
                    return
                flat.append("i32")
                flat.extend(list(t) * count)
            else:
                flat.append(t)
            pos = layout_struct(flat)[1]
        self.struct, self.size = layout_struct(flat)
        self.raw = ctypes.c_char * self.size
        self.refs = [i for i, t in enumerate(flat) if t == "ref"]
        # per argument (flat index, span tuple width or 0 for a scalar, span count)
        self.pieces, i, spans = [], 0, iter(counts)
        for t in arg_types:
            if isinstance(t, tuple):
                count = next(spans)
                self.pieces.append((i + 1, len(t), count))
                i += 1 + len(t) * count
            else:
                self.pieces.append((i, 0, 0))
                i += 1
        if not counts:
            self.pieces = None  # a fixed signature: the flat values are the arguments

    def values(self, flat: tuple, ref) -> list:
        values = list(flat)
        for i in self.refs:
            values[i] = ref(values[i])
        if self.pieces is None:
            return values
        out = []
        for start, width, count in self.pieces:
            if not width:
                out.append(values[start])
            else:
                items = iter(values[start:start + width * count])
                out.append(list(zip(*[items] * width)))
        return out


class ArgsDecoder:
    """Reads an args buffer of signature `arg_types` (variadic spans as laid out by
    `flatten_variadic`, counts found in the buffer) into Python values: scalars as numbers,
    refs through the caller's `ref(address)`, a span as a list of tuples. One precompiled
    `_Layout` per fixed signature, and per tuple of span counts for a variadic one.

    `decode(raw, ref)` reads a bytes-like copy; `read(address, ref)` reads this process's
    memory at `address`, exactly the bytes of the buffer (its counts first); `reader()`
    is `read` specialised for this signature. `size` is the buffer's byte size for a fixed
    signature, None for a variadic one. Counts outside [0, MAX_SPAN] raise ValueError."""

    MAX_SPAN = 1 << 20
    MAX_LAYOUTS = 64  # layouts kept per decoder (distinct count tuples seen)

    def __init__(self, arg_types):
        self.arg_types = list(arg_types)
        self.variadic = any(isinstance(t, tuple) for t in self.arg_types)
        self._layouts: dict[tuple, _Layout] = {}
        self._fixed = None if self.variadic else self._layout(())
        self.size = None if self.variadic else self._fixed.size
        self._reader = None  # `reader()`'s function, once made

    def _layout(self, counts: tuple) -> _Layout:
        layout = self._layouts.get(counts)
        if layout is None:
            if len(self._layouts) >= self.MAX_LAYOUTS:
                self._layouts = {}
            layout = self._layouts[counts] = _Layout(self.arg_types, counts)
        return layout

    def _complete(self, count_at) -> _Layout:
        """The layout for the counts `count_at(byte position)` reads, span by span."""
        counts: tuple = ()
        layout = self._layout(counts)
        while layout.count_at is not None:
            count = count_at(layout.count_at)
            if not 0 <= count <= self.MAX_SPAN:
                raise ValueError(f"variadic span count {count} is out of range")
            counts += (count,)
            layout = self._layout(counts)
        return layout

    def decode(self, raw, ref) -> list:
        layout = self._fixed
        if layout is None:
            layout = self._complete(lambda pos: _I32.unpack_from(raw, pos)[0])
        return layout.values(layout.struct.unpack_from(raw) if layout.size else (), ref)

    def read(self, address: int, ref) -> list:
        layout = self._fixed
        if layout is None:
            layout = self._complete(lambda pos: ctypes.c_int32.from_address(address + pos).value)
        if not layout.size:
            return []
        return layout.values(layout.struct.unpack(layout.raw.from_address(address).raw), ref)

    def reader(self):
        """`read(address, ref) -> sequence of values` (the per-call path of Python imports;
        made once per decoder): a fixed signature unpacks one struct; a signature with one
        span finds its layout by that span's count."""
        read = self._reader
        if read is None:
            read = self._reader = self._make_reader()
        return read

    def _make_reader(self):
        layout = self._fixed
        if layout is None:
            spans = [t for t in self.arg_types if isinstance(t, tuple)]
            if len(spans) > 1:
                return self.read
            count_at, by_count = self._layout(()).count_at, {}
            count_type = ctypes.c_int32

            def read_span(address, ref):
                count = count_type.from_address(address + count_at).value
                layout = by_count.get(count)
                if layout is None:
                    if len(by_count) >= self.MAX_LAYOUTS:
                        by_count.clear()
                    layout = by_count[count] = self._complete(lambda pos: count)
                return layout.values(layout.struct.unpack(layout.raw.from_address(address).raw),
                                     ref)
            return read_span
        if not layout.size:
            return lambda address, ref: ()
        unpack, raw, refs = layout.struct.unpack, layout.raw, layout.refs
        if not refs:
            return lambda address, ref: unpack(raw.from_address(address).raw)

        def read(address, ref):
            values = list(unpack(raw.from_address(address).raw))
            for i in refs:
                values[i] = ref(values[i])
            return values
        return read


_I32 = struct.Struct("<i")
_DECODERS: dict[tuple, ArgsDecoder] = {}


def args_decoder(arg_types) -> ArgsDecoder:
    """The `ArgsDecoder` of `arg_types`, shared by every caller (a decoder only caches
    layouts); at most 1024 are kept."""
    key = tuple(arg_types)
    decoder = _DECODERS.get(key)
    if decoder is None:
        if len(_DECODERS) >= 1 << 10:
            _DECODERS.clear()
        decoder = _DECODERS[key] = ArgsDecoder(key)
    return decoder


def cconv_layout(types) -> tuple[list[int], int]:
    """Byte offsets of each value in an args/results buffer, and the buffer size (8-aligned)."""
    offsets, pos = [], 0
    for t in types:
        size = VALUE_SIZE[t]
        pos = (pos + size - 1) // size * size if size == 8 else pos
        offsets.append(pos)
        pos += size
    return offsets, (pos + 7) // 8 * 8
