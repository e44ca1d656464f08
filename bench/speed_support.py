"""Support for bench/test_speed.py: compiled modules, the C reference library, the interpreter
wrapper and the session table of per-unit timings with their ratios.

Contracts:
  * `compile_vm(path)` returns `.vmfb` bytes for a `vm`-dialect `.mlir` source, compiled with
    `iree-compile --compile-mode=vm` (or the source's `// corpus-flags:`) through
    tests/corpus.py's cache when it exists, else cached in `.corpus-cache/bench-*` keyed by
    source hash, flags and compiler version; raises `RuntimeError` with the reason.
  * `c_library()` returns `(CDLL, None)` or `(None, reason)`; never raises. Built once per
    session with the system C compiler from `bench/c_ref/*.c`, cached like the modules.
  * `TABLE.record(...)` stores one timing in ns per unit (iteration, element, call, ...);
    ratios are recomputed on every record and written into every row's `extra_info`.
"""
from __future__ import annotations

import ctypes
import hashlib
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
CACHE = ROOT / ".corpus-cache"
CORPUS_VM = ROOT / "tests" / "corpus" / "vm"
C_REF = BENCH / "c_ref"
C_SOURCES = ("loop_sum.c", "buffer_reduce.c", "call_add1.c", "matmul.c")
VM_FLAGS = ("--compile-mode=vm",)
COMPILE_TIMEOUT_S = 300

IMPLS = ("splatjit", "iree", "c")


# ------------------------------------------------------------------------ iree-compile
def _version(dist: str) -> str:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return "unknown"


def iree_compile_path() -> str | None:
    here = Path(sys.executable).parent / "iree-compile"
    if here.exists():
        return str(here)
    return shutil.which("iree-compile")


def _atomic_write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name + ".")
    with os.fdopen(fd, "wb") as f:
        f.write(data)
    os.replace(tmp, path)


def _flags(path: Path) -> tuple[str, ...]:
    """A source's `// corpus-flags: ...` line (first 5 lines), else --compile-mode=vm."""
    for line in path.read_text().splitlines()[:5]:
        if line.startswith("// corpus-flags:"):
            return tuple(line.split(":", 1)[1].split())
    return VM_FLAGS


def _corpus_helper():
    """tests/corpus.py if it provides the compile API (bench/conftest.py puts tests/ on
    sys.path), else None."""
    try:
        import corpus
    except Exception:  # noqa: BLE001 - an unfinished helper must not break the benchmarks
        return None
    needed = ("compile_item", "all_items", "CorpusItem")
    return corpus if all(hasattr(corpus, n) for n in needed) else None


