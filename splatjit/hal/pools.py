"""Pools of ready-made HAL objects that native code hands out without calling Python, and
the native calls built on them: `hal.fence.create` and `hal.buffer_view.create`
(ObjectPool: fences, hal/buffers.PooledView) and `hal.device.queue.alloca` (BufferPool).

An ObjectPool keeps up to CAPACITY fresh objects (e.g. unsignalled fences) and a native
stack of their ref addresses: `u64 count; u64 ref[CAPACITY]` (the top is ref[count - 1]).
A native entry pops the top ref and returns it; when the stack is empty it falls back to
the Python implementation, which makes an ordinary object.

Ownership: the pool's `stack` (a Python list, in the native stack's order) holds every
object it ever pushed until `recycle` runs, so an object native code popped stays alive for
the rest of the call although no ObjectSpace holds it (Python finds it by address through
runtime/objects.lookup, as any live HostObject). After the outermost call of every module
using the pool has returned (JitModule._retain_globals): first `before_collect` lets each
popped object take the references it needs (a PooledView binds its buffer) while the
module's ObjectSpace still holds everything the call made; then, once the ObjectSpace has
collected, `recycle(live)` moves the popped objects to `watch` and resets and pushes again
each watched object that no ref global reaches (`live`) and that nothing else refers to
(its reference count is the pool's own). The others (a ref global, a result, a Python
structure holds them) stay with their holders as ordinary objects; the pool re-checks them
at later recycles (at most WATCH of them; older ones are simply let go). The stack is then
topped up to LAZY_CALLS times the most objects one call has asked for (popped plus
fallbacks), up to CAPACITY. BufferPool does the same per size class (see there), topping
up to one call's worth and recycling after every call.

An ObjectPool recycles lazily: while the native stack still holds as many objects as the
most demanding call took (`per_call`) and no call fell back, `recycle` returns at once, and
the objects popped since wait in the popped part of the stack. That is safe because
`before_collect` looks at every popped object once, at the end of the call that popped it:
one that escaped is bound then; one that did not (only the pool refers to it, no ref
global reaches it) can never be reached again, as no code holds its ref and the collection
only drops references, so it is still free when a later `recycle` resets it. A pass over
the Python objects thus runs about once per LAZY_CALLS calls instead of after every call.
An escaped object that its holder lets go is reset at the end of the next call already
(`bound`), so that what it refers to (a view's buffer) is free for its own pool at once.
"""
from __future__ import annotations

import ctypes
import sys
import types

from ..emit_x64 import operands as R
from ..emit_x64.operands import Label, dword, qword
from ..frontend.cconv import parse_cconv
from ..intrinsics.native_entry import Entry, counted_loop
from ..runtime import abi
from ..runtime.ctarrays import array_type
from ..runtime.memory import ExecutableMemory
from ..runtime.patched_code import patched

CAPACITY = 64
#: an ObjectPool's stack holds objects for about this many of its most demanding calls
LAZY_CALLS = 4
_FRAME = 56
#: BufferPool: distinct (size, memory types, usage) classes, buffers per class, buffers
#: watched for their holders to let go
CLASSES, CLASS_CAPACITY, WATCH = 8, 8, 32
#: Largest buffer size (bytes) the buffer pool keeps spares of; larger allocations are made
#: per call (spares of huge buffers would hold that much memory between calls).
POOLED_BYTES_MAX = 1 << 26


def _refcounts(objects: list) -> list[int]:
    """sys.getrefcount of each object as `ObjectPool.recycle` sees one the pool alone holds
    (called the same way there and when the pool calibrates)."""
    return [sys.getrefcount(objects[i]) for i in range(len(objects))]


#: a pool's maker -> its calibration (`measure([make(*args)])[0]`, what an object only the
#: pool holds shows), for makers that are classes or module-level functions: the count is
#: a property of what they make, the same for every pool
_CALIBRATED: dict = {}


