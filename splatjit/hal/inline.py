"""The `hal_inline` module (IREE 3.13 `iree/modules/hal/inline/`) for the inline execution
model: buffers whose storage the program's own kernels access as `!vm.buffer`s.

Contract: `provider()` returns {function name: callable} for `JitModule(imports=...)`, one
entry per export of IREE's hal_inline module, each with its semantics; failures raise
`HalError` (the call then traps, naming the cause). Exports IREE itself leaves unimplemented
(`buffer.wrap`) fail the same way.
"""
from __future__ import annotations

import numpy as np

from .buffers import Buffer, BufferView, HalError


def expect(value, cls, what: str):
    """`value` if it is a `cls` (IREE's *_check_deref), else HalError."""
    if not isinstance(value, cls):
        got = "null" if value is None else type(value).__name__
        raise HalError(f"{what}: expected a {cls.__name__}, got {got}")
    return value


def string_of(view) -> str:
    """A `!vm.buffer` argument (numpy uint8 view) as the string it holds."""
    if view is None:
        raise HalError("expected a string buffer, got null")
    return bytes(np.asarray(view)).decode("utf-8", "replace")


def dims(span) -> list[int]:
    return [d for (d,) in span]


def _allocate(alignment, size):
    buf = Buffer.allocate(size, alignment)
    return buf, buf.storage()


def _allocate_initialized(alignment, source, offset, length):
    if source is None:
        raise HalError("buffer.allocate.initialized: null source buffer")
    if offset < 0 or length < 0 or offset + length > len(source):
        raise HalError(f"buffer.allocate.initialized: range [{offset}, {offset}+{length}) "
                       f"outside a {len(source)}-byte source")
    buf = Buffer.allocate(length, alignment)
    buf.array[:] = source[offset:offset + length]
    return buf, buf.storage()


def _wrap(source, offset, length):
    raise HalError("vm->hal buffer wrapping not yet implemented (as in IREE 3.13)")


def _view_create(buffer, offset, length, element_type, encoding, shape):
    buffer = expect(buffer, Buffer, "buffer_view.create")
    if offset != 0 or length != buffer.length:
        buffer = buffer.subspan(offset, length)
    return BufferView(buffer, dims(shape), element_type & 0xFFFFFFFF, encoding & 0xFFFFFFFF)


def _view_assert(view, message, element_type, encoding, shape):
    view = expect(view, BufferView, "buffer_view.assert")
    element_type, encoding = element_type & 0xFFFFFFFF, encoding & 0xFFFFFFFF
    if message is None or not view.matches(element_type, encoding, tuple(dims(shape))):
        view.check(string_of(message), element_type, encoding, dims(shape))


def _view_dim(view, index):
    view = expect(view, BufferView, "buffer_view.dim")
    if not 0 <= index < len(view.shape):
        raise HalError(f"buffer_view.dim: index {index} out of range for rank {len(view.shape)}")
    return view.shape[index]


def device_query_i64(category, key):
    """(ok, value): IREE answers only `hal.cpu` keys (CPU feature words); splatjit's
    kernels never depend on them, so every query reports "not found" like an unknown key."""
    string_of(category), string_of(key)
    return 0, 0


def buffer_exports() -> dict:
    """The buffer and buffer-view exports `hal` and `hal_inline` share (same names, same
    signatures, same semantics in IREE 3.13)."""
    return {
        "buffer.length": lambda b: expect(b, Buffer, "buffer.length").length,
        "buffer.subspan": lambda b, o, n: expect(b, Buffer, "buffer.subspan").subspan(o, n),
        "buffer_view.assert": _view_assert,
        "buffer_view.buffer": lambda v: expect(v, BufferView, "buffer_view.buffer").buffer,
        "buffer_view.create": _view_create,
        "buffer_view.dim": _view_dim,
        "buffer_view.element_type": lambda v: expect(v, BufferView, "buffer_view.element_type").element_type,
        "buffer_view.encoding_type": lambda v: expect(v, BufferView, "buffer_view.encoding_type").encoding,
        "buffer_view.rank": lambda v: len(expect(v, BufferView, "buffer_view.rank").shape),
        "buffer_view.trace": lambda key, views: None,
    }


def provider() -> dict:
    from .native import with_native_entries
    return with_native_entries({
        **buffer_exports(),
        "buffer.allocate": _allocate,
        "buffer.allocate.initialized": _allocate_initialized,
        "buffer.storage": lambda b: expect(b, Buffer, "buffer.storage").storage(),
        "buffer.wrap": _wrap,
        "device.query.i64": device_query_i64,
    })
