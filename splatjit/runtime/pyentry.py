"""Native Python entries: an export with a scalar signature as a CPython builtin function.

A call through ctypes costs about half a microsecond before any code runs (argument
conversion objects, libffi). For exports whose arguments and results are all
i32 / i64 / f32 / f64, this module assembles a METH_FASTCALL C function

    PyObject *entry(PyObject *self, PyObject *const *args, Py_ssize_t nargs)

and wraps it with `PyCFunction_NewEx`, so Python calls it like any builtin. It converts
exact `int` / `float` arguments itself, runs the JIT-compiled function with the GIL held
(as every native call of splatjit does: see module.py), and boxes a single i32 / i64 / f32 / f64 result or returns None. Anything
else is handed back to Python, so behaviour is exactly that of the Python call path:

  * wrong arity, an argument that is not an exact int / float of the accepted range
    (i32: [-2**31, 2**32), i64: int64), an f32 argument that is not finite or rounds to
    infinity: `fallback(*args)` (the Python path, which converts or raises `TypeError`);
  * a trap (non-zero status), buffers or lists the call allocated that are still to be
    released, several results, an f32 NaN result: `finish(status, results_address)`.
    When nothing is left to release, the module's native arena is rewound first (as the
    Python path does, runtime/native_arena.py).

Stubs of one shape (argument and result types, number of dicts) are identical: everything
that differs between exports is in the export's *record* (`record_type`), which is also the
builtin's `self`, so the stub reads it from its first argument. A shape's stub is assembled
once per process into a mapping that is never released (`_STUBS`); an export's entry is its
record plus one `PyCFunction_NewEx`.

Contract: `build(...)` returns a `NativeEntry` (the builtin and its off switch), or None when
this interpreter's object layout is not the one assumed (`ob_type` at 8,
`PyFloatObject.ob_fval` at 16, a ctypes object's buffer pointer at 16: checked at run time)
or it is not CPython. The builtin keeps
alive everything its code points at. `depth_cell` (a ctypes int64) is incremented for the
duration of the native call, like the Python path's `JitModule._depth`.
"""
from __future__ import annotations

import ctypes
import functools
import sys
import threading

from ..emit_x64 import operands as R
from ..emit_x64.assembler import Assembler
from ..emit_x64.operands import Label, dword, qword
from . import abi
from .call_claim import PTHREAD_SELF, emit_claim, emit_release
from .memory import ExecutableMemory

OB_TYPE = 8       # offsetof(PyObject, ob_type)
FLOAT_VALUE = 16  # offsetof(PyFloatObject, ob_fval)
CDATA_POINTER = 16  # offsetof(CDataObject, b_ptr): a ctypes object's buffer
METH_FASTCALL = 0x80
#: Frame of the stub, above its five pushed callee-saved registers (keeps rsp 16-aligned).
OVERFLOW, ARGS = 0, 8
F32_EXPONENT = 0x7F800000

_api = ctypes.pythonapi


def _address(name: str) -> int:
    return ctypes.cast(getattr(_api, name), ctypes.c_void_p).value


def _symbol(name: str) -> int:
    """Address of a data symbol (a type object, `_Py_NoneStruct`) of the interpreter."""
    return ctypes.addressof(ctypes.c_char.in_dll(_api, name))


@functools.cache
def layout_ok() -> bool:
    """Whether objects have the layout the stub reads (CPython, non-debug object header);
    fixed for the process, so checked once."""
    if sys.implementation.name != "cpython":
        return False
    x = 1.25
    return (ctypes.c_void_p.from_address(id(x) + OB_TYPE).value == id(float)
            and ctypes.c_double.from_address(id(x) + FLOAT_VALUE).value == x
            and ctypes.c_void_p.from_address(id(7) + OB_TYPE).value == id(int)
            and _symbol("PyLong_Type") == id(int) and _symbol("PyFloat_Type") == id(float)
            and _buffer_pointer_ok())


def _buffer_pointer_ok() -> bool:
    probe = ctypes.c_uint64(7)
    return ctypes.c_void_p.from_address(id(probe) + CDATA_POINTER).value == ctypes.addressof(probe)


_NEW_CFUNCTION = ctypes.PYFUNCTYPE(ctypes.py_object, ctypes.c_void_p, ctypes.py_object,
                                   ctypes.py_object)(("PyCFunction_NewEx", _api))


def _call(a: Assembler, function: str) -> None:
    a.mov(R.rax, _address(function))
    a.call(R.rax)


