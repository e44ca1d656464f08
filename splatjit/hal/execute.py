"""Native `hal.device.queue.execute.indirect`: a finalized command buffer of packed
dispatches replayed in machine code, without Python.

Plan: after the first Python execution of a finalized command buffer whose every command is
a packed dispatch (hal/dispatch.PackedDispatch), `ExecutePlan(steps)` lays out in native
memory, per step, its recorded bindings and its Frame's addresses (Frame.plan_words), and
the buffer's descriptor (data field) points at it. Anything else (fills, copies, updates,
dispatches that cannot be packed, a recorded buffer whose range is bad) gets no plan.

The native entry (`NativeExecute.native_entry`) answers the ordinary call in two passes:

1. Checks, writing nothing but the plan's scratch: a Device; no wait fence or a signalled,
   unfailed one; a null or fence signal fence; a command buffer with a plan; a table of at
   most MAX_TABLE entries; and for EVERY binding of every step that names a table slot: a
   slot inside the table, a non-null `!hal.buffer` there, offset (table offset + recorded
   offset) and length (recorded, or -1: to the end) inside the buffer, with no overflow.
   The resolved descriptors go to the step's scratch. Any failure falls back to Python
   before anything changed (it then raises IREE's error at the same command as before).
2. Per step, as Frame.run does: unless its grid is empty, checks that the bindings list
   still uses the frame's slot array (else: stop, step not run), writes the binding
   descriptors, restores the list and its slots, zeroes local memory, counts the call in
   the kernel module's depth cell and runs the grid loop (runtime/grid.py). Anything the
   workgroups left to release - a non-empty heap, list heap, ObjectSpace or pinned dict
   of the kernel module - is released as Frame.run releases it, through a ctypes callback
   (`RELEASE`, which finds the step's Frame in FRAMES), and the next step runs; otherwise
   the kernel module's native arena is rewound (as Frame.run does). A trap (stop,
   trapped) or a failed release (stop, to release) records the step and the reason in the
   plan (`_P_STOP_*`) and falls back. After the last step the signal fence's
   descriptor gets FENCE_SIGNALED.

The Python fallback (`NativeExecute.__call__`) first takes the stop record: a trap is
reported as Frame.run reports it (the error, the kernel's Context reset), a release is
done (again) as Frame.run does it and the remaining steps run in Python; either way from
the step where native code stopped, then the signal fence is signalled. Without a stop
record it is the ordinary Python execution, which then makes the plan if it can.

Ownership: the CommandBuffer owns its plan (`CommandBuffer.plan`), the plan owns its
native words and holds the Frames (which hold their modules), so everything a plan points
at lives as long as the command buffer, which the calling program holds during the call.
Dict fields are read as CPython's PyDictObject.ma_used (checked at import: `_dicts_ok`).
"""
from __future__ import annotations

import ctypes
import sys
import weakref

from ..emit_x64 import operands as R
from ..emit_x64.operands import Label, dword, qword
from ..frontend.cconv import parse_cconv
from ..intrinsics.native_entry import Entry
from ..runtime import abi
from ..runtime.ctarrays import array_type
from ..runtime.grid import run_grid_function
from ..runtime.memory import ExecutableMemory
from ..runtime.patched_code import patched
from .buffers import HalError
from .dispatch import PackedDispatch

_TAGS = abi.HOST_TYPE_TAGS
BUFFER, DEVICE = _TAGS["!hal.buffer"], _TAGS["!hal.device"]
FENCE, COMMAND_BUFFER = _TAGS["!hal.fence"], _TAGS["!hal.command_buffer"]
#: table entries the native entry takes (more: Python)
MAX_TABLE = 1 << 16
#: a recorded binding's slot word when it names its buffer directly
DIRECT = (1 << 64) - 1
_MASK = (1 << 64) - 1

