"""The test corpus: `.mlir` sources under tests/corpus/, compiled by the real `iree-compile`.

Two kinds of source:

* `tests/corpus/vm/*.mlir` - hand-written `vm` dialect modules, one item each (variant "vm"),
  compiled with `--compile-mode=vm` unless the file says otherwise;
* `tests/corpus/programs/*.mlir` - `func`/`linalg` programs with an `@main`, one item per
  variant in `PROGRAM_VARIANTS` (VMVX scalar / microkernel / data-tiled, and inline).

A source's leading `//` comment block may hold directives, one per line:

* `// corpus-flags: F...`  vm: replaces `--compile-mode=vm`; programs: appended to every variant;
* `// corpus-expect: E`    what loading the compiled module does: "ok" (default), "load-fails"
                           (the bytecode cannot be decoded) or "verify-fails" (it decodes but is
                           ill-formed); both are 3.13 compiler bugs kept as robustness inputs;
* `// corpus-hazard: H...` things a harness must not do with an otherwise fine module:
                           "invoke-hangs" = iree.runtime 3.13 never returns from its exports;
* `// corpus-needs: NAME...` vm: corpus vm modules that must be loaded first (its imports);
* `// corpus-inputs: --input=...`  programs: `iree-run-module` inputs for `@main`.

Compiled bytes are cached in `.corpus-cache/` keyed by sha256(source, flags, compiler version),
so a warm run never invokes the compiler; failures are cached too (a `.fail` file holding the
compiler's first error line). Writes go through a temporary file and `os.replace`, so parallel
pytest-xdist workers at worst compile the same item twice.

`oracle_call` / `Oracle` run exports in IREE's own interpreter (`iree.runtime`), the reference
for differential tests. No pytest import here: benchmarks use this module as well.
"""
from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
CORPUS_DIR = REPO_ROOT / "tests" / "corpus"
CACHE_DIR = REPO_ROOT / ".corpus-cache"
COMPILE_TIMEOUT_S = 300
VM_FLAGS = ("--compile-mode=vm",)
VMVX = ("--iree-hal-target-device=local", "--iree-hal-local-target-device-backends=vmvx")
PROGRAM_VARIANTS = {
    "scalar": VMVX,
    "ukernel": VMVX + ("--iree-vmvx-enable-microkernels",),
    "datatiled": VMVX + ("--iree-vmvx-enable-microkernels", "--iree-dispatch-creation-data-tiling"),
    "inline": ("--iree-execution-model=inline-static", "--iree-hal-target-device=local",
               "--iree-hal-local-target-device-backends=vmvx-inline"),
}


class CompileFailure(Exception):
    """iree-compile rejected (or timed out on) a corpus item; `reason` is its first error line."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class CorpusItem:
    """One (source, flags) pair; `flags` is the complete iree-compile flag list bar in/out paths."""
    name: str
    source: Path
    kind: str      # "vm" | "program"
    variant: str   # "vm" | "scalar" | "ukernel" | "datatiled" | "inline"
    flags: tuple[str, ...]
    #: "ok", or what goes wrong with IREE 3.13 (a `// corpus-expect:` line): "load-fails",
    #: "verify-fails" (the module is rejected), "invoke-hangs" (loads; its calls never return)
    expect: str = "ok"
    hazards: tuple[str, ...] = ()  # e.g. ("invoke-hangs",) (a `// corpus-hazard:` line)
    inputs: tuple[str, ...] = ()   # programs: iree-run-module `--input=` flags for @main
    needs: tuple[str, ...] = ()    # vm: names of corpus vm modules providing its imports

    @property
    def id(self) -> str:
        return f"vm/{self.name}" if self.kind == "vm" else f"programs/{self.name}[{self.variant}]"


def iree_compile_path() -> str:
    """`iree-compile` on PATH, else next to the running Python; CompileFailure if neither."""
    found = shutil.which("iree-compile")
    if found:
        return found
    candidate = Path(sys.executable).parent / "iree-compile"
    if candidate.exists():
        return str(candidate)
    raise CompileFailure("iree-compile not found (pip install 'iree-base-compiler==3.13.*')")


@lru_cache(maxsize=1)
def compiler_version() -> str:
    """`iree-compile --version` output (memoized); part of every cache key."""
    out = subprocess.run([iree_compile_path(), "--version"], capture_output=True, text=True)
    return out.stdout.strip()


def _directives(path: Path) -> dict[str, str]:
    """`// corpus-NAME: value` lines of the source's leading comment block, by NAME."""
    found = {}
    for line in path.read_text().splitlines():
        if not line.startswith("//"):
            break
        m = re.match(r"// corpus-([a-z]+):(.*)$", line)
        if m:
            found[m.group(1)] = m.group(2).strip()
    return found