def _calibrate(make, measure, args: tuple = ()):
    """`measure([make(*args)])[0]` for a fresh object, once per shared maker."""
    shared = isinstance(make, (type, types.FunctionType)) and "<" not in make.__qualname__
    if shared:
        found = _CALIBRATED.get(make)
        if found is not None:
            return found
    counts = measure([make(*args)])[0]
    if shared:
        _CALIBRATED[make] = counts
    return counts


def _mapped(code: bytes | None):
    """(entry address, the mapping to keep alive) of an entry's code in its own mapping,
    or None without code."""
    if code is None:
        return None
    memory = ExecutableMemory(code)
    return memory.address, memory


def call_steps(hooks) -> tuple[list, list]:
    """What a module runs after its outermost call for its import `hooks` (callables with
    `after_call(live)`, some with `before_collect(live)`): (the callables to run before
    its ObjectSpace collects, those to run after). A hook with a `pool` stands for its
    pool - its before_collect / after_call are the pool's before_collect / recycle - and
    a pool that several hooks share (fence.create and fence.join) runs its steps once."""
    before, after, pools = [], [], []
    for hook in hooks:
        pool = getattr(hook, "pool", None)
        if pool is None:
            if hasattr(hook, "before_collect"):
                before.append(hook.before_collect)
            after.append(hook.after_call)
        elif not any(pool is p for p in pools):
            pools.append(pool)
            if hasattr(hook, "before_collect"):
                before.append(pool.before_collect)
            after.append(pool.recycle)
    return before, after


def pop_pooled(e: Entry, stack_address: int, stack, out) -> None:
    """`out` = the top ref of the native stack at `stack_address` (`u64 count; u64
    ref[...]`), popped; the entry falls back when the stack is empty. Uses `stack` for the
    stack's address and rcx (may be `out`)."""
    a = e.a
    a.mov(stack, stack_address)
    a.mov(R.rcx, qword[stack])
    a.test(R.rcx, R.rcx)
    a.jz(e.slow)
    a.sub(R.rcx, 1)
    a.mov(qword[stack], R.rcx)
    a.mov(out, qword[R.Mem(stack, R.rcx, 8, 8)])


