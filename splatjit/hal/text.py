"""`iree-run-module`'s text forms of tensors: parsing `--input` values and printing results.

Contract:
* `parse_input(text, read_file)` accepts `SHAPExTYPE=VALUES` (`2x3xf32=1 2 3 4 5 6`,
  `4xi32=7` splats one value, brackets and commas are separators, no values = zeros),
  `TYPE=VALUE` for a 0-d tensor, `SHAPExTYPE=@raw.bin` (element bytes) and `@path.npy`; it returns a numpy array or raises
  `InputError` with IREE's wording where it has one.
* `format_tensor(array, element_type_name, max_elements)` prints like
  `iree_hal_buffer_view_format`: `4x4xf32=[4 4 4 4][...]`, floats with C's `%G`, the leaf
  row truncated with `...` once `max_elements` values are printed.
"""
from __future__ import annotations

import math
import re

import numpy as np

from ..errors import SplatJitError

#: IREE element type names -> numpy dtypes (signless integers map to signed).
TYPE_DTYPES = {
    "f16": np.float16, "f32": np.float32, "f64": np.float64,
    "i8": np.int8, "i16": np.int16, "i32": np.int32, "i64": np.int64,
    "si8": np.int8, "si16": np.int16, "si32": np.int32, "si64": np.int64,
    "ui8": np.uint8, "ui16": np.uint16, "ui32": np.uint32, "ui64": np.uint64,
    "i1": np.bool_,
}
#: The largest tensor an --input may describe (a shape beyond it is an error, not an attempt).
MAX_INPUT_BYTES = 1 << 34
_SEPARATORS = re.compile(r"[\s,\[\]]+")


class InputError(SplatJitError):
    """A `--input` / `--output` flag value that cannot be used."""


def _parse_number(token: str, dtype: np.dtype):
    try:
        if dtype.kind == "f":
            return float(token)
        if dtype.kind == "b":
            return bool(int(token, 0))
        value = int(token, 0)
    except ValueError:
        raise InputError(f"invalid value {token!r} for element type {dtype}") from None
    info = np.iinfo(dtype)
    if not info.min <= value <= info.max:
        raise InputError(f"value {token} does not fit {dtype}")
    return value


def parse_tensor(text: str) -> np.ndarray:
    head, sep, values = text.partition("=")
    if not sep:
        raise InputError(f"input {text!r}: expected SHAPExTYPE=VALUES (e.g. 2x2xf32=1 2 3 4), "
                         f"TYPE=VALUE or @file.npy")
    parts = head.strip().split("x")
    type_name = parts[-1]
    dtype = TYPE_DTYPES.get(type_name)
    if dtype is None:
        raise InputError(f"input {text!r}: unsupported element type {type_name!r} "
                         f"(one of {', '.join(TYPE_DTYPES)})")
    try:
        shape = tuple(int(d) for d in parts[:-1])
    except ValueError:
        raise InputError(f"input {text!r}: shape {head!r} is not NxMx...xTYPE") from None
    if any(d < 0 for d in shape):
        raise InputError(f"input {text!r}: negative dimension")
    dtype = np.dtype(dtype)
    count = math.prod(shape)
    if count * dtype.itemsize > MAX_INPUT_BYTES:
        raise InputError(f"input {text!r}: {count * dtype.itemsize} bytes is more than "
                         f"{MAX_INPUT_BYTES} bytes")
    if values.startswith("@"):  # raw little-endian element bytes from a file
        try:
            with open(values[1:], "rb") as f:
                raw = f.read()
        except OSError as e:
            raise InputError(f"input {text!r}: unable to open file {values[1:]}: {e.strerror}") from None
        if len(raw) < count * dtype.itemsize:
            raise InputError(f"input {text!r}: file has {len(raw)} bytes, {count * dtype.itemsize} needed")
        return np.frombuffer(raw[:count * dtype.itemsize], dtype).reshape(shape).copy()
    tokens = [t for t in _SEPARATORS.split(values) if t]
    if not tokens:
        return np.zeros(shape, dtype)
    data = [_parse_number(t, dtype) for t in tokens]
    if len(data) == 1 and count > 1:
        data = data * count
    if len(data) > count:
        raise InputError(f"input {text!r}: output data buffer overflow: element_capacity="
                         f"{count} < {len(data)} values")
    if len(data) < count:
        raise InputError(f"input {text!r}: input data string underflow: {len(data)} values < "
                         f"element_capacity={count}")
    return np.array(data, dtype=dtype).reshape(shape)


def parse_input(text: str) -> np.ndarray:
    if text.startswith("@"):
        path = text[1:]
        try:
            return np.load(path, allow_pickle=False)
        except (OSError, ValueError) as e:
            raise InputError(f"input {text!r}: cannot read {path}: {e}") from None
    return parse_tensor(text)


def format_float(v: float, spec: str = "%G") -> str:
    """C's printf `spec` (%G for tensor elements, %g for scalar results) of a float: like
    Python's, except that C shows the sign of a NaN."""
    v = float(v)
    if v != v:
        nan = "NAN" if spec == "%G" else "nan"
        return "-" + nan if math.copysign(1.0, v) < 0 else nan
    return spec % v


def _format_value(v, kind: str) -> str:
    return format_float(v) if kind == "f" else str(int(v))


def format_tensor(array: np.ndarray, type_name: str, max_elements: int = 1024) -> str:
    """The `SHAPExTYPE=[...]` text of iree_hal_buffer_view_format."""
    shape = array.shape
    head = "x".join([*map(str, shape), type_name])
    kind = array.dtype.kind
    budget = [max_elements]

    def rec(a) -> str:
        if a.ndim == 0:
            return rec(a.reshape(1))
        if a.ndim > 1:
            return "".join("[" + rec(sub) + "]" for sub in a)
        n = min(budget[0], a.shape[0])
        budget[0] -= n
        text = " ".join(_format_value(v, kind) for v in a[:n].tolist())
        return text + ("..." if n < a.shape[0] else "")

    return f"{head}={rec(array)}"
