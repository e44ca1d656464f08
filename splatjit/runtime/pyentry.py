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

Stubs of one shape (argument and result types, number of dicts) differ only in the addresses
they embed: the shape is assembled once and copied with each stub's addresses
(runtime/patched_code.py).

Contract: `build(...)` returns a `NativeEntry` (the builtin and its off switch), or None when
this interpreter's object layout is not the one assumed (`ob_type` at 8,
`PyFloatObject.ob_fval` at 16: checked at run time) or it is not CPython. The builtin keeps
alive everything its code points at. `depth_cell` (a ctypes int64) is incremented for the
duration of the native call, like the Python path's `JitModule._depth`.
"""
from __future__ import annotations

import ctypes
import functools
import sys

from ..emit_x64 import operands as R
from ..emit_x64.assembler import Assembler
from ..emit_x64.operands import Label, dword, qword
from . import abi
from .call_claim import PTHREAD_SELF, emit_claim, emit_release
from .memory import ExecutableMemory
from .patched_code import patched

OB_TYPE = 8       # offsetof(PyObject, ob_type)
FLOAT_VALUE = 16  # offsetof(PyFloatObject, ob_fval)
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
            and _symbol("PyLong_Type") == id(int) and _symbol("PyFloat_Type") == id(float))


class _MethodDef(ctypes.Structure):
    _fields_ = [("ml_name", ctypes.c_char_p), ("ml_meth", ctypes.c_void_p),
                ("ml_flags", ctypes.c_int), ("ml_doc", ctypes.c_char_p)]


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


def _rewind_arena(a: Assembler, context: int) -> None:
    """Nothing left to release (the dicts are empty): unless an outer call of the module is
    running (depth cell at r14), its native arena's cursor goes back to the chunk start
    (runtime/native_arena.py). Uses rax, rcx."""
    busy = Label("module_busy")
    a.cmp(qword[R.r14], 0)
    a.jne(busy)
    a.mov(R.rax, context)
    a.mov(R.rax, qword[R.rax + abi.CTX_HELPERS])
    a.mov(R.rcx, qword[R.rax + abi.ARENA_START])
    a.mov(qword[R.rax + abi.ARENA_CURSOR], R.rcx)
    a.label(busy)


def assemble(signature, *, context: int, entry: int, fallback: int, finish: int, fmt: int,
             depth_cell: int, dicts: tuple[int, ...], closed: int) -> bytes:
    """The stub's code. Addresses: `context` (Context*), `entry` (the export's native
    code), `fallback` / `finish` (callables), `fmt` (the C string "iK"), `depth_cell`
    (int64), `dicts` (dicts whose non-emptiness sends the result to `finish`), `closed`
    (a byte: non-zero sends every call to `fallback`)."""
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
    a.mov(R.rbx, R.rsi)
    a.mov(R.r12, R.rdx)
    a.mov(R.rax, closed)
    a.cmp(R.byte[R.rax], 0)
    a.jne(slow)
    a.cmp(R.r12, len(args))
    a.jne(slow)
    _convert_args(a, args, arg_offsets, slow)
    a.mov(R.rax, PTHREAD_SELF)  # the process-wide claim (runtime/call_claim.py), held
    a.call(R.rax)               # until the result is made: another thread's call -> slow
    a.mov(R.rdi, R.rax)
    emit_claim(a, slow)
    a.mov(R.r14, depth_cell)
    a.inc(qword[R.r14])
    a.mov(R.rdi, context)
    a.lea(R.rsi, qword[R.rsp + ARGS])
    a.lea(R.rdx, qword[R.rsp + results_off])
    a.mov(R.rax, entry)
    a.call(R.rax)
    a.mov(R.r13d, R.eax)
    a.dec(qword[R.r14])
    a.test(R.r13d, R.r13d)
    a.jnz(finish_label)
    for d in dicts:
        a.mov(R.rdi, d)
        _call(a, "PyDict_Size")
        a.test(R.rax, R.rax)
        a.jnz(finish_label)
    _rewind_arena(a, context)
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
    a.mov(R.rdi, finish)
    a.mov(R.rsi, fmt)
    a.mov(R.edx, R.r13d)
    a.lea(R.rcx, qword[R.rsp + results_off])
    a.xor(R.eax, R.eax)  # variadic call: no vector registers
    _call(a, "PyObject_CallFunction")
    a.jmp(claimed_out)
    a.label(slow)  # fallback(*args)
    a.mov(R.rdi, fallback)
    a.mov(R.rsi, R.rbx)
    a.mov(R.rdx, R.r12)
    a.xor(R.ecx, R.ecx)
    _call(a, "PyObject_Vectorcall")
    a.jmp(out)
    return a.finish()


class NativeEntry:
    """A native Python entry: `function` is the builtin, `closed` its off switch.

    Lifetime: the builtin's `self` is its own method record (a ctypes structure), which
    holds the code mapping (`memory`: the mapping itself when the stubs have their own, a
    lease on it when they share the module's code mapping, see `build_many`) and every
    object the stub addresses by pointer (`keep`). So the record outlives the builtin
    (CPython reads it while freeing the builtin), the code and the objects outlive any
    call, and no Python reference to this class is needed.
    """

    __slots__ = ("closed", "function")

    def __init__(self, name: str, memory, address: int, closed, keep: tuple):
        method = _MethodDef(name.encode(), address, METH_FASTCALL, None)
        method.keep = (memory, closed) + keep
        self.closed = closed
        self.function = _NEW_CFUNCTION(ctypes.addressof(method), method, None)

    def close(self) -> None:
        """From now on every call goes to `fallback` (which must raise: the code is gone)."""
        self.closed.value = 1

    def divert(self) -> None:
        """From now on every call goes to `fallback` (the Python call path), e.g. because
        every call of the module must now end in a collection (runtime/ref_group.py)."""
        self.closed.value = 1


_FORMAT = ctypes.create_string_buffer(b"iK")
#: stubs built together share one mapping, each starting at a multiple of this
_STUB_ALIGN = 16
#: shape -> bytes of its stub on the template path (runtime/patched_code.py)
_SIZES: dict[tuple, int] = {}


def _shape(signature, ndicts: int) -> tuple:
    return ("pyentry", tuple(signature.args), tuple(signature.results), ndicts)


def _code(shape: tuple, signature, addresses: tuple) -> bytes:
    return patched(shape, lambda a, sig=signature: assemble(
        sig, context=a[0], entry=a[1], fallback=a[2], finish=a[3], fmt=a[4], depth_cell=a[5],
        closed=a[6], dicts=a[7:]), addresses)


def reserve(signatures, ndicts: int) -> int:
    """Bytes `build_many` needs after a code of any length for the stubs of `signatures`
    (each with `ndicts` dicts), alignment included: exact for stubs made from templates
    (all addresses wide, as on Linux x86-64); 0 where no stubs are made."""
    if not signatures or not layout_ok():
        return 0
    total = _STUB_ALIGN
    for signature in signatures:
        shape = _shape(signature, ndicts)
        size = _SIZES.get(shape)
        if size is None:
            size = _SIZES[shape] = len(_code(shape, signature, (1 << 40,) * (7 + ndicts)))
        total += size + _STUB_ALIGN
    return total


def build(name: str, signature, *, context: int, entry: int, fallback, finish, depth_cell,
          dicts) -> NativeEntry | None:
    """A `NativeEntry`, or None where unsupported. `depth_cell` is a ctypes int64."""
    return build_many([(name, signature, dict(context=context, entry=entry, fallback=fallback,
                                              finish=finish, depth_cell=depth_cell,
                                              dicts=dicts))])[0]


def build_many(specs, into: ExecutableMemory | None = None) -> list[NativeEntry | None]:
    """`build(name, signature, **options)` for each (name, signature, options) of `specs`,
    with the stubs in one executable mapping: after the code of `into` (an unsealed
    ExecutableMemory, which the caller seals) when they fit in it, else a mapping of
    their own. Stubs in `into` hold a lease on it (ExecutableMemory.lease): its owner may
    close it while a builtin is still held somewhere."""
    if not specs or not layout_ok():
        return [None] * len(specs)
    parts, made = [], []
    size = 0
    fmt = ctypes.addressof(_FORMAT)
    for name, signature, o in specs:
        closed = ctypes.c_int8(0)
        fallback, finish = o["fallback"], o["finish"]
        depth_cell, dicts = o["depth_cell"], o["dicts"]
        addresses = (o["context"], o["entry"], id(fallback), id(finish), fmt,
                     ctypes.addressof(depth_cell), ctypes.addressof(closed)) + tuple(map(id, dicts))
        code = _code(_shape(signature, len(dicts)), signature, addresses)
        size += -size % _STUB_ALIGN
        parts.append((size, code))
        size += len(code)
        made.append((name, size - len(code), closed,
                     (fallback, finish, depth_cell, _FORMAT) + tuple(dicts)))
    base = 0  # where the stubs start in their mapping
    if into is not None and not into.sealed:
        base = into.length + -into.length % _STUB_ALIGN
        if base + size > into.size:  # no room: a mapping of their own
            into, base = None, 0
    else:
        into = None
    blob = bytearray(b"\xcc" * size)  # int3 between stubs
    for at, code in parts:
        blob[at:at + len(code)] = code
    if into is None:
        memory = holder = ExecutableMemory(bytes(blob))
    else:
        into.write(into.length, b"\xcc" * (base - into.length))  # int3 after the code
        into.write(base, bytes(blob))
        memory, holder = into, None
    address = memory.address + base
    return [NativeEntry(name, holder or memory.lease(), address + at, closed, keep)
            for name, at, closed, keep in made]
