"""Running AArch64 code from `emit_a64` under Unicorn on any host.

Contract: `A64Backend(loaded, compiled, fuel=..., imports=...)` maps a `CompiledModule`'s code
into a Unicorn AArch64 guest together with a guest copy of everything the native ABI
(`runtime/abi.py`) points at: the Context, globals, ref globals, rodata descriptors and
bytes, the helper and import tables. `call(ordinal, args, signature)` runs one function and
returns `(status, results, trap)`; buffers passed in are copied into guest memory and their
contents copied back after the call (so the VM's writes show in the caller's arrays, as the
zero-copy native backend shows them), Python lists become guest `!vm.list`s and are synced
back the same way.

Code outside the module is served by the host through "host calls": every external symbol
(`HOST_SYMBOLS`: libm functions, memmove/memcmp, the `abi.HELPERS`) and every import has an
8-byte stub `brk #id; ret` in the host-call page. The generated code `blr`s to a stub
(libm/libc through `host_symbol_address`, baked in at compile time; helpers and imports
through the Context tables, as on x86); the BRK traps into `_on_brk`, which computes the
result with the host's libm (the library the x86 backend calls, so results are bit-identical)
or runs the helper on guest memory, writes x0 / v0 and resumes at x30.

Memory: a bump heap above HEAP_BASE holds argument buffers, buffers and lists the code
allocates, and the args/results buffers. After each call everything above the highest
allocation still reachable from a ref global is released (unmapped or re-zeroed), so the
heap invariant "memory above the top is zero or unmapped" holds and allocations need no
clearing. Allocations follow `runtime/helpers.py`: zero-filled, at most MAX_ALLOCATION bytes,
lists at most MAX_LIST_CAPACITY elements (larger requests make the helper fail, TRAP_HELPER).
"""
from __future__ import annotations

import ctypes
import ctypes.util
import mmap
import struct
from collections import Counter

import numpy as np
from unicorn import (UC_ARCH_ARM64, UC_HOOK_CODE, UC_HOOK_INTR, UC_MODE_ARM, UC_PROT_ALL, Uc,
                     UcError)
from unicorn.arm64_const import UC_ARM64_REG_FPCR
from unicorn.arm64_const import (UC_ARM64_REG_D0, UC_ARM64_REG_D1, UC_ARM64_REG_PC,
                                 UC_ARM64_REG_SP, UC_ARM64_REG_X0, UC_ARM64_REG_X1,
                                 UC_ARM64_REG_X2, UC_ARM64_REG_X3, UC_ARM64_REG_X4,
                                 UC_ARM64_REG_X30)

from ..emit_a64.ops_float import LIBM_SYMBOLS, MATH
from ..errors import LinkError, UnsupportedError
from . import abi, lists
from .helpers import MAX_ALLOCATION, buffer_hash
from .objects import HostObject, VmBuffer
from .values import _check_scalar

# ---------------------------------------------------------------- guest address space
HOSTCALL_BASE = 0x1000_0000      # host-call stubs, 8 bytes each
SENTINEL = HOSTCALL_BASE + 0xF000  # x30 on entry: returning here ends the call
CODE_BASE = 0x2000_0000
DATA_BASE = 0x3000_0000          # Context, tables, globals, rodata
STACK_TOP = 0x8000_0000
FPCR_FZ = 1 << 24                # flush denormal inputs and results to zero
HEAP_BASE = 0x1_0000_0000
GRANULE = 0x1_0000
TCG_BUFFER_BYTES = 64 << 20  # Unicorn translation cache per engine
MIN_CHUNK = 0x10_0000

#: External symbols the generated code may call, by host-call id (index).
HOST_SYMBOLS = LIBM_SYMBOLS + ("memmove", "memcmp") + abi.HELPERS
#: Host-call id of import 0 (imports take consecutive ids).
IMPORT_ID_BASE = 0x400
BRK_INTNO = 7  # QEMU's EXCP_BKPT

_F32 = frozenset(MATH.values())
_BINARY = frozenset({"atan2f", "powf", "remainderf", "atan2", "pow", "remainder"})
_libm = ctypes.CDLL(ctypes.util.find_library("m"))


def host_symbol_address(name: str) -> int:
    """The guest address of external symbol `name` (an `emit_a64.lower` resolver)."""
    try:
        return HOSTCALL_BASE + 8 * HOST_SYMBOLS.index(name)
    except ValueError:
        raise UnsupportedError(f"no host call for symbol {name!r}") from None


def _libm_fn(name: str):
    ct = ctypes.c_float if name in _F32 else ctypes.c_double
    fn = getattr(_libm, name)
    fn.restype = ct
    fn.argtypes = (ct, ct) if name in _BINARY else (ct,)
    return fn


def _align(n: int, a: int) -> int:
    return (n + a - 1) // a * a


def _f32_from_bits(b: int) -> float:
    return struct.unpack("<f", struct.pack("<I", b & 0xFFFFFFFF))[0]


def _f64_from_bits(b: int) -> float:
    return struct.unpack("<d", struct.pack("<Q", b & (2**64 - 1)))[0]


def _sext(v: int, bits: int) -> int:
    v &= (1 << bits) - 1
    return v - (1 << bits) if v >> (bits - 1) else v