# plan header (u64 words): step count, then the stop record native code writes before it
# falls back (step index + 1, or 0: nothing ran; kind; trap status)
_P_STEPS, _P_STOP_STEP, _P_STOP_KIND, _P_STOP_STATUS, _P_HEAD = range(5)
STOP_NOT_RUN, STOP_RELEASE, STOP_TRAP = 1, 2, 3
# step record (u64 words): its size in bytes, binding count, address of its resolved
# descriptors, then Frame.plan_words, then `count` bindings of _B_WORDS words (slot or
# DIRECT, offset, length, 0), then `count` resolved BufferDescs (3 words each)
_S_SIZE, _S_COUNT, _S_RESOLVED = range(3)
(_S_EMPTY, _S_DESCS, _S_LIST, _S_SLOTS, _S_TEMPLATES, _S_SLOT_BYTES, _S_LOCAL, _S_LOCAL_SIZE,
 _S_DEPTH) = range(3, 12)
_S_CALL = 12        # context, args, results, function, params, ids: the grid loop's arguments
_S_DICTS = 18       # 4 dict object addresses
_S_HEAD = 22
_B_WORDS = 4
_DICT_USED = 16     # PyDictObject.ma_used
_FRAME = 72         # Entry frame; [rsp + 56]: the signal fence
_SIGNAL = 56
FIELDS = ("device", "affinity", "wait", "signal", "command_buffer", "flags", "count")
ARG_TYPES = ("ref", "i64", "ref", "ref", "ref", "i64", "i32")
CCONV = "0rIrrrICrIID_v"


def _dicts_ok() -> bool:
    """Whether a dict's size is the Py_ssize_t at _DICT_USED (CPython's ma_used)."""
    if sys.implementation.name != "cpython" or getattr(sys, "_is_gil_enabled", lambda: True)() is False:
        return False
    samples = ({}, {1: 1}, {k: k for k in range(9)})
    return all(ctypes.c_ssize_t.from_address(id(d) + _DICT_USED).value == len(d)
               for d in samples)


DICTS_OK = _dicts_ok()

#: Frame.descs_address -> the Frame, for every frame a native plan or recorded command
#: buffer runs (the release callback finds a step's frame by its `_S_DESCS` word)
FRAMES: "weakref.WeakValueDictionary[int, object]" = weakref.WeakValueDictionary()
#: the release callback native execution calls: int32 release(descriptors address)
RELEASE_FN = ctypes.CFUNCTYPE(ctypes.c_int32, ctypes.c_uint64)


def _release(descs_address: int) -> int:
    """What a step's kernel left to release (buffers, lists, objects), released as
    Frame.release does: 0, then native execution goes on with the next step; non-zero
    when that failed (native code then stops there, and the fallback releases again and
    reports the error)."""
    try:
        FRAMES[descs_address].release()
        return 0
    except BaseException:  # noqa: BLE001 - reported by the fallback
        return 1


RELEASE = RELEASE_FN(_release)


class ExecutePlan:
    """The native plan of one finalized command buffer (see the module docstring)."""

    def __init__(self, steps: list[PackedDispatch]):
        """`steps`: the buffer's replay steps, all packed dispatches whose directly named
        buffers resolve (HalError otherwise, from hal/dispatch.resolve)."""
        from .dispatch import resolve
        self.frames = [step.frame for step in steps]
        for frame in self.frames:
            FRAMES[frame.descs_address] = frame
        words = [len(steps), 0, 0, 0]
        records = []
        for step in steps:
            count = len(step.bindings)
            bindings, resolved = [], []
            for slot, buffer, offset, length in step.bindings:
                if buffer is None:
                    bindings += [slot & _MASK, offset & _MASK, length & _MASK, 0]
                    resolved += [0, 0, 0]
                else:
                    buffer, offset, length = resolve((), slot, buffer, offset, length)
                    bindings += [DIRECT, 0, 0, 0]
                    resolved += [buffer.address + offset, length,
                                 buffer.access | abi.TYPE_BUFFER << 32]
            head = [8 * (_S_HEAD + (_B_WORDS + 3) * count), count, 0,
                    *step.frame.plan_words()]
            assert len(head) == _S_HEAD
            records.append((len(words), head, bindings, resolved))
            words += head + bindings + resolved
        self.native = array_type(ctypes.c_uint64, len(words))(*words)
        self.address = ctypes.addressof(self.native)
        for at, head, bindings, _ in records:
            self.native[at + _S_RESOLVED] = self.address + 8 * (at + _S_HEAD + len(bindings))

    def take_stop(self) -> tuple[int, int, int] | None:
        """(step index, kind, status) where native code stopped, cleared; None if it did
        not stop (the fallback was taken before anything ran)."""
        native = self.native
        step = native[_P_STOP_STEP]
        if not step:
            return None
        stop = (step - 1, native[_P_STOP_KIND], native[_P_STOP_STATUS])
        native[_P_STOP_STEP] = native[_P_STOP_KIND] = native[_P_STOP_STATUS] = 0
        return stop


