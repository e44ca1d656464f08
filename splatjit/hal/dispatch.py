"""Running a VMVX dispatch function over a workgroup grid, as IREE's VMVX loader does.

A dispatch function takes (local memory `!vm.buffer`, push constants `!vm.buffer`,
bindings `!vm.list<!vm.buffer>`, workgroup id x y z, workgroup size x y z, workgroup count
x y z); each workgroup is one call. The size is 1 1 1 (VMVX kernels loop over their own
tile) and local memory is the size the function's `local_memory` attribute declares,
zeroed once per dispatch and shared by its workgroups (one worker). Like IREE's local HAL,
workgroups run with denormals flushed to zero (x86 MXCSR FTZ|DAZ, AArch64 FPCR.FZ).

Contract: `DispatchRunner(module, name).prepare(grid, constants, bindings)` turns one
recorded dispatch into an object whose `run(table)` resolves its bindings against a binding
table and calls the native function for every workgroup in x-fastest order; the first trap
raises the module's `TrapError`. On x86-64 the call is packed once per (grid, constants,
binding count) and reused by every such dispatch. Bindings are zero-copy: results land in the HAL
buffers directly. As in IREE, the bindings and local memory are mutable `!vm.buffer`s, the
constants a read-only one; every run starts from the recorded arguments (a kernel that
changes its bindings list does not change the next run's).
"""
from __future__ import annotations

import ctypes
import struct

import numpy as np

from ..runtime import abi
from ..runtime.ctarrays import array_type
from ..runtime.grid import FLUSH_DENORMALS, RESET_FUEL, GridParams, run_grid_function
from ..runtime.lists import NativeList, TypedList
from ..runtime.objects import array_address
from ..runtime.values import Arena
from .buffers import Buffer, HalError
from .inline import expect

WORKGROUP_SIZE = (1, 1, 1)
#: The dispatch function signature (IREE's VMVX ABI) the packed path is laid out for.
SIGNATURE = (("ref",) * 3 + ("i32",) * 9, ())
_ARGS = struct.Struct("<QQQ9i")
_IDS_OFFSET = 24
_NO_ARGUMENTS = Arena()


def resolve(table: list, slot: int, buffer, offset: int, length: int) -> tuple[Buffer, int, int]:
    """(buffer, offset, length) of a recorded binding: `buffer` itself, or (buffer None)
    table[slot]'s buffer at the table entry's offset plus `offset`; length -1 runs to the
    end. HalError for a slot outside the table, a non-buffer or a range outside it."""
    if buffer is None:
        if not 0 <= slot < len(table):
            raise HalError(f"binding table slot {slot} out of range ({len(table)} slots)")
        buffer, base, _ = table[slot]
        offset += base
    buffer = expect(buffer, Buffer, "dispatch binding")
    return buffer, offset, buffer.span(offset, length)


class DispatchRunner:
    """One export of an executable; `native` when its calls can be packed (x86-64 code in
    this process, the VMVX signature, no ref globals that could keep a binding). Packed
    calls (`Frame`s) are kept per (grid, constants, binding count) and shared by every
    dispatch recorded with them, in any command buffer (at most MAX_FRAMES, then afresh)."""
    MAX_FRAMES = 64

    def __init__(self, module, name: str):
        self.module, self.name = module, name
        self.function = module[name]
        attrs = module.loaded.defn.signature_attrs[self.function.ordinal] or {}
        try:
            self.local_memory_size = max(int(attrs.get("local_memory", 0) or 0), 0)
        except ValueError:
            self.local_memory_size = 0
        sig = self.function.signature
        self.native = (module.target == "x86_64" and module._backend is None
                       and not self.function._missing and not module._ref_globals_used
                       and (tuple(sig.args), tuple(sig.results)) == SIGNATURE)
        self._frames: dict[tuple, Frame] = {}
        #: (constant count, binding count) -> FlexFrame (hal/command_buffer.py)
        self.flex: dict[tuple[int, int], FlexFrame] = {}

    def flex_frame(self, nconst: int, nbind: int) -> "FlexFrame | None":
        """The FlexFrame for dispatches of this shape, made once; None when calls cannot
        be packed (`native` false)."""
        if not self.native:
            return None
        frame = self.flex.get((nconst, nbind))
        if frame is None:
            frame = self.flex[nconst, nbind] = FlexFrame(self, nconst, nbind)
        return frame

    def forget_frames(self) -> None:
        """Drops the packed calls (they refer back to this runner); for an executable
        nothing dispatches to any more (hal/local.Executable.release)."""
        self._frames.clear()
        self.flex.clear()

    def prepare(self, grid, constants: np.ndarray, bindings: list[tuple]) -> "Dispatch":
        """`constants`: uint32 words; `bindings`: (slot, buffer or None, offset, length)."""
        if not self.native:
            return Dispatch(self, grid, constants, bindings)
        grid, bindings = tuple(grid), list(bindings)
        words = np.array(constants, np.uint32)
        key = (grid, words.tobytes(), len(bindings))
        frame = self._frames.get(key)
        if frame is None:
            if len(self._frames) >= self.MAX_FRAMES:
                self._frames.clear()
            frame = self._frames[key] = Frame(self, grid, words, len(bindings))
        return PackedDispatch(frame, bindings)


