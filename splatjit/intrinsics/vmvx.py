"""IREE 3.13's `vmvx` module (the microkernels VMVX dispatch functions import), in numpy.

`provider()` maps each export of `runtime/src/iree/modules/vmvx/exports.inl` (name without the
`vmvx.` prefix) to a Python callable taking the arguments in calling-convention order: every
`!vm.buffer` is a 1-D `numpy.uint8` array viewing the buffer's bytes (read-only buffers are
non-writeable arrays), every `i32`/`i64` a signed Python int. Outputs are written in place;
`query_tile_sizes.2d` returns a tuple of two ints, everything else returns None.

Units: every offset and stride is in ELEMENTS of the op's element type (bytes = elements *
element size), as in `module.c`. Buffer validation reproduces `module.c` exactly, including its
uint64 wrap-around arithmetic:

  * `BUFFER_2D_DECLS`: sizes must be < 2**32 and strides in [-1, 2**32 - 2] (`stride + 1` must
    fit in 32 bits), else INVALID_ARGUMENT "buffer overflow";
  * the mapped byte range is `[esize * offset, + ((size0-1)*stride0 + (size1-1)*stride1 + 1) *
    esize)`, all mod 2**64; `iree_vm_buffer_map_{ro,rw}` fails with OUT_OF_RANGE when
    `(offset + length) mod 2**64 > buffer length` and with PERMISSION_DENIED when a read-only
    buffer is mapped for writing (checked before the range);
  * a null buffer is INVALID_ARGUMENT.

All of these raise `VmvxError` (a ValueError) before anything is written, in IREE's order
(lhs, rhs, out). On top of IREE's own checks, cases where IREE's release build has undefined
behaviour also raise `VmvxError`: element accesses that fall outside the buffer even though the
(wrapping) map check passed (e.g. negative offsets, stride -1), integer division by zero or
INT32_MIN / -1 (SIGFPE in IREE on x86-64), and parameter combinations the ukernels only
`IREE_UK_ASSERT` in debug builds (documented per function).

Floating point: IREE's local HAL runs every dispatch with denormals flushed (x86 MXCSR
FTZ|DAZ, arm64 FPCR FZ), so f32 ukernel arithmetic reads denormal inputs as signed zero and
flushes tiny results; this is modelled bit-exactly (see `Target`), and expf/logf are glibc's,
called with those FPU bits set. Other than that, results are IEEE binary32 (NaN payloads
included) as computed by the C code.

Element order: IREE's loops run row-major; when an output overlaps an input at a different
element, or overlaps itself (e.g. a zero stride), the result of that order is reproduced (slow
paths; mmt4d goes tile by tile, pack/unpack replay their write order). Overlap of
pack/unpack/mmt4d inputs with their output is undefined in IREE (`restrict` pointers): this
module reads all inputs first.

Target dependence: `mmt4d` (f32 rounding: fused multiply-add in the architecture-specific tile
functions vs. separate multiply and add in the generic one) and `query_tile_sizes.2d` depend on
the CPU IREE runs on, through `iree_cpu_data_fields()` (initialised once a HAL local executable
exists, i.e. always when a VMVX dispatch runs). `host_target()` reproduces that selection for
this machine; pass another `Target` to `provider()` to model a different CPU.
"""
from __future__ import annotations

import ctypes
import ctypes.util
import platform
from dataclasses import dataclass, field
from typing import Callable

import numpy as np
from numpy.lib.stride_tricks import as_strided

__all__ = ["VmvxError", "Target", "host_target", "provider", "CCONV",
           "MMT4D_TYPE_F32F32F32", "MMT4D_TYPE_S8S8S32", "MMT4D_ACCUMULATE",
           "MMT4D_ALLOW_GENERIC_FALLBACK", "PACK_TYPE_F32F32", "PACK_TYPE_I8I8",
           "PACK_TYPE_I32I32", "UNPACK_TYPE_F32F32", "UNPACK_TYPE_I32I32",
           "TRANSPOSE_INNER", "TRANSPOSE_OUTER"]


class VmvxError(ValueError):
    """Raised where IREE's vmvx module returns an error status (or its ukernel would hit
    undefined behaviour)."""


# --- exported_bits.h ------------------------------------------------------------------------
MMT4D_TYPE_MASK = 0xFF
MMT4D_TYPE_F32F32F32 = 0x01
MMT4D_TYPE_S8S8S32 = 0x02
MMT4D_ACCUMULATE = 0x100
MMT4D_ALLOW_GENERIC_FALLBACK = 0x200
MMT4D_SKIP_INTERMEDIATE_ROUNDINGS = 0x400  # narrow accumulators only: f32 / s32 ignore it
PACK_TYPE_F32F32 = 0x01
PACK_TYPE_I8I8 = 0x02
PACK_TYPE_I32I32 = 0x03
UNPACK_TYPE_F32F32 = 0x01
UNPACK_TYPE_I32I32 = 0x03
TRANSPOSE_INNER = 0x100   # same value for pack and unpack
TRANSPOSE_OUTER = 0x200
QTS_ROLE_LHS, QTS_ROLE_RHS, QTS_ROLE_RESULT = 0x01, 0x02, 0x03
QTS_OP_MATMUL_F32F32F32 = 0x0100
QTS_OP_MATMUL_I8I8I32 = 0x0200
_QTS_MATMUL_OPS = (0x0100, 0x0200, 0x0300, 0x0400, 0x0500, 0x0600)

# calling conventions of exports.inl ("0" + args + "_" + results)
CCONV = {
    "abs.2d.f32": "0rIIIrIIIII_v", "add.2d.f32": "0rIIIrIIIrIIIII_v",
    "add.2d.i32": "0rIIIrIIIrIIIII_v", "and.2d.i32": "0rIIIrIIIrIIIII_v",
    "ceil.2d.f32": "0rIIIrIIIII_v", "copy.2d.x16": "0rIIIrIIIII_v",
    "copy.2d.x32": "0rIIIrIIIII_v", "copy.2d.x64": "0rIIIrIIIII_v",
    "copy.2d.x8": "0rIIIrIIIII_v", "ctlz.2d.i32": "0rIIIrIIIII_v",
    "div.2d.f32": "0rIIIrIIIrIIIII_v", "divs.2d.i32": "0rIIIrIIIrIIIII_v",
    "divu.2d.i32": "0rIIIrIIIrIIIII_v", "exp.2d.f32": "0rIIIrIIIII_v",
    "fill.2d.x32": "0irIIII_v", "floor.2d.f32": "0rIIIrIIIII_v",
    "log.2d.f32": "0rIIIrIIIII_v", "mmt4d": "0rIIrIIrIIIIIiiii_v",
    "mul.2d.f32": "0rIIIrIIIrIIIII_v", "mul.2d.i32": "0rIIIrIIIrIIIII_v",
    "neg.2d.f32": "0rIIIrIIIII_v", "or.2d.i32": "0rIIIrIIIrIIIII_v",
    "pack": "0rIIIrIIIIIIIIIIi_v", "query_tile_sizes.2d": "0IIi_II",
    "rsqrt.2d.f32": "0rIIIrIIIII_v", "shl.2d.i32": "0rIIIrIIIrIIIII_v",
    "shrs.2d.i32": "0rIIIrIIIrIIIII_v", "shru.2d.i32": "0rIIIrIIIrIIIII_v",
    "sub.2d.f32": "0rIIIrIIIrIIIII_v", "sub.2d.i32": "0rIIIrIIIrIIIII_v",
    "unpack": "0rIIIrIIIIIIIIIi_v", "xor.2d.i32": "0rIIIrIIIrIIIII_v",
}