def make_plan(steps: list) -> ExecutePlan | None:
    """A plan for these replay steps (CommandBuffer._steps), None when some step is not a
    packed dispatch or a directly named buffer does not resolve."""
    if not DICTS_OK:
        return None
    packed = [getattr(step, "__self__", None) for step in steps]
    if not all(type(p) is PackedDispatch for p in packed):
        return None
    try:
        return ExecutePlan(packed)
    except HalError:
        return None


class NativeExecute:
    """`device.queue.execute.indirect` ("0rIrrrICrIID_v"): `fn(device, affinity, wait,
    signal, command_buffer, flags, table, start=0)` is LocalHal.queue_execute (the fallback);
    native_entry builds the machine code of the module docstring."""

    def __init__(self, fn):
        self.fn = fn
        sig = parse_cconv(CCONV)
        self.signature = (sig.args, sig.results)

    def __call__(self, device, affinity, wait, signal, cb, flags, table):
        plan = getattr(cb, "plan", None)
        stop = plan.take_stop() if plan else None
        if stop is None:
            return self.fn(device, affinity, wait, signal, cb, flags, table)
        step, kind, status = stop
        frame = plan.frames[step]
        if kind == STOP_TRAP:
            frame.raise_trap(status)
        if kind == STOP_RELEASE:
            frame.release()
            step += 1
        return self.fn(device, affinity, wait, signal, cb, flags, table, start=step)

    def native_code(self, fallback: int, signature=None) -> bytes | None:
        """The native entry's position-independent code (falling back to the native-ABI
        function at `fallback`), or None for another signature. Entries differ only in
        `fallback`: each is a patched copy (runtime/patched_code.py)."""
        if signature is not None and (signature.args, signature.results) != self.signature:
            return None
        if not DICTS_OK:
            return None
        return patched(("hal-execute",), lambda a: assemble(a[0]), (fallback,))

    def native_entry(self, fallback: int, signature=None):
        """(entry address, the mapping to keep alive) of `native_code`, or None."""
        code = self.native_code(fallback, signature)
        if code is None:
            return None
        memory = ExecutableMemory(code)
        return memory.address, memory


def _rewind_arena(a) -> None:
    """After a step that left the kernel module's dicts empty, as Frame.run does: unless an
    outer call of the module is running, its native arena's cursor goes back to the chunk
    start (runtime/native_arena.py). Uses rax, rcx."""
    busy = Label("module_busy")
    a.mov(R.rcx, qword[R.r12 + 8 * _S_DEPTH])
    a.cmp(qword[R.rcx], 0)
    a.jne(busy)
    a.mov(R.rcx, qword[R.r12 + 8 * _S_CALL])            # the kernel's Context
    a.mov(R.rcx, qword[R.rcx + abi.CTX_HELPERS])
    a.mov(R.rax, qword[R.rcx + abi.ARENA_START])
    a.mov(qword[R.rcx + abi.ARENA_CURSOR], R.rax)
    a.label(busy)


