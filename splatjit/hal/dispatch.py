"""Running a VMVX dispatch function over a workgroup grid, as IREE's VMVX loader does.

A dispatch function takes (local memory `!vm.buffer`, push constants `!vm.buffer`,
bindings `!vm.list<!vm.buffer>`, workgroup id x y z, workgroup size x y z, workgroup count
x y z); each workgroup is one call. The size is 1 1 1 (VMVX kernels loop over their own
tile) and local memory is the size the function's `local_memory` attribute declares,
zeroed once per dispatch and shared by its workgroups (one worker). Like IREE's local HAL,
workgroups run with denormals flushed to zero (x86 MXCSR FTZ|DAZ, AArch64 FPCR.FZ).

Contract: `DispatchRunner(module, name).run(grid, constants, bindings)` packs the arguments
once and calls the native function for every workgroup in x-fastest order; the first trap
raises the module's `TrapError`. Binding views are zero-copy: results land in the HAL
buffers directly.
"""
from __future__ import annotations

import numpy as np

from ..runtime.lists import TypedList

WORKGROUP_SIZE = (1, 1, 1)


class DispatchRunner:
    def __init__(self, module, name: str):
        self.module, self.name = module, name
        self.function = module[name]
        attrs = module.loaded.defn.signature_attrs[self.function.ordinal] or {}
        try:
            self.local_memory_size = int(attrs.get("local_memory", 0) or 0)
        except ValueError:
            self.local_memory_size = 0

    def run(self, grid, constants: np.ndarray, bindings: list[np.ndarray]) -> None:
        cx, cy, cz = grid
        if not cx * cy * cz:
            return
        local = np.zeros(max(self.local_memory_size, 0), np.uint8)
        args = [local, np.ascontiguousarray(constants).view(np.uint8),
                TypedList("!vm.buffer", bindings), 0, 0, 0, *WORKGROUP_SIZE, cx, cy, cz]
        self.function.run_grid(args, 3, grid, flush_denormals=True)
