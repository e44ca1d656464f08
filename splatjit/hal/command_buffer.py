"""Native command buffers: a program that records its command buffer on every call
(`command_buffer.create` / `dispatch` / `execution_barrier` / `finalize`, then
`device.queue.execute`) does so in machine code, without Python.

Objects. `NativeCommandBuffer` is a CommandBuffer (hal/local.py) with a native recording
area, handed out by a pool (hal/pools.ObjectPool) from the native `command_buffer.create`.
While it is *native* its descriptor's length field holds the area's address (0 for every
other command buffer, which the native entries below leave to Python) and the recorded
commands live only in the area; Python `demote`s it - decodes the records into ordinary
commands, zeroes that field - before it touches its commands (a fill / copy / update, a
dispatch the native entry declined, a Python execution). Area (u64 words): finalized flag,
bytes of records used, bytes available, 0, then an execute plan header (hal/execute.py:
step count, stop record) and the records, each an execute.py step (`_S_*`: size, binding
count, resolved descriptors, a FlexFrame's words; hal/dispatch.FlexFrame) followed by
`_R_*` words (the frame's constants and grid-parameter addresses, executable ref, ordinal,
grid, constant count), the constants (u32, padded to 8 bytes), each
binding's (buffer ref, offset, length) as recorded and each binding's resolved
descriptor (3 words).

Executables. `ExecutableTable` (the executable's descriptor data field) lists its exports'
names (for the native `executable.lookup.function`) and per export up to FLEX_SLOTS
FlexFrames by (constant count, binding count); the dispatch fallback adds them, so the
first call of a dispatch shape records in Python and later ones natively.

Native entries (each falls back to the Python implementation for anything else):
* `command_buffer.create`: a Device and binding capacity 0: pops a pooled buffer.
* `command_buffer.dispatch`: a native, unfinalized buffer; an Executable whose table has
  a FlexFrame for (ordinal, constant count, binding count); at most MAX_CONSTANTS
  constants and MAX_BINDINGS bindings, each a non-null `!hal.buffer` with offset >= 0 and
  [offset, offset + length) inside it (length -1: to its end), no overflow; room in the
  area. Every check passes before the record is committed (its size added to the used
  bytes), so a fallback leaves the buffer as it was. A binding outside its buffer thus
  never reaches a kernel: Python records it and raises IREE's error when it executes.
* `command_buffer.execution_barrier`: any command buffer: nothing to do (the local HAL runs
  commands in order).
* `command_buffer.finalize`: a native buffer: sets its finalized flag.
* `device.queue.execute`: a Device, fences as execute.indirect takes them, a finalized
  native buffer: runs its records as execute.py does (run_steps: what a kernel leaves to
  release is released through a callback), writing each record's constants and grid into
  its FlexFrame first; a trap, a failed release or a grown bindings list stop there and
  Python reports / resumes from that record (NativeQueueExecute).
* `executable.lookup.function`: an Executable and a `!vm.buffer` holding exactly one of
  its export names: that export's ordinal.

Ownership: a popped NativeCommandBuffer lives in its pool's lists until recycled, and the
objects its records name (buffers, executables) live at least until the module's
outermost call returns; before the module's ObjectSpace collects, the pool `bind`s every
popped buffer: it takes strong references to the objects its records name, so an escaped
one (a ref global, a result) keeps them; recycling resets it and drops them. FlexFrames
live as long as their runners (their executable), which the records' executable keeps.
"""
from __future__ import annotations

import ctypes

import numpy as np

from ..emit_x64 import operands as R
from ..emit_x64.operands import Label, dword, qword
from ..frontend.cconv import parse_cconv
from ..intrinsics.native_entry import Entry, counted_loop
from ..runtime import abi
from ..runtime.ctarrays import array_type
from ..runtime.objects import lookup
from ..runtime.patched_code import patched
from . import execute as X
from .buffers import Buffer
from .dispatch import FlexFrame
from .local import CommandBuffer, Device
from .pools import ObjectPool, PooledCall, pop_pooled