class Dispatch:
    """A recorded dispatch run through the module's generic calls (any target)."""

    def __init__(self, runner: DispatchRunner, grid, constants: np.ndarray, bindings):
        self.runner, self.grid = runner, tuple(grid)
        self.constants = np.array(constants, np.uint32).view(np.uint8)
        self.constants.flags.writeable = False
        self.bindings = list(bindings)

    def run(self, table: list) -> None:
        views = []
        for binding in self.bindings:
            buffer, offset, length = resolve(table, *binding)
            views.append(buffer.array[offset:offset + length])
        cx, cy, cz = self.grid
        if not cx * cy * cz:
            return
        local = np.zeros(self.runner.local_memory_size, np.uint8)
        args = [local, self.constants, TypedList("!vm.buffer", views), 0, 0, 0,
                *WORKGROUP_SIZE, cx, cy, cz]
        self.runner.function.run_grid(args, 3, self.grid, flush_denormals=True)


class PackedDispatch:
    """A recorded dispatch on a packed `Frame`: a run resolves its bindings, then runs the
    frame with them."""

    def __init__(self, frame: "Frame", bindings: list[tuple]):
        self.frame, self.bindings = frame, bindings

    def run(self, table: list) -> None:
        values = []
        for binding in self.bindings:
            buffer, offset, length = resolve(table, *binding)
            values += (buffer.address + offset, length, buffer.access, abi.TYPE_BUFFER)
        self.frame.run(values)