def _convert_args(a: Assembler, args, offsets, slow: Label) -> None:
    """Check and store each argument into the args buffer at [rsp + ARGS]; rbx = args."""
    for i, (t, off) in enumerate(zip(args, offsets)):
        a.mov(R.rdi, qword[R.rbx + 8 * i])
        a.mov(R.rax, qword[R.rdi + OB_TYPE])
        a.mov(R.r11, id(int) if t in ("i32", "i64") else id(float))
        a.cmp(R.rax, R.r11)
        a.jne(slow)
        if t in ("i32", "i64"):
            a.lea(R.rsi, qword[R.rsp + OVERFLOW])
            _call(a, "PyLong_AsLongLongAndOverflow")
            a.cmp(dword[R.rsp + OVERFLOW], 0)
            a.jne(slow)
            if t == "i32":  # -2**31 <= v < 2**32 (an unsigned spelling is accepted)
                a.mov(R.rcx, R.rax)
                a.mov(R.r11, 1 << 31)
                a.add(R.rcx, R.r11)
                a.mov(R.r11, 3 << 31)
                a.cmp(R.rcx, R.r11)
                a.jae(slow)
                a.mov(dword[R.rsp + ARGS + off], R.eax)
            else:
                a.mov(qword[R.rsp + ARGS + off], R.rax)
        elif t == "f64":
            a.movsd(R.xmm0, qword[R.rdi + FLOAT_VALUE])
            a.movsd(qword[R.rsp + ARGS + off], R.xmm0)
        else:  # f32: finite values only (struct's rounding and overflow rules stay in Python)
            a.cvtsd2ss(R.xmm0, qword[R.rdi + FLOAT_VALUE])
            a.movd(R.eax, R.xmm0)
            a.and_(R.eax, 0x7FFFFFFF)
            a.cmp(R.eax, F32_EXPONENT)
            a.jae(slow)
            a.movss(dword[R.rsp + ARGS + off], R.xmm0)


def _box_result(a: Assembler, results, results_off: int, finish: Label) -> None:
    """rax = the new reference Python gets back (None or the one boxed result)."""
    if not results:
        a.mov(R.rdi, _symbol("_Py_NoneStruct"))
        _call(a, "Py_IncRef")
        a.mov(R.rax, _symbol("_Py_NoneStruct"))
        return
    if len(results) > 1:
        a.jmp(finish)
        return
    t, at = results[0], qword[R.rsp + results_off]
    if t == "i32":
        a.movsxd(R.rdi, dword[R.rsp + results_off])
        _call(a, "PyLong_FromLongLong")
    elif t == "i64":
        a.mov(R.rdi, at)
        _call(a, "PyLong_FromLongLong")
    elif t == "f64":
        a.movsd(R.xmm0, at)
        _call(a, "PyFloat_FromDouble")
    else:  # f32: NaNs keep their exact conversion in Python
        a.mov(R.eax, dword[R.rsp + results_off])
        a.and_(R.eax, 0x7FFFFFFF)
        a.cmp(R.eax, F32_EXPONENT)
        a.ja(finish)
        a.cvtss2sd(R.xmm0, dword[R.rsp + results_off])
        _call(a, "PyFloat_FromDouble")


def _rewind_arena(a: Assembler) -> None:
    """Nothing left to release (the dicts are empty): unless an outer call of the module is
    running (depth cell at r14), its native arena's cursor goes back to the chunk start
    (runtime/native_arena.py). Uses rax, rcx."""
    busy = Label("module_busy")
    a.cmp(qword[R.r14], 0)
    a.jne(busy)
    a.mov(R.rax, qword[R.r15 + CONTEXT])
    a.mov(R.rax, qword[R.rax + abi.CTX_HELPERS])
    a.mov(R.rcx, qword[R.rax + abi.ARENA_START])
    a.mov(qword[R.rax + abi.ARENA_CURSOR], R.rcx)
    a.label(busy)