_PACK = {"i32": "<i", "i64": "<q", "f32": "<f", "f64": "<d"}
_ARG_REGS = (UC_ARM64_REG_X0, UC_ARM64_REG_X1, UC_ARM64_REG_X2, UC_ARM64_REG_X3, UC_ARM64_REG_X4)
#: Integer arguments each non-libm host symbol takes (Context* included for helpers).
_ARG_COUNT = {"memmove": 3, "memcmp": 3, "buffer_alloc": 3, "buffer_clone": 5, "list_alloc": 4,
              "list_reserve": 3, "list_resize": 3, "buffer_hash": 3}


class _Regs:
    """Fast 64-bit register access through the Unicorn C API (the Python wrapper's
    per-call overhead dominates host calls)."""

    def __init__(self, uc):
        from unicorn.unicorn_py3 import unicorn as _uc
        self._lib, self._uch = _uc.uclib, uc._uch
        self._cell = ctypes.c_uint64()
        self._ref = ctypes.byref(self._cell)

    def __getitem__(self, reg: int) -> int:
        self._lib.uc_reg_read(self._uch, reg, self._ref)
        return self._cell.value

    def __setitem__(self, reg: int, value: int) -> None:
        self._cell.value = value & (2**64 - 1)
        self._lib.uc_reg_write(self._uch, reg, self._ref)


class GuestError(RuntimeError):
    """The guest faulted (an emulator error, not a VM trap): a backend bug."""


