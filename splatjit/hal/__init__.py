"""HAL services for whole programs: the inline HAL (`hal_inline.*`) and the local HAL
(`hal.*`), with buffers and buffer views over numpy memory (buffers.py).

Contract: `default_providers(defn, ...)` gives import providers for the HAL modules a
module imports and the caller did not provide; `is_program(defn)` says whether a module's
exports take and return buffer views (then `to_arguments`/`to_results` convert numpy
arrays in and out).
"""
from __future__ import annotations

import numpy as np

from .buffers import BufferView, HalError
from .program_call import ProgramArgs, ProgramResults

#: Imported module names served here.
HAL_MODULES = ("hal_inline", "hal")


def imported_modules(defn) -> set[str]:
    return {imp.name.partition(".")[0] for imp in defn.imports}


def is_program(defn) -> bool:
    return bool(imported_modules(defn) & set(HAL_MODULES))


def default_providers(defn, given: dict | None, **local_options) -> dict:
    """`given` plus providers for each HAL module `defn` imports that `given` lacks.
    `local_options` configure the local HAL (see `LocalHal`), whose executables (the
    program's nested modules, `executables=`) are compiled here."""
    providers = dict(given or {})
    wanted = imported_modules(defn)
    if "hal_inline" in wanted and "hal_inline" not in providers:
        from .inline import provider
        providers["hal_inline"] = provider()
    if "hal" in wanted and "hal" not in providers:
        from .local import LocalHal
        local = LocalHal(**local_options)
        local.compile_executables()
        providers["hal"] = local.provider()
    return providers


def to_arguments(signature, args) -> list:
    """numpy arrays (and numpy/Python scalars for 0-d tensors) at ref positions become
    BufferViews; everything else passes through."""
    out = []
    for t, a in zip(signature.args, args):
        if t == "ref" and isinstance(a, (np.ndarray, np.generic)):
            a = BufferView.from_array(np.asarray(a))
        out.append(a)
    return out + list(args[len(signature.args):])


def to_result(value):
    return value.to_array() if isinstance(value, BufferView) else value


__all__ = ["BufferView", "HalError", "ProgramArgs", "ProgramResults", "default_providers", "is_program", "to_arguments", "to_result"]