def vm_items() -> list[CorpusItem]:
    """Every `tests/corpus/vm/*.mlir`, sorted by name."""
    out = []
    for p in sorted((CORPUS_DIR / "vm").glob("*.mlir")):
        d = _directives(p)
        flags = tuple(d["flags"].split()) if "flags" in d else VM_FLAGS
        out.append(CorpusItem(p.stem, p, "vm", "vm", flags, d.get("expect", "ok"),
                              tuple(d.get("hazard", "").split()), (),
                              tuple(d.get("needs", "").split())))
    return out


def program_items() -> list[CorpusItem]:
    """Every `tests/corpus/programs/*.mlir` in every variant of PROGRAM_VARIANTS."""
    out = []
    for p in sorted((CORPUS_DIR / "programs").glob("*.mlir")):
        d = _directives(p)
        extra = tuple(d.get("flags", "").split())
        for variant, flags in PROGRAM_VARIANTS.items():
            out.append(CorpusItem(p.stem, p, "program", variant, flags + extra,
                                  d.get("expect", "ok"), tuple(d.get("hazard", "").split()),
                                  tuple(d.get("inputs", "").split())))
    return out


def all_items() -> list[CorpusItem]:
    return vm_items() + program_items()


def find_item(item_id: str) -> CorpusItem:
    """The item whose `id` is `item_id` (e.g. "vm/loop_sum"); KeyError if none."""
    for item in all_items():
        if item.id == item_id:
            return item
    raise KeyError(item_id)


def module_chain(item: CorpusItem) -> list[bytes]:
    """Compiled bytes of `item`'s `needs` (recursively, providers first) and then `item`,
    in the order a VmContext must load them."""
    by_name = {i.name: i for i in vm_items()}
    order: list[CorpusItem] = []

    def visit(i: CorpusItem) -> None:
        for name in i.needs:
            visit(by_name[name])
        if i not in order:
            order.append(i)
    visit(item)
    return [compile_item(i) for i in order]


def _key(item: CorpusItem) -> str:
    h = hashlib.sha256()
    for part in (item.source.read_bytes(), "\0".join(item.flags).encode(), compiler_version().encode()):
        h.update(part)
        h.update(b"\0")
    return h.hexdigest()[:32]


def _write_atomic(path: Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name + ".")
    with os.fdopen(fd, "wb") as f:
        f.write(data)
    os.replace(tmp, path)


def compiled_path(item: CorpusItem) -> Path:
    """The cache file holding `item`'s compiled bytes (compiling it if needed), for tools
    that take a path (`iree-run-module`, `iree-dump-module`). Do not modify the file."""
    compile_item(item)
    return CACHE_DIR / f"{_key(item)}.vmfb"


def _first_error(stderr: str, returncode: int) -> str:
    lines = [ln.strip() for ln in stderr.splitlines() if ln.strip()]
    errors = [ln for ln in lines if "error:" in ln] or [ln for ln in lines if "error" in ln.lower()]
    return (errors or lines or [f"iree-compile exited with {returncode}"])[0]


def compile_vm_source(source: Path) -> bytes:
    """A hand-written `vm` dialect module file compiled with VM_FLAGS (cached like any item;
    named by its stem)."""
    return compile_item(CorpusItem(source.stem, source, "vm", "vm", VM_FLAGS))


def compile_vm_text(directory: Path, name: str, text: str) -> bytes:
    """`text` (a whole `vm` dialect module) written to `directory`/`name`.mlir and compiled
    (`compile_vm_source`)."""
    source = Path(directory) / f"{name}.mlir"
    source.write_text(text)
    return compile_vm_source(source)