# ---------------------------------------------------------------- the backend
class A64Backend:
    """One module's code, data and heap in one Unicorn AArch64 guest."""

    def __init__(self, loaded, compiled, *, fuel=None, imports=None):
        """`fuel`: the per-call budget (int) for code compiled with fuel checks (True means
        2**62), None for code compiled without. `imports`: imported module name -> another
        A64Backend, or a mapping of function name -> Python callable (as JitModule's)."""
        self.loaded, self.compiled, self.defn = loaded, compiled, loaded.defn
        self.fuel = None if fuel is None or fuel is False else (1 << 62 if fuel is True else int(fuel))
        self.uc = Uc(UC_ARCH_ARM64, UC_MODE_ARM)
        # Unicorn reserves 1 GiB of address space per engine for translated code by default
        # (and calls exit(1) when it cannot): a few engines awaiting collection under an
        # address-space limit would end the process. Ours need a few MiB.
        self.uc.ctl_set_tcg_buffer_size(TCG_BUFFER_BYTES)
        self.regs = _Regs(self.uc)
        self._libm = {n: _libm_fn(n) for n in LIBM_SYMBOLS}
        self._error: BaseException | None = None
        self.import_errors: list[BaseException] = []
        self.host_calls = 0
        self.flush_denormals = False  # set around HAL dispatches: run with FPCR.FZ
        self._decoders: dict[int, abi.ArgsDecoder] = {}  # import ordinal -> args decoder
        self._map_code()
        self._build_data()
        self._link_imports(imports or {})
        frame = max((f.frame.size for f in compiled.functions.values()), default=0) + 16
        self.stack_size = _align(abi.MAX_DEPTH * frame + 0x10000, MIN_CHUNK)
        self.uc.mem_map(STACK_TOP - self.stack_size, self.stack_size)
        self._heap_top = HEAP_BASE
        self._chunks: list[_Chunk] = []
        self._allocs: dict[int, int] = {}  # heap allocation start -> size
        self._lists: set[int] = set()      # guest ListDesc addresses
        # HostObjects (HAL buffers, views, ...) the guest holds: guest descriptor <-> object.
        # A VmBuffer's bytes are copied in; `_sync_out` / `_sync_in` keep both sides equal
        # whenever control crosses between guest code and Python.
        self._mirrors: dict[int, HostObject] = {}
        self._mirror_of: dict[int, int] = {}  # id(object) -> guest descriptor
        self.uc.hook_add(UC_HOOK_INTR, self._on_intr)

    # ------------------------------------------------------------------ setup
    def _map_code(self) -> None:
        stubs = bytearray()
        for i in range(IMPORT_ID_BASE + len(self.defn.imports)):
            stubs += struct.pack("<II", 0xD4200000 | (i & 0xFFFF) << 5, 0xD65F03C0)  # brk; ret
        self.uc.mem_map(HOSTCALL_BASE, _align(max(len(stubs), SENTINEL - HOSTCALL_BASE + 16), GRANULE))
        self.uc.mem_write(HOSTCALL_BASE, bytes(stubs))
        code = self.compiled.code
        self.uc.mem_map(CODE_BASE, _align(max(len(code), 1), GRANULE))
        self.uc.mem_write(CODE_BASE, code)

    def _build_data(self) -> None:
        d = self.defn
        layout, pos = {}, 0

        def place(name, size, alignment=16):
            nonlocal pos
            pos = _align(pos, alignment)
            layout[name] = DATA_BASE + pos
            pos += max(size, 8)

        place("ctx", ctypes.sizeof(abi.Context))
        place("helpers", 8 * len(abi.HELPERS))
        place("imports", abi.IMPORT_ENTRY_SIZE * max(len(d.imports), 1))
        place("globals", max(d.global_bytes, 8))
        place("ref_globals", 8 * max(d.global_refs, 1))
        place("rodata", abi.BUF_SIZE * max(len(d.rodata), 1))
        for i, seg in enumerate(d.rodata):
            place(f"rodata{i}", len(seg.data))
        self.uc.mem_map(DATA_BASE, _align(pos, GRANULE))
        self.layout = layout
        self.ctx = layout["ctx"]
        self.rodata_objects = {}
        for i, seg in enumerate(d.rodata):
            data = layout[f"rodata{i}"]
            self.uc.mem_write(data, bytes(seg.data))
            desc = layout["rodata"] + i * abi.BUF_SIZE
            self.uc.mem_write(desc, bytes(abi.BufferDesc(data, len(seg.data), 0, abi.TYPE_BUFFER)))
            self.rodata_objects[desc] = seg.data
        self.uc.mem_write(layout["helpers"], struct.pack(
            f"<{len(abi.HELPERS)}Q", *(host_symbol_address(h) for h in abi.HELPERS)))
        ctx = abi.Context(depth_left=abi.MAX_DEPTH, globals=layout["globals"],
                          global_bytes=d.global_bytes, ref_globals=layout["ref_globals"],
                          rodata=layout["rodata"], helpers=layout["helpers"],
                          imports=layout["imports"])
        self.uc.mem_write(self.ctx, bytes(ctx))

    def _link_imports(self, providers: dict) -> None:
        """Each import with a provider gets its host-call stub in the import table; optional
        imports without one stay null (`vm.import.resolved` reads 0)."""
        self.providers: dict[int, tuple] = {}
        for i, imp in enumerate(self.defn.imports):
            modname, _, fname = imp.name.partition(".")
            provider = providers.get(modname)
            if provider is None:
                if imp.optional:
                    continue
                raise LinkError(f"import {imp.name}{imp.signature.describe()} has no provider")
            if isinstance(provider, A64Backend):
                export = next((e for e in provider.defn.exports if e.name == fname), None)
                if export is None:
                    raise LinkError(f"import {imp.name}: module {provider.defn.name} has no export {fname!r}")
                psig = provider.defn.signatures[export.ordinal]
                if (psig.args, psig.results) != (imp.signature.args, imp.signature.results):
                    raise LinkError(f"import {imp.name}{imp.signature.describe()} does not match "
                                    f"{provider.defn.name}.{fname}{psig.describe()}")
                target = ("module", provider, export.ordinal)
            else:
                fn = provider.get(fname) if hasattr(provider, "get") else None
                if fn is None or not callable(fn):
                    raise LinkError(f"import {imp.name}: provider {modname!r} has no callable {fname!r}")
                target = ("python", fn, None)
            self.providers[i] = (imp.signature,) + target
            entry = self.layout["imports"] + abi.IMPORT_ENTRY_SIZE * i
            self.uc.mem_write(entry, struct.pack("<QQ", HOSTCALL_BASE + 8 * (IMPORT_ID_BASE + i), 0))

    # ------------------------------------------------------------------ guest memory
    def read(self, address: int, n: int) -> bytes:
        if not n:
            return b""
        host = self.host_address(address, n)
        return ctypes.string_at(host, n) if host is not None else bytes(self.uc.mem_read(address, n))

    def write(self, address: int, data: bytes) -> None:
        if not data:
            return
        data = bytes(data)
        host = self.host_address(address, len(data))
        if host is not None:
            ctypes.memmove(host, data, len(data))
        else:
            self.uc.mem_write(address, data)

    def u32(self, address: int) -> int:
        return struct.unpack("<I", self.read(address, 4))[0]

    def u64(self, address: int) -> int:
        return struct.unpack("<Q", self.read(address, 8))[0]

    def alloc(self, size: int, alignment: int = 16) -> int:
        """`size` zero bytes on the guest heap (at least 16, so every allocation is distinct)."""
        alignment = max(alignment, 16)
        start = _align(self._heap_top, alignment)
        end = start + max(size, 16)
        mapped = self._chunks[-1].end if self._chunks else HEAP_BASE
        if end > mapped:  # a new chunk, and the allocation lies in it alone: one host range
            start = _align(mapped, alignment)
            end = start + max(size, 16)
            self._chunks.append(_Chunk(self.uc, mapped, max(_align(end - mapped, GRANULE), MIN_CHUNK)))
        self._heap_top = end
        self._allocs[start] = end - start
        return start

    def host_address(self, address: int, n: int) -> int | None:
        """The host address of guest heap bytes [address, address + n), or None when they
        are not all in one heap chunk."""
        for c in reversed(self._chunks):
            if c.start <= address and address + n <= c.end:
                return c.host + address - c.start
            if address >= c.end:
                return None
        return None

    def new_buffer(self, length: int, alignment: int = 16, *, data: bytes | None = None,
                   mutable: bool = True) -> int:
        """A guest BufferDesc* describing `length` bytes (zero, or `data`)."""
        desc = self.alloc(abi.BUF_SIZE)
        ptr = self.alloc(length, alignment)
        if data:
            self.write(ptr, data)
        self.write(desc, bytes(abi.BufferDesc(ptr, length, abi.ACCESS_MUTABLE if mutable else 0,
                                              abi.TYPE_BUFFER)))
        return desc

    def buffer_bytes(self, desc: int) -> bytes:
        ptr, length = struct.unpack("<QQ", self.read(desc, 16))
        return self.read(ptr, length)

    def _release(self) -> None:
        """Drop every heap allocation above the highest one a ref global still reaches."""
        keep = self._reachable(self._ref_global_values())
        top = max((a + self._allocs[a] for a in keep if a in self._allocs), default=HEAP_BASE)
        old = self._heap_top
        self._allocs = {a: s for a, s in self._allocs.items() if a < top}
        self._lists = {a for a in self._lists if a < top}
        for desc in [d for d in self._mirrors if d >= top]:
            del self._mirror_of[id(self._mirrors.pop(desc))]
        while self._chunks and self._chunks[-1].start >= _align(top, GRANULE):
            self._chunks.pop().release()
        if self._chunks and old > top:  # keep "memory above the top is zero"
            c = self._chunks[-1]
            ctypes.memset(c.host + top - c.start, 0, min(old, c.end) - top)
        self._heap_top = top

    def _ref_global_values(self) -> list[int]:
        n = self.defn.global_refs
        return [v for v in struct.unpack(f"<{n}Q", self.read(self.layout["ref_globals"], 8 * n)) if v] \
            if n else []

    def _reachable(self, roots) -> set[int]:
        """Heap allocation starts reachable from `roots` (guest ref addresses)."""
        seen, out, stack = set(), set(), list(roots)
        while stack:
            a = stack.pop()
            if not a or a in seen or a in self.rodata_objects or a not in self._allocs:
                continue
            seen.add(a)
            out.add(a)
            if a in self._lists:
                storage, count = struct.unpack("<QQ", self.read(a, 16))
                cap = self.u64(a + abi.LIST_CAPACITY)
                out.add(storage)
                slots = np.frombuffer(self.read(storage, cap * abi.LIST_SLOT), lists.SLOT)[:count]
                stack.extend(slots["value"][(slots["tag"] == abi.ELEM_REF)].astype(np.uint64).tolist())
            else:
                out.add(self.u64(a + abi.BUF_DATA))
        return out

    # ------------------------------------------------------------------ lists
    def _new_list(self, kind: int, ref_type: int, capacity: int) -> int:
        shift = 64 - lists.INT_BITS[kind] if kind in lists.INT_BITS else 0
        desc = self.alloc(abi.LIST_SIZE)
        storage = self._fresh_slots(kind, capacity)
        self.write(desc, bytes(abi.ListDesc(storage, 0, kind, abi.TYPE_LIST, capacity, ref_type, shift)))
        self._lists.add(desc)
        return desc

    def _fresh_slots(self, kind: int, n: int) -> int:
        storage = self.alloc(n * abi.LIST_SLOT)
        if kind and n:
            slots = np.zeros(n, lists.SLOT)
            slots["tag"] = kind
            self.write(storage, slots.tobytes())
        return storage

    def _list_desc(self, address: int) -> abi.ListDesc:
        return abi.ListDesc.from_buffer_copy(self.read(address, abi.LIST_SIZE))

    def _list_reserve(self, address: int, minimum: int) -> bool:
        d = self._list_desc(address)
        if d.capacity >= minimum:
            return True
        if minimum > lists.MAX_LIST_CAPACITY:
            return False
        capacity = min(max(minimum, 2 * d.capacity), lists.MAX_LIST_CAPACITY)
        storage = self._fresh_slots(d.kind, capacity)
        self.write(storage, self.read(d.storage, d.capacity * abi.LIST_SLOT))
        d.storage, d.capacity = storage, capacity
        self.write(address, bytes(d))
        return True

    def _list_resize(self, address: int, n: int) -> bool:
        d = self._list_desc(address)
        if n < d.count:
            fresh = np.zeros(d.count - n, lists.SLOT)
            fresh["tag"] = d.kind
            self.write(d.storage + n * abi.LIST_SLOT, fresh.tobytes())
        elif n > d.capacity:
            if not self._list_reserve(address, n):
                return False
            d = self._list_desc(address)
        d.count = n
        self.write(address, bytes(d))
        return True

    # ------------------------------------------------------------------ host calls
    def _on_intr(self, uc, intno, _user) -> None:
        regs = self.regs
        try:
            pc = regs[UC_ARM64_REG_PC]
            if intno != BRK_INTNO or not HOSTCALL_BASE <= pc < SENTINEL:
                raise GuestError(f"unexpected exception {intno} at {self.where(pc)}")
            self.host_calls += 1
            ident = (pc - HOSTCALL_BASE) // 8
            if ident >= IMPORT_ID_BASE:
                regs[UC_ARM64_REG_X0] = self._call_import(ident - IMPORT_ID_BASE)
            else:
                self._service(HOST_SYMBOLS[ident])
            regs[UC_ARM64_REG_PC] = regs[UC_ARM64_REG_X30]
        except BaseException as e:  # noqa: BLE001 - re-raised by `_run` after the stop
            self._error = e
            uc.emu_stop()

    def _service(self, name: str) -> None:
        regs = self.regs
        fn = self._libm.get(name)
        if fn is not None:
            f32 = name in _F32
            conv = _f32_from_bits if f32 else _f64_from_bits
            a = conv(regs[UC_ARM64_REG_D0])
            r = fn(a, conv(regs[UC_ARM64_REG_D1])) if name in _BINARY else fn(a)
            regs[UC_ARM64_REG_D0] = struct.unpack("<I", struct.pack("<f", r))[0] if f32 else \
                struct.unpack("<Q", struct.pack("<d", r))[0]
            return
        x = [regs[r] for r in _ARG_REGS[:_ARG_COUNT[name]]]
        if name == "memmove":
            dst, src = self.host_address(x[0], x[2]), self.host_address(x[1], x[2])
            if dst is not None and src is not None:
                ctypes.memmove(dst, src, x[2])
            else:
                self.write(x[0], self.read(x[1], x[2]))
            result = x[0]
        elif name == "memcmp":
            lhs, rhs = self.read(x[0], x[2]), self.read(x[1], x[2])
            result = 0 if lhs == rhs else (1 if lhs > rhs else 0xFFFFFFFF)
        elif name == "buffer_alloc":
            result = self._buffer_alloc(_sext(x[1], 64), _sext(x[2], 32))
        elif name == "buffer_clone":
            result = self._buffer_clone(x[1], _sext(x[2], 64), _sext(x[3], 64), _sext(x[4], 32))
        elif name == "list_alloc":
            kind, ref_type, capacity = (v & 0xFFFFFFFF for v in x[1:4])
            ok = kind <= abi.ELEM_REF and capacity <= lists.MAX_LIST_CAPACITY
            result = self._new_list(kind, ref_type, capacity) if ok else 0
        elif name == "list_reserve":
            ok = x[1] in self._lists and self._list_reserve(x[1], x[2] & 0xFFFFFFFF)
            result = x[1] if ok else 0
        elif name == "buffer_hash":
            result = buffer_hash(self.read(x[1], x[2]))
        elif name == "list_resize":
            ok = x[1] in self._lists and self._list_resize(x[1], x[2] & 0xFFFFFFFF)
            result = x[1] if ok else 0
        else:  # pragma: no cover - HOST_SYMBOLS and this dispatch are kept in step
            raise GuestError(f"no host service for {name}")
        regs[UC_ARM64_REG_X0] = result

    @staticmethod
    def _alignment(alignment: int) -> int:
        """runtime/helpers.py's rule: a positive power of two, at least 16; else 16."""
        return max(16, alignment if alignment > 0 and not alignment & (alignment - 1) else 16)

    def _buffer_alloc(self, length: int, alignment: int) -> int:
        if not 0 <= length <= MAX_ALLOCATION:
            return 0
        return self.new_buffer(length, self._alignment(alignment))

    def _buffer_clone(self, source: int, offset: int, length: int, alignment: int) -> int:
        if not source or not 0 <= length <= MAX_ALLOCATION or offset < 0:
            return 0
        ptr, src_len = struct.unpack("<QQ", self.read(source, 16))
        if offset > src_len or length > src_len - offset:
            return 0
        return self.new_buffer(length, self._alignment(alignment), data=self.read(ptr + offset, length))

    def _call_import(self, i: int) -> int:
        """Runs import `i` for the guest: args from [x1], results to [x2]; 0 or TRAP_IMPORT."""
        uc = self.uc
        sig, kind, target, ordinal = self.providers[i]
        args_ptr, res_ptr = uc.reg_read(UC_ARM64_REG_X1), uc.reg_read(UC_ARM64_REG_X2)
        res_types = list(sig.results)
        views = []

        def ref(desc):
            if not desc:
                return None
            obj = self._mirrors.get(desc)
            if obj is not None:
                return obj.array if isinstance(obj, VmBuffer) else obj
            if desc in self._lists:
                raise UnsupportedError("lists cannot cross Unicorn module boundaries yet")
            arr = np.frombuffer(bytearray(self.buffer_bytes(desc)), np.uint8)
            if not self.u32(desc + abi.BUF_ACCESS) & abi.ACCESS_MUTABLE:
                arr.flags.writeable = False
            views.append((desc, arr))
            return arr

        decoder = self._decoders.get(i)
        if decoder is None:
            decoder = self._decoders[i] = abi.ArgsDecoder(sig.args)
        # a variadic buffer's extent depends on its counts: read what the stack holds
        size = decoder.size if decoder.size is not None else min(STACK_TOP - args_ptr, 1 << 16)
        values = decoder.decode(self.read(args_ptr, size), ref)
        self._sync_out()
        try:
            if kind == "module":
                status, outs, trap = target.call(ordinal, values, sig)
                if status:
                    self.import_errors.append(RuntimeError(f"{target.defn.name} trapped: {trap}"))
                    return abi.TRAP_IMPORT
            else:
                out = target(*values)
                outs = [] if not res_types else [out] if len(res_types) == 1 else list(out)
                if len(outs) != len(res_types):
                    raise TypeError(f"import returned {len(outs)} values, expected {len(res_types)}")
        except BaseException as e:  # noqa: BLE001 - reported as a trap
            self.import_errors.append(e)
            return abi.TRAP_IMPORT
        for desc, arr in views:  # the callee's writes, back into the guest buffers
            if arr.flags.writeable:
                self.write(self.u64(desc + abi.BUF_DATA), arr.tobytes())
        self._sync_in()
        res_offsets, res_size = abi.cconv_layout(res_types)
        buf = bytearray(res_size)
        for t, off, v in zip(res_types, res_offsets, outs):
            if t == "ref":
                struct.pack_into("<Q", buf, off, self._ref_from_python(v, {}, {}))
            elif t in ("i32", "i64"):
                struct.pack_into(_PACK[t], buf, off, _sext(int(v), 32 if t == "i32" else 64))
            else:
                struct.pack_into(_PACK[t], buf, off, float(v))
        self.write(res_ptr, bytes(buf))
        return 0

    # ------------------------------------------------------------------ Python <-> guest values
    def _ref_from_python(self, obj, buffers: dict, packed: dict) -> int:
        """A guest ref for a Python argument: None -> 0, list -> guest list, else a buffer
        (one guest copy per distinct object, one descriptor per use, as x86's Arena)."""
        if obj is None:
            return 0
        if isinstance(obj, list):
            return self._list_from_python(obj, packed, buffers)
        if isinstance(obj, HostObject):
            return self._mirror(obj)
        if isinstance(obj, np.ndarray):
            if not obj.flags.c_contiguous:
                raise TypeError("buffer arguments must be C-contiguous arrays")
            data, mutable = obj.tobytes(), obj.flags.writeable
        elif isinstance(obj, (bytearray, memoryview, bytes)):
            view = memoryview(obj)
            if not view.contiguous:
                raise TypeError("buffer arguments must be contiguous")
            data, mutable = view.tobytes(), not view.readonly
        else:
            raise TypeError(f"expected a buffer (numpy array, bytearray, memoryview) or None, "
                            f"got {type(obj).__name__}")
        entry = buffers.get(id(obj))
        if entry is None:
            ptr = self.alloc(len(data))
            self.write(ptr, data)
            entry = buffers[id(obj)] = [obj, ptr, len(data), mutable, [], data]
        desc = self.alloc(abi.BUF_SIZE)
        self.write(desc, bytes(abi.BufferDesc(entry[1], entry[2], abi.ACCESS_MUTABLE if mutable else 0,
                                              abi.TYPE_BUFFER)))
        entry[4].append(desc)
        return desc

    def _mirror(self, obj: HostObject) -> int:
        """The guest descriptor of a HostObject (made on first use; a VmBuffer's bytes too)."""
        desc = self._mirror_of.get(id(obj))
        if desc is not None:
            return desc
        desc = self.alloc(abi.BUF_SIZE)
        if isinstance(obj, VmBuffer):
            data = self.alloc(len(obj), 16)
            self.write(data, obj.array.tobytes())
            self.write(desc, bytes(abi.BufferDesc(data, len(obj), obj.access, abi.TYPE_BUFFER)))
        else:
            self.write(desc, bytes(abi.BufferDesc(0, 0, 0, obj.TYPE_TAG)))
        self._mirrors[desc] = obj
        self._mirror_of[id(obj)] = desc
        return desc

    def _sync_out(self) -> None:
        """Guest bytes of mirrored VmBuffers -> their host arrays (before Python runs)."""
        for desc, obj in self._mirrors.items():
            if isinstance(obj, VmBuffer) and len(obj) and obj.array.flags.writeable:
                obj.array[:] = np.frombuffer(self.read(self.u64(desc + abi.BUF_DATA), len(obj)), np.uint8)

    def _sync_in(self) -> None:
        """Host arrays of mirrored VmBuffers -> guest bytes (before guest code runs again)."""
        for desc, obj in self._mirrors.items():
            if isinstance(obj, VmBuffer) and len(obj):
                self.write(self.u64(desc + abi.BUF_DATA), obj.array.tobytes())

    def _list_from_python(self, obj: list, packed: dict, buffers: dict) -> int:
        """A guest list for a Python list: `lists.pack` validates and converts the elements
        (into a host NativeList); this mirrors that list, and its nested refs, into the guest."""
        if id(obj) in packed:
            return packed[id(obj)][0]
        from .values import Arena
        arena = Arena()
        host = lists.pack(obj, arena, "list argument")
        memo: dict[int, int] = {}

        def mirror(address: int) -> int:
            if address in memo:
                return memo[address]
            native, py = arena.by_address[address]
            if not isinstance(native, lists.NativeList):  # a buffer: (BufferDesc, object)
                memo[address] = self._ref_from_python(py[0] if isinstance(py, tuple) else py,
                                                      buffers, packed)
                return memo[address]
            d = native.desc
            guest = self._new_list(d.kind, d.ref_type, d.count)
            memo[address] = guest
            packed[id(py)] = (guest, py)
            slots = native.storage[:d.count].copy()
            for k in np.nonzero((slots["tag"] == abi.ELEM_REF) & (slots["value"] != 0))[0]:
                slots["value"][k] = mirror(int(slots["value"][k]))
            self.write(self.u64(guest), slots.tobytes())
            gd = self._list_desc(guest)
            gd.count = d.count
            self.write(guest, bytes(gd))
            return guest

        return mirror(host)

    def to_python(self, address: int, call_refs: dict, memo: dict):
        """A guest ref as a Python object: an argument's own object, rodata bytes, a list
        (argument lists map back to themselves), or a new numpy uint8 array."""
        if not address:
            return None
        if address in call_refs:
            return call_refs[address]
        if address in self._mirrors:
            obj = self._mirrors[address]
            return obj.array if isinstance(obj, VmBuffer) else obj
        if address in self.rodata_objects:
            return self.rodata_objects[address]
        if address in memo:
            return memo[address]
        if address in self._lists:
            d = self._list_desc(address)
            out = [] if d.kind == abi.ELEM_NONE else lists.TypedList(
                lists.KIND_NAMES.get(d.kind) or lists.REF_NAMES.get(d.ref_type, "!vm.ref"))
            memo[address] = out
            out[:] = self.list_elements(address, call_refs, memo)
            return out
        if address not in self._allocs:
            raise GuestError(f"returned ref {address:#x} is not a known buffer")
        arr = np.frombuffer(bytearray(self.buffer_bytes(address)), np.uint8)
        memo[address] = arr
        return arr

    def list_elements(self, address: int, call_refs: dict, memo: dict) -> list:
        d = self._list_desc(address)
        slots = np.frombuffer(self.read(d.storage, d.count * abi.LIST_SLOT), lists.SLOT)
        out = []
        for tag, value in zip(slots["tag"].tolist(), slots["value"].tolist()):
            if tag == abi.ELEM_NONE:
                out.append(None)
            elif tag == abi.ELEM_REF:
                out.append(self.to_python(value & (2**64 - 1), call_refs, memo))
            elif tag == abi.ELEM_F32:
                out.append(_f32_from_bits(value))
            elif tag == abi.ELEM_F64:
                out.append(_f64_from_bits(value))
            else:
                out.append(value)
        return out

    # ------------------------------------------------------------------ calls
    def call(self, ordinal: int, args: list, signature) -> tuple[int, list, dict]:
        """Run function `ordinal` with Python args (ints, floats, numpy arrays / bytearray /
        memoryview / bytes for buffers, lists, None for null refs).

        Returns (status, results, trap): status 0 or an abi.TRAP_* code; results as Python
        values (None on a trap): ref results are the caller's own object when the ref is one
        of the arguments, rodata as bytes, new buffers as numpy uint8 arrays, lists as
        lists; trap is a dict of trap_code, trap_offset, trap_function, trap_status.
        Raises TypeError for bad arguments, UnsupportedError for functions with ops the
        backend cannot lower, GuestError if the emulated code faults.
        """
        missing = self.compiled.unsupported.get(ordinal)
        if missing:
            raise UnsupportedError(f"{self.defn.name} function {ordinal} uses {', '.join(missing)}, "
                                   f"which splatjit cannot compile yet")
        types = list(signature.args)
        fns = self.loaded.functions
        where = f"{self.defn.name}.{fns[ordinal].name}" if 0 <= ordinal < len(fns) else self.defn.name
        if len(args) != len(types):
            raise TypeError(f"{where}{signature.describe()} takes {len(types)} arguments, "
                            f"got {len(args)}")
        buffers: dict = {}
        packed: dict = {}
        offsets, size = abi.cconv_layout(types)
        raw = bytearray(max(size, 8))
        try:
            for i, (t, v, off) in enumerate(zip(types, args, offsets)):
                if t == "ref":
                    struct.pack_into("<Q", raw, off, self._ref_from_python(v, buffers, packed))
                else:
                    struct.pack_into(_PACK[t], raw, off, _check_scalar(t, v, f"{where} argument {i}"))
            args_ptr = self.alloc(len(raw))
            self.write(args_ptr, bytes(raw))
            self._sync_in()  # mirrored buffers the caller may have changed since
            res_offsets, res_size = abi.cconv_layout(list(signature.results))
            res_ptr = self.alloc(max(res_size, 8))
            status = self._run(ordinal, args_ptr, res_ptr)
            self._sync_out()
            call_refs = {}
            for obj, ptr, length, mutable, descs, before in buffers.values():
                for desc in descs:
                    call_refs[desc] = obj
                if mutable and length:
                    _write_back(obj, before, self.read(ptr, length))
            memo: dict = {}
            for guest, py in packed.values():
                call_refs[guest] = py
            for guest, py in packed.values():  # the VM's changes to list arguments
                py[:] = self.list_elements(guest, call_refs, memo)
            ctx = abi.Context.from_buffer_copy(self.read(self.ctx, ctypes.sizeof(abi.Context)))
            trap = {"trap_code": ctx.trap_code, "trap_offset": ctx.trap_offset,
                    "trap_function": ctx.trap_function, "trap_status": ctx.trap_status}
            if status:
                return status, None, trap
            out = []
            res = self.read(res_ptr, res_size)
            for t, off in zip(signature.results, res_offsets):
                if t == "ref":
                    out.append(self.to_python(struct.unpack_from("<Q", res, off)[0], call_refs, memo))
                else:
                    out.append(struct.unpack_from(_PACK[t], res, off)[0])
            return 0, out, trap
        finally:
            self._release()

    def _run(self, ordinal: int, args_ptr: int, res_ptr: int) -> int:
        uc = self.uc
        self.write(self.ctx + abi.CTX_TRAP_CODE, struct.pack("<i", 0))
        self.write(self.ctx + abi.CTX_DEPTH_LEFT, struct.pack("<i", abi.MAX_DEPTH))
        self.write(self.ctx + abi.CTX_FUEL, struct.pack("<q", self.fuel or 0))
        for reg, value in ((UC_ARM64_REG_X0, self.ctx), (UC_ARM64_REG_X1, args_ptr),
                           (UC_ARM64_REG_X2, res_ptr), (UC_ARM64_REG_X30, SENTINEL),
                           (UC_ARM64_REG_SP, STACK_TOP)):
            uc.reg_write(reg, value)
        # FPCR.FZ while running a HAL dispatch (hal/dispatch.py), as IREE's local HAL does
        uc.reg_write(UC_ARM64_REG_FPCR, FPCR_FZ if self.flush_denormals else 0)
        self._error = None
        try:
            uc.emu_start(CODE_BASE + self.compiled.entries[ordinal], SENTINEL)
        except UcError as e:
            raise GuestError(f"{e} at {self.where(uc.reg_read(UC_ARM64_REG_PC))}") from None
        if self._error is not None:
            error, self._error = self._error, None
            raise error
        if uc.reg_read(UC_ARM64_REG_PC) != SENTINEL:
            raise GuestError(f"emulation stopped at {self.where(uc.reg_read(UC_ARM64_REG_PC))}")
        return _sext(uc.reg_read(UC_ARM64_REG_X0), 32)

    def where(self, pc: int) -> str:
        """`function+0xOFFSET` for a guest code address (via the compiled tag map)."""
        off = pc - CODE_BASE
        if not 0 <= off < len(self.compiled.code):
            return f"{pc:#x}"
        tag = self.compiled.tag_map.get(off)
        if tag is None:
            return f"code+{off:#x}"
        fn = self.compiled.functions[tag[0]].name
        return f"{self.defn.name}.{fn}+0x{tag[1]:x}" if tag[1] >= 0 else f"{self.defn.name}.{fn}"