class ObjectPool:
    """See the module docstring. `make()` -> a fresh object; `reset(obj)` makes a used,
    unescaped object fresh again; `bind(obj)`, if given, runs on every popped object before
    the module's ObjectSpace collects (`before_collect`), e.g. a view taking a strong
    reference to its buffer."""

    def __init__(self, make, reset, initial: int = 4, bind=None):
        self.make, self.reset, self.bind_popped = make, reset, bind
        self.native = array_type(ctypes.c_uint64, 1 + CAPACITY)()
        self.address = ctypes.addressof(self.native)
        self.words = memoryview(self.native).cast("B").cast("Q")
        self.stack: list = []
        self.watch: list = []  # popped objects something else still referred to
        self.target = initial
        self.per_call = max(initial, 1)  # the most objects one call took (fallbacks included)
        self.misses = 0  # fallbacks (empty stack) since the last recycle
        self.depth_cells: list = []  # the users' JitModule._depth_cell
        self._unshared = _calibrate(make, _refcounts)
        self.stack = [make() for _ in range(initial)]
        self._publish()
        self.seen = len(self.stack)  # stack[seen:] were popped and looked at (before_collect)
        self.bound: list = []  # popped objects bound since the last recycle (escaped then)

    def bind(self, module) -> None:
        """`module` uses this pool: recycling waits until none of its calls is running
        (each user's depth cell is listed once, however many of its imports use the pool)."""
        if not any(cell is module._depth_cell for cell in self.depth_cells):
            self.depth_cells.append(module._depth_cell)

    def fallback(self):
        """The Python path when the native stack is empty: an ordinary new object."""
        self.misses += 1
        return self.make()

    def before_collect(self, live) -> None:
        """At the end of an outermost call: notes how many objects it popped, and binds each
        of them that something besides the pool refers to (a Python object, or a ref global:
        `live`); one only the pool holds is reset by a later `recycle` without ever being
        bound (see the module docstring)."""
        if self.words[0] >= self.seen and not self.bound:
            return  # nothing popped since the last look, nothing bound to look at again
        for cell in self.depth_cells:
            if cell.value:
                return
        unshared = self._unshared + 1   # (the stack holds each one as well)
        bound = self.bound
        if bound:  # escaped at the end of an earlier call: reset the ones let go since
            counts = _refcounts(bound)  # (their references, e.g. a view's buffer, go now)
            keep = [bound[i] for i in range(len(bound))
                    if counts[i] != unshared or bound[i].ref_address in live]
            if len(keep) < len(bound):
                for obj in bound:
                    if obj not in keep:
                        self.reset(obj)
                self.bound = bound = keep
            obj = None
        count, seen = self.words[0], self.seen
        if count >= seen:
            self.seen = count
            return
        taken = seen - count
        if taken > self.per_call:
            self.per_call = min(taken, CAPACITY)
        self.seen = count
        bind = self.bind_popped
        if bind is None:
            return
        popped = self.stack[count:seen]
        counts = _refcounts(popped)
        for i in range(len(popped)):
            obj = popped[i]
            if counts[i] != unshared or obj.ref_address in live:
                bind(obj)
                bound.append(obj)
        obj = popped = None

    def recycle(self, live: set[int], force: bool = False) -> None:
        """After the outermost call of every user: see the module docstring; `force`
        recycles even while the stack would last another call."""
        if not self.misses and self.words[0] >= self.per_call and not force:
            return  # enough for another call: the popped objects wait (module docstring)
        for cell in self.depth_cells:
            if cell.value:
                return  # a call of some user is still running: it may hold popped objects
        stack, words, watch = self.stack, self.words, self.watch
        count = words[0]
        if not self.watch and not self.misses and self._recycle_in_place(count, live):
            self._top_up(len(stack))
            return
        asked = len(stack) - count + self.misses
        if self.misses and asked > self.per_call:  # the stack ran dry: as if one call took all
            self.per_call = min(asked, CAPACITY)
        watch += stack[count:]
        del stack[count:]
        keep = None
        counts = _refcounts(watch)
        unshared, reset = self._unshared, self.reset
        for i in range(len(watch)):
            obj = watch[i]
            if counts[i] == unshared and obj.ref_address not in live and len(stack) < CAPACITY:
                reset(obj)
                words[1 + len(stack)] = obj.ref_address  # often already there: popped in place
                stack.append(obj)
            else:
                if keep is None:
                    keep = []
                keep.append(obj)
        obj = None
        self.watch = [] if keep is None else keep[-WATCH:]
        self._top_up(count)

    def _top_up(self, unchanged: int) -> None:
        """After a recycle: the stack grows to LAZY_CALLS calls' worth (up to CAPACITY) and
        is published (its first `unchanged` native refs are already right)."""
        stack = self.stack
        self.bound = []  # each is on the stack again (reset) or watched
        self.target = min(LAZY_CALLS * self.per_call, CAPACITY)
        while len(stack) < self.target:
            stack.append(self.make())
        self._publish(unchanged)
        self.seen = len(stack)
        self.misses = 0

    def _recycle_in_place(self, count: int, live: set[int]) -> bool:
        """The common recycle: every popped object is free again (the pool's own reference
        count, no ref global reaches it), nothing is watched or missed: each is reset where
        it is on the stack, whose native copy then only needs its count (the refs there
        are unchanged; `_top_up` publishes the count). False (nothing done) otherwise, for
        the general path."""
        popped = self.stack[count:]
        counts = _refcounts(popped)
        unshared = self._unshared + 1   # (the stack holds each one as well)
        for i in range(len(popped)):
            if counts[i] != unshared or popped[i].ref_address in live:
                return False
        reset = self.reset
        for obj in popped:
            reset(obj)
        return True

    def _publish(self, unchanged: int = 0) -> None:
        """Writes the native stack; its first `unchanged` refs are already right."""
        words, stack = self.words, self.stack
        for i in range(unchanged, len(stack)):
            words[1 + i] = stack[i].ref_address
        words[0] = len(stack)