def compile_item(item: CorpusItem) -> bytes:
    """The compiled module bytes (cached); raises CompileFailure with the compiler's reason.

    Failures (including a timeout after COMPILE_TIMEOUT_S) are cached like successes: delete
    `.corpus-cache/` to retry them.
    """
    CACHE_DIR.mkdir(exist_ok=True)
    key = _key(item)
    out, fail = CACHE_DIR / f"{key}.vmfb", CACHE_DIR / f"{key}.fail"
    if out.exists():
        return out.read_bytes()
    if fail.exists():
        raise CompileFailure(fail.read_text())
    with tempfile.TemporaryDirectory() as tmp:
        target = Path(tmp) / "out.vmfb"
        try:
            run = subprocess.run([iree_compile_path(), *item.flags, str(item.source), "-o", str(target)],
                                 capture_output=True, text=True, timeout=COMPILE_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            reason = f"iree-compile timed out after {COMPILE_TIMEOUT_S} s"
            _write_atomic(fail, reason.encode())
            raise CompileFailure(reason) from None
        if run.returncode != 0:
            reason = _first_error(run.stderr, run.returncode)
            _write_atomic(fail, reason.encode())
            raise CompileFailure(reason)
        data = target.read_bytes()
    _write_atomic(out, data)
    return data


def compiled(items):
    """(item, module bytes) for each of `items` that compiles (CompileFailure: left out)."""
    for item in items:
        try:
            yield item, compile_item(item)
        except CompileFailure:
            continue


# --------------------------------------------------------------------------------------------
# The oracle: IREE's bytecode interpreter through iree.runtime.
# --------------------------------------------------------------------------------------------

class OracleTrap(RuntimeError):
    """IREE's interpreter failed the invocation (trap, vm.fail, bad argument); `message` is
    iree.runtime's text (status code name and message).

    iree.runtime raises ValueError / IndexError / RuntimeError depending on the status code;
    Oracle.call folds them all into this one type."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def _cconv_args(function) -> str | None:
    """The argument part of a VmFunction's calling convention ("0iIfF_r" -> "iIfF"), if known.

    iree.runtime exposes the convention only in `repr(function)`, e.g.
    `<VmFunction add(0ii_i), reflection = {}>`; None when that format is not recognised.
    """
    m = re.search(r"\(0([^_()]*)_[^()]*\)", repr(function))
    if not m:
        return None
    args = m.group(1)
    return "" if args == "v" else args


class Oracle:
    """One iree.runtime VmContext over `modules` (bytes, loaded in order: a module may import
    from any module before it) and `host_modules` (ready VmModules, e.g. corpus_host_module(),
    registered first).

    The context keeps its state (globals) across calls. Not thread-safe.
    """

    def __init__(self, modules: list[bytes], host_modules=()):
        import iree.runtime as rt
        self.rt = rt
        self.instance = rt.VmInstance()
        self.modules = list(host_modules) + [rt.VmModule.copy_buffer(self.instance, m)
                                             for m in modules]
        self.context = rt.VmContext(self.instance, modules=self.modules)

    def lookup(self, function: str):
        """`function` is "module.name" (a loaded module's name) or a name in the last module."""
        module, _, name = function.partition(".")
        qualified = [(m, name) for m in self.modules if name and m.name == module]
        for m, n in qualified + [(self.modules[-1], function)]:
            f = m.lookup_function(n)
            if f is not None:
                return f
        raise KeyError(f"no function {function!r} in modules {[m.name for m in self.modules]}")

    def _push(self, arglist, value, kind: str | None, pinned: list) -> None:
        rt = self.rt
        if kind in ("i", "I"):
            if isinstance(value, float) or not hasattr(value, "__index__"):
                raise TypeError(f"integer argument expected, got {value!r}")
            arglist.push_int(int(value))
        elif kind in ("f", "F"):
            arglist.push_float(float(value))  # f32 parameters get (float)value, round-to-nearest
        elif isinstance(value, rt.VmVariantList):
            arglist.push_list(value)
        elif isinstance(value, (rt.VmBuffer, rt.VmRef)):
            arglist.push_ref(value)
        elif isinstance(value, (bytes, bytearray, memoryview)) or hasattr(value, "__array_interface__"):
            data = bytes(memoryview(value).cast("B")) if not isinstance(value, bytes) else value
            buf = rt.VmBuffer(len(data), 64, True)
            memoryview(buf).cast("B")[:] = data
            pinned.append(buf)
            arglist.push_ref(buf)
        elif kind == "r":
            raise TypeError(f"ref argument expected (VmBuffer, VmVariantList, bytes), got {value!r}")
        elif isinstance(value, bool) or isinstance(value, int):
            arglist.push_int(int(value))
        elif isinstance(value, float):
            arglist.push_float(value)
        else:
            raise TypeError(f"cannot pass {value!r} to the VM")

    def _result(self, results, i: int):
        rt = self.rt
        v = results.get_variant(i)
        if isinstance(v, rt.VmRef):
            if v.isinstance(rt.VmBuffer):
                return v.deref(rt.VmBuffer)
            if v.isinstance(rt.VmVariantList):
                return v.deref(rt.VmVariantList)
        return v

    def call(self, function: str, args=()) -> list:
        """Invokes `function` with `args`; returns its results as a list.

        Arguments follow the function's calling convention: Python ints for i32/i64 (i32 keeps
        the low 32 bits), floats (or ints) for f32/f64, and for refs a VmBuffer, VmVariantList,
        VmRef, or bytes-like (copied into a fresh mutable VmBuffer). Results: ints (signed),
        floats, VmBuffer / VmVariantList for refs, None for null refs. A VM failure or trap
        raises OracleTrap; a call that does not match the signature raises TypeError first.
        """
        rt = self.rt
        fn = self.lookup(function)
        kinds = _cconv_args(fn)
        args = list(args)
        if kinds is not None and len(kinds) != len(args):
            raise TypeError(f"{function} takes {len(kinds)} arguments ({kinds}), got {len(args)}")
        arglist, pinned = rt.VmVariantList(max(len(args), 1)), []
        for i, value in enumerate(args):
            self._push(arglist, value, kinds[i] if kinds is not None else None, pinned)
        results = rt.VmVariantList(8)
        try:
            self.context.invoke(fn, arglist, results)
        except (RuntimeError, ValueError, IndexError) as e:
            raise OracleTrap(str(e)) from e
        return [self._result(results, i) for i in range(len(results))]


def oracle_call(modules_bytes: list[bytes], function: str, args: list, *, host_modules=()) -> list:
    """Loads `modules_bytes` in order into one fresh context and calls `function` once.

    See Oracle.call for argument and result conventions.
    """
    return Oracle(modules_bytes, host_modules).call(function, args)


def corpus_host_module():
    """A Python-implemented `corpus_host` module providing the fixed-arity imports of
    vm/imports_variadic (`corpus_host.*`); its variadic `corpus_variadic.*` imports have no
    provider (iree.runtime's PyModuleInterface cannot express variadic signatures).

    add_2d_f32(lhs, off, (s0, s1), rhs, off, (s0, s1), out, off, (s0, s1), (n0, n1)): element
    offsets and strides, f32; mix(a, b, c, d) = a + b + c + d (f64); echo(b) = b;
    split(x) = (x >> 16, x & 0xFFFF); slow_inc(x) = x + 1 (never yields).
    """
    import iree.runtime as rt
    import numpy as np

    def f32(ref):
        return np.frombuffer(ref.deref(rt.VmBuffer), dtype=np.float32)

    class Host:
        def __init__(self, iface):
            pass

        def add_2d_f32(self, lhs, lo, ls0, ls1, rhs, ro, rs0, rs1, out, oo, os0, os1, n0, n1):
            lv, rv, ov = f32(lhs), f32(rhs), f32(out)
            for i in range(n0):
                for j in range(n1):
                    ov[oo + i * os0 + j * os1] = lv[lo + i * ls0 + j * ls1] + rv[ro + i * rs0 + j * rs1]

        def mix(self, a, b, c, d):
            return float(a) + float(b) + float(c) + float(d)

        def echo(self, b):
            return b

        def split(self, x):
            return ((x >> 16), x & 0xFFFF)

        def slow_inc(self, x):
            return x + 1

    iface = rt.PyModuleInterface("corpus_host", Host)
    iface.export("add_2d_f32", "0rIIIrIIIrIIIII_v", Host.add_2d_f32)
    iface.export("mix", "0ifIF_F", Host.mix)
    iface.export("echo", "0r_r", Host.echo)
    iface.export("split", "0i_ii", Host.split)
    iface.export("slow_inc", "0i_i", Host.slow_inc)
    return iface.create()
