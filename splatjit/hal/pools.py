"""Pools of ready-made HAL objects that native code hands out without calling Python, and
the native `hal.fence.create` built on them.

A pool keeps up to CAPACITY fresh objects (e.g. unsignalled fences) and a native stack of
their ref addresses: `u64 count; u64 ref[CAPACITY]` (the top is ref[count - 1]). A native
entry pops the top ref and returns it; when the stack is empty it falls back to the Python
implementation, which makes an ordinary object.

Ownership: the pool's `stack` (a Python list, in the native stack's order) holds every
object it ever pushed until `recycle` runs, so an object native code popped stays alive for
the rest of the call although no ObjectSpace holds it (Python finds it by address through
runtime/objects.lookup, as any live HostObject). `recycle(live)` runs after the outermost
call of every module using the pool has returned (JitModule._retain_globals, once the
module's ObjectSpace has collected): a popped object that no ref global reaches (`live`)
and that nothing else refers to (its reference count is the pool's own) is reset and pushed
again; any other popped object has escaped (a ref global, a result, a Python structure
holds it) and is left to its holders as an ordinary object, never pushed again. The stack
is then topped up to the most objects one call has asked for (popped plus fallbacks), up to
CAPACITY.
"""
from __future__ import annotations

import ctypes
import sys

from ..emit_x64 import operands as R
from ..emit_x64.operands import qword
from ..frontend.cconv import parse_cconv
from ..intrinsics.native_entry import Entry
from ..runtime.memory import ExecutableMemory

CAPACITY = 64
_FRAME = 56


def _refs_of_first(objects: list) -> int:
    """sys.getrefcount of objects[0] as `recycle` sees a popped object (the list, the loop
    variable, the argument)."""
    for obj in objects:
        return sys.getrefcount(obj)
    raise ValueError("no object")


class ObjectPool:
    """See the module docstring. `make()` -> a fresh object; `reset(obj)` makes a used,
    unescaped object fresh again."""

    def __init__(self, make, reset, initial: int = 4):
        self.make, self.reset = make, reset
        self.native = (ctypes.c_uint64 * (1 + CAPACITY))()
        self.address = ctypes.addressof(self.native)
        self.stack: list = []
        self.target = initial
        self.misses = 0  # fallbacks (empty stack) since the last recycle
        self.depth_cells: list = []  # the users' JitModule._depth_cell
        self._unshared = _refs_of_first([make()])
        self.stack = [make() for _ in range(initial)]
        self._publish()

    def bind(self, module) -> None:
        """`module` uses this pool: recycling waits until none of its calls is running."""
        self.depth_cells.append(module._depth_cell)

    def fallback(self):
        """The Python path when the native stack is empty: an ordinary new object."""
        self.misses += 1
        return self.make()

    def recycle(self, live: set[int]) -> None:
        if any(cell.value for cell in self.depth_cells):
            return  # a call of some user is still running: it may hold popped objects
        count = self.native[0]
        if count == len(self.stack) and not self.misses:
            return
        taken = self.stack[count:]
        del self.stack[count:]
        asked = len(taken) + self.misses
        for obj in taken:
            if obj.ref_address not in live and sys.getrefcount(obj) <= self._unshared:
                self.reset(obj)
                self.stack.append(obj)
        obj = taken = None
        self.target = min(max(self.target, asked), CAPACITY)
        while len(self.stack) < self.target:
            self.stack.append(self.make())
        self.misses = 0
        self._publish()

    def _publish(self) -> None:
        n = len(self.stack)
        self.native[0] = n
        self.native[1:1 + n] = [obj.ref_address for obj in self.stack]


class PooledCall:
    """A hal function that returns a pooled object (`fence.create`): a Python callable
    (the fallback: `pool.fallback()`, whatever the arguments) plus its native entry
    builder for the x86-64 import table; `after_call(live)` recycles (see ObjectPool)."""

    def __init__(self, name: str, cconv: str, pool: ObjectPool):
        self.name, self.pool = name, pool
        sig = parse_cconv(cconv)
        self.signature = (sig.args, sig.results)
        self.arg_types = tuple(sig.args)

    def __call__(self, *args):
        return self.pool.fallback()

    def bind(self, module) -> None:
        self.pool.bind(module)

    def after_call(self, live: set[int]) -> None:
        self.pool.recycle(live)

    def native_entry(self, fallback: int, signature=None):
        """(entry address, the mapping to keep alive); None for another signature."""
        if signature is not None and (signature.args, signature.results) != self.signature:
            return None
        e = Entry(self.name, tuple(f"a{i}" for i in range(len(self.arg_types))), _FRAME,
                  arg_types=self.arg_types)
        a = e.a
        a.mov(R.rax, self.pool.address)
        a.mov(R.rcx, qword[R.rax])
        a.test(R.rcx, R.rcx)
        a.jz(e.slow)
        a.sub(R.rcx, 1)
        a.mov(qword[R.rax], R.rcx)
        a.mov(R.rcx, qword[R.Mem(R.rax, R.rcx, 8, 8)])
        a.mov(qword[R.rdx], R.rcx)
        memory = ExecutableMemory(e.finish(fallback))
        return memory.address, memory