def _running(cells) -> bool:
    """Whether a call of some user module is running (its depth cell is non-zero)."""
    for cell in cells:
        if cell.value:
            return True
    return False


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

    def before_collect(self, live) -> None:
        self.pool.before_collect(live)

    def after_call(self, live: set[int]) -> None:
        self.pool.recycle(live)

    def native_code(self, fallback: int, signature=None) -> bytes | None:
        """The native entry's position-independent code (falling back to the native-ABI
        function at `fallback`), or None for another signature. Entries differ only in
        `fallback` and the pool's address: each is a patched copy (runtime/patched_code.py)."""
        if signature is not None and (signature.args, signature.results) != self.signature:
            return None
        return patched(("hal-pooled", self.name, self.arg_types),
                       lambda a: self._assemble(*a), (fallback, self.pool.address))

    def native_entry(self, fallback: int, signature=None):
        """(entry address, the mapping to keep alive) of `native_code`, or None."""
        return _mapped(self.native_code(fallback, signature))

    def _assemble(self, fallback: int, pool_address: int) -> bytes:
        e = Entry(self.name, tuple(f"a{i}" for i in range(len(self.arg_types))), _FRAME,
                  arg_types=self.arg_types)
        a = e.a
        pop_pooled(e, pool_address, R.rax, R.rcx)
        a.mov(qword[R.rdx], R.rcx)
        return e.finish(fallback)


#: a BufferPool class record in u64 words: size (i64), memory types (u32) | usage (u32) << 32,
#: count, then CLASS_CAPACITY refs (the top is refs[count - 1]); a class never used has
#: count 0
_W_SIZE, _W_TYPES, _W_COUNT, _W_REFS = 0, 1, 2, 3
_CLASS_WORDS = _W_REFS + CLASS_CAPACITY
_CLASS_SIZE = 8 * _CLASS_WORDS


def _buffer_refs(buffer) -> tuple[int, int, int]:
    """Reference counts of a pooled buffer, its `array` and the array that owns the bytes
    (its base), as `BufferPool._free` sees them (called the same way there and when the
    pool calibrates)."""
    array = buffer.array
    return sys.getrefcount(buffer), sys.getrefcount(array), sys.getrefcount(array.base)


def _refs_of_all(objects: list) -> list[tuple[int, int, int]]:
    """`_buffer_refs` of each buffer in `objects` (the same counts: the calibration calls
    this too)."""
    getrefcount = sys.getrefcount
    return [(getrefcount(b), getrefcount(b.array), getrefcount(b.array.base)) for b in objects]