def assemble(signature, ndicts: int) -> bytes:
    """The stub of every export with `signature` whose record has `ndicts` dicts. Its
    `self` (rdi) is the export's `Record`: everything that differs between exports
    (Context, native code, fallback, finish, depth cell, off switch, dicts) is read from it
    through r15; the stub embeds only process-wide addresses (the C API, `_FORMAT`, the
    call claim)."""
    args, results = list(signature.args), list(signature.results)
    arg_offsets, arg_size = abi.cconv_layout(args)
    _, result_size = abi.cconv_layout(results)
    results_off = ARGS + max(arg_size, 8)
    frame = results_off + max(result_size, 8)  # a multiple of 8: cconv sizes are
    frame += 8 - frame % 16  # with 5 pushes, rbp and the return address: rsp 16-aligned
    a = Assembler()
    slow, finish_label, out = Label("slow"), Label("finish"), Label("out")
    claimed_out = Label("claimed_out")
    a.push(R.rbp)
    a.mov(R.rbp, R.rsp)
    for reg in (R.rbx, R.r12, R.r13, R.r14, R.r15):
        a.push(reg)
    a.sub(R.rsp, frame)
    a.mov(R.r15, qword[R.rdi + CDATA_POINTER])  # the record (self's buffer)
    a.mov(R.rbx, R.rsi)
    a.mov(R.r12, R.rdx)
    a.cmp(R.byte[R.r15 + CLOSED], 0)
    a.jne(slow)
    a.cmp(R.r12, len(args))
    a.jne(slow)
    _convert_args(a, args, arg_offsets, slow)
    a.mov(R.rax, PTHREAD_SELF)  # the process-wide claim (runtime/call_claim.py), held
    a.call(R.rax)               # until the result is made: another thread's call -> slow
    a.mov(R.rdi, R.rax)
    emit_claim(a, slow)
    a.mov(R.r14, qword[R.r15 + DEPTH_CELL])
    a.inc(qword[R.r14])
    a.mov(R.rdi, qword[R.r15 + CONTEXT])
    a.lea(R.rsi, qword[R.rsp + ARGS])
    a.lea(R.rdx, qword[R.rsp + results_off])
    a.mov(R.rax, qword[R.r15 + ENTRY])
    a.call(R.rax)
    a.mov(R.r13d, R.eax)
    a.dec(qword[R.r14])
    a.test(R.r13d, R.r13d)
    a.jnz(finish_label)
    for k in range(ndicts):
        a.mov(R.rdi, qword[R.r15 + DICTS + 8 * k])
        _call(a, "PyDict_Size")
        a.test(R.rax, R.rax)
        a.jnz(finish_label)
    _rewind_arena(a)
    _box_result(a, results, results_off, finish_label)
    a.label(claimed_out)
    emit_release(a)
    a.label(out)
    a.lea(R.rsp, qword[R.rbp - 40])
    for reg in (R.r15, R.r14, R.r13, R.r12, R.rbx):
        a.pop(reg)
    a.pop(R.rbp)
    a.ret()
    a.label(finish_label)  # finish(status, results address)
    a.mov(R.rdi, qword[R.r15 + FINISH])
    a.mov(R.rsi, ctypes.addressof(_FORMAT))
    a.mov(R.edx, R.r13d)
    a.lea(R.rcx, qword[R.rsp + results_off])
    a.xor(R.eax, R.eax)  # variadic call: no vector registers
    _call(a, "PyObject_CallFunction")
    a.jmp(claimed_out)
    a.label(slow)  # fallback(*args)
    a.mov(R.rdi, qword[R.r15 + FALLBACK])
    a.mov(R.rsi, R.rbx)
    a.mov(R.rdx, R.r12)
    a.xor(R.ecx, R.ecx)
    _call(a, "PyObject_Vectorcall")
    a.jmp(out)
    return a.finish()


#: the format `finish` is called with: (int status, unsigned long long results address)
_FORMAT = ctypes.create_string_buffer(b"iK")

#: Byte offsets in a Record (a PyMethodDef, then the export's own fields).
CONTEXT, ENTRY, FALLBACK, FINISH, DEPTH_CELL, CLOSED, DICTS = 32, 40, 48, 56, 64, 72, 80
_RECORDS: dict[int, type] = {}


def record_type(ndicts: int) -> type:
    """The Record structure with `ndicts` dict pointers: a PyMethodDef (what
    PyCFunction_NewEx takes, `ml_meth` the shape's shared stub) followed by the fields the
    stub reads: `context` (Context*), `entry` (the export's native code), `fallback` /
    `finish` (ids of the callables), `depth_cell` (int64 address), `closed` (non-zero sends
    every call to `fallback`), `d0`... (ids of dicts whose non-emptiness sends the result
    to `finish`)."""
    cls = _RECORDS.get(ndicts)
    if cls is None:
        fields = [("ml_name", ctypes.c_char_p), ("ml_meth", ctypes.c_void_p),
                  ("ml_flags", ctypes.c_int), ("ml_doc", ctypes.c_char_p)]
        fields += [(n, ctypes.c_uint64) for n in
                   ("context", "entry", "fallback", "finish", "depth_cell", "closed")]
        fields += [(f"d{k}", ctypes.c_uint64) for k in range(ndicts)]
        cls = _RECORDS[ndicts] = type(f"Record{ndicts}", (ctypes.Structure,), {"_fields_": fields})
        assert (cls.context.offset, cls.closed.offset, cls.depth_cell.offset) == (
            CONTEXT, CLOSED, DEPTH_CELL) and (not ndicts or cls.d0.offset == DICTS)
    return cls