_M64 = (1 << 64) - 1
_HI32 = 0xFFFFFFFF00000000


def _u64(v: int) -> int:
    return v & _M64


def _s64(v: int) -> int:
    v &= _M64
    return v - (1 << 64) if v >> 63 else v


# --- target (CPU) model ---------------------------------------------------------------------

@dataclass(frozen=True)
class Target:
    """The CPU the modelled IREE runtime runs on, as its ukernels see it.

    arch: "x86_64", "arm_64" or "generic" (no architecture-specific ukernel code).
    features: x86_64: subset of {"avx2_fma", "avx512_base", "avx512_vnni"} (as in
      `common_x86_64.h`: avx2_fma = AVX2+FMA+F16C, avx512_base adds F/BW/DQ/VL/CD, vnni adds
      VNNI); arm_64: subset of {"dotprod", "i8mm"}.
    generic_f32_fma: whether the generic f32 mmt4d tile's `acc += lhs * rhs` is compiled to a
      fused multiply-add (clang contracts it on arm64, where FMA is baseline; not on x86-64,
      whose baseline has no FMA: verified against iree.runtime 3.13 on x86-64).
    flush_denormals: IREE's local HAL runs every dispatch under
      `iree_fpu_state_push(IREE_FPU_STATE_FLAG_FLUSH_DENORMALS_TO_ZERO)` (x86: MXCSR FTZ|DAZ;
      arm64: FPCR FZ|FZ16; a no-op elsewhere): f32 inputs that are denormal read as (signed)
      zero and tiny results are flushed to (signed) zero. fabsf/negation are bit operations
      and unaffected.
    ftz_after_rounding: x86 decides "tiny" on the result rounded to 24 bits with unbounded
      exponent (verified against iree.runtime 3.13); arm64 on the exact result.
    """
    arch: str
    features: frozenset = field(default_factory=frozenset)
    generic_f32_fma: bool = False
    flush_denormals: bool = True
    ftz_after_rounding: bool = True


def _cpuinfo_flags() -> set:
    flags: set = set()
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                key, _, value = line.partition(":")
                if key.strip() in ("flags", "Features"):
                    flags.update(value.split())
    except OSError:
        pass
    return flags


def host_target() -> Target:
    """The Target IREE's ukernels select on this machine (from /proc/cpuinfo)."""
    machine = platform.machine().lower()
    flags = _cpuinfo_flags()
    feats = set()
    if machine in ("x86_64", "amd64"):
        if {"avx2", "fma", "f16c"} <= flags:
            feats.add("avx2_fma")
            if {"avx512f", "avx512bw", "avx512dq", "avx512vl", "avx512cd"} <= flags:
                feats.add("avx512_base")
                if "avx512_vnni" in flags:
                    feats.add("avx512_vnni")
        return Target("x86_64", frozenset(feats), generic_f32_fma=False,
                      flush_denormals=True, ftz_after_rounding=True)
    if machine in ("aarch64", "arm64"):
        if "asimddp" in flags:
            feats.add("dotprod")
        if "i8mm" in flags:
            feats.add("i8mm")
        return Target("arm_64", frozenset(feats), generic_f32_fma=True,
                      flush_denormals=True, ftz_after_rounding=False)
    return Target("generic", frozenset(), generic_f32_fma=False, flush_denormals=False)


def _mmt4d_arch_tile(target: Target, typ: int, m0: int, n0: int, k0: int) -> bool:
    """Whether iree_uk_mmt4d_select_tile_func_arch finds a tile function
    (mmt4d_{x86_64,arm_64}_tiles.inl) for the f32f32f32 / s8s8s32 cases."""
    f = target.features
    if target.arch == "x86_64":
        if typ == MMT4D_TYPE_F32F32F32:
            return k0 == 1 and ((n0 == 8 and m0 in (1, 2, 4, 8) and "avx2_fma" in f) or
                                (n0 == 16 and m0 in (1, 2, 4, 8, 16) and "avx512_base" in f))
        if typ == MMT4D_TYPE_S8S8S32:
            return k0 == 2 and ((n0 == 8 and m0 in (1, 2, 4, 8) and "avx2_fma" in f) or
                                (n0 == 16 and m0 in (1, 2, 4, 8, 16) and "avx512_base" in f))
    elif target.arch == "arm_64":
        if typ == MMT4D_TYPE_F32F32F32:
            return k0 == 1 and n0 == 8 and m0 in (1, 2, 4, 8)
        if typ == MMT4D_TYPE_S8S8S32:
            return n0 == 8 and m0 in (1, 2, 4, 8) and (
                k0 == 1 or (k0 == 4 and "dotprod" in f) or (k0 == 8 and "i8mm" in f))
    return False


def _matmul_tile_sizes(target: Target, op: int) -> tuple:
    """(M, K, N) of iree_uk_query_matmul_tile_sizes_{arch,generic}."""
    f = target.features
    if target.arch == "x86_64":
        if op == QTS_OP_MATMUL_F32F32F32:
            if "avx512_base" in f:
                return 16, 1, 16
            return (8, 1, 8) if "avx2_fma" in f else (8, 1, 4)
        if op == QTS_OP_MATMUL_I8I8I32:
            if "avx512_vnni" in f:
                return 16, 2, 16
            return (8, 2, 8) if "avx2_fma" in f else (8, 2, 4)
    elif target.arch == "arm_64":
        if op == QTS_OP_MATMUL_F32F32F32:
            return 8, 1, 8
        if op == QTS_OP_MATMUL_I8I8I32:
            if "i8mm" in f:
                return 8, 8, 8
            return (8, 4, 8) if "dotprod" in f else (8, 1, 8)
    return 8, 4, 8


# --- buffer mapping (module.c) --------------------------------------------------------------

def _check_buffer(buf, name: str) -> None:
    if buf is None:
        raise VmvxError(f"INVALID_ARGUMENT: null buffer for {name}")
    if not isinstance(buf, np.ndarray) or buf.dtype != np.uint8 or buf.ndim != 1:
        raise TypeError(f"{name}: expected a 1-D numpy.uint8 buffer view, got {type(buf)!r}")
    if not buf.flags.c_contiguous:
        raise TypeError(f"{name}: buffer view must be contiguous")


