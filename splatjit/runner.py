"""`splatjit run`: `iree-run-module` for splatjit. Same flags, same printed form.

Contract: `run(module_bytes, function, inputs, outputs, ...)` writes to `stdout` exactly what
iree-run-module prints (`EXEC @fn`, then per result `result[i]: hal.buffer_view` and its
text, or scalars as `result[i]: i32=5`), honours `--output` specs (`-` print, `@f.npy`
write, `+f.npy` append, empty = ignore; when given, one per result) and returns the exit
code: 0, or 1 after printing the error to `stderr`.
"""
from __future__ import annotations

import sys

import numpy as np

from .errors import SplatJitError, TrapError
from .hal.buffers import BufferView, element_type_name
from .hal.text import InputError, format_float, format_tensor, parse_input


def _write_npy(spec: str, array: np.ndarray) -> None:
    mode, path = ("ab" if spec[0] == "+" else "wb"), spec[1:]
    try:
        with open(path, mode) as f:
            np.save(f, array, allow_pickle=False)
    except OSError as e:
        raise InputError(f"output {spec!r}: cannot write {path}: {e.strerror}") from None


def _text(index: int, value, kind: str, max_elements: int) -> str:
    """One result as iree-run-module prints it (`kind`: the result's VM type)."""
    if isinstance(value, BufferView):
        body = format_tensor(value.to_array(), element_type_name(value.element_type), max_elements)
        return f"result[{index}]: hal.buffer_view\n{body}\n"
    if kind in ("f32", "f64"):  # scalars print with C's %g (tensor elements with %G)
        return f"result[{index}]: {kind}={format_float(value, '%g')}\n"
    if kind in ("i32", "i64"):
        return f"result[{index}]: {kind}={value}\n"
    return f"result[{index}]: {type(value).__name__}\n"


def _scalar_input(text: str, kind: str):
    try:
        return float(text) if kind in ("f32", "f64") else int(text, 0)
    except ValueError:
        raise InputError(f"input {text!r}: expected a {kind} scalar") from None


def run(module_bytes: bytes, function: str, inputs: list[str], outputs: list[str], *,
        target: str = "native", max_elements: int = 1024, stdout=None, stderr=None,
        tier: str | None = None) -> int:
    from .module import JitModule
    stdout, stderr = stdout or sys.stdout, stderr or sys.stderr
    try:
        module = JitModule(module_bytes, target=target, tier=tier)
        fn = module[function] if function in module._exports else None
        if fn is None:
            raise InputError(f"no function `{function}` exported by module {module.name} "
                             f"(exports: {', '.join(module._exports)})")
        kinds = list(fn.signature.args)
        if len(inputs) != len(kinds):
            raise InputError(f"function {function} expects {len(kinds)} inputs, got {len(inputs)}")
        args = [parse_input(t) if k == "ref" else _scalar_input(t, k) for t, k in zip(inputs, kinds)]
        args = [BufferView.from_array(a) if isinstance(a, np.ndarray) else a for a in args]
        stdout.write(f"EXEC @{function}\n")
        stdout.flush()
        results = fn.call_raw(*args)
        if outputs and len(outputs) != len(results):
            raise InputError(f"{len(outputs)} outputs specified but the function returned "
                             f"{len(results)} results")
        for i, (value, kind) in enumerate(zip(results, fn.signature.results)):
            spec = outputs[i] if outputs else "-"
            if spec == "-":
                stdout.write(_text(i, value, kind, max_elements))
            elif spec[:1] in ("@", "+"):
                array = value.to_array() if isinstance(value, BufferView) else np.asarray(value)
                _write_npy(spec, array)
            elif spec:
                raise InputError(f"output {spec!r}: expected -, @file.npy, +file.npy or empty")
        stdout.flush()
        return 0
    except (SplatJitError, TrapError) as e:
        stderr.write(f"splatjit: error: {e}\n")
        return 1