class Frame:
    """One packed call of the native grid loop (runtime/grid.py): its args buffer,
    read-only constants, local memory, bindings list and `count` binding descriptors, made
    once. `run(values)` writes the descriptors (BufferDesc fields, flattened), restores the
    list as packed, zeroes local memory and runs the grid; a trap raises."""

    def __init__(self, runner: DispatchRunner, grid: tuple, words: np.ndarray, count: int):
        self.runner, self.grid, self.count = runner, grid, count
        m = runner.module
        self.constants = words.view(np.uint8)
        constants_address = array_address(self.constants)
        self.constants.flags.writeable = False
        self.descs = array_type(abi.BufferDesc, max(count, 1))()
        first = ctypes.addressof(self.descs)
        self.list = NativeList(abi.ELEM_REF, abi.TYPE_BUFFER, count)
        self.list.resize(count)
        self.list.storage["value"][:count] = [first + abi.BUF_SIZE * i for i in range(count)]
        self.slots = self.list.storage
        self.list_template = bytes(self.list.desc)
        self.slots_template = self.slots.tobytes()
        self.local = np.zeros(max(runner.local_memory_size, 1), np.uint8)
        self.local_desc = abi.BufferDesc(array_address(self.local), runner.local_memory_size,
                                         abi.ACCESS_MUTABLE, abi.TYPE_BUFFER)
        self.constants_desc = abi.BufferDesc(constants_address, self.constants.nbytes, 0,
                                             abi.TYPE_BUFFER)
        cx, cy, cz = grid
        self.args = array_type(ctypes.c_char, _ARGS.size).from_buffer_copy(_ARGS.pack(
            ctypes.addressof(self.local_desc), ctypes.addressof(self.constants_desc),
            self.list.address, 0, 0, 0, *WORKGROUP_SIZE, cx, cy, cz))
        self.results = array_type(ctypes.c_char, 8)()
        flags = FLUSH_DENORMALS | (RESET_FUEL if m.fuel is not None else 0)
        self.params = GridParams(array_type(ctypes.c_uint32, 3)(cx, cy, cz), flags, m.fuel or 0)
        # the grid loop's arguments, as addresses
        self.call = (m._context_address, ctypes.addressof(self.args),
                     ctypes.addressof(self.results), runner.function.address,
                     ctypes.addressof(self.params), ctypes.addressof(self.args) + _IDS_OFFSET)
        self.descs_address, self.list_address = first, self.list.address
        self.slots_address = array_address(self.slots)
        self.desc_bytes = array_type(ctypes.c_char, abi.BUF_SIZE * count)
        self.desc_struct = struct.Struct("<" + "QQII" * count)
        self.list_bytes = array_type(ctypes.c_char, len(self.list_template))
        self.slot_bytes = array_type(ctypes.c_char, len(self.slots_template))
        self.empty = not cx * cy * cz
        self.native_templates = None  # list + slot templates for native plans, made once

    def run(self, values: list) -> None:
        if self.empty:
            return
        if values:
            self.desc_bytes.from_address(self.descs_address).raw = self.desc_struct.pack(*values)
        self.restore_list()
        if self.runner.local_memory_size:
            self.local.fill(0)
        m = self.runner.module
        m._depth += 1
        try:
            status = run_grid_function()(*self.call)
        finally:
            m._depth -= 1
        if status:
            self.raise_trap(status)
        heap = m._heap
        if heap.by_address or heap.lists.by_address or m._objects.held or m._pinned:
            self.release()
        elif not m._depth:
            heap.rewind()  # arena buffers only the workgroups saw (runtime/native_arena.py)

    def restore_list(self) -> None:
        """The bindings list and its slots as packed (a kernel may have grown the list)."""
        self.list.storage = self.slots
        self.list_bytes.from_address(self.list_address).raw = self.list_template
        self.slot_bytes.from_address(self.slots_address).raw = self.slots_template

    def raise_trap(self, status: int) -> None:
        """After a run that returned `status` (non-zero): resets the module's Context,
        releases what the workgroups allocated and raises the trap's TrapError."""
        m = self.runner.module
        error = m._trap(status)
        m._context.trap_code = 0
        m._context.depth_left = abi.MAX_DEPTH
        m._retain_globals(_NO_ARGUMENTS)
        raise error

    def release(self) -> None:
        """After a run: releases what the workgroups allocated (buffers, lists, objects)."""
        self.runner.module._retain_globals(_NO_ARGUMENTS)

    def plan_words(self) -> list[int]:
        """This frame's part of a native execution plan step (hal/execute.py, `_S_*`): the
        addresses a run writes and calls with. Valid while this frame lives (the plan
        holds it), and the dicts' addresses while its module lives (they are never
        replaced: JitModule._pinned, BufferHeap / ListHeap.by_address, ObjectSpace.held)."""
        m = self.runner.module
        if self.native_templates is None:
            templates = self.list_template + self.slots_template + b"\0"
            self.native_templates = array_type(ctypes.c_char, len(templates)).from_buffer_copy(
                templates)
        return [int(self.empty), self.descs_address, self.list_address, self.slots_address,
                ctypes.addressof(self.native_templates), len(self.slots_template),
                array_address(self.local), self.runner.local_memory_size,
                ctypes.addressof(m._depth_cell), *self.call,
                *map(id, (m._heap.by_address, m._heap.lists.by_address, m._objects.held,
                          m._pinned))]


class FlexFrame(Frame):
    """A packed call for dispatches of any grid and constants of one runner with `nconst`
    constants and `nbind` bindings, run only by native code (hal/command_buffer.py), which
    writes the grid (into the args' workgroup counts and the grid parameters) and the
    constants before each run. `words`: the native record native code copies into a
    recorded dispatch (FLEX_WORDS u64: Frame.plan_words, then the constants' address and
    the grid parameters' address). Owned by its runner for the runner's lifetime (recorded
    dispatches point at it)."""
    FLEX_WORDS = 21

    def __init__(self, runner: DispatchRunner, nconst: int, nbind: int):
        super().__init__(runner, (1, 1, 1), np.zeros(nconst, np.uint32), nbind)
        self.nconst, self.nbind = nconst, nbind
        words = [*self.plan_words(), array_address(self.constants), ctypes.addressof(self.params)]
        assert len(words) == self.FLEX_WORDS
        self.words = array_type(ctypes.c_uint64, len(words))(*words)
        self.address = ctypes.addressof(self.words)