def _map_2d(name: str, buf, esize: int, offset: int, stride0: int, stride1: int,
            size0: int, size1: int, rw: bool) -> tuple:
    """MAP_BUFFER_2D_{RO,RW}: raise where IREE errors; return (base byte offset of element
    (0, 0) relative to the buffer start, signed; stride0; stride1), strides in elements."""
    size0, size1, stride0, stride1 = _u64(size0), _u64(size1), _u64(stride0), _u64(stride1)
    overflow = ((size0 & _HI32) | (size1 & _HI32) | (_u64(stride0 + 1) & _HI32) |
                (_u64(stride1 + 1) & _HI32))
    last_index = _u64((size0 - 1) * stride0 + (size1 - 1) * stride1)
    length = _u64((last_index + 1) * esize)
    offset_bytes = _u64(esize * _u64(offset))
    if overflow:
        raise VmvxError(f"INVALID_ARGUMENT: buffer overflow for {name}")
    _check_buffer(buf, name)
    if rw and not buf.flags.writeable:
        raise VmvxError(f"PERMISSION_DENIED: buffer {name} is read-only and cannot be mapped "
                        "for mutation")
    mask = _M64 & ~(esize - 1)
    offset_bytes &= mask
    length &= mask
    if _u64(offset_bytes + length) > buf.size:
        raise VmvxError(f"OUT_OF_RANGE: out-of-bounds access detected for {name} (offset="
                        f"{offset_bytes}, length={length}, alignment={esize}, buffer length="
                        f"{buf.size})")
    return _s64(offset_bytes), _s64(stride0), _s64(stride1)


def _extent(base: int, esize: int, dims) -> tuple | None:
    """Byte range [lo, hi) touched by elements at base + esize * sum(i_k * s_k), i_k < n_k;
    None if there are no elements."""
    if any(n <= 0 for n, _ in dims):
        return None
    lo = base + esize * sum(min(0, (n - 1) * s) for n, s in dims)
    hi = base + esize * sum(max(0, (n - 1) * s) for n, s in dims) + esize
    return lo, hi


def _view(name: str, buf, dtype, base: int, dims, writeable: bool = False) -> np.ndarray:
    """Strided view of the elements IREE's loops touch; raises VmvxError if any lies outside
    the buffer (IREE would access memory out of bounds: undefined behaviour)."""
    dtype = np.dtype(dtype)
    esize = dtype.itemsize
    shape = tuple(int(n) for n, _ in dims)
    ext = _extent(base, esize, dims)
    if ext is None:
        return np.zeros(shape, dtype)
    lo, hi = ext
    if lo < 0 or hi > buf.size:
        raise VmvxError(f"{name}: elements span bytes [{lo}, {hi}) outside the {buf.size}-byte "
                        "buffer (IREE's mapping check wraps around; the access would be "
                        "undefined behaviour)")
    region = buf[lo:hi].view(dtype)
    start = (base - lo) // esize
    return as_strided(region[start:], shape=shape,
                      strides=tuple(int(s) * esize for _, s in dims),
                      writeable=writeable and buf.flags.writeable)


def _self_overlaps(dims) -> bool:
    """Whether two distinct indices of a strided view address the same element."""
    dims = [(n, abs(s)) for n, s in dims if n > 1]
    if not dims:
        return False
    if any(s == 0 for _, s in dims):
        return True
    dims.sort(key=lambda d: d[1])
    span = 0
    ok = True
    for n, s in dims:
        if s <= span:
            ok = False
            break
        span += (n - 1) * s
    if ok:
        return False
    total = 1
    for n, _ in dims:
        total *= n
    if total > 1 << 24:
        return True  # conservatively: take the (exact) ordered slow path
    addr = np.zeros(1, np.int64)
    for n, s in dims:
        addr = (addr[:, None] + np.arange(n, dtype=np.int64)[None, :] * s).ravel()
    return np.unique(addr).size != addr.size


def _shares(a: np.ndarray, b: np.ndarray) -> bool:
    if a.size == 0 or b.size == 0 or not np.may_share_memory(a, b):
        return False
    try:
        return bool(np.shares_memory(a, b, max_work=100000))
    except np.exceptions.TooHardError:  # pragma: no cover - pathological strides
        return True


def _same_layout(a: np.ndarray, b: np.ndarray) -> bool:
    return (a.__array_interface__["data"][0] == b.__array_interface__["data"][0] and
            a.shape == b.shape and a.strides == b.strides and
            a.dtype.itemsize == b.dtype.itemsize)


def _elementwise(out: np.ndarray, out_dims, ins: list, fn: Callable) -> None:
    """out[i, j] = fn(*[x[i, j] for x in ins]) for i, j in row-major order (IREE's loops)."""
    if out.size == 0:
        return
    hazard = _self_overlaps(out_dims) or any(
        _shares(out, x) and not _same_layout(out, x) for x in ins)
    if not hazard:
        out[...] = fn(*[np.array(x) for x in ins])
        return
    # An output aliasing itself or an input at another element: element by element, reading
    # the current memory each time, as the C loops do.
    n0, n1 = out.shape
    for i in range(n0):
        for j in range(n1):
            out[i, j] = fn(*[x[i:i + 1, j:j + 1].copy() for x in ins])[0, 0]


def _ordered_write(out: np.ndarray, index_arrays: tuple, strides: tuple, values) -> None:
    """Writes values[k] to out[index_arrays[.][k]] in order k = 0, 1, ...: where several
    indices address the same element (a self-overlapping view) the last write wins."""
    addr = np.zeros(index_arrays[0].shape, np.int64)
    for idx, s in zip(index_arrays, strides):
        addr += idx.astype(np.int64) * s
    rev = addr[::-1]
    _, first = np.unique(rev, return_index=True)
    last = addr.size - 1 - first
    out[tuple(idx[last] for idx in index_arrays)] = values[last]


# --- f32 arithmetic under IREE's dispatch FP environment ------------------------------------

_F32 = np.float32
_U32 = np.uint32
_I32 = np.int32
_SIGN = _U32(0x80000000)


