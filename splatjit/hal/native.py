"""Native x86-64 entries for the `hal` / `hal_inline` calls a program makes on every call
that only read HAL objects: buffer_view.assert / buffer / dim / rank / element_type /
encoding_type, buffer.assert / length, device.allocator and fence.await.

Each reads the state the objects keep in their descriptors (hal/buffers.py: a buffer's
(address, length, access), a view's buffer ref, element type, encoding, rank and inline
dims; hal/local.py: a device's allocator ref, a fence's ready flag) and answers the
ordinary case in machine code: the right object types, a passing assert, an index in range,
every fence signalled. Any other call tail-jumps to the Python implementation
(native_entry.Entry's fallback), which raises IREE's error, answers the unusual case
(compatible element types, an unsignalled fence) or reads what the descriptor does not hold.

A ref result is an object its owner keeps alive (a view's buffer, the device's allocator);
the module's ObjectSpace adopts it if a ref global still holds it after the call
(runtime/objects.ObjectSpace.collect).

Contract: `with_native_entries(provider)` wraps the functions named in ENTRIES in
`NativeHalCall`s: still callables, plus `native_code(fallback, signature)` (the entry's
position-independent bytes, patched per fallback) for the x86-64 import table and
`native_entry` (the same, mapped on its own); each builds an entry only for the signature
the table expects.
"""
from __future__ import annotations

from ..emit_x64 import operands as R
from ..emit_x64.operands import Label, dword, qword
from ..frontend.cconv import parse_cconv
from ..intrinsics.native_entry import Entry, counted_loop
from ..runtime import abi
from ..runtime.memory import ExecutableMemory
from ..runtime.patched_code import patched
from .buffers import INLINE_RANK, VIEW_DIMS
from .local import FENCE_READY

_TAGS = abi.HOST_TYPE_TAGS
BUFFER, VIEW = _TAGS["!hal.buffer"], _TAGS["!hal.buffer_view"]
DEVICE, FENCE = _TAGS["!hal.device"], _TAGS["!hal.fence"]
_FRAME = 56
_DATA, _LENGTH, _ACCESS = abi.BUF_DATA, abi.BUF_LENGTH, abi.BUF_ACCESS
MAX_FENCES = 1 << 20


def _object(e: Entry, field: str, tag: int, reg=R.rax) -> None:
    """reg = the ref argument `field`; falls back unless it is a non-null object of `tag`."""
    a = e.a
    a.mov(reg, e.arg(field))
    a.test(reg, reg)
    a.jz(e.slow)
    a.cmp(dword[reg + abi.BUF_TYPE], tag)
    a.jne(e.slow)


def _span_start(e: Entry, count_field: str) -> int:
    """Byte offset of a span's first element (8-byte values) after its count."""
    return (e.offsets[count_field] + 4 + 7) // 8 * 8


def _ref_field(tag: int, offset: int):
    """A result ref read from the object's descriptor at `offset` (fallback when null)."""
    def body(e: Entry) -> None:
        a = e.a
        _object(e, "object", tag)
        a.mov(R.rax, qword[R.rax + offset])
        a.test(R.rax, R.rax)
        a.jz(e.slow)
        a.mov(qword[R.rdx], R.rax)
    return body


def _u32_field(tag: int, offset: int, unknown: int | None = None):
    """An i32 result read from the descriptor (fallback when it reads `unknown`)."""
    def body(e: Entry) -> None:
        a = e.a
        _object(e, "object", tag)
        a.mov(R.ecx, dword[R.rax + offset])
        if unknown is not None:
            a.cmp(R.ecx, unknown)
            a.je(e.slow)
        a.mov(dword[R.rdx], R.ecx)
    return body


def _buffer_length(e: Entry) -> None:
    _object(e, "object", BUFFER)
    e.a.mov(R.rax, qword[R.rax + _LENGTH])
    e.a.mov(qword[R.rdx], R.rax)


def _buffer_assert(e: Entry) -> None:
    """buffer.assert: a buffer at least `minimum_length` bytes long (the other arguments
    are not checked, as in the Python implementation)."""
    a = e.a
    _object(e, "buffer", BUFFER)
    a.mov(R.rcx, qword[R.rax + _LENGTH])
    a.cmp(R.rcx, e.arg("minimum_length"))
    a.jl(e.slow)


def _view_dim(e: Entry) -> None:
    a = e.a
    _object(e, "view", VIEW)
    a.mov(R.ecx, dword[R.rax + _ACCESS])                 # rank (or unknown)
    a.cmp(R.ecx, INLINE_RANK)
    a.ja(e.slow)
    a.mov(R.r8d, e.arg("index", 32))
    a.cmp(R.r8d, R.ecx)                                   # unsigned: negative indexes too
    a.jae(e.slow)
    a.mov(R.rcx, qword[R.Mem(R.rax, R.r8, 8, VIEW_DIMS)])
    a.mov(qword[R.rdx], R.rcx)