class BufferPool:
    """Ready-made zeroed HAL buffers by exact (size, memory types, usage) for the native
    `queue.alloca` (`NativeAlloca`): at most CLASSES classes of CLASS_CAPACITY buffers each,
    in a native table (CLASSES records of _CLASS_WORDS u64 words, see _W_SIZE). Native code pops the top ref of the class whose
    key matches; anything else falls back to Python, which allocates an ordinary buffer and
    `note_miss`es its key (the next recycle makes that class).

    Ownership: every buffer the pool made stays in one of its Python lists (`stacks`, in
    native order, or `watch`) until the pool lets it go, so a popped buffer lives at least
    until the next `recycle`, which runs only when no call of a user module is running.
    `recycle(live)` moves every popped buffer to `watch`, then returns to its class each
    watched buffer that is free again: no ref global reaches it (`live`), nothing but the
    pool refers to it, to its `array`, or to the array owning its bytes (no BufferView,
    subspan, result array, numpy view or `!vm.buffer` storage), zeroing its bytes as a new
    allocation would be. The others stay watched until free (at most WATCH of them, the
    oldest are then left to their holders as ordinary buffers). Classes are then topped up
    to the most buffers one call popped plus missed."""

    def __init__(self, make):
        """`make(size, memory_types, usage)` -> a new Buffer (Buffer.allocate)."""
        self.make = make
        self.native = array_type(ctypes.c_uint64, _CLASS_WORDS * CLASSES)()
        self.address = ctypes.addressof(self.native)
        self.words = memoryview(self.native).cast("B").cast("Q")
        self.keys: list[tuple[int, int, int]] = []     # class index -> key
        self.keyed = 0                                   # classes whose key is published
        self.stacks: list[list] = []
        self.targets: list[int] = []
        self.watch: list = []
        self.misses: dict[tuple[int, int, int], int] = {}
        self.depth_cells: list = []
        self._unshared = _calibrate(make, _refs_of_all, (64, 0, 0))

    def bind(self, module) -> None:
        self.depth_cells.append(module._depth_cell)

    def note_miss(self, size: int, memory_types: int, usage: int) -> None:
        """Python allocated a buffer of this key (no class, or its class was empty)."""
        key = (size, memory_types, usage)
        self.misses[key] = self.misses.get(key, 0) + 1

    def recycle(self, live: set[int]) -> None:
        for cell in self.depth_cells:
            if cell.value:
                return
        words, stacks, watch = self.words, self.stacks, self.watch
        #: class -> buffers popped (by native code) or missed (Python made one) since the
        #: last recycle; None while no class changed
        popped = None
        for k in range(len(stacks)):
            stack = stacks[k]
            taken = len(stack) - words[k * _CLASS_WORDS + _W_COUNT]
            if taken:
                if popped is None:
                    popped = [0] * len(stacks)
                popped[k] = taken
                watch += stack[-taken:]
                del stack[-taken:]
        if watch:
            counts = _refs_of_all(watch)
            unshared, keep = self._unshared, None
            for i in range(len(watch)):
                buffer = watch[i]
                stack = stacks[buffer.pool_class]
                if (counts[i] == unshared and buffer._storage is None
                        and buffer.ref_address not in live and len(stack) < CLASS_CAPACITY):
                    buffer.array.fill(0)
                    stack.append(buffer)
                    if popped is None:
                        popped = [0] * len(stacks)  # (0 popped: the class is republished)
                elif keep is None:
                    keep = [buffer]
                else:
                    keep.append(buffer)
            buffer = stack = None
            self.watch = [] if keep is None else keep[-WATCH:]
        if self.misses:
            popped = self._note_misses(popped)
        if popped is None:
            return  # nothing popped, returned or missed: every class is as published
        targets = self.targets
        for k in range(len(stacks)):
            stack = stacks[k]
            if popped[k] > targets[k]:
                targets[k] = min(popped[k], CLASS_CAPACITY)
            if len(stack) < targets[k]:
                self._top_up(k)
            base = k * _CLASS_WORDS
            count = words[base + _W_COUNT]
            if count != len(stack):
                for i in range(count, len(stack)):
                    words[base + _W_REFS + i] = stack[i].ref_address
                words[base + _W_COUNT] = len(stack)

    def _note_misses(self, popped: list | None) -> list:
        """`recycle`'s `popped` with the misses since the last recycle added (a key with no
        class gets one, while there are fewer than CLASSES and it is small enough)."""
        stacks = self.stacks
        if popped is None:
            popped = [0] * len(stacks)
        for key, missed in self.misses.items():
            if key in self.keys:
                popped[self.keys.index(key)] += missed
            elif len(self.keys) < CLASSES and 0 <= key[0] <= POOLED_BYTES_MAX:
                self.keys.append(key)
                stacks.append([])
                self.targets.append(0)
                popped.append(missed)
        self.misses = {}
        return popped

    def _top_up(self, k: int) -> None:
        """Class `k`'s stack grows to its target with new buffers (its key is published
        first when the class is new)."""
        stack, words, base = self.stacks[k], self.words, k * _CLASS_WORDS
        if k >= self.keyed:                  # a new class: its key first
            self.keyed = k + 1
            size, types, usage = self.keys[k]
            words[base + _W_SIZE] = size & 0xFFFFFFFFFFFFFFFF
            words[base + _W_TYPES] = (types & 0xFFFFFFFF) | (usage & 0xFFFFFFFF) << 32
        while len(stack) < self.targets[k]:
            buffer = self.make(*self.keys[k])
            buffer.pool_class = k
            stack.append(buffer)