class _Fp:
    """IEEE binary32 arithmetic, optionally with denormals-are-zero inputs and flush-to-zero
    results (Target.flush_denormals / ftz_after_rounding). Arrays are float32; every function
    is elementwise with broadcasting."""

    def __init__(self, target: Target):
        self.flush = target.flush_denormals
        # |exact result| below this is "tiny": 2**-126 before rounding; after rounding to 24
        # bits, values down to 2**-126 * (1 - 2**-25) (exclusive; ties round up) reach 2**-126.
        self.tiny = 2.0 ** -126 * ((1 - 2.0 ** -25) if target.ftz_after_rounding else 1.0)

    def daz(self, x: np.ndarray) -> np.ndarray:
        if not self.flush:
            return x
        x = np.asarray(x, _F32)
        b = x.view(_U32)
        denormal = ((b & _U32(0x7FFFFFFF)) - _U32(1)) < _U32(0x007FFFFF)  # 0 wraps: excluded
        if not denormal.any():
            return x
        return np.where(denormal, b & _SIGN, b).astype(_U32).view(_F32)

    def _ftz_denormal(self, r: np.ndarray) -> np.ndarray:
        # for results whose tiny cases are exact (sums), tiny <=> denormal
        return self.daz(r)

    def _ftz(self, r: np.ndarray, exact: np.ndarray) -> np.ndarray:
        """r: the IEEE float32 result; exact: a float64 that orders like the exact result
        against the tininess threshold."""
        if not self.flush:
            return r
        rb = r.view(_U32)
        return np.where(np.abs(exact) < self.tiny, rb & _SIGN, rb).astype(_U32).view(_F32)

    def add(self, a, b):
        with np.errstate(all="ignore"):
            return self._ftz_denormal(self.daz(a) + self.daz(b))

    def sub(self, a, b):
        with np.errstate(all="ignore"):
            return self._ftz_denormal(self.daz(a) - self.daz(b))

    def mul(self, a, b):
        a, b = self.daz(a), self.daz(b)
        with np.errstate(all="ignore"):
            r = a * b
            if not self.flush:
                return r
            return self._ftz(r, a.astype(np.float64) * b.astype(np.float64))  # exact product

    def div(self, a, b):
        a, b = self.daz(a), self.daz(b)
        with np.errstate(all="ignore"):
            r = a / b
            if not self.flush:
                return r
            # a float64 quotient of binary32 operands cannot cross either threshold
            return self._ftz(r, a.astype(np.float64) / b.astype(np.float64))

    def fma(self, a, b, c):
        """Correctly rounded fma(a, b, c): the float64 product is exact; the float64 sum is
        made round-to-odd (TwoSum error term), after which rounding to float32 is correct
        (53 >= 24 + 2 bits) and tininess compares are exact."""
        a, b, c = self.daz(a), self.daz(b), self.daz(c)
        with np.errstate(all="ignore"):
            p = a.astype(np.float64) * b.astype(np.float64)
            c64 = c.astype(np.float64)
            s = p + c64
            bb = s - p
            err = (p - (s - bb)) + (c64 - bb)
            inexact = np.isfinite(s) & (err != 0) & ((s.view(np.int64) & 1) == 0)
            if inexact.any():
                s = np.where(inexact, np.nextafter(s, np.where(err > 0, np.inf, -np.inf)), s)
            r = s.astype(_F32)
            return self._ftz(r, s) if self.flush else r


class _Libm:
    """glibc's expf / logf (what IREE's runtime calls), element by element through ctypes;
    numpy's float32 exp/log can differ from them by an ulp. Under flush_denormals they run
    with the host's FTZ/DAZ bits actually set (fegetenv/fesetenv), like inside a dispatch:
    e.g. logf of a positive denormal is not -inf there but a constant of glibc's algorithm."""

    class _RawF32(ctypes.c_float):
        """restype subclass: ctypes returns the raw C float without converting it to a
        Python float (a conversion would itself be subject to DAZ)."""

    def __init__(self):
        self.fns = {}
        self.fenv = None
        path = ctypes.util.find_library("m")
        try:
            lib = ctypes.CDLL(path) if path else None
        except OSError:  # pragma: no cover
            lib = None
        if lib is None:  # pragma: no cover
            return
        for name in ("expf", "logf"):
            fn = getattr(lib, name, None)
            if fn is not None:
                fn.restype = self._RawF32
                fn.argtypes = [ctypes.c_float]
                self.fns[name] = fn
        machine = platform.machine().lower()
        layout = {"x86_64": (28, 0x8040), "amd64": (28, 0x8040),      # fenv_t.__mxcsr
                  "aarch64": (0, 0x1080000), "arm64": (0, 0x1080000)}  # fenv_t.__fpcr
        if machine in layout and hasattr(lib, "fegetenv") and hasattr(lib, "fesetenv"):
            self.fenv = (lib.fegetenv, lib.fesetenv) + layout[machine]

    def _flush_env(self):
        """(saved env, env with the flush bits set), or None if unsupported."""
        if self.fenv is None:
            return None
        get, _, off, bits = self.fenv
        saved = (ctypes.c_uint8 * 64)()
        if get(saved) != 0:  # pragma: no cover
            return None
        raw = bytearray(bytes(saved))
        word = int.from_bytes(raw[off:off + 4], "little") | bits
        raw[off:off + 4] = word.to_bytes(4, "little")
        return saved, (ctypes.c_uint8 * 64).from_buffer_copy(bytes(raw))

    def apply(self, name: str, a: np.ndarray, fp: _Fp) -> np.ndarray:
        bits = np.ascontiguousarray(a, _U32).ravel()
        uniq, inv = np.unique(bits, return_inverse=True)
        fn = self.fns.get(name)
        envs = self._flush_env() if fp.flush else None
        if fn is None:  # pragma: no cover - no C math library: numpy's (maybe 1 ulp off)
            with np.errstate(all="ignore"):
                f = np.exp if name == "expf" else np.log
                vals = fp.daz(f(fp.daz(uniq.view(_F32)))).view(_U32)
        elif fp.flush and envs is None:  # pragma: no cover - emulate DAZ in / FTZ out
            x = fp.daz(uniq.view(_F32))
            fn.restype = ctypes.c_float
            try:
                vals = fp.daz(np.array([fn(v) for v in x.tolist()], _F32)).view(_U32)
            finally:
                fn.restype = self._RawF32
        else:
            args = [ctypes.c_float.from_buffer(uniq, 4 * i) for i in range(uniq.size)]
            if envs is not None:
                setenv = self.fenv[1]
                setenv(envs[1])
                try:
                    res = [fn(x) for x in args]
                finally:
                    setenv(envs[0])
            else:
                res = [fn(x) for x in args]
            vals = np.frombuffer(b"".join(bytes(r) for r in res), _U32)
        return vals[inv.ravel()].reshape(a.shape).astype(_U32)


_LIBM = _Libm()


# --- elementwise ops (elementwise.c) --------------------------------------------------------

def _divsi(a, b):
    x = a.view(_I32).astype(np.int64)
    y = b.view(_I32).astype(np.int64)
    if (y == 0).any():
        raise VmvxError("divs.2d.i32: integer division by zero (undefined behaviour; "
                        "SIGFPE in IREE on x86-64)")
    if ((x == -(1 << 31)) & (y == -1)).any():
        raise VmvxError("divs.2d.i32: INT32_MIN / -1 overflows (undefined behaviour; "
                        "SIGFPE in IREE on x86-64)")
    q = np.abs(x) // np.abs(y)
    q = np.where((x < 0) != (y < 0), -q, q)  # C truncates toward zero
    return q.astype(_I32).view(_U32)