def _view_assert(e: Entry) -> None:
    """buffer_view.assert when the view matches exactly: the same element type, its
    encoding equal or opaque, the same rank and dims, and a message to report with."""
    a = e.a
    _object(e, "view", VIEW)
    a.cmp(e.arg("message"), 0)
    a.je(e.slow)
    a.mov(R.ecx, dword[R.rax + _LENGTH])                  # element type
    a.cmp(R.ecx, e.arg("element_type", 32))
    a.jne(e.slow)
    encoding_ok = Label("encoding_ok")
    a.mov(R.ecx, dword[R.rax + _LENGTH + 4])              # encoding
    a.test(R.ecx, R.ecx)
    a.jz(encoding_ok)
    a.cmp(R.ecx, e.arg("encoding", 32))
    a.jne(e.slow)
    a.label(encoding_ok)
    a.mov(R.ecx, dword[R.rax + _ACCESS])                  # rank
    a.cmp(R.ecx, INLINE_RANK)
    a.ja(e.slow)
    a.cmp(R.ecx, e.arg("rank", 32))
    a.jne(e.slow)
    with counted_loop(a, R.r8, R.rcx, "dim"):
        a.mov(R.r9, qword[R.Mem(R.rax, R.r8, 8, VIEW_DIMS)])
        a.cmp(R.r9, qword[R.Mem(R.rsi, R.r8, 8, _span_start(e, "rank"))])
        a.jne(e.slow)


def _fence_await(e: Entry) -> None:
    """fence.await when every fence is signalled and none failed: STATUS_OK."""
    a = e.a
    a.mov(R.ecx, e.arg("count", 32))
    a.cmp(R.ecx, MAX_FENCES)
    a.ja(e.slow)
    with counted_loop(a, R.r8, R.rcx, "fence"):
        a.mov(R.rax, qword[R.Mem(R.rsi, R.r8, 8, _span_start(e, "count"))])
        a.test(R.rax, R.rax)
        a.jz(e.slow)
        a.cmp(dword[R.rax + abi.BUF_TYPE], FENCE)
        a.jne(e.slow)
        a.cmp(dword[R.rax + _ACCESS], FENCE_READY)
        a.jne(e.slow)
    a.mov(dword[R.rdx], 0)


#: function name -> (its calling convention, argument types as the entry reads them (a
#: span's count as i32), field names, body)
ENTRIES = {
    "buffer_view.buffer": ("0r_r", ("ref",), ("object",), _ref_field(VIEW, _DATA)),
    "device.allocator": ("0r_r", ("ref",), ("object",), _ref_field(DEVICE, _DATA)),
    "buffer.length": ("0r_I", ("ref",), ("object",), _buffer_length),
    "buffer_view.rank": ("0r_i", ("ref",), ("object",),
                         _u32_field(VIEW, _ACCESS, unknown=0xFFFFFFFF)),
    "buffer_view.element_type": ("0r_i", ("ref",), ("object",), _u32_field(VIEW, _LENGTH)),
    "buffer_view.encoding_type": ("0r_i", ("ref",), ("object",),
                                  _u32_field(VIEW, _LENGTH + 4)),
    "buffer_view.dim": ("0ri_I", ("ref", "i32"), ("view", "index"), _view_dim),
    "buffer.assert": ("0rrrIii_v", ("ref", "ref", "ref", "i64", "i32", "i32"),
                      ("buffer", "message", "allocator", "minimum_length", "memory_types",
                       "usage"), _buffer_assert),
    "buffer_view.assert": ("0rriiCID_v", ("ref", "ref", "i32", "i32", "i32"),
                           ("view", "message", "element_type", "encoding", "rank"),
                           _view_assert),
    "fence.await": ("0iICrD_i", ("i32", "i64", "i32"), ("timeout", "flags", "count"),
                    _fence_await),
}


def assemble(name: str, fallback: int) -> bytes:
    _, arg_types, fields, body = ENTRIES[name]
    e = Entry(name, fields, _FRAME, arg_types=arg_types)
    body(e)
    return e.finish(fallback)


class NativeHalCall:
    """A hal function's Python implementation plus its native x86-64 entry builder."""

    def __init__(self, name: str, fn):
        self.name, self.fn = name, fn
        sig = parse_cconv(ENTRIES[name][0])
        self.signature = (sig.args, sig.results)

    def __call__(self, *args):
        return self.fn(*args)

    def native_code(self, fallback: int, signature=None) -> bytes | None:
        """The native entry's position-independent code, falling back to the native-ABI
        function at `fallback`; None when `signature` is not the one the entry reads.
        Entries differ only in `fallback`: each is a patched copy (runtime/patched_code.py)."""
        if signature is not None and (signature.args, signature.results) != self.signature:
            return None
        name = self.name
        return patched(("hal-native", name), lambda a: assemble(name, a[0]), (fallback,))

    def native_entry(self, fallback: int, signature=None):
        """(entry address, the mapping to keep alive) of `native_code`, or None."""
        code = self.native_code(fallback, signature)
        if code is None:
            return None
        memory = ExecutableMemory(code)
        return memory.address, memory


def with_native_entries(provider: dict) -> dict:
    """`provider` with the functions of ENTRIES wrapped in `NativeHalCall`s."""
    return {name: NativeHalCall(name, fn) if name in ENTRIES else fn
            for name, fn in provider.items()}