def compile_vm(path: Path) -> bytes:
    """`.vmfb` bytes of a vm-dialect source; raises RuntimeError with the compiler's reason."""
    path = Path(path)
    flags = _flags(path)
    helper = _corpus_helper()
    if helper is not None:
        try:
            return helper.compile_item(helper.CorpusItem(path.stem, path, "vm", "vm", flags))
        except Exception as e:  # noqa: BLE001 - CompileFailure, or a changed helper API
            raise RuntimeError(f"iree-compile {path.name}: {e}") from e
    source = path.read_bytes()
    key = hashlib.sha256(source + repr(flags).encode()
                         + _version("iree-base-compiler").encode()).hexdigest()[:16]
    cached = CACHE / f"bench-{path.stem}-{key}.vmfb"
    if cached.exists():
        return cached.read_bytes()
    compiler = iree_compile_path()
    if compiler is None:
        raise RuntimeError("iree-compile not found next to the Python executable or on PATH")
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "out.vmfb"
        try:
            r = subprocess.run([compiler, *flags, str(path), "-o", str(out)],
                               capture_output=True, text=True, timeout=COMPILE_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            raise RuntimeError(f"iree-compile {path.name} timed out") from None
        if r.returncode != 0:
            raise RuntimeError(f"iree-compile {path.name} failed:\n{r.stderr[-2000:]}")
        data = out.read_bytes()
    _atomic_write(cached, data)
    return data


def corpus_modules() -> tuple[list[tuple[str, bytes]], str]:
    """(name, vmfb bytes) for the test corpus, and where it came from: tests/corpus.py's
    items when that helper exists, else tests/corpus/vm/*.mlir. Failed compiles are left out."""
    helper = _corpus_helper()
    out = []
    if helper is not None:
        for item in helper.all_items():
            try:
                out.append((getattr(item, "id", item.name), helper.compile_item(item)))
            except Exception:  # noqa: BLE001 - CompileFailure (cached with its reason)
                continue
        return out, "tests/corpus.py all_items()"
    for path in sorted(CORPUS_VM.glob("*.mlir")):
        try:
            out.append((path.stem, compile_vm(path)))
        except RuntimeError:
            continue
    return out, "tests/corpus/vm/*.mlir"


def constructible_modules(tiers=(None,)):
    """The compile-speed corpus: (modules, imports, excluded, origin) where `modules` are
    the (name, vmfb bytes) of `corpus_modules()` that `JitModule(bytes, imports=imports,
    tier=t)` constructs for every tier t in `tiers` (None: the default), `imports` links
    vm/native_import_module (None when it cannot be built), and `excluded` names the others
    as (name, the exception it raised)."""
    from splatjit.module import JitModule
    modules, origin = corpus_modules()
    names = dict(modules)
    blob = names.get("vm/native_import_module", names.get("native_import_module"))
    imports = None
    if blob is not None:
        try:
            imports = {"native_import_module": JitModule(blob, tier=tiers[0])}
        except Exception:  # noqa: BLE001 - the importing modules are excluded below
            imports = None
    kept, excluded = [], []
    for name, data in modules:
        try:
            for tier in tiers:
                JitModule(data, imports=imports, tier=tier).close()
            kept.append((name, data))
        except Exception as e:  # noqa: BLE001 - reported, not hidden
            excluded.append((name, e))
    return kept, imports, excluded, origin


_ROOT = Path(__file__).resolve().parent.parent


def first_pass_seconds(tier: str, names: list[str]) -> float:
    """Seconds of one pass of `JitModule(..., tier=tier)` over the `names` of
    `corpus_modules()` in a fresh Python process: what a process's first compiles cost, before
    anything made once per process (instruction encodings, baseline templates, native stubs)
    exists. The child builds the import provider first (not timed)."""
    script = (
        "import sys, time\n"
        f"sys.path[:0] = {[str(_ROOT), str(_ROOT / 'bench'), str(_ROOT / 'tests')]!r}\n"
        "import speed_support as ss\n"
        "from splatjit.module import JitModule\n"
        "tier, names = sys.argv[1], sys.argv[2:]\n"
        "modules = dict(ss.corpus_modules()[0])\n"
        "provider = modules.get('vm/native_import_module', modules.get('native_import_module'))\n"
        "imports = None if provider is None else {'native_import_module': JitModule(provider, tier=tier)}\n"
        "start = time.perf_counter()\n"
        "for name in names:\n"
        "    JitModule(modules[name], imports=imports, tier=tier).close()\n"
        "print(time.perf_counter() - start)\n")
    out = subprocess.run([sys.executable, "-c", script, tier, *names], capture_output=True,
                         text=True)
    if out.returncode:
        raise RuntimeError(f"the first-pass process failed:\n{out.stderr[-3000:]}")
    return float(out.stdout.split()[-1])


# --------------------------------------------------------------------- C reference library
def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def c_flags() -> list[str]:
    """-O2 scalar code: no auto-vectorisation (the VM code is scalar) and no contraction of
    a multiply and an add into an fma (the interpreter rounds both, see c_ref/matmul.c)."""
    return ["-O2", "-shared", "-fPIC", "-fno-tree-vectorize", "-ffp-contract=off"]


_C_LIB: tuple | None = None


def c_library() -> tuple[ctypes.CDLL | None, str | None]:
    global _C_LIB
    if _C_LIB is None:
        _C_LIB = _build_c_library()
    return _C_LIB


def _build_c_library():
    cc = os.environ.get("CC") or shutil.which("cc") or shutil.which("gcc") or shutil.which("clang")
    if cc is None:
        return None, "no C compiler (cc, gcc, clang or $CC) on PATH"
    try:
        version = subprocess.run([cc, "--version"], capture_output=True, text=True).stdout
        flags = c_flags()
        h = hashlib.sha256(version.encode() + repr(flags).encode())
        for name in C_SOURCES:
            h.update((C_REF / name).read_bytes())
        lib = CACHE / f"bench-cref-{h.hexdigest()[:16]}.so"
        if not lib.exists():
            with tempfile.TemporaryDirectory() as tmp:
                out = Path(tmp) / "libcref.so"
                r = subprocess.run([cc, *flags, *(str(C_REF / n) for n in C_SOURCES),
                                    "-o", str(out), "-lm"], capture_output=True, text=True)
                if r.returncode != 0:
                    return None, f"{cc} failed: {r.stderr.strip()[-500:]}"
                _atomic_write(lib, out.read_bytes())
        dll = ctypes.CDLL(str(lib))
    except (OSError, subprocess.SubprocessError) as e:
        return None, f"C reference library unavailable: {e}"
    i32, ptr = ctypes.c_int32, ctypes.c_void_p
    for name, res, args in (("loop_sum", i32, [i32]), ("buffer_reduce", i32, [i32]),
                            ("call_imported_func", i32, [i32]), ("call_loop", i32, [i32, i32]),
                            ("noop", None, []),
                            ("matmul", None, [ptr, ptr, ptr, i32, i32, i32])):
        fn = getattr(dll, name)
        fn.restype, fn.argtypes = res, args
    dll.description = f"{Path(cc).name} {' '.join(flags)}"
    return dll, None


# ------------------------------------------------------------------------- the interpreter
class Interpreter:
    """IREE's bytecode interpreter (iree.runtime) over modules; later ones may import earlier.
    `function(name)` returns a callable taking ints and VmBuffers, returning the first result."""

    def __init__(self, modules: list[bytes]):
        import iree.runtime as rt
        self.rt = rt
        self.instance = rt.VmInstance()
        self.modules = [rt.VmModule.copy_buffer(self.instance, m) for m in modules]
        self.context = rt.VmContext(self.instance, modules=self.modules)

    def function(self, name: str):
        rt, ctx = self.rt, self.context
        fn = self.modules[-1].lookup_function(name)
        if fn is None:
            raise KeyError(name)

        def call(*args):
            arglist = rt.VmVariantList(len(args))
            for a in args:
                if isinstance(a, int):
                    arglist.push_int(a)
                else:
                    arglist.push_ref(a)
            results = rt.VmVariantList(1)
            ctx.invoke(fn, arglist, results)
            return results.get_variant(0) if results.size else None

        return call

    def buffer(self, array):
        """A mutable VmBuffer holding a copy of `array` and a numpy view of it (same dtype)."""
        import numpy as np
        vb = self.rt.VmBuffer(array.nbytes, 16, True)
        view = np.frombuffer(vb, dtype=array.dtype).reshape(array.shape)
        view[...] = array
        return vb, view


# ---------------------------------------------------------------------------- the table
@dataclass
class Group:
    name: str
    unit: str                       # "iter", "element", "call", "MAC", ...
    target: str = ""
    show_sizes: bool = True         # list each implementation's n in the notes
    rows: dict = field(default_factory=dict)   # impl -> (ns, n, extra_info dict)
    skipped: dict = field(default_factory=dict)  # impl -> reason
    notes: list = field(default_factory=list)

    def ratios(self) -> dict[str, float]:
        ns = {impl: row[0] for impl, row in self.rows.items()}
        out = {}
        if "splatjit" in ns and "c" in ns and ns["c"] > 0:
            out["jit_over_c"] = ns["splatjit"] / ns["c"]
        if "splatjit" in ns and "iree" in ns and ns["splatjit"] > 0:
            out["interp_over_jit"] = ns["iree"] / ns["splatjit"]
        return out


class SpeedTable:
    def __init__(self):
        self.groups: dict[str, Group] = {}
        self.extra: list[tuple[str, str, str]] = []   # (name, value, target) for non-ratio rows
        self.extra_notes: list[str] = []
        self.single_shot = False
        #: numbers without a reference column that the regression gate also watches
        #: (name -> value; higher is better), e.g. compile speed in ops/s
        self.scores: dict[str, float] = {}

    def metrics(self) -> dict[str, float]:
        """What the regression gate compares (bench/conftest.py): per group
        "GROUP:interp_over_jit" (higher is better) and "GROUP:jit_over_c" (lower is better),
        measured in one run, plus `scores` ("score:NAME", higher is better). Empty when
        timing was disabled."""
        if self.single_shot:
            return {}
        out = {f"{g.name}:{k}": v for g in self.groups.values() for k, v in g.ratios().items()}
        out.update({f"score:{k}": v for k, v in self.scores.items()})
        return out

    def group(self, name: str, unit: str, target: str = "") -> Group:
        g = self.groups.get(name)
        if g is None:
            g = self.groups[name] = Group(name, unit, target)
        return g

    def record(self, group: Group, impl: str, seconds: float, units: int, extra_info: dict,
               single_shot: bool = False) -> float:
        ns = seconds * 1e9 / units
        group.rows[impl] = (ns, units, extra_info)
        self.single_shot |= single_shot
        extra_info.update(impl=impl, units=units, unit=group.unit,
                          **{f"ns_per_{group.unit}": round(ns, 3)})
        ratios = {k: round(v, 3) for k, v in group.ratios().items()}
        for _, _, info in group.rows.values():
            info.update(ratios)
        return ns

    def skip(self, group: Group, impl: str, reason: str) -> None:
        group.skipped[impl] = reason

    def lines(self) -> list[str]:
        if not self.groups and not self.extra:
            return []
        if self.single_shot:
            return ["benchmarks disabled: each workload ran once, for correctness only; run "
                    "with --benchmark-enable for the timing table"]
        out = [f"splatjit speed: {cpu_model()}, {os.cpu_count()} cores; best round of each "
               f"benchmark, ns per unit of work"]
        lib, reason = c_library()
        out.append(f"C reference: {lib.description if lib is not None else reason}")
        head = (f"{'workload':<24}{'unit':>10}{'splatjit':>11}{'iree.rt':>11}{'C':>9}"
                f"{'JIT/C':>8}{'interp/JIT':>11}  target")
        out += [head, "-" * len(head)]

        def cell(g, impl, width):
            row = g.rows.get(impl)
            if row is None:
                return f"{'skip' if impl in g.skipped else '-':>{width}}"
            ns = row[0]
            text = f"{ns:.3g}" if ns < 1000 else f"{ns:,.0f}"
            return f"{text:>{width}}" if len(text) < width else " " + text  # (a space left)

        for g in self.groups.values():
            r = g.ratios()
            jc = f"{r['jit_over_c']:.2f}x" if "jit_over_c" in r else "-"
            ij = f"{r['interp_over_jit']:.1f}x" if "interp_over_jit" in r else "-"
            out.append(f"{g.name:<24}{'ns/' + g.unit:>10}{cell(g, 'splatjit', 11)}"
                       f"{cell(g, 'iree', 11)}{cell(g, 'c', 9)}{jc:>8}{ij:>11}  {g.target}")
        for name, value, target in self.extra:
            out.append(f"{name:<24}{value:>31}{'':>28}  {target}")
        notes = []
        for g in self.groups.values():
            sizes = ", ".join(f"{impl} n={row[1]:,}" for impl, row in g.rows.items())
            if sizes and g.show_sizes:
                notes.append(f"{g.name}: {sizes}")
            notes += [f"{g.name}: {n}" for n in g.notes]
            notes += [f"{g.name}: {impl} skipped: {why}" for impl, why in g.skipped.items()]
        notes += self.extra_notes
        if notes:
            out.append("notes:")
            out += [f"  {n}" for n in notes]
        return out


TABLE = SpeedTable()


def interleaved_best(fns: dict, args, blocks: int, calls: int) -> dict[str, float]:
    """Best seconds of one call `fn(*args)` per implementation of `fns` (name -> callable)
    when they alternate in blocks of `calls` calls, `blocks` times: every implementation sees
    the same phases of a shared host."""
    best = dict.fromkeys(fns, float("inf"))
    for _ in range(blocks):
        for impl, fn in fns.items():
            for _ in range(calls):
                start = time.perf_counter()
                fn(*args)
                best[impl] = min(best[impl], time.perf_counter() - start)
    return best


class CompilerClock:
    """While entered, `spent` adds up the seconds spent in `load_module` (parse, decode,
    verify; a program's nested executables are loaded inside its own call) and in
    `tiers.compile_x64` (each module's machine code; a program's kernels are compiled in
    their own constructions, while its HAL provider is made, so neither call nests in
    another): the compiler's part of `JitModule` constructions, measured inside those very
    constructions, split in `load` and `compile`. The rest of a construction (linking
    imports, the HAL, the globals and rodata context, mapping, export entries, running
    `__init`) is not counted. The two wrappers cost ~1 us per module."""

    def __init__(self):
        self.load = self.compile = 0.0
        self._saved = None

    @property
    def spent(self) -> float:
        return self.load + self.compile

    def reset(self) -> None:
        self.load = self.compile = 0.0

    def _timed(self, fn, phase: str):
        def wrapper(*args, **kwargs):
            start = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                setattr(self, phase, getattr(self, phase) + time.perf_counter() - start)
        return wrapper

    def __enter__(self) -> "CompilerClock":
        from splatjit import module as module_py
        from splatjit import tiers as tiers_py
        self._saved = (module_py.load_module, tiers_py.compile_x64)
        module_py.load_module = self._timed(module_py.load_module, "load")
        tiers_py.compile_x64 = self._timed(tiers_py.compile_x64, "compile")
        return self

    def __exit__(self, *exc) -> None:
        from splatjit import module as module_py
        from splatjit import tiers as tiers_py
        module_py.load_module, tiers_py.compile_x64 = self._saved


def compiled_op_count(blobs, imports) -> int:
    """Bytecode ops `JitModule(b)` compiles, summed over `blobs`: each module's functions plus
    those of every module it compiles while being built (a program compiles its nested VMVX
    executables, hal/local.py `LocalHal.compile_executables`)."""
    from splatjit.module import JitModule
    counted = []
    original = JitModule.__init__

    def counting_init(self, vmfb_bytes, *args, **kwargs):
        original(self, vmfb_bytes, *args, **kwargs)
        counted.append(sum(fn.op_count for fn in self.loaded.functions))

    JitModule.__init__ = counting_init
    try:
        for b in blobs:
            JitModule(b, imports=imports).close()
    finally:
        JitModule.__init__ = original
    return sum(counted)


# ------------------------------------------------------------------ the regression gate
#: metric name suffix -> True when higher is better
HIGHER_IS_BETTER = {"interp_over_jit": True, "jit_over_c": False}


def _higher_is_better(name: str) -> bool:
    return name.startswith("score:") or HIGHER_IS_BETTER.get(name.rsplit(":", 1)[-1], True)


def best_of(first: dict[str, float], second: dict[str, float]) -> dict[str, float]:
    """Per metric, the better of two runs' values (a metric of one run only is kept)."""
    out = dict(second)
    for name, value in first.items():
        other = out.get(name)
        if other is None:
            out[name] = value
        else:
            out[name] = max(value, other) if _higher_is_better(name) else min(value, other)
    return out


def regressions(current: dict[str, float], baseline: dict[str, float],
                tolerance: float) -> list[str]:
    """Metrics of `baseline` that `current` is worse on by more than a factor `tolerance`
    (a metric missing from `current`, e.g. a skipped implementation, is not compared)."""
    out = []
    for name, base in sorted(baseline.items()):
        now = current.get(name)
        if now is None or base <= 0 or now <= 0:
            continue
        factor = base / now if _higher_is_better(name) else now / base
        if factor > tolerance:
            out.append(f"{name}: {now:.4g} against a baseline of {base:.4g} "
                       f"({factor:.1f}x worse; the gate allows {tolerance:g}x)")
    return out