class _Chunk:
    """One heap mapping, backed by host memory (an anonymous mmap, committed lazily) so the
    host serves memmove and reads natively."""

    def __init__(self, uc, start: int, size: int):
        self.uc, self.start, self.end = uc, start, start + size
        self.mm = mmap.mmap(-1, size)
        self._view = ctypes.c_char.from_buffer(self.mm)
        self.host = ctypes.addressof(self._view)
        uc.mem_map_ptr(start, size, UC_PROT_ALL, self.host)

    def release(self) -> None:
        self.uc.mem_unmap(self.start, self.end - self.start)
        del self._view
        self.mm.close()


def _write_back(obj, before: bytes, after: bytes) -> None:
    """Copies the bytes the guest changed in a buffer argument back into the caller's object.
    Only changed bytes: two arguments may view overlapping host memory (HAL bindings of
    one buffer), and a stale copy of one must not undo the guest's writes through another."""
    if before == after:
        return
    old, new = np.frombuffer(before, np.uint8), np.frombuffer(after, np.uint8)
    changed = old != new
    target = obj.reshape(-1).view(np.uint8) if isinstance(obj, np.ndarray) else \
        np.frombuffer(memoryview(obj).cast("B"), np.uint8)
    target[changed] = new[changed]


# ---------------------------------------------------------------- profiling
def profile_ops(backend: A64Backend, ordinal: int, args: list, signature):
    """Runs one call counting executed instructions per bytecode op (via the tag map).

    Returns (per_op, total, status): per_op maps (function name, bytecode offset, op name)
    to the number of AArch64 instructions executed for it; offset -1 is prologue/epilogue.
    """
    counts: Counter = Counter()
    tags = backend.compiled.tag_map

    def hook(uc, address, size, _user):
        counts[address - CODE_BASE] += 1

    h = backend.uc.hook_add(UC_HOOK_CODE, hook, begin=CODE_BASE,
                            end=CODE_BASE + len(backend.compiled.code))
    backend.uc.ctl_flush_tb()  # blocks translated before the hook existed would not call it
    try:
        status, _, _ = backend.call(ordinal, args, signature)
    finally:
        backend.uc.hook_del(h)
        backend.uc.ctl_flush_tb()
    names = {}
    for fn in backend.loaded.functions:
        for ins in fn.instrs():
            names[(fn.ordinal, ins.offset)] = ins.op.name
    per_op: Counter = Counter()
    for off, n in counts.items():
        fo, bo = tags.get(off, (None, -1))
        fname = backend.compiled.functions[fo].name if fo is not None else "?"
        per_op[(fname, bo, names.get((fo, bo), "prologue/epilogue"))] += n
    return per_op, sum(counts.values()), status