def binding_span(a, *, buffer, offset, length, buffer_length, scratch, out, slow) -> None:
    """Emits one binding's range check and descriptor: [offset, offset + length) must lie in
    the bytes of `buffer` (a BufferDesc* already checked to be a buffer); `length` -1 means
    to the end. Jumps to `slow` for a negative offset, a negative length other than -1, an
    overflowing end or one past the buffer; else writes the BufferDesc of the span at
    [out] (data + offset, length, the buffer's access, TYPE_BUFFER). Registers: `length`
    ends as the span's length; `buffer_length`, `scratch` and rax are clobbered."""
    to_end, ranged = Label("to_end"), Label("ranged")
    a.test(offset, offset)
    a.js(slow)
    a.mov(buffer_length, qword[buffer + abi.BUF_LENGTH])
    a.cmp(length, -1)
    a.je(to_end)
    a.test(length, length)
    a.js(slow)
    a.mov(scratch, offset)
    a.add(scratch, length)
    a.jo(slow)
    a.cmp(scratch, buffer_length)
    a.ja(slow)
    a.jmp(ranged)
    a.label(to_end)
    a.mov(length, buffer_length)
    a.sub(length, offset)
    a.jb(slow)                                          # offset past the end
    a.label(ranged)
    a.mov(R.rax, qword[buffer + abi.BUF_DATA])
    a.add(R.rax, offset)
    a.mov(qword[out], R.rax)
    a.mov(qword[out + 8], length)
    a.mov(R.eax, dword[buffer + abi.BUF_ACCESS])
    a.mov(dword[out + 16], R.eax)
    a.mov(dword[out + 20], abi.TYPE_BUFFER)


def _check_bindings(e: Entry) -> None:
    """Pass 1 over the plan at rbx: every slot binding resolved into its step's scratch
    (falls back on any bad one). Uses r12-r15, rbp, rax, rcx, rdi, r8-r11."""
    a, slow = e.a, e.slow
    steps, step_done, binding, next_binding, bindings_done = (Label(n) for n in (
        "check_step", "checks_done", "check_binding", "next_binding", "bindings_done"))
    a.mov(R.r13, qword[R.rbx + 8 * _P_STEPS])
    a.lea(R.r12, qword[R.rbx + 8 * _P_HEAD])
    a.label(steps)
    a.test(R.r13, R.r13)
    a.jz(step_done)
    a.mov(R.rcx, qword[R.r12 + 8 * _S_COUNT])
    a.lea(R.rbp, qword[R.r12 + 8 * _S_HEAD])
    a.mov(R.rdi, qword[R.r12 + 8 * _S_RESOLVED])
    a.label(binding)
    a.test(R.rcx, R.rcx)
    a.jz(bindings_done)
    a.mov(R.rax, qword[R.rbp])                          # slot
    a.cmp(R.rax, -1)
    a.je(next_binding)                                  # DIRECT: resolved when planned
    a.cmp(R.rax, R.r15)                                 # unsigned: inside the table
    a.jae(slow)
    a.lea(R.rax, qword[R.Mem(R.rax, R.rax, 2)])         # slot * 3 (24-byte entries)
    a.mov(R.r8, qword[R.Mem(R.r14, R.rax, 8)])          # the entry's buffer
    a.test(R.r8, R.r8)
    a.jz(slow)
    a.cmp(dword[R.r8 + abi.BUF_TYPE], BUFFER)
    a.jne(slow)
    a.mov(R.r9, qword[R.Mem(R.r14, R.rax, 8, 8)])       # table offset
    a.add(R.r9, qword[R.rbp + 8])                       # + recorded offset
    a.jo(slow)
    a.mov(R.r11, qword[R.rbp + 16])                     # recorded length
    binding_span(a, buffer=R.r8, offset=R.r9, length=R.r11, buffer_length=R.r10,
                 scratch=R.rax, out=R.rdi, slow=slow)
    a.label(next_binding)
    a.add(R.rbp, 8 * _B_WORDS)
    a.add(R.rdi, abi.BUF_SIZE)
    a.sub(R.rcx, 1)
    a.jmp(binding)
    a.label(bindings_done)
    a.add(R.r12, qword[R.r12 + 8 * _S_SIZE])
    a.sub(R.r13, 1)
    a.jmp(steps)
    a.label(step_done)