class NativeAlloca:
    """`device.queue.alloca` (`hal.device.queue.alloca`, "0rIrrIiiII_r"): the Python
    implementation `fn` (the fallback) plus a native entry that pops a buffer from `pool`
    in the ordinary case: a Device, no wait fence or a signalled unfailed one, a null or
    fence signal fence, allocation pool 0, a pooled key; it then signals the signal fence
    (FENCE_SIGNALED in its descriptor, as `Fence.signaled = True` does) and returns the
    buffer. Every other call runs `fn`, which raises IREE's errors."""
    CCONV = "0rIrrIiiII_r"
    FIELDS = ("device", "affinity", "wait", "signal", "pool", "memory_types", "usage",
              "size", "flags")

    def __init__(self, fn, pool: BufferPool):
        self.fn, self.pool = fn, pool
        sig = parse_cconv(self.CCONV)
        self.signature = (sig.args, sig.results)

    def __call__(self, *args):
        return self.fn(*args)

    def bind(self, module) -> None:
        self.pool.bind(module)

    def after_call(self, live: set[int]) -> None:
        self.pool.recycle(live)

    def native_code(self, fallback: int, signature=None) -> bytes | None:
        """The native entry's position-independent code (falling back to the native-ABI
        function at `fallback`), or None for another signature; a patched copy per
        (fallback, pool address) (runtime/patched_code.py)."""
        if signature is not None and (signature.args, signature.results) != self.signature:
            return None
        return patched(("hal-alloca",), lambda a: self._assemble(*a),
                       (fallback, self.pool.address))

    def native_entry(self, fallback: int, signature=None):
        """(entry address, the mapping to keep alive) of `native_code`, or None."""
        return _mapped(self.native_code(fallback, signature))

    def _assemble(self, fallback: int, pool_address: int) -> bytes:
        from .execute import check_wait_signal
        from .local import FENCE_SIGNALED
        from .native import DEVICE, _object
        e = Entry("device.queue.alloca", self.FIELDS, _FRAME, arg_types=self.signature[0])
        a = e.a
        _object(e, "device", DEVICE)
        search, found = Label("search"), Label("found")
        check_wait_signal(e)                           # wait in rcx, signal in r8
        a.cmp(e.arg("pool"), 0)
        a.jne(e.slow)
        a.mov(R.r9, pool_address)
        a.mov(R.r10d, CLASSES)
        a.mov(R.r11, e.arg("size"))
        a.label(search)
        a.cmp(qword[R.r9 + 8 * _W_SIZE], R.r11)
        nxt = Label("next_class")
        a.jne(nxt)
        a.mov(R.eax, dword[R.r9 + 8 * _W_TYPES])
        a.cmp(R.eax, e.arg("memory_types", 32))
        a.jne(nxt)
        a.mov(R.eax, dword[R.r9 + 8 * _W_TYPES + 4])
        a.cmp(R.eax, e.arg("usage", 32))
        a.je(found)
        a.label(nxt)
        a.add(R.r9, _CLASS_SIZE)
        a.sub(R.r10d, 1)
        a.jnz(search)
        a.jmp(e.slow)
        a.label(found)
        a.mov(R.rax, qword[R.r9 + 8 * _W_COUNT])
        a.test(R.rax, R.rax)
        a.jz(e.slow)
        a.sub(R.rax, 1)
        a.mov(qword[R.r9 + 8 * _W_COUNT], R.rax)
        a.mov(R.rax, qword[R.Mem(R.r9, R.rax, 8, 8 * _W_REFS)])
        signalled = Label("signalled")
        a.test(R.r8, R.r8)
        a.jz(signalled)
        a.or_(dword[R.r8 + abi.BUF_ACCESS], FENCE_SIGNALED)
        a.label(signalled)
        a.mov(qword[R.rdx], R.rax)
        return e.finish(fallback)