def code_sizes(compiled) -> dict[str, int]:
    """Bytes of code per function (entry to the next entry; the last runs to the end)."""
    starts = sorted((off, compiled.functions[o].name) for o, off in compiled.entries.items())
    out = {}
    for k, (off, name) in enumerate(starts):
        end = starts[k + 1][0] if k + 1 < len(starts) else len(compiled.code)
        out[name] = end - off
    return out


# ---------------------------------------------------------------- a JitModule-like wrapper
class A64Module:
    """`JitModule`'s behaviour on the Unicorn backend: load, verify, compile for AArch64,
    run `__init`; `module[name](*args)` returns the result (a tuple for several, None for
    none) or raises `TrapError` naming function and bytecode offset."""

    def __init__(self, vmfb_bytes, fuel: int | None = None, imports=None):
        from ..emit_a64.lower import compile_module
        from ..frontend.loader import load_module
        self.loaded = load_module(vmfb_bytes)
        self.name = self.loaded.name
        self.compiled = compile_module(self.loaded, fuel=fuel is not None)
        backends = {k: (v.backend if isinstance(v, A64Module) else v) for k, v in (imports or {}).items()}
        self.backend = A64Backend(self.loaded, self.compiled, fuel=fuel, imports=backends)
        self._exports = {e.name: e.ordinal for e in self.loaded.defn.exports}
        if "__init" in self._exports and not self.loaded.defn.signatures[self._exports["__init"]].args:
            self["__init"]()

    def __getitem__(self, name: str):
        ordinal = self._exports[name]
        sig = self.loaded.defn.signatures[ordinal]

        def call(*args):
            status, out, trap = self.backend.call(ordinal, list(args), sig)
            if status:
                raise self._trap(trap)
            return None if not out else out[0] if len(out) == 1 else tuple(out)
        return call

    def _trap(self, trap: dict):
        from ..errors import TrapError
        code, offset, fo = trap["trap_code"], trap["trap_offset"], trap["trap_function"]
        fns = self.loaded.functions
        fn = fns[fo] if 0 <= fo < len(fns) else None
        message = abi.TRAP_MESSAGES.get(code, f"trap {code}")
        if code == abi.TRAP_IMPORT and self.backend.import_errors:
            message = f"imported function failed: {self.backend.import_errors.pop()!r}"
        elif code == abi.TRAP_FAIL and fn is not None:
            ins = next((i for i in fn.instrs() if i.offset == offset), None)
            text = ins.args.get("message", "") if ins is not None else ""
            message = f"vm.fail (status {trap['trap_status']}): {text}"
            if trap["trap_status"] == 0:  # only reachable as the function's last op
                message = (f"vm.fail with status 0 ends the function (the interpreter would run "
                           f"off the end of its bytecode): {text}")
        elif code == abi.TRAP_STACK:
            offset = None
        name = f"{self.name}.{fn.name}" if fn is not None else self.name
        return TrapError(message, function=name, offset=offset, status=code)