def _divui(a, b):
    if (b == 0).any():
        raise VmvxError("divu.2d.i32: integer division by zero (undefined behaviour; "
                        "SIGFPE in IREE on x86-64)")
    return (a // b).astype(_U32)


def _ctlz(a):
    _, e = np.frexp(a.astype(np.float64))  # a = m * 2**e, m in [0.5, 1); frexp(0) = (0, 0)
    return (32 - e).astype(_U32)


def _x32b_ops(fp: _Fp) -> dict:
    def fbin(op):
        return lambda a, b: op(a.view(_F32), b.view(_F32)).view(_U32)

    return {
        "add.2d.f32": fbin(fp.add),
        "sub.2d.f32": fbin(fp.sub),
        "mul.2d.f32": fbin(fp.mul),
        "div.2d.f32": fbin(fp.div),
        "add.2d.i32": lambda a, b: a + b,          # uint32 arithmetic wraps mod 2**32
        "sub.2d.i32": lambda a, b: a - b,
        "mul.2d.i32": lambda a, b: a * b,
        "and.2d.i32": lambda a, b: a & b,
        "or.2d.i32": lambda a, b: a | b,
        "xor.2d.i32": lambda a, b: a ^ b,
        "divs.2d.i32": _divsi,
        "divu.2d.i32": _divui,
        # C `<<`/`>>` by >= 32 (or < 0) is undefined; IREE's builds use the hardware shift,
        # which takes the amount mod 32 (checked against iree.runtime 3.13 on x86-64).
        "shl.2d.i32": lambda a, b: a << (b & _U32(31)),
        "shru.2d.i32": lambda a, b: a >> (b & _U32(31)),
        "shrs.2d.i32": lambda a, b: (a.view(_I32) >> (b & _U32(31)).astype(_I32)).view(_U32),
    }


def _x32u_ops(fp: _Fp) -> dict:
    def fun(op):
        def f(a):
            with np.errstate(all="ignore"):
                return op(fp.daz(a.view(_F32))).view(_U32)
        return f

    def rsqrt(x):  # 1.0f / sqrtf(x): neither step can produce a denormal from a normal input
        return _F32(1.0) / np.sqrt(x)

    return {
        "abs.2d.f32": lambda a: a & _U32(0x7FFFFFFF),   # fabsf: clears the sign bit (any input)
        "neg.2d.f32": lambda a: a ^ _SIGN,              # -x: flips the sign bit (any input)
        "ceil.2d.f32": fun(np.ceil),
        "floor.2d.f32": fun(np.floor),
        "ctlz.2d.i32": _ctlz,                           # ctlz(0) = 32
        "exp.2d.f32": lambda a: _LIBM.apply("expf", a, fp),
        "log.2d.f32": lambda a: _LIBM.apply("logf", a, fp),
        "rsqrt.2d.f32": fun(rsqrt),
    }


def _make_x32b(name: str, fn: Callable) -> Callable:

    def x32b(lhs, lhs_offset, lhs_stride0, lhs_stride1, rhs, rhs_offset, rhs_stride0,
             rhs_stride1, out, out_offset, out_stride0, out_stride1, size0, size1):
        lb, ls0, ls1 = _map_2d("lhs", lhs, 4, lhs_offset, lhs_stride0, lhs_stride1, size0,
                               size1, False)
        rb, rs0, rs1 = _map_2d("rhs", rhs, 4, rhs_offset, rhs_stride0, rhs_stride1, size0,
                               size1, False)
        ob, os0, os1 = _map_2d("out", out, 4, out_offset, out_stride0, out_stride1, size0,
                               size1, True)
        n0, n1 = _u64(size0), _u64(size1)
        lv = _view("lhs", lhs, _U32, lb, [(n0, ls0), (n1, ls1)])
        rv = _view("rhs", rhs, _U32, rb, [(n0, rs0), (n1, rs1)])
        odims = [(n0, os0), (n1, os1)]
        ov = _view("out", out, _U32, ob, odims, writeable=True)
        _elementwise(ov, odims, [lv, rv], fn)

    x32b.__name__ = "vmvx_" + name.replace(".", "_")
    x32b.__doc__ = (f"vmvx.{name}: out[i, j] = lhs[i, j] {name.split('.')[0]} rhs[i, j] on "
                    "32-bit elements, i < size0, j < size1; element (i, j) of X is at element "
                    "X_offset + i*X_stride0 + j*X_stride1 of buffer X. Writes `out`.")
    return x32b


def _make_x32u(name: str, fn: Callable) -> Callable:

    def x32u(in_, in_offset, in_stride0, in_stride1, out, out_offset, out_stride0,
             out_stride1, size0, size1):
        ib, is0, is1 = _map_2d("in", in_, 4, in_offset, in_stride0, in_stride1, size0, size1,
                               False)
        ob, os0, os1 = _map_2d("out", out, 4, out_offset, out_stride0, out_stride1, size0,
                               size1, True)
        n0, n1 = _u64(size0), _u64(size1)
        iv = _view("in", in_, _U32, ib, [(n0, is0), (n1, is1)])
        odims = [(n0, os0), (n1, os1)]
        ov = _view("out", out, _U32, ob, odims, writeable=True)
        _elementwise(ov, odims, [iv], fn)

    x32u.__name__ = "vmvx_" + name.replace(".", "_")
    x32u.__doc__ = (f"vmvx.{name}: out[i, j] = {name.split('.')[0]}(in[i, j]) on 32-bit "
                    "elements; element (i, j) of X is at element X_offset + i*X_stride0 + "
                    "j*X_stride1 of buffer X. Writes `out`.")
    return x32u


def _make_copy(name: str, dtype) -> Callable:
    esize = np.dtype(dtype).itemsize

    def copy2d(in_, in_offset, in_stride0, in_stride1, out, out_offset, out_stride0,
               out_stride1, size0, size1):
        ib, is0, is1 = _map_2d("in", in_, esize, in_offset, in_stride0, in_stride1, size0,
                               size1, False)
        ob, os0, os1 = _map_2d("out", out, esize, out_offset, out_stride0, out_stride1, size0,
                               size1, True)
        n0, n1 = _u64(size0), _u64(size1)
        iv = _view("in", in_, dtype, ib, [(n0, is0), (n1, is1)])
        odims = [(n0, os0), (n1, os1)]
        ov = _view("out", out, dtype, ob, odims, writeable=True)
        _elementwise(ov, odims, [iv], lambda a: a)

    copy2d.__name__ = "vmvx_" + name.replace(".", "_")
    copy2d.__doc__ = (f"vmvx.{name}: out[i, j] = in[i, j] for {8 * esize}-bit elements, "
                      "element (i, j) of X at element X_offset + i*X_stride0 + j*X_stride1. "
                      "Overlapping in/out regions copy in row-major element order, like "
                      "module.c's loop. Writes `out`.")
    return copy2d


def fill_2d_x32(fill_value, out, out_offset, out_row_stride, size0, size1):
    """vmvx.fill.2d.x32: out[i, j] = fill_value (i32 bits) for i < size0, j < size1; element
    (i, j) at element out_offset + i*out_row_stride + j. Writes `out`."""
    ob, os0, _ = _map_2d("out", out, 4, out_offset, out_row_stride, 1, size0, size1, True)
    ov = _view("out", out, _U32, ob, [(_u64(size0), os0), (_u64(size1), 1)], writeable=True)
    if ov.size:
        ov[...] = _U32(fill_value & 0xFFFFFFFF)


# --- mmt4d (mmt4d.c, mmt4d_tile_generic.c, arch tiles) --------------------------------------

def _mmt4d_tiles(L: np.ndarray, R: np.ndarray, acc, typ: int, fused: bool,
                 fp: _Fp) -> np.ndarray:
    """Tiles out[a, b] (M0 x N0) = acc[a, b] + sum_{k, k0} L[a, k, :, k0] (x) R[b, k, :, k0]
    for L: (A, K, M0, K0), R: (B, K, N0, K0); acc None means 0."""
    A, K, M0, K0 = L.shape
    B, _, N0, _ = R.shape
    if typ == MMT4D_TYPE_S8S8S32:
        # Integer sums are order independent (mod 2**32); every partial sum is an integer
        # below 2**46, so a float64 matmul is exact.
        Lm = L.transpose(0, 2, 1, 3).reshape(A * M0, K * K0).astype(np.float64)
        Rm = R.transpose(0, 2, 1, 3).reshape(B * N0, K * K0).astype(np.float64)
        prod = (Lm @ Rm.T).astype(np.int64).reshape(A, M0, B, N0).transpose(0, 2, 1, 3)
        if acc is not None:
            prod = prod + acc.astype(np.int64)
        return (prod & 0xFFFFFFFF).astype(np.uint32).view(np.int32)
    out = (np.zeros((A, B, M0, N0), np.float32) if acc is None
           else np.array(acc, np.float32))
    Lf = np.asarray(L, np.float32)
    Rf = np.asarray(R, np.float32)
    with np.errstate(all="ignore"):
        for k in range(K):          # the tile functions' reduction order: k, then k0
            for k0 in range(K0):
                a = Lf[:, k, :, k0][:, None, :, None]
                b = Rf[:, k, :, k0][None, :, None, :]
                out = fp.fma(a, b, out) if fused else fp.add(out, fp.mul(a, b))
    return out


def _native_mmt4d(L: np.ndarray, R: np.ndarray, O: np.ndarray, accumulate: bool,
                  target: Target) -> bool:
    """Runs f32 tiles with fused multiply-adds natively (intrinsics/native_mmt4d.py) when
    the layout is IREE's dense one and this CPU has a tile loop for (M0, N0); False if not.
    Same result bits as `_mmt4d_tiles(..., fused=True)`: one fma per k per element, in order."""
    A, K, M0, _ = L.shape
    B, _, N0, _ = R.shape
    if (L.dtype != np.float32 or target.arch != "x86_64" or
            L.strides[1:] != (4 * M0, 4, 4) or R.strides[1:] != (4 * N0, 4, 4) or
            O.strides[1:] != (4 * M0 * N0, 4 * N0, 4)):
        return False
    from .native_mmt4d import Mmt4dParams, mmt4d_f32_function
    fn = mmt4d_f32_function(M0, N0)
    if fn is None:
        return False
    params = Mmt4dParams(O.ctypes.data, O.strides[0], L.ctypes.data, L.strides[0],
                         R.ctypes.data, R.strides[0], A, B, K, int(accumulate),
                         int(target.flush_denormals))
    fn(ctypes.addressof(params))
    return True


def _make_mmt4d(target: Target) -> Callable:
    fp = _Fp(target)

    def mmt4d(lhs, lhs_offset, lhs_row_stride, rhs, rhs_offset, rhs_row_stride, out,
              out_offset, out_row_stride, m, n, k, m0, n0, k0, flags):
        """vmvx.mmt4d: out[i, j] (an M0 x N0 tile) (+)= sum_k lhs[i, k] (M0 x K0) *
        rhs[j, k]^T (N0 x K0), i < m, j < n. Row i of lhs starts at element lhs_offset +
        i*lhs_row_stride and holds k tiles of M0*K0 contiguous elements (rhs alike with N0;
        out: row i at out_offset + i*out_row_stride, n tiles of M0*N0). flags: type
        (0x01 f32*f32->f32, 0x02 s8*s8->s32; others are INVALID_ARGUMENT in vmvx), 0x100
        accumulate, 0x200 allow the generic tile function. f32 rounding follows the tile
        function IREE selects for the target (fused multiply-add in the architecture-specific
        ones). Writes `out`."""
        flags &= 0xFFFFFFFF
        typ = flags & MMT4D_TYPE_MASK
        if typ == MMT4D_TYPE_F32F32F32:
            in_dtype, out_dtype = np.float32, np.float32
        elif typ == MMT4D_TYPE_S8S8S32:
            in_dtype, out_dtype = np.int8, np.int32
        else:
            raise VmvxError("INVALID_ARGUMENT: mmt4d: unhandled flags")
        in_es, out_es = np.dtype(in_dtype).itemsize, np.dtype(out_dtype).itemsize
        M, N, K = _u64(m), _u64(n), _u64(k)
        M0, N0, K0 = _u64(m0), _u64(n0), _u64(k0)  # int32 sign-extended to size_t
        lb, ls0, _ = _map_2d("lhs", lhs, in_es, lhs_offset, lhs_row_stride, 1, M,
                             _u64(K * M0 * K0), False)
        rb, rs0, _ = _map_2d("rhs", rhs, in_es, rhs_offset, rhs_row_stride, 1, N,
                             _u64(K * N0 * K0), False)
        ob, os0, _ = _map_2d("out", out, out_es, out_offset, out_row_stride, 1, M,
                             _u64(N * M0 * N0), True)
        accumulate = bool(flags & MMT4D_ACCUMULATE)
        if M == 0 or N == 0 or (K == 0 and accumulate):
            return  # iree_uk_mmt4d_early
        Ks = _s64(K)
        if not (M < 1 << 31 and N < 1 << 31 and Ks < 1 << 31 and
                all(0 <= _s64(v) < 1 << 15 for v in (M0, N0, K0))):
            raise VmvxError("mmt4d: M, N, K must be in [0, 2**31) and M0, N0, K0 in "
                            "[0, 2**15) (only asserted in IREE debug builds; undefined in "
                            "release)")
        arch = _mmt4d_arch_tile(target, typ, M0, N0, K0)
        if not arch and not flags & MMT4D_ALLOW_GENERIC_FALLBACK:
            raise VmvxError("mmt4d: no architecture-specific tile function for this tile "
                            "shape and the generic fallback is not allowed (IREE would call "
                            "a null tile function)")
        fused = typ == MMT4D_TYPE_F32F32F32 and (arch or target.generic_f32_fma)
        Keff = max(Ks, 0)
        L = _view("lhs", lhs, in_dtype, lb, [(M, ls0), (Keff, M0 * K0), (M0, K0), (K0, 1)])
        R = _view("rhs", rhs, in_dtype, rb, [(N, rs0), (Keff, N0 * K0), (N0, K0), (K0, 1)])
        odims = [(M, os0), (N, M0 * N0), (M0, N0), (N0, 1)]
        O = _view("out", out, out_dtype, ob, odims, writeable=True)
        if O.size == 0:
            return
        if not (_self_overlaps(odims) or _shares(O, L) or _shares(O, R)):
            if not (fused and K0 == 1 and _native_mmt4d(L, R, O, accumulate, target)):
                O[...] = _mmt4d_tiles(L, R, O if accumulate else None, typ, fused, fp)
            return
        # Overlapping tiles: one tile at a time in IREE's (i, j) order, each reading the
        # current memory.
        for i in range(M):
            for j in range(N):
                tile = O[i:i + 1, j:j + 1]
                res = _mmt4d_tiles(np.array(L[i:i + 1]), np.array(R[j:j + 1]),
                                   np.array(tile) if accumulate else None, typ, fused, fp)
                O[i, j] = res[0, 0]

    return mmt4d


# --- pack / unpack (pack.c, unpack.c) -------------------------------------------------------

def _ceil_log2_u32(n: int) -> int:
    n &= 0xFFFFFFFF
    return 0 if n <= 1 else (n - 1).bit_length()


def _tmp_path_hangs(tile0: int, tile1: int, esize: int, full_rows: int, dim1_full: int,
                    outer0: int, outer1: int, whole_stride_is_1: bool) -> bool:
    """pack.c/unpack.c chunk partial tiles through a 4096-byte buffer; a tile larger than
    that gives max_tiles_in_tmp_buf = 0 and the chunk loop never advances (release builds;
    debug builds assert)."""
    if (4096 >> min(_ceil_log2_u32(tile0 * tile1 * esize), 63)) > 0:
        return False
    uses_tmp = (full_rows > 0 and ((not whole_stride_is_1 and dim1_full > 0) or
                                   dim1_full < outer1)) or (full_rows < outer0 and outer1 > 0)
    return uses_tmp


def _check_tiling(op: str, flags: int, tiled, plain, es: int, stride1_is_1: bool,
                  uncovered: str, tmp_buffer: str) -> tuple[int, int, int, int]:
    """(outer0, outer1, tile0, tile1) of a pack / unpack, oriented by its transpose flags;
    raises where IREE's release build would write or read past a buffer or hang. `tiled`:
    the 4-D sizes (outer0, outer1, tile0, tile1 before transposes), `plain`: the 2-D ones."""
    outer0, outer1, tile0, tile1 = tiled
    if flags & TRANSPOSE_OUTER:
        outer0, outer1 = outer1, outer0
    if flags & TRANSPOSE_INNER:
        tile0, tile1 = tile1, tile0
    if outer0 * tile0 < plain[0] or outer1 * tile1 < plain[1]:
        raise VmvxError(f"{op}: {uncovered}")
    full_rows = plain[0] // tile0
    dim1_full = plain[1] >> _ceil_log2_u32(tile1)
    if _tmp_path_hangs(tile0, tile1, es, full_rows, dim1_full, outer0, outer1, stride1_is_1):
        raise VmvxError(f"{op}: tile larger than {tmp_buffer} (IREE loops forever; debug "
                        f"builds assert)")
    return outer0, outer1, tile0, tile1


def pack(in_, in_offset, in_stride0, in_stride1, out, out_offset, out_stride0, out_stride1,
         in_size0, in_size1, out_size0, out_size1, out_size2, out_size3, padding_value, flags):
    """vmvx.pack: tiles the in_size0 x in_size1 matrix `in` (element (i, j) at element
    in_offset + i*in_stride0 + j*in_stride1) into out[o0][o1][t0][t1] (out_size0..3; element
    at out_offset + o0*out_stride0 + o1*out_size2*out_size3 + t0*out_size3 + t1; out_stride1 is
    ignored, as in IREE), padding with the low bytes of padding_value. flags: type (0x01 f32,
    0x02 i8, 0x03 i32; others INVALID_ARGUMENT), 0x100 transpose inner (tile dims swapped),
    0x200 transpose outer. Writes `out`. Raises if out_sizeX * tile_sizeX < in_sizeX (only a
    debug assert in IREE; release writes past the output) or a padded tile exceeds pack.c's
    4096-byte buffer when it is needed (IREE hangs)."""
    flags &= 0xFFFFFFFF
    typ = flags & 0xFF
    if typ in (PACK_TYPE_F32F32, PACK_TYPE_I32I32):
        dtype = np.uint32
    elif typ == PACK_TYPE_I8I8:
        dtype = np.uint8
    else:
        raise VmvxError("INVALID_ARGUMENT: pack: unhandled flags")
    es = np.dtype(dtype).itemsize
    out_tile_size = _u64(out_size2 * out_size3)
    ib, is0, is1 = _map_2d("in", in_, es, in_offset, in_stride0, in_stride1, in_size0,
                           in_size1, False)
    ob, os0, _ = _map_2d("out", out, es, out_offset, out_stride0, 1, out_size0,
                         _u64(out_size1 * out_tile_size), True)
    if 0 in (out_size0, out_size1, out_size2, out_size3):
        return  # iree_uk_pack_early
    if min(in_size0, in_size1, out_size0, out_size1, out_size2, out_size3) < 0:
        raise VmvxError("pack: negative size (only asserted in IREE debug builds)")
    outer0, outer1, tile0, tile1 = _check_tiling(
        "pack", flags, (out_size0, out_size1, out_size2, out_size3), (in_size0, in_size1),
        es, is1 == 1, "the output tiles do not cover the input (only asserted in IREE debug "
        "builds; release builds write past the output)", "pack.c's 4096-byte padding buffer")
    src = _view("in", in_, dtype, ib, [(in_size0, is0), (in_size1, is1)])
    odims = [(out_size0, os0), (out_size1, out_size2 * out_size3), (out_size2, out_size3),
             (out_size3, 1)]
    ov = _view("out", out, dtype, ob, odims, writeable=True)
    padded = np.full((outer0 * tile0, outer1 * tile1),
                     padding_value & ((1 << (8 * es)) - 1), dtype)
    padded[:in_size0, :in_size1] = src
    tiles = padded.reshape(outer0, tile0, outer1, tile1).transpose(0, 2, 1, 3)
    if flags & TRANSPOSE_INNER:
        tiles = tiles.swapaxes(2, 3)
    if flags & TRANSPOSE_OUTER:
        tiles = tiles.swapaxes(0, 1)
    if not _self_overlaps(odims):
        ov[...] = tiles
        return
    # Overlapping output tiles: IREE writes whole tiles in logical (row, column) order.
    for lo0 in range(outer0):
        for lo1 in range(outer1):
            a, b = (lo1, lo0) if flags & TRANSPOSE_OUTER else (lo0, lo1)
            ov[a, b] = tiles[a, b]


def unpack(in_, in_offset, in_stride0, in_stride1, out, out_offset, out_stride0, out_stride1,
           in_size0, in_size1, in_size2, in_size3, out_size0, out_size1, flags):
    """vmvx.unpack: inverse of pack: out (out_size0 x out_size1, element (i, j) at element
    out_offset + i*out_stride0 + j*out_stride1) = the untiled in[o0][o1][t0][t1] (element at
    in_offset + o0*in_stride0 + o1*in_size2*in_size3 + t0*in_size3 + t1; in_stride1 is ignored,
    as in IREE), cropped. flags: type (0x01 f32, 0x03 i32; others INVALID_ARGUMENT), 0x100
    transpose inner, 0x200 transpose outer. Writes `out`. Raises if the tiles do not cover the
    output (only a debug assert in IREE) or a tile exceeds unpack.c's 4096-byte buffer when it
    is needed (IREE hangs)."""
    flags &= 0xFFFFFFFF
    typ = flags & 0xFF
    if typ in (UNPACK_TYPE_F32F32, UNPACK_TYPE_I32I32):
        dtype = np.uint32
    else:
        raise VmvxError("INVALID_ARGUMENT: unpack: unhandled flags")
    es = 4
    tile = _u64(in_size2 * in_size3)
    ib, is0, _ = _map_2d("in", in_, es, in_offset, in_stride0, 1, in_size0,
                         _u64(in_size1 * tile), False)
    ob, os0, os1 = _map_2d("out", out, es, out_offset, out_stride0, out_stride1, out_size0,
                           out_size1, True)
    if out_size0 == 0 or out_size1 == 0:
        return  # iree_uk_unpack_early
    if min(in_size0, in_size1, in_size2, in_size3, out_size0, out_size1) < 0:
        raise VmvxError("unpack: negative size (only asserted in IREE debug builds)")
    outer0, outer1, tile0, tile1 = _check_tiling(
        "unpack", flags, (in_size0, in_size1, in_size2, in_size3), (out_size0, out_size1),
        es, os1 == 1, "the input tiles do not cover the output (only asserted in IREE debug "
        "builds; release builds read past the input)", "unpack.c's 4096-byte buffer")
    full_rows = out_size0 // tile0                       # whole tile rows, as unpack.c
    dim1_full = out_size1 >> _ceil_log2_u32(tile1)
    tiles = _view("in", in_, dtype, ib, [(in_size0, is0), (in_size1, in_size2 * in_size3),
                                         (in_size2, in_size3), (in_size3, 1)])
    odims = [(out_size0, os0), (out_size1, os1)]
    ov = _view("out", out, dtype, ob, odims, writeable=True)
    x = np.array(tiles)  # every input tile is read (unpack.c reads whole tiles)
    if flags & TRANSPOSE_OUTER:
        x = x.swapaxes(0, 1)
    if flags & TRANSPOSE_INNER:
        x = x.swapaxes(2, 3)
    full = x.transpose(0, 2, 1, 3).reshape(outer0 * tile0, outer1 * tile1)
    vals = full[:out_size0, :out_size1]
    if not _self_overlaps(odims):
        ov[...] = vals
        return
    # Self-overlapping output: replay unpack.c's write order, the last write wins.
    max_tiles = 4096 >> _ceil_log2_u32(tile0 * tile1 * es)
    rows, cols = [], []

    def row(start, end, dim0_write, whole, i0):
        if whole and os1 == 1:
            for o1 in range(start, end):
                t = np.arange(tile0)[:, None]
                c = o1 * tile1 + np.arange(tile1)[None, :]
                rows.append(np.broadcast_to(i0 + t, (tile0, tile1)).ravel())
                cols.append(np.broadcast_to(c, (tile0, tile1)).ravel())
            return
        d1 = start
        while d1 < end:
            chunk = min(max(end - d1, 0), max_tiles)
            width = chunk * tile1
            pos = d1 * tile1
            wsize = min(max(out_size1 - pos, 0), width)
            for r in range(dim0_write):
                rows.append(np.full(wsize, i0 + r))
                cols.append(pos + np.arange(wsize))
            d1 += chunk

    i0 = 0
    for _ in range(full_rows):
        row(0, dim1_full, tile0, True, i0)
        row(dim1_full, outer1, tile0, False, i0)
        i0 += tile0
    while i0 < outer0 * tile0:
        row(0, outer1, min(max(out_size0 - i0, 0), tile0), False, i0)
        i0 += tile0
    ri = np.concatenate(rows).astype(np.int64)
    ci = np.concatenate(cols).astype(np.int64)
    _ordered_write(ov, (ri, ci), (os0, os1), vals[ri, ci])


# --- query_tile_sizes -----------------------------------------------------------------------

def _make_query(target: Target) -> Callable:
    def query_tile_sizes_2d(size0, size1, flags):
        """vmvx.query_tile_sizes.2d: (tile_size0, tile_size1) for a matmul operand. flags:
        role (0x01 lhs -> (M0, K0), 0x02 rhs -> (N0, K0), 0x03 result -> (M0, N0)) | operation
        (0x0100 f32, 0x0200 i8, 0x0300..0x0600 f16/bf16 variants). size0/size1 are unused.
        Other flags raise (IREE returns uninitialised values)."""
        flags &= 0xFFFFFFFF
        op, role = flags & 0xFF00, flags & 0xFF
        if op not in _QTS_MATMUL_OPS or role not in (QTS_ROLE_LHS, QTS_ROLE_RHS,
                                                     QTS_ROLE_RESULT):
            raise VmvxError(f"query_tile_sizes.2d: unsupported flags {flags:#x} (IREE leaves "
                            "its results uninitialised)")
        m, k, n = _matmul_tile_sizes(target, op)
        return {QTS_ROLE_LHS: (m, k), QTS_ROLE_RHS: (n, k), QTS_ROLE_RESULT: (m, n)}[role]

    query_tile_sizes_2d.pure = True  # kernels' calls with constant operands fold (constant_folding)
    return query_tile_sizes_2d


# --- provider -------------------------------------------------------------------------------

def provider(target: Target | None = None) -> dict:
    """{export name without "vmvx.": callable} for every export of IREE 3.13's vmvx module."""
    target = host_target() if target is None else target
    fp = _Fp(target)
    fns = {}
    for name, fn in _x32b_ops(fp).items():
        fns[name] = _make_x32b(name, fn)
    for name, fn in _x32u_ops(fp).items():
        fns[name] = _make_x32u(name, fn)
    for name, dtype in (("copy.2d.x8", np.uint8), ("copy.2d.x16", np.uint16),
                        ("copy.2d.x32", np.uint32), ("copy.2d.x64", np.uint64)):
        fns[name] = _make_copy(name, dtype)
    fns["fill.2d.x32"] = fill_2d_x32
    fns["mmt4d"] = _make_mmt4d(target)
    fns["pack"] = pack
    fns["unpack"] = unpack
    fns["query_tile_sizes.2d"] = _make_query(target)
    assert set(fns) == set(CCONV)
    return fns