class NativeViewCreate(PooledCall):
    """`buffer_view.create` ("0rIIiiCID_r"): the Python implementation `fn` (the fallback,
    counted as a pool miss) plus a native entry for the ordinary case - a `!hal.buffer`,
    a range [offset, offset + length) inside it (offset, length >= 0), rank at most
    INLINE_RANK, a view in the pool - which pops a hal/buffers.PooledView and writes its
    descriptor (buffer ref, element type, encoding, rank, dims) as BufferView.__init__
    would; for a range that is not the whole buffer the buffer ref stays 0 and the view
    holds (buffer, offset, length) at VIEW_SUBSPAN instead (PooledView makes the subspan
    Buffer when Python asks for it). The pool binds every popped view to its buffer (or
    parent) before the module's ObjectSpace collects (see PooledView)."""
    CCONV = "0rIIiiCID_r"
    FIELDS = ("buffer", "offset", "length", "element_type", "encoding", "rank")

    def __init__(self, fn, pool: ObjectPool):
        super().__init__("buffer_view.create", self.CCONV, pool)
        self.fn = fn
        self.arg_types = ("ref", "i64", "i64", "i32", "i32", "i32")

    def __call__(self, *args):
        self.pool.misses += 1
        return self.fn(*args)

    def native_code(self, fallback: int, signature=None) -> bytes | None:
        if signature is not None and (signature.args, signature.results) != self.signature:
            return None
        return patched(("hal-view-create",), lambda a: self._assemble(*a),
                       (fallback, self.pool.address))

    def _assemble(self, fallback: int, pool_address: int) -> bytes:
        from .buffers import INLINE_RANK, VIEW_DIMS, VIEW_SUBSPAN
        from .native import BUFFER, _object, _span_start
        e = Entry(self.name, self.FIELDS, _FRAME, arg_types=self.arg_types)
        a = e.a
        _object(e, "buffer", BUFFER)                          # rax = the buffer
        a.mov(R.r10, e.arg("offset"))
        a.test(R.r10, R.r10)
        a.js(e.slow)
        a.mov(R.r11, e.arg("length"))
        a.test(R.r11, R.r11)
        a.js(e.slow)
        a.mov(R.rcx, R.r10)
        a.add(R.rcx, R.r11)                                   # no carry: both below 2**63
        a.cmp(R.rcx, qword[R.rax + abi.BUF_LENGTH])
        a.ja(e.slow)
        a.mov(R.r8d, e.arg("rank", 32))
        a.cmp(R.r8d, INLINE_RANK)
        a.ja(e.slow)
        pop_pooled(e, pool_address, R.r9, R.r9)               # r9 = the view
        subspan, written = Label("subspan"), Label("written")
        a.cmp(R.r11, qword[R.rax + abi.BUF_LENGTH])       # (then offset 0: in range)
        a.jne(subspan)
        a.mov(qword[R.r9 + abi.BUF_DATA], R.rax)             # the whole buffer
        a.jmp(written)
        a.label(subspan)
        a.mov(qword[R.r9 + abi.BUF_DATA], 0)
        a.mov(qword[R.r9 + VIEW_SUBSPAN], R.rax)
        a.mov(qword[R.r9 + VIEW_SUBSPAN + 8], R.r10)
        a.mov(qword[R.r9 + VIEW_SUBSPAN + 16], R.r11)
        a.label(written)
        a.mov(R.ecx, e.arg("element_type", 32))
        a.mov(dword[R.r9 + abi.BUF_LENGTH], R.ecx)
        a.mov(R.ecx, e.arg("encoding", 32))
        a.mov(dword[R.r9 + abi.BUF_LENGTH + 4], R.ecx)
        a.mov(dword[R.r9 + abi.BUF_ACCESS], R.r8d)
        with counted_loop(a, R.r10, R.r8, "dim"):
            a.mov(R.r11, qword[R.Mem(R.rsi, R.r10, 8, _span_start(e, "rank"))])
            a.mov(qword[R.Mem(R.r9, R.r10, 8, VIEW_DIMS)], R.r11)
        a.mov(qword[R.rdx], R.r9)
        return e.finish(fallback)