class NativeEntry:
    """A native Python entry: `function` is the builtin; `record` its Record.

    Lifetime: the builtin's `self` is its record (a ctypes structure), which holds every
    object the record addresses by id (`record.keep`); so the record outlives the builtin
    (CPython reads its PyMethodDef while freeing the builtin) and those objects outlive
    any call. The stub is shared by every export of the shape and never unmapped. The
    export's own code is only entered while `closed` is 0: its owner closes the entry
    before it unmaps that code (JitModule.close), and a builtin held past that only calls
    `fallback`.
    """

    __slots__ = ("function", "record")

    def __init__(self, record):
        self.record = record
        self.function = _NEW_CFUNCTION(ctypes.addressof(record), record, None)

    def close(self) -> None:
        """From now on every call goes to `fallback` (which must raise: the code is gone)."""
        self.record.closed = 1

    def divert(self) -> None:
        """From now on every call goes to `fallback` (the Python call path), e.g. because
        every call of the module must now end in a collection (runtime/ref_group.py)."""
        self.record.closed = 1


#: (argument types, result types, number of dicts) -> address of the shape's stub; the
#: stubs' mappings are never released (bounded: at most _STUB_LIMIT shapes, later shapes
#: get no native entry)
_STUBS: dict[tuple, int] = {}
_STUB_LIMIT = 1 << 10
_STUB_MAPPINGS: list[ExecutableMemory] = []
#: stubs built together share one mapping, each starting at a multiple of this
_STUB_ALIGN = 16
_LOCK = threading.Lock()


def _shape(signature, ndicts: int) -> tuple:
    return (tuple(signature.args), tuple(signature.results), ndicts)


def _make_stubs(wanted: dict) -> None:
    """Assembles the stubs of `wanted` (shape -> signature) into one new mapping, sealed
    read-execute before any is used, and records their addresses in `_STUBS`."""
    with _LOCK:
        todo = [(shape, sig) for shape, sig in wanted.items()
                if shape not in _STUBS][:max(0, _STUB_LIMIT - len(_STUBS))]
        if not todo:
            return
        blob, at, symbols = bytearray(), [], []
        for shape, sig in todo:
            blob += b"\xcc" * (-len(blob) % _STUB_ALIGN)  # int3 between stubs
            code = assemble(sig, shape[2])
            at.append(len(blob))
            symbols.append((len(blob), len(code), "splatjit:pyentry(" + ",".join(shape[0])
                            + ")->(" + ",".join(shape[1]) + f")/{shape[2]}"))
            blob += code
        memory = ExecutableMemory(bytes(blob), symbols)
        _STUB_MAPPINGS.append(memory)
        for (shape, _), offset in zip(todo, at):
            _STUBS[shape] = memory.address + offset


def build(name: str, signature, *, context: int, entry: int, fallback, finish, depth_cell,
          dicts) -> NativeEntry | None:
    """A `NativeEntry`, or None where unsupported. `depth_cell` is a ctypes int64."""
    return build_many([(name, signature, dict(context=context, entry=entry, fallback=fallback,
                                              finish=finish, depth_cell=depth_cell,
                                              dicts=dicts))])[0]


def build_many(specs) -> list[NativeEntry | None]:
    """`build(name, signature, **options)` for each (name, signature, options) of `specs`:
    each a Record for its shape's shared stub (assembled the first time the process needs
    the shape) and the builtin over it. None for an entry past `_STUB_LIMIT` shapes."""
    if not specs or not layout_ok():
        return [None] * len(specs)
    stubs = _STUBS
    shapes = [_shape(signature, len(o["dicts"])) for _, signature, o in specs]
    if not all(shape in stubs for shape in shapes):
        _make_stubs({shape: signature for shape, (_, signature, _) in zip(shapes, specs)})
    out = []
    for (name, _, o), shape in zip(specs, shapes):
        stub = stubs.get(shape)
        if stub is None:
            out.append(None)
            continue
        fallback, finish, depth_cell, dicts = o["fallback"], o["finish"], o["depth_cell"], o["dicts"]
        record = record_type(len(dicts))(
            name.encode(), stub, METH_FASTCALL, None, o["context"], o["entry"], id(fallback),
            id(finish), ctypes.addressof(depth_cell), 0, *map(id, dicts))
        record.keep = (fallback, finish, depth_cell, dicts)
        out.append(NativeEntry(record))
    return out