_TAGS = abi.HOST_TYPE_TAGS
BUFFER, DEVICE = _TAGS["!hal.buffer"], _TAGS["!hal.device"]
COMMAND_BUFFER, EXECUTABLE = _TAGS["!hal.command_buffer"], _TAGS["!hal.executable"]
#: the most constants / bindings a natively recorded dispatch has (IREE's HAL module
#: rejects more than 32 bindings)
MAX_CONSTANTS, MAX_BINDINGS = 64, 32
AREA_BYTES = 1 << 14
FLEX_SLOTS = 3
_MASK = (1 << 64) - 1

# area header (u64 words), then the plan header (execute._P_*) at A_PLAN, then the records
A_FINALIZED, A_END, A_CAPACITY, A_PLAN = 0, 1, 2, 4
A_RECORDS = A_PLAN + X._P_HEAD
# record words after the execute.py step head (`_S_*`, 3 + 19 words: the frame's words
# from FlexFrame.words up to _S_HEAD, its constants and grid-parameter addresses next)
_R_CONSTS, _R_PARAMS = X._S_HEAD, X._S_HEAD + 1
_R_EXE, _R_ORDINAL, _R_GRID_XY, _R_GRID_Z, _R_NCONST = range(X._S_HEAD + 2, X._S_HEAD + 7)
_R_HEAD = X._S_HEAD + 7
assert FlexFrame.FLEX_WORDS == _R_PARAMS + 1 - X._S_EMPTY
#: workgroup counts in the dispatch args buffer (hal/dispatch._ARGS)
_ARGS_COUNTS = 48
# ExecutableTable: u64 export count, then per export (_T_STRIDE words): name length, name
# address, FLEX_SLOTS (key, FlexFrame words address) pairs; key = constants | bindings << 32
_T_HEAD, _T_NAME_LENGTH, _T_NAME, _T_SLOTS = 1, 0, 1, 2
_T_STRIDE = _T_SLOTS + 2 * FLEX_SLOTS
_T_SHIFT = 6
assert 8 * _T_STRIDE == 1 << _T_SHIFT
_NO_KEY = _MASK
_FRAME = 56

class ExecutableTable:
    """An executable's native table (see the module docstring). `add(ordinal, frame)`
    lists a FlexFrame (False when its export's slots are full)."""

    def __init__(self, names: list[str]):
        encoded = [n.encode() for n in names]
        blob = b"".join(encoded) or b"\0"
        #: every name's bytes, one after another (the table points into it)
        self.name_bytes = array_type(ctypes.c_char, len(blob)).from_buffer_copy(blob)
        at = ctypes.addressof(self.name_bytes)
        words = [len(names)]
        for raw in encoded:
            words += [len(raw), at] + [_NO_KEY, 0] * FLEX_SLOTS
            at += len(raw)
        self.native = array_type(ctypes.c_uint64, len(words))(*words)
        self.address = ctypes.addressof(self.native)
        self.frames: list[FlexFrame] = []

    def add(self, ordinal: int, frame: FlexFrame) -> bool:
        base = _T_HEAD + _T_STRIDE * ordinal + _T_SLOTS
        key = frame.nconst | frame.nbind << 32
        for k in range(FLEX_SLOTS):
            if self.native[base + 2 * k] == key:
                return True
            if self.native[base + 2 * k] == _NO_KEY:
                self.frames.append(frame)
                X.FRAMES[frame.descs_address] = frame
                self.native[base + 2 * k + 1] = frame.address
                self.native[base + 2 * k] = key
                return True
        return False