def _libc(name: str) -> int:
    from ..module import host_symbol
    return host_symbol(name)


def _call_libc(a, name: str, dst_word: int, second, count) -> None:
    """name(step word `dst_word`, second, count): memcpy / memset with the step at r12.
    `second`: a step word index (its value), a register, or None (0); `count`: an int, a register
    or a memory operand. Clobbers the caller-saved registers."""
    a.mov(R.rdi, qword[R.r12 + 8 * dst_word])
    if second is None:
        a.xor(R.esi, R.esi)
    elif isinstance(second, int):
        a.mov(R.rsi, qword[R.r12 + 8 * second])
    elif second is not R.rsi:
        a.mov(R.rsi, second)
    if isinstance(count, int):
        a.mov(R.edx, count)
    else:
        a.mov(R.rdx, count)
    a.mov(R.rax, _libc(name))
    a.call(R.rax)


def check_fences(e: Entry) -> None:
    """`check_wait_signal`, then [rsp + _SIGNAL] = the signal fence (or 0)."""
    check_wait_signal(e)
    e.a.mov(qword[R.rsp + _SIGNAL], R.r8)


def check_wait_signal(e: Entry) -> None:
    """Falls back unless the `wait` argument is null or a ready fence (signalled, not
    failed) and `signal` null or a fence; leaves wait in rcx, signal in r8."""
    from .local import FENCE_READY
    a, slow = e.a, e.slow
    no_wait, no_signal = Label("no_wait"), Label("no_signal")
    a.mov(R.rcx, e.arg("wait"))
    a.test(R.rcx, R.rcx)
    a.jz(no_wait)
    a.cmp(dword[R.rcx + abi.BUF_TYPE], FENCE)
    a.jne(slow)
    a.cmp(dword[R.rcx + abi.BUF_ACCESS], FENCE_READY)
    a.jne(slow)
    a.label(no_wait)
    a.mov(R.r8, e.arg("signal"))
    a.test(R.r8, R.r8)
    a.jz(no_signal)
    a.cmp(dword[R.r8 + abi.BUF_TYPE], FENCE)
    a.jne(slow)
    a.label(no_signal)