class NativeCommandBuffer(CommandBuffer):
    """See the module docstring. `active`: native (the area holds the commands)."""

    def __init__(self):
        self.area = array_type(ctypes.c_uint64, AREA_BYTES // 8)()
        self.area_address = ctypes.addressof(self.area)
        self.words = memoryview(self.area).cast("B").cast("Q")
        self.active, self._finalized, self.keep = False, False, None
        super().__init__(0)
        self.reset()

    @property
    def finalized(self) -> bool:
        return bool(self.words[A_FINALIZED]) if self.active else self._finalized

    @finalized.setter
    def finalized(self, value: bool) -> None:
        if self.active:
            self.words[A_FINALIZED] = int(bool(value))
        else:
            self._finalized = bool(value)

    def reset(self) -> None:
        """Empty and native again, as a new buffer (the pool reuses it)."""
        self.commands, self._steps, self.plan, self.keep = [], None, None, None
        self._finalized = False
        ctypes.memset(self.area_address, 0, 8 * A_RECORDS)
        self.words[A_CAPACITY] = AREA_BYTES - 8 * A_RECORDS
        self.active = True
        self.describe_natively(0, self.area_address)

    def records(self):
        """(word index, record words as a tuple-like view) of each native record."""
        words = self.words
        at = A_RECORDS
        for _ in range(words[A_PLAN + X._P_STEPS]):
            size = words[at + X._S_SIZE] // 8
            yield at, words[at:at + size]
            at += size

    @staticmethod
    def _bindings(record) -> list[tuple[int, int, int]]:
        """(buffer ref, offset, length) per binding, as recorded (signed)."""
        count, nconst = record[X._S_COUNT], record[_R_NCONST]
        start = _R_HEAD + (nconst + 1) // 2
        out = []
        for k in range(count):
            ref, offset, length = record[start + 3 * k:start + 3 * k + 3]
            out.append((ref, offset - (1 << 64) if offset >> 63 else offset,
                        length - (1 << 64) if length >> 63 else length))
        return out

    def bind(self) -> None:
        """Strong references to the objects the records name (see Ownership)."""
        words = self.words
        steps = words[A_PLAN + X._P_STEPS]
        if not steps or not self.active:
            return
        refs, at = [], A_RECORDS
        for _ in range(steps):
            start = at + _R_HEAD + (words[at + _R_NCONST] + 1) // 2
            refs.append(words[at + _R_EXE])
            refs += words[start:start + 3 * words[at + X._S_COUNT]:3].tolist()
            at += words[at + X._S_SIZE] >> 3
        self.keep = [lookup(ref) for ref in refs]

    def demote(self) -> None:
        """Python owns the commands from now on: the records become ordinary commands."""
        if not self.active:
            return
        commands = []
        for _, record in self.records():
            nconst = record[_R_NCONST]
            constants = np.frombuffer(bytes(record[_R_HEAD:_R_HEAD + (nconst + 1) // 2]),
                                      np.uint32)[:nconst].copy()
            xy = record[_R_GRID_XY]
            bindings = [(0, lookup(ref), offset, length)
                        for ref, offset, length in self._bindings(record)]
            commands.append(("dispatch", lookup(record[_R_EXE]), record[_R_ORDINAL],
                             (xy & 0xFFFFFFFF, xy >> 32, record[_R_GRID_Z]), constants,
                             bindings))
        self._finalized = bool(self.words[A_FINALIZED])
        self.commands, self._steps, self.keep = commands, None, None
        self.active = False
        self.describe_natively()

    def take_stop(self) -> tuple[int, int, int] | None:
        """(record index, kind, status) where native execution stopped, cleared; None if it
        did not stop."""
        words = self.words
        step = words[A_PLAN + X._P_STOP_STEP]
        if not self.active or not step:
            return None
        stop = (step - 1, words[A_PLAN + X._P_STOP_KIND], words[A_PLAN + X._P_STOP_STATUS])
        words[A_PLAN + X._P_STOP_STEP] = words[A_PLAN + X._P_STOP_KIND] = 0
        words[A_PLAN + X._P_STOP_STATUS] = 0
        return stop

    def frame_of(self, index: int) -> FlexFrame:
        """The FlexFrame record `index` runs on."""
        for k, (_, record) in enumerate(self.records()):
            if k == index:
                return X.FRAMES[record[X._S_DESCS]]
        raise IndexError(index)

    def record(self, *command) -> None:
        self.demote()
        super().record(*command)

    def execute(self, table: list[tuple], start: int = 0) -> None:
        self.demote()
        super().execute(table, start)


# -- native entries --------------------------------------------------------------------
def _object(e: Entry, field: str, tag: int, reg) -> None:
    from .native import _object as check
    check(e, field, tag, reg=reg)


def _native_area(e: Entry, field: str, reg) -> None:
    """reg = the native area of the command buffer argument `field` (falls back unless it
    is a native one)."""
    _object(e, field, COMMAND_BUFFER, reg)
    e.a.mov(reg, qword[reg + abi.BUF_LENGTH])
    e.a.test(reg, reg)
    e.a.jz(e.slow)


def _create(e: Entry, pool_address: int) -> None:
    a = e.a
    _object(e, "device", DEVICE, R.rax)
    a.cmp(e.arg("capacity", 32), 0)
    a.jne(e.slow)
    pop_pooled(e, pool_address, R.rax, R.rcx)
    a.mov(qword[R.rdx], R.rcx)


def _barrier(e: Entry) -> None:
    _object(e, "command_buffer", COMMAND_BUFFER, R.rax)


def _finalize(e: Entry) -> None:
    _native_area(e, "command_buffer", R.rax)
    e.a.mov(qword[R.rax + 8 * A_FINALIZED], 1)


def _lookup(e: Entry) -> None:
    """executable.lookup.function: the first export whose name's bytes equal the buffer's."""
    a, slow = e.a, e.slow
    _object(e, "executable", EXECUTABLE, R.rbx)
    a.mov(R.rbx, qword[R.rbx + abi.BUF_DATA])
    a.test(R.rbx, R.rbx)
    a.jz(slow)
    _object(e, "name", abi.TYPE_BUFFER, R.rax)
    a.mov(R.r8, qword[R.rax + abi.BUF_DATA])
    a.mov(R.r9, qword[R.rax + abi.BUF_LENGTH])
    a.lea(R.r11, qword[R.rbx + 8 * _T_HEAD])             # the export's entry
    mismatch, found = Label("mismatch"), Label("found")
    with counted_loop(a, R.r10, qword[R.rbx], "export"):
        a.cmp(R.r9, qword[R.r11 + 8 * _T_NAME_LENGTH])
        a.jne(mismatch)
        a.mov(R.rbp, qword[R.r11 + 8 * _T_NAME])
        with counted_loop(a, R.rcx, R.r9, "byte"):
            a.mov(R.al, R.byte[R.r8 + R.rcx])
            a.cmp(R.al, R.byte[R.rbp + R.rcx])
            a.jne(mismatch)
        a.jmp(found)
        a.label(mismatch)
        a.add(R.r11, 8 * _T_STRIDE)
    a.jmp(slow)
    a.label(found)
    a.mov(qword[R.rdx], R.r10)


def _dispatch(e: Entry) -> None:
    """command_buffer.dispatch (see the module docstring). rbx: the area, r12: the
    export's table entry, r13 / r14: constant / binding count, r15: the FlexFrame words,
    rdi: the new record, rbp: the binding tuples, r10 / r11: the record's recorded and
    resolved bindings."""
    a, slow = e.a, e.slow
    consts = e.offsets["nconst"] + 4
    _native_area(e, "command_buffer", R.rbx)
    a.cmp(qword[R.rbx + 8 * A_FINALIZED], 0)
    a.jne(slow)
    _object(e, "executable", EXECUTABLE, R.r12)
    a.mov(R.r12, qword[R.r12 + abi.BUF_DATA])
    a.test(R.r12, R.r12)
    a.jz(slow)
    a.mov(R.rax, e.arg("ordinal"))
    a.cmp(R.rax, qword[R.r12])                           # unsigned: negative ones too
    a.jae(slow)
    a.shl(R.rax, _T_SHIFT)
    a.lea(R.r12, qword[R.Mem(R.r12, R.rax, 1, 8 * (_T_HEAD + _T_SLOTS))])
    a.mov(R.r13d, e.arg("nconst", 32))
    a.cmp(R.r13, MAX_CONSTANTS)
    a.ja(slow)
    a.mov(R.r14d, dword[R.Mem(R.rsi, R.r13, 4, consts)])  # the binding count
    a.cmp(R.r14, MAX_BINDINGS)
    a.ja(slow)
    a.mov(R.rax, R.r14)
    a.shl(R.rax, 32)
    a.or_(R.rax, R.r13)
    found = Label("flex_found")
    for k in range(FLEX_SLOTS):
        a.mov(R.r15, qword[R.r12 + 16 * k + 8])
        a.cmp(R.rax, qword[R.r12 + 16 * k])
        a.je(found)
    a.jmp(slow)
    a.label(found)
    # the record's size in bytes: 8 * (_R_HEAD + (constants + 1) / 2 + 6 * bindings)
    a.lea(R.r8, qword[R.r13 + 1])
    a.shr(R.r8, 1)
    a.lea(R.rcx, qword[R.Mem(R.r14, R.r14, 2)])
    a.lea(R.r8, qword[R.Mem(R.r8, R.rcx, 2, _R_HEAD)])
    a.shl(R.r8, 3)
    a.mov(R.r9, qword[R.rbx + 8 * A_END])
    a.lea(R.rdi, qword[R.Mem(R.rbx, R.r9, 1, 8 * A_RECORDS)])
    a.add(R.r9, R.r8)
    a.cmp(R.r9, qword[R.rbx + 8 * A_CAPACITY])
    a.ja(slow)
    a.mov(qword[R.rdi + 8 * X._S_SIZE], R.r8)
    a.mov(qword[R.rdi + 8 * X._S_COUNT], R.r14)
    for k in range(FlexFrame.FLEX_WORDS):
        a.mov(R.rax, qword[R.r15 + 8 * k])
        a.mov(qword[R.rdi + 8 * (X._S_EMPTY + k)], R.rax)
    empty = Label("empty")
    a.mov(R.eax, 1)
    for field in ("x", "y", "z"):
        a.cmp(e.arg(field, 32), 0)
        a.je(empty)
    a.xor(R.eax, R.eax)
    a.label(empty)
    a.mov(qword[R.rdi + 8 * X._S_EMPTY], R.rax)
    a.mov(R.eax, e.arg("x", 32))
    a.mov(R.ecx, e.arg("y", 32))
    a.shl(R.rcx, 32)
    a.or_(R.rax, R.rcx)
    a.mov(qword[R.rdi + 8 * _R_GRID_XY], R.rax)
    a.mov(R.eax, e.arg("z", 32))
    a.mov(qword[R.rdi + 8 * _R_GRID_Z], R.rax)
    for word, source in ((_R_EXE, e.arg("executable")), (_R_ORDINAL, e.arg("ordinal"))):
        a.mov(R.rax, source)
        a.mov(qword[R.rdi + 8 * word], R.rax)
    a.mov(qword[R.rdi + 8 * _R_NCONST], R.r13)
    with counted_loop(a, R.rcx, R.r13, "constant"):
        a.mov(R.eax, dword[R.Mem(R.rsi, R.rcx, 4, consts)])
        a.mov(dword[R.Mem(R.rdi, R.rcx, 4, 8 * _R_HEAD)], R.eax)
    a.lea(R.rax, qword[R.r13 + 1])
    a.shr(R.rax, 1)
    a.lea(R.r10, qword[R.Mem(R.rdi, R.rax, 8, 8 * _R_HEAD)])
    a.lea(R.rax, qword[R.Mem(R.r14, R.r14, 2)])
    a.lea(R.r11, qword[R.Mem(R.r10, R.rax, 8)])
    a.mov(qword[R.rdi + 8 * X._S_RESOLVED], R.r11)
    # the first (i32, i32, ref, i64, i64) binding's ref: 8-aligned after the count and the
    # two i32 (abi.cconv_layout), the others 32 bytes apart
    a.lea(R.rbp, qword[R.Mem(None, R.r13, 4, consts + 4 + 8 + 7)])
    a.and_(R.rbp, -8)
    a.add(R.rbp, R.rsi)
    with counted_loop(a, R.rcx, R.r14, "binding"):
        a.mov(R.r8, qword[R.rbp])                        # the buffer
        a.test(R.r8, R.r8)
        a.jz(slow)                                       # a table slot: Python
        a.cmp(dword[R.r8 + abi.BUF_TYPE], BUFFER)
        a.jne(slow)
        a.mov(R.r9, qword[R.rbp + 8])                    # offset
        a.mov(R.rdx, qword[R.rbp + 16])                  # length
        a.mov(qword[R.r10], R.r8)
        a.mov(qword[R.r10 + 8], R.r9)
        a.mov(qword[R.r10 + 16], R.rdx)
        X.binding_span(a, buffer=R.r8, offset=R.r9, length=R.rdx, buffer_length=R.rax,
                       scratch=R.r15, out=R.r11, slow=slow)
        a.add(R.rbp, 32)
        a.add(R.r10, 24)
        a.add(R.r11, 24)
    # commit
    a.mov(R.rax, qword[R.rdi + 8 * X._S_SIZE])
    a.add(qword[R.rbx + 8 * A_END], R.rax)
    a.inc(qword[R.rbx + 8 * (A_PLAN + X._P_STEPS)])


def _write_grid_and_constants(a) -> None:
    """run_steps' per-step hook: the record's constants and grid into its FlexFrame."""
    a.mov(R.rdi, qword[R.r12 + 8 * _R_CONSTS])
    a.lea(R.rsi, qword[R.r12 + 8 * _R_HEAD])
    a.mov(R.rdx, qword[R.r12 + 8 * _R_NCONST])
    a.shl(R.rdx, 2)
    a.mov(R.rax, X._libc("memcpy"))
    a.call(R.rax)
    a.mov(R.rax, qword[R.r12 + 8 * _R_GRID_XY])
    a.mov(R.ecx, dword[R.r12 + 8 * _R_GRID_Z])
    a.mov(R.rdx, qword[R.r12 + 8 * (X._S_CALL + 1)])     # the args buffer
    a.mov(qword[R.rdx + _ARGS_COUNTS], R.rax)
    a.mov(dword[R.rdx + _ARGS_COUNTS + 8], R.ecx)
    a.mov(R.rdx, qword[R.r12 + 8 * _R_PARAMS])           # GridParams.count
    a.mov(qword[R.rdx], R.rax)
    a.mov(dword[R.rdx + 8], R.ecx)


def _execute(e: Entry) -> None:
    a = e.a
    _object(e, "device", DEVICE, R.rax)
    X.check_fences(e)
    _native_area(e, "command_buffer", R.rbx)
    a.cmp(qword[R.rbx + 8 * A_FINALIZED], 0)
    a.je(e.slow)
    a.add(R.rbx, 8 * A_PLAN)
    X.run_steps(e, _write_grid_and_constants)


#: name -> (calling convention, argument types as the entry reads them, field names,
#: body(e, *extra addresses), stub frame)
ENTRIES = {
    "command_buffer.create": ("0riiIi_r", ("ref", "i32", "i32", "i64", "i32"),
                              ("device", "modes", "categories", "affinity", "capacity"),
                              _create, _FRAME),
    "command_buffer.dispatch": (
        "0rrIiiiICiDCiirIID_v", ("ref", "ref", "i64", "i32", "i32", "i32", "i64", "i32"),
        ("command_buffer", "executable", "ordinal", "x", "y", "z", "flags", "nconst"),
        _dispatch, _FRAME),
    "command_buffer.execution_barrier": ("0riiI_v", ("ref", "i32", "i32", "i64"),
                                         ("command_buffer", "source", "target", "flags"),
                                         _barrier, _FRAME),
    "command_buffer.finalize": ("0r_v", ("ref",), ("command_buffer",), _finalize, _FRAME),
    "device.queue.execute": ("0rIrrrI_v", ("ref", "i64", "ref", "ref", "ref", "i64"),
                             ("device", "affinity", "wait", "signal", "command_buffer",
                              "flags"), _execute, X._FRAME),
    "executable.lookup.function": ("0rr_I", ("ref", "ref"), ("executable", "name"), _lookup,
                                   _FRAME),
}


def assemble(table: dict, name: str, addresses: tuple[int, ...]) -> bytes:
    """The entry table[name] (an ENTRIES row) falling back to addresses[0]; the other
    addresses go to its body."""
    _, arg_types, fields, body, frame = table[name]
    e = Entry(name, fields, frame, arg_types=arg_types)
    body(e, *addresses[1:])
    return e.finish(addresses[0])


class NativeCall:
    """A hal function's Python implementation `fn` plus the native entry of
    `table[name]` (ENTRIES rows; position-independent code, patched per fallback; `extra`:
    further addresses the body embeds)."""

    def __init__(self, name: str, fn, extra: tuple[int, ...] = (), table=None):
        self.table = ENTRIES if table is None else table
        self.name, self.fn, self.extra = name, fn, extra
        sig = parse_cconv(self.table[name][0])
        self.signature = (sig.args, sig.results)

    def __call__(self, *args):
        return self.fn(*args)

    def native_code(self, fallback: int, signature=None) -> bytes | None:
        if signature is not None and (signature.args, signature.results) != self.signature:
            return None
        if not X.DICTS_OK and self.name == "device.queue.execute":
            return None
        name, table = self.name, self.table
        return patched(("hal-native-call", name), lambda a: assemble(table, name, a),
                       (fallback, *self.extra))


class NativePooledCall(PooledCall):
    """A hal call whose native entry (`table[name]`, given the pool's address) pops a
    pooled object: the pool's hooks plus NativeCall's code; `fn` answers every call the
    entry leaves to Python."""

    def __init__(self, name: str, fn, pool: ObjectPool, table=None):
        self.call = NativeCall(name, fn, (pool.address,), table)
        super().__init__(name, self.call.table[name][0], pool)
        self.fn = fn

    def __call__(self, *args):
        return self.fn(*args)

    def native_code(self, fallback: int, signature=None) -> bytes | None:
        return self.call.native_code(fallback, signature)

    def native_entry(self, fallback: int, signature=None):
        return None


class NativeCreate(NativePooledCall):
    """`command_buffer.create`: the Python implementation `fn` for unusual calls, an
    ordinary CommandBuffer (a pool miss) when the native entry found the pool empty."""

    def __init__(self, fn, pool: ObjectPool):
        super().__init__("command_buffer.create", fn, pool)

    def __call__(self, device, modes, categories, affinity, capacity):
        if isinstance(device, Device) and capacity == 0:
            self.pool.misses += 1
        return self.fn(device, modes, categories, affinity, capacity)


class NativeDispatch(NativeCall):
    """`command_buffer.dispatch`: the Python fallback first lists the dispatch's FlexFrame
    in its executable's table (so the next such dispatch records natively)."""

    def __init__(self, fn):
        super().__init__("command_buffer.dispatch", fn)

    def __call__(self, cb, exe, ordinal, x, y, z, flags, constants, bindings):
        table = getattr(exe, "table", None)
        if (type(table) is ExecutableTable and len(constants) <= MAX_CONSTANTS
                and len(bindings) <= MAX_BINDINGS and 0 <= ordinal < len(exe.export_names)
                and all(isinstance(b[2], Buffer) for b in bindings)):
            frame = exe.runner(ordinal).flex_frame(len(constants), len(bindings))
            if frame is not None:
                table.add(ordinal, frame)
        return self.fn(cb, exe, ordinal, x, y, z, flags, constants, bindings)


class NativeQueueExecute(NativeCall):
    """`device.queue.execute`: the Python fallback reports a stop of the native execution
    (a trap: that error; a release that failed in execute.RELEASE: done again, Python runs
    the next records; a grown bindings list: restored, Python runs that record on) and
    otherwise runs LocalHal.queue_execute (`fn(device, affinity, wait, signal, cb, flags,
    table, start)`)."""

    def __init__(self, fn):
        super().__init__("device.queue.execute", fn)

    def __call__(self, device, affinity, wait, signal, cb, flags):
        start = 0
        stop = cb.take_stop() if type(cb) is NativeCommandBuffer else None
        if stop is not None:
            start, kind, status = stop
            frame = cb.frame_of(start)
            if kind == X.STOP_TRAP:
                frame.raise_trap(status)
            frame.restore_list()
            if kind == X.STOP_RELEASE:
                frame.release()
                start += 1
        return self.fn(device, affinity, wait, signal, cb, flags, (), start)


def entries(hal) -> dict:
    """The LocalHal `hal`'s command-buffer calls with native entries (provider names)."""
    pool = hal.command_buffer_pool = ObjectPool(NativeCommandBuffer, NativeCommandBuffer.reset,
                                                initial=1, bind=NativeCommandBuffer.bind)
    return {
        "command_buffer.create": NativeCreate(hal.cb_create, pool),
        "command_buffer.dispatch": NativeDispatch(hal.cb_dispatch),
        "command_buffer.execution_barrier": NativeCall("command_buffer.execution_barrier",
                                                       hal.cb_barrier),
        "command_buffer.finalize": NativeCall("command_buffer.finalize", hal.cb_finalize),
        "device.queue.execute": NativeQueueExecute(hal.queue_execute),
        "executable.lookup.function": NativeCall("executable.lookup.function",
                                                 hal.lookup_function),
    }