def run_steps(e: Entry, before_call=None) -> None:
    """Pass 2 of the module docstring over the plan at rbx (steps of the `_S_*` layout,
    their frames in FRAMES; the signal fence, or 0, at [rsp + _SIGNAL]): runs every step,
    signals the fence after the last one, or records the stop in the plan's header and
    falls back. `before_call(a)`, if given, emits code run per non-empty step right before
    its grid call (r12: the step; it may clobber the caller-saved registers)."""
    from .local import FENCE_SIGNALED
    a, slow = e.a, e.slow
    # pass 2: run the steps (r12: the step, r13: its index)
    steps, done, next_step = Label("run_step"), Label("steps_done"), Label("next_step")
    stop, not_run, trapped, release = (Label(n) for n in ("stop", "not_run", "trapped",
                                                           "release"))
    a.xor(R.r13d, R.r13d)
    a.lea(R.r12, qword[R.rbx + 8 * _P_HEAD])
    a.label(steps)
    a.cmp(R.r13, qword[R.rbx + 8 * _P_STEPS])
    a.jae(done)
    a.cmp(qword[R.r12 + 8 * _S_EMPTY], 0)
    a.jne(next_step)
    a.mov(R.rax, qword[R.r12 + 8 * _S_LIST])
    a.mov(R.rax, qword[R.rax + abi.LIST_STORAGE])
    a.cmp(R.rax, qword[R.r12 + 8 * _S_SLOTS])
    a.jne(not_run)                                      # the kernel grew its list: Python
    a.mov(R.rcx, qword[R.r12 + 8 * _S_COUNT])
    a.lea(R.rcx, qword[R.Mem(R.rcx, R.rcx, 2)])
    a.shl(R.rcx, 3)
    _call_libc(a, "memcpy", _S_DESCS, _S_RESOLVED, R.rcx)       # binding descriptors
    _call_libc(a, "memcpy", _S_LIST, _S_TEMPLATES, abi.LIST_SIZE)  # the list, its slots
    a.mov(R.rsi, qword[R.r12 + 8 * _S_TEMPLATES])
    a.add(R.rsi, abi.LIST_SIZE)
    _call_libc(a, "memcpy", _S_SLOTS, R.rsi, qword[R.r12 + 8 * _S_SLOT_BYTES])
    _call_libc(a, "memset", _S_LOCAL, None, qword[R.r12 + 8 * _S_LOCAL_SIZE])  # local memory
    if before_call is not None:
        before_call(a)
    a.mov(R.rax, qword[R.r12 + 8 * _S_DEPTH])
    a.inc(qword[R.rax])
    for k, reg in enumerate((R.rdi, R.rsi, R.rdx, R.rcx, R.r8, R.r9)):
        a.mov(reg, qword[R.r12 + 8 * (_S_CALL + k)])
    a.mov(R.rax, ctypes.cast(run_grid_function(), ctypes.c_void_p).value)
    a.call(R.rax)
    a.mov(R.rcx, qword[R.r12 + 8 * _S_DEPTH])
    a.dec(qword[R.rcx])
    a.test(R.eax, R.eax)
    a.jnz(trapped)
    for k in range(4):
        a.mov(R.rcx, qword[R.r12 + 8 * (_S_DICTS + k)])
        a.cmp(qword[R.rcx + _DICT_USED], 0)
        a.jne(release)
    _rewind_arena(a)
    a.label(next_step)
    a.add(R.r12, qword[R.r12 + 8 * _S_SIZE])
    a.inc(R.r13)
    a.jmp(steps)
    a.label(done)
    signalled = Label("signalled")
    a.mov(R.r8, qword[R.rsp + _SIGNAL])
    a.test(R.r8, R.r8)
    a.jz(signalled)
    a.or_(dword[R.r8 + abi.BUF_ACCESS], FENCE_SIGNALED)
    a.label(signalled)
    finish = Label("finish")
    a.jmp(finish)
    a.label(not_run)
    a.mov(R.ecx, STOP_NOT_RUN)
    a.xor(R.eax, R.eax)
    a.jmp(stop)
    a.label(release)                                    # released by Python, then on
    a.mov(R.rdi, qword[R.r12 + 8 * _S_DESCS])
    a.mov(R.rax, abi.function_address(RELEASE))
    a.call(R.rax)
    a.test(R.eax, R.eax)
    a.jz(next_step)
    a.mov(R.ecx, STOP_RELEASE)
    a.xor(R.eax, R.eax)
    a.jmp(stop)
    a.label(trapped)
    a.mov(R.ecx, STOP_TRAP)
    a.mov(R.eax, R.eax)                                 # the status, zero-extended
    a.label(stop)
    a.mov(qword[R.rbx + 8 * _P_STOP_KIND], R.rcx)
    a.mov(qword[R.rbx + 8 * _P_STOP_STATUS], R.rax)
    a.lea(R.rax, qword[R.r13 + 1])
    a.mov(qword[R.rbx + 8 * _P_STOP_STEP], R.rax)
    a.jmp(slow)
    a.label(finish)


def assemble(fallback: int) -> bytes:
    e = Entry("device.queue.execute.indirect", FIELDS, _FRAME, arg_types=ARG_TYPES)
    a, slow = e.a, e.slow
    from .native import _object, _span_start
    _object(e, "device", DEVICE)
    check_fences(e)
    _object(e, "command_buffer", COMMAND_BUFFER, reg=R.rbx)
    a.mov(R.rbx, qword[R.rbx + abi.BUF_DATA])           # the plan
    a.test(R.rbx, R.rbx)
    a.jz(slow)
    a.mov(R.r15d, e.arg("count", 32))
    a.cmp(R.r15, MAX_TABLE)
    a.ja(slow)
    a.lea(R.r14, qword[R.rsi + _span_start(e, "count")])
    _check_bindings(e)
    run_steps(e)
    return e.finish(fallback)
