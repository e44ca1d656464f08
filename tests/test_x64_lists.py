"""`!vm.list` in the x86-64 JIT against IREE's interpreter, bit for bit.

Modules: the corpus `lists.mlir`, plus `list_quirks` generated below (every set.S/get.G pair
on every element type, the traps IREE reports as FAILED_PRECONDITION / INVALID_ARGUMENT,
get.ref type filtering, lists kept in a ref global across calls). Both run in one oracle
context so lists made by one module can be passed to the other.

Harness rules (as tests/test_x64_differential.py): splatjit runs first with a fuel budget;
inputs where it traps for fuel or a failed helper (a list past MAX_LIST_CAPACITY, which the
interpreter might really try to allocate) are skipped and never sent to the oracle. Anything
else must agree: the same values (lists compared element by element, NaNs equal), or a trap
on both sides.
"""
from __future__ import annotations

import gc
import math
import struct

import numpy as np
import pytest

import corpus
from differential import EDGE, Oracle, edge_inputs, normalise, same
from splatjit import TrapError
from splatjit.module import JitModule
from splatjit.runtime.lists import MAX_LIST_CAPACITY, TypedList

FUEL = 200_000
SKIP_TRAPS = ("fuel exhausted", "runtime helper failed")
ACCESS = ("i32", "i64", "f32", "f64")
ELEMENTS = ("i8", "i16", "i32", "i64", "f32", "f64", "?")
#: lists.mlir exports whose ref arguments are lists (the others take buffers).
LIST_ARGS = {"get_i8", "get_i16", "get_i32", "get_i64", "get_f32", "get_f64", "set_i8", "set_i16",
             "set_i32", "set_i64", "set_f32", "set_f64", "size", "get_ref"}
#: list_quirks exports sharing one ref-global list (tested as a call sequence).
GLOBAL_LIST = {"gpush", "gpush_buf", "gget", "gbuf_sum", "glist"}
INDICES = [0, 1, 2, -1, 3, 100, 0x7FFFFFFF, -0x80000000]
#: VM-made typed lists: (module, maker export, value); each makes list<T> of 3 copies.
TYPED = [("list_quirks", "make_i8", -3), ("list_quirks", "make_i8", 200),
         ("list_quirks", "make_i16", 40000), ("lists", "make_list_i32", -7),
         ("list_quirks", "make_i64", -(2**40)), ("list_quirks", "make_f32", -1.25),
         ("list_quirks", "make_f64", math.pi)]


# ---------------------------------------------------------------- the quirks module
def _cross(t: str, s: str, g: str) -> str:
    """set.s then get.g on element 0 of a fresh list<t>."""
    lt = f"!vm.list<{t}>"
    return f"""
  vm.export @cross_{t.replace('?', 'any')}_{s}_{g}
  vm.func @cross_{t.replace('?', 'any')}_{s}_{g}(%v : {s}) -> {g} {{
    %c0 = vm.const.i32.zero
    %c1 = vm.const.i32 1
    %l = vm.list.alloc %c1 : (i32) -> {lt}
    vm.list.resize %l, %c1 : ({lt}, i32)
    vm.list.set.{s} %l, %c0, %v : ({lt}, i32, {s})
    %r = vm.list.get.{g} %l, %c0 : ({lt}, i32) -> {g}
    vm.return %r : {g}
  }}"""


def _maker(t: str) -> str:
    """make_t(n, v): a list<t> of n copies of v (set with the widest matching accessor)."""
    s = {"i8": "i32", "i16": "i32", "i32": "i32", "i64": "i64", "f32": "f32", "f64": "f64"}[t]
    lt = f"!vm.list<{t}>"
    return f"""
  vm.export @make_{t}
  vm.func @make_{t}(%n : i32, %v : {s}) -> {lt} {{
    %l = vm.list.alloc %n : (i32) -> {lt}
    vm.list.resize %l, %n : ({lt}, i32)
    %c0 = vm.const.i32.zero
    %c1 = vm.const.i32 1
    vm.br ^loop(%c0 : i32)
  ^loop(%i : i32):
    %more = vm.cmp.lt.i32.s %i, %n : i32
    vm.cond_br %more, ^body, ^done
  ^body:
    vm.list.set.{s} %l, %i, %v : ({lt}, i32, {s})
    %i1 = vm.add.i32 %i, %c1 : i32
    vm.br ^loop(%i1 : i32)
  ^done:
    vm.return %l : {lt}
  }}"""


QUIRKS_FIXED = """
  // a buffer set into a list<!vm.list<i32>> (reached through a runtime-checked cast) traps
  vm.export @ref_list_type_mismatch
  vm.func @ref_list_type_mismatch(%b : !vm.buffer) -> i32 {
    %c0 = vm.const.i32.zero
    %c1 = vm.const.i32 1
    %l0 = vm.list.alloc %c1 : (i32) -> !vm.list<!vm.list<i32>>
    %any = vm.cast.ref.any %l0 : !vm.list<!vm.list<i32>> -> !vm.ref<?>
    %l = vm.cast.any.ref %any : !vm.ref<?> -> !vm.list<!vm.buffer>
    vm.list.resize %l, %c1 : (!vm.list<!vm.buffer>, i32)
    vm.list.set.ref %l, %c0, %b : (!vm.list<!vm.buffer>, i32, !vm.buffer)
    %s = vm.list.size %l : (!vm.list<!vm.buffer>) -> i32
    vm.return %s : i32
  }

  // a buffer cast to a list type traps
  vm.export @cast_buffer_to_list
  vm.func @cast_buffer_to_list(%b : !vm.buffer) -> i32 {
    %any = vm.cast.ref.any %b : !vm.buffer -> !vm.ref<?>
    %l = vm.cast.any.ref %any : !vm.ref<?> -> !vm.list<?>
    %nz = vm.cmp.nz.ref %l : !vm.list<?>
    vm.return %nz : i32
  }

  // get.ref as !vm.ref<?> (type !vm.opaque): IREE yields null even for a stored buffer
  vm.export @get_ref_opaque
  vm.func @get_ref_opaque(%b : !vm.buffer) -> i32 {
    %c0 = vm.const.i32.zero
    %c1 = vm.const.i32 1
    %l = vm.list.alloc %c1 : (i32) -> !vm.list<?>
    vm.list.resize %l, %c1 : (!vm.list<?>, i32)
    vm.list.set.ref %l, %c0, %b : (!vm.list<?>, i32, !vm.buffer)
    %r = vm.list.get.ref %l, %c0 : (!vm.list<?>, i32) -> !vm.ref<?>
    %nz = vm.cmp.nz.ref %r : !vm.ref<?>
    vm.return %nz : i32
  }

  // get.ref of a buffer as a list: null, not a trap
  vm.export @get_ref_as_list
  vm.func @get_ref_as_list(%b : !vm.buffer) -> i32 {
    %c0 = vm.const.i32.zero
    %c1 = vm.const.i32 1
    %l = vm.list.alloc %c1 : (i32) -> !vm.list<?>
    vm.list.resize %l, %c1 : (!vm.list<?>, i32)
    vm.list.set.ref %l, %c0, %b : (!vm.list<?>, i32, !vm.buffer)
    %r = vm.list.get.ref %l, %c0 : (!vm.list<?>, i32) -> !vm.list<i32>
    %nz = vm.cmp.nz.ref %r : !vm.list<i32>
    vm.return %nz : i32
  }

  // value get of an empty variant element traps
  vm.export @empty_variant_get
  vm.func @empty_variant_get(%i : i32) -> i32 {
    %c2 = vm.const.i32 2
    %l = vm.list.alloc %c2 : (i32) -> !vm.list<?>
    vm.list.resize %l, %c2 : (!vm.list<?>, i32)
    %r = vm.list.get.i32 %l, %i : (!vm.list<?>, i32) -> i32
    vm.return %r : i32
  }

  // value get / set on a ref list element traps. (iree-compile 3.13 cannot encode
  // vm.list.alloc of a list<!vm.buffer>: "type '!vm.buffer' ... not registered in type table".)
  vm.export @ref_list_get_i32
  vm.func @ref_list_get_i32(%i : i32) -> i32 {
    %c2 = vm.const.i32 2
    %l = vm.list.alloc %c2 : (i32) -> !vm.list<!vm.list<i32>>
    vm.list.resize %l, %c2 : (!vm.list<!vm.list<i32>>, i32)
    %any = vm.cast.ref.any %l : !vm.list<!vm.list<i32>> -> !vm.ref<?>
    %v = vm.cast.any.ref %any : !vm.ref<?> -> !vm.list<?>
    %r = vm.list.get.i32 %v, %i : (!vm.list<?>, i32) -> i32
    vm.return %r : i32
  }

  vm.export @ref_list_set_f64
  vm.func @ref_list_set_f64(%v : f64) -> i32 {
    %c0 = vm.const.i32.zero
    %c2 = vm.const.i32 2
    %l = vm.list.alloc %c2 : (i32) -> !vm.list<!vm.list<i32>>
    vm.list.resize %l, %c2 : (!vm.list<!vm.list<i32>>, i32)
    %any = vm.cast.ref.any %l : !vm.list<!vm.list<i32>> -> !vm.ref<?>
    %w = vm.cast.any.ref %any : !vm.ref<?> -> !vm.list<?>
    vm.list.set.f64 %w, %c0, %v : (!vm.list<?>, i32, f64)
    %s = vm.list.size %l : (!vm.list<!vm.list<i32>>) -> i32
    vm.return %s : i32
  }

  // ref get / set on a value list trap
  vm.export @value_list_get_ref
  vm.func @value_list_get_ref(%i : i32) -> i32 {
    %c2 = vm.const.i32 2
    %l = vm.list.alloc %c2 : (i32) -> !vm.list<i32>
    vm.list.resize %l, %c2 : (!vm.list<i32>, i32)
    %any = vm.cast.ref.any %l : !vm.list<i32> -> !vm.ref<?>
    %v = vm.cast.any.ref %any : !vm.ref<?> -> !vm.list<?>
    %r = vm.list.get.ref %v, %i : (!vm.list<?>, i32) -> !vm.buffer
    %nz = vm.cmp.nz.ref %r : !vm.buffer
    vm.return %nz : i32
  }

  vm.export @value_list_set_ref
  vm.func @value_list_set_ref(%b : !vm.buffer) -> i32 {
    %c0 = vm.const.i32.zero
    %c2 = vm.const.i32 2
    %l = vm.list.alloc %c2 : (i32) -> !vm.list<i32>
    vm.list.resize %l, %c2 : (!vm.list<i32>, i32)
    %any = vm.cast.ref.any %l : !vm.list<i32> -> !vm.ref<?>
    %v = vm.cast.any.ref %any : !vm.ref<?> -> !vm.list<?>
    vm.list.set.ref %v, %c0, %b : (!vm.list<?>, i32, !vm.buffer)
    %s = vm.list.size %l : (!vm.list<i32>) -> i32
    vm.return %s : i32
  }

  // a value overwrites a ref element and reads back; a null ref empties a value element
  vm.export @variant_ref_then_value
  vm.func @variant_ref_then_value(%b : !vm.buffer, %v : i32) -> i32 {
    %c0 = vm.const.i32.zero
    %c1 = vm.const.i32 1
    %l = vm.list.alloc %c1 : (i32) -> !vm.list<?>
    vm.list.resize %l, %c1 : (!vm.list<?>, i32)
    vm.list.set.ref %l, %c0, %b : (!vm.list<?>, i32, !vm.buffer)
    vm.list.set.i32 %l, %c0, %v : (!vm.list<?>, i32, i32)
    %r = vm.list.get.i32 %l, %c0 : (!vm.list<?>, i32) -> i32
    vm.return %r : i32
  }

  vm.export @variant_null_then_get
  vm.func @variant_null_then_get(%v : i32) -> i32 {
    %c0 = vm.const.i32.zero
    %c1 = vm.const.i32 1
    %l = vm.list.alloc %c1 : (i32) -> !vm.list<?>
    vm.list.resize %l, %c1 : (!vm.list<?>, i32)
    vm.list.set.i32 %l, %c0, %v : (!vm.list<?>, i32, i32)
    %null = vm.const.ref.zero : !vm.buffer
    vm.list.set.ref %l, %c0, %null : (!vm.list<?>, i32, !vm.buffer)
    %r = vm.list.get.i32 %l, %c0 : (!vm.list<?>, i32) -> i32
    vm.return %r : i32
  }

  vm.export @variant_value_get_ref
  vm.func @variant_value_get_ref(%v : i32) -> i32 {
    %c0 = vm.const.i32.zero
    %c1 = vm.const.i32 1
    %l = vm.list.alloc %c1 : (i32) -> !vm.list<?>
    vm.list.resize %l, %c1 : (!vm.list<?>, i32)
    vm.list.set.i32 %l, %c0, %v : (!vm.list<?>, i32, i32)
    %r = vm.list.get.ref %l, %c0 : (!vm.list<?>, i32) -> !vm.buffer
    %nz = vm.cmp.nz.ref %r : !vm.buffer
    vm.return %nz : i32
  }

  // a variant list result: [v, [v as i64, f], null, list<i8> of 2 copies of v]
  vm.export @make_nested
  vm.func @make_nested(%v : i32, %f : f32) -> !vm.list<?> {
    %c0 = vm.const.i32.zero
    %c1 = vm.const.i32 1
    %c2 = vm.const.i32 2
    %c3 = vm.const.i32 3
    %c4 = vm.const.i32 4
    %l = vm.list.alloc %c4 : (i32) -> !vm.list<?>
    vm.list.resize %l, %c4 : (!vm.list<?>, i32)
    vm.list.set.i32 %l, %c0, %v : (!vm.list<?>, i32, i32)
    %in = vm.list.alloc %c2 : (i32) -> !vm.list<?>
    vm.list.resize %in, %c2 : (!vm.list<?>, i32)
    %v64 = vm.ext.i32.i64.s %v : i32 -> i64
    vm.list.set.i64 %in, %c0, %v64 : (!vm.list<?>, i32, i64)
    vm.list.set.f32 %in, %c1, %f : (!vm.list<?>, i32, f32)
    vm.list.set.ref %l, %c1, %in : (!vm.list<?>, i32, !vm.list<?>)
    %b = vm.list.alloc %c2 : (i32) -> !vm.list<i8>
    vm.list.resize %b, %c2 : (!vm.list<i8>, i32)
    vm.list.set.i32 %b, %c0, %v : (!vm.list<i8>, i32, i32)
    vm.list.set.i32 %b, %c1, %v : (!vm.list<i8>, i32, i32)
    vm.list.set.ref %l, %c3, %b : (!vm.list<?>, i32, !vm.list<i8>)
    vm.return %l : !vm.list<?>
  }

  // a variant list in a ref global, grown across calls; holds values and buffers
  vm.global.ref private mutable @g : !vm.list<?>

  vm.func private @global_list() -> !vm.list<?> {
    %l = vm.global.load.ref @g : !vm.list<?>
    %nz = vm.cmp.nz.ref %l : !vm.list<?>
    vm.cond_br %nz, ^have, ^make
  ^have:
    vm.return %l : !vm.list<?>
  ^make:
    %c0 = vm.const.i32.zero
    %n = vm.list.alloc %c0 : (i32) -> !vm.list<?>
    vm.global.store.ref %n, @g : !vm.list<?>
    vm.return %n : !vm.list<?>
  }

  vm.export @gpush
  vm.func @gpush(%v : i32) -> i32 {
    %l = vm.call @global_list() : () -> !vm.list<?>
    %n = vm.list.size %l : (!vm.list<?>) -> i32
    %c1 = vm.const.i32 1
    %n1 = vm.add.i32 %n, %c1 : i32
    vm.list.resize %l, %n1 : (!vm.list<?>, i32)
    vm.list.set.i32 %l, %n, %v : (!vm.list<?>, i32, i32)
    vm.return %n1 : i32
  }

  vm.export @gpush_buf
  vm.func @gpush_buf(%b : !vm.buffer) -> i32 {
    %l = vm.call @global_list() : () -> !vm.list<?>
    %n = vm.list.size %l : (!vm.list<?>) -> i32
    %c1 = vm.const.i32 1
    %n1 = vm.add.i32 %n, %c1 : i32
    vm.list.resize %l, %n1 : (!vm.list<?>, i32)
    vm.list.set.ref %l, %n, %b : (!vm.list<?>, i32, !vm.buffer)
    vm.return %n1 : i32
  }

  vm.export @gget
  vm.func @gget(%i : i32) -> i32 {
    %l = vm.call @global_list() : () -> !vm.list<?>
    %r = vm.list.get.i32 %l, %i : (!vm.list<?>, i32) -> i32
    vm.return %r : i32
  }

  vm.export @gbuf_sum
  vm.func @gbuf_sum(%i : i32) -> i32 {
    %l = vm.call @global_list() : () -> !vm.list<?>
    %b = vm.list.get.ref %l, %i : (!vm.list<?>, i32) -> !vm.buffer
    %c0 = vm.const.i64.zero
    %x = vm.buffer.load.i32 %b[%c0] : !vm.buffer -> i32
    vm.return %x : i32
  }

  vm.export @glist
  vm.func @glist() -> !vm.list<?> {
    %l = vm.call @global_list() : () -> !vm.list<?>
    vm.return %l : !vm.list<?>
  }
"""


def quirks_source() -> str:
    parts = [_cross(t, s, g) for t in ELEMENTS for s in ACCESS for g in ACCESS]
    parts += [_maker(t) for t in ("i8", "i16", "i64", "f32", "f64")]
    return "vm.module @list_quirks {" + "".join(parts) + QUIRKS_FIXED + "}\n"


# ---------------------------------------------------------------- fixtures
pytestmark = pytest.mark.usefixtures("memory_cap")


@pytest.fixture(scope="module")
def modules(tmp_path_factory):
    """(lists bytes, quirks bytes)."""
    item = next(i for i in corpus.vm_items() if i.name == "lists")
    source = tmp_path_factory.mktemp("quirks") / "list_quirks.mlir"
    source.write_text(quirks_source())
    quirks = corpus.CorpusItem("list_quirks", source, "vm", "vm", ("--compile-mode=vm",))
    return corpus.compile_item(item), corpus.compile_item(quirks)


@pytest.fixture(scope="module")
def env(modules):
    lists_bytes, quirks_bytes = modules
    return Env(JitModule(lists_bytes, fuel=FUEL), JitModule(quirks_bytes, fuel=FUEL),
               Oracle([lists_bytes, quirks_bytes]))


# ---------------------------------------------------------------- oracle side
class Env:
    """The two JitModules and one oracle context holding both modules."""

    def __init__(self, lists, quirks, oracle):
        self.jit = {"lists": lists, "list_quirks": quirks}
        self.oracle = oracle
        self.rt = oracle.rt
        self.compared = 0

    def sig(self, module, name):
        jm = self.jit[module]
        return jm.loaded.defn.signatures[jm[name].ordinal]

    def to_oracle(self, v):
        """A Python argument as the oracle takes it (lists -> VmVariantList, arrays -> VmBuffer)."""
        rt = self.rt
        if isinstance(v, list):
            out = rt.VmVariantList(max(len(v), 1))
            for x in v:
                if isinstance(x, list):
                    out.push_list(self.to_oracle(x))
                elif isinstance(x, np.ndarray):
                    out.push_ref(self.to_oracle(x))
                elif isinstance(x, float):
                    out.push_float(x)
                else:
                    out.push_int(x)
            return out
        if isinstance(v, np.ndarray):
            vb = rt.VmBuffer(v.nbytes, 16, True)
            np.frombuffer(vb, dtype=np.uint8)[:] = np.frombuffer(v.tobytes(), dtype=np.uint8)
            return vb
        return v

    def from_oracle_list(self, vl):
        rt, out = self.rt, []
        for i in range(vl.size):
            v = vl.get_variant(i)
            if isinstance(v, rt.VmRef):
                if "vm.list" in repr(v):
                    out.append(self.from_oracle_list(vl.get_as_list(i)))
                else:
                    out.append(bytes(np.frombuffer(vl.get_as_object(i, rt.VmBuffer), np.uint8)))
            else:
                out.append(v)
        return out

    def invoke(self, module, name, args):
        """Raw oracle call: args already oracle values; returns the results VmVariantList."""
        rt = self.rt
        index = 0 if module == "lists" else 1
        fn = self.oracle.modules[index].lookup_function(name)
        sig = self.sig(module, name)
        arglist = rt.VmVariantList(max(len(args), 1))
        for v, t in zip(args, sig.args):
            if isinstance(v, rt.VmVariantList):
                arglist.push_list(v)
            elif t == "ref":
                arglist.push_ref(v)
            elif t in ("f32", "f64"):
                arglist.push_float(v)
            else:
                arglist.push_int(v)
        results = rt.VmVariantList(4)
        self.oracle.context.invoke(fn, arglist, results)
        return results

    def results(self, module, name, results):
        out = []
        for i, t in enumerate(self.sig(module, name).results):
            v = results.get_variant(i)
            if t == "ref" and v is not None:
                v = self.from_oracle_list(results.get_as_list(i)) if "vm.list" in repr(v) else \
                    bytes(np.frombuffer(results.get_as_object(i, self.rt.VmBuffer), np.uint8))
            out.append(v)
        return out


def norm(x):
    """A comparable form of a result or list element (floats by bits, NaNs equal)."""
    if x is None:
        return None
    if isinstance(x, list):
        return [norm(e) for e in x]
    if isinstance(x, (np.ndarray, bytes, bytearray, memoryview)):
        return bytes(np.frombuffer(bytes(x), np.uint8))
    if isinstance(x, float):
        return "nan" if math.isnan(x) else struct.pack("<d", x).hex()
    return int(x)


def compare(env, module, name, args, *, lists_after=()):
    """Runs `name` on both sides; `args` are Python values (lists, arrays, scalars) or
    (jit value, oracle value) pairs. `lists_after` names argument positions whose list
    contents must match after the call. Returns False when the input was skipped."""
    pairs = [a if isinstance(a, tuple) else (a, None) for a in args]
    jit_args = [j for j, _ in pairs]
    ora_args = [o if o is not None else env.to_oracle(j) for j, o in pairs]  # before lists change
    where = f"{module}.{name}{tuple(jit_args)!r}"[:300]
    try:
        got, got_trap = env.jit[module][name](*jit_args), None
    except TrapError as e:
        if any(s in e.message for s in SKIP_TRAPS):
            return False
        got, got_trap = None, e
    try:
        want, want_trap = env.results(module, name, env.invoke(module, name, ora_args)), None
    except Exception as e:  # noqa: BLE001 - the interpreter reports any failure so
        want, want_trap = None, e
    assert (got_trap is None) == (want_trap is None), \
        f"{where}: splatjit {got_trap or got!r}, interpreter {want_trap or want!r}"
    if got_trap is None:
        types = env.sig(module, name).results
        got_list = [got] if len(types) == 1 else list(got or ())
        assert len(got_list) == len(want), where
        for t, g, w in zip(types, got_list, want):
            if t == "ref":
                assert norm(g) == norm(w), f"{where}: {g!r} != {w!r}"
            else:
                assert same(normalise(g, t), normalise(w, t), t), f"{where}: {g!r} != {w!r}"
    for i in lists_after:
        ora = ora_args[i]
        assert norm(jit_args[i]) == norm(env.from_oracle_list(ora)), \
            f"{where}: list argument {i} differs after the call: {jit_args[i]!r}"
    env.compared += 1
    return True


def _fresh(v):
    """A deep copy of a Python list argument (calls update lists in place)."""
    if isinstance(v, list):
        copy = [_fresh(x) for x in v]
        return TypedList(v.element_type, copy) if isinstance(v, TypedList) else copy
    return v.copy() if isinstance(v, np.ndarray) else v


# ---------------------------------------------------------------- tests
def _buffer(n: int):
    return np.random.default_rng(n).integers(0, 256, size=16, dtype=np.uint8)


def _scalar_inputs(sig):
    scalar = [t if t != "ref" else "i32" for t in sig.args]
    for n, combo in enumerate(edge_inputs(scalar, limit=40)):
        yield [(_buffer(n) if t == "ref" else v) for t, v in zip(sig.args, combo)]


@pytest.mark.parametrize("module", ["lists", "list_quirks"])
def test_exports_with_scalar_and_buffer_arguments_match_interpreter(env, module):
    """Every export whose refs are buffers, on edge inputs (results incl. list results)."""
    jm = env.jit[module]
    compared = 0
    for export in jm.loaded.defn.exports:
        if export.name in LIST_ARGS or export.name in GLOBAL_LIST or export.name.startswith("__"):
            continue
        sig = jm.loaded.defn.signatures[export.ordinal]
        for args in _scalar_inputs(sig):
            compared += compare(env, module, export.name, args)
    assert compared > (200 if module == "lists" else 1500)


def _variant_lists():
    return [
        [0, 1, -1, 2**40 + 5, -(2**63), 2**63 - 1, 0x7F, 0x80, -129, 70000],
        [0.0, -0.0, 1.5, -2.5, 1e-40, 3.4e38, 1e300, math.inf, math.nan],
        [7, 2.5, _buffer(1), [1, [2.5]], 2**33],
        [],
    ]


def _typed(env, spec):
    """(splatjit TypedList, oracle list): the same list<T> made by the VM on each side."""
    module, maker, v = spec
    jit = env.jit[module][maker](3, v)
    assert isinstance(jit, TypedList) and jit.element_type == maker.split("_")[-1]
    return jit, env.invoke(module, maker, [3, v]).get_as_list(0)


def test_list_arguments_get_and_size_match_interpreter(env):
    """Python lists (variant) and VM-made typed lists passed into get_* / size / get_ref."""
    compared = 0
    inputs = [(lst, None) for lst in _variant_lists()] + [_typed(env, spec) for spec in TYPED]
    for lst, ora in inputs:
        compared += compare(env, "lists", "size", [(_fresh(lst), ora)])
        for name in sorted(LIST_ARGS):
            if not name.startswith("get"):
                continue
            for i in INDICES:
                compared += compare(env, "lists", name, [(_fresh(lst), ora), i])
    assert compared > 300


def test_list_arguments_set_matches_interpreter_and_updates_the_python_list(env):
    """set_* into variant Python lists and VM-made typed lists: the same trap or the same
    list contents afterwards (splatjit writes them back into the Python list passed)."""
    compared = 0
    for name in sorted(n for n in LIST_ARGS if n.startswith("set")):
        t = {"i8": "i32", "i16": "i32"}.get(name[4:], name[4:])
        for k, v in enumerate(EDGE[t][::3]):
            for i in (0, 2, -1, 3):
                for lst in _variant_lists()[:3]:
                    compared += compare(env, "lists", name, [_fresh(lst), i, v], lists_after=[0])
                for spec in TYPED[k % 2::2]:
                    compared += compare(env, "lists", name, [_typed(env, spec), i, v],
                                        lists_after=[0])
    assert compared > 300


def test_list_kept_in_a_ref_global_across_calls_matches_interpreter(env, modules):
    """Values and an argument buffer stored in a global list survive the call that stored
    them (and garbage collection in between)."""
    buf = np.arange(16, dtype=np.uint8)
    steps = [("gpush", [5]), ("gpush_buf", [buf]), ("gpush", [-3]), ("gget", [0]),
             ("gbuf_sum", [1]), ("gget", [2]), ("gget", [1]), ("gbuf_sum", [0]), ("gget", [3]),
             ("gbuf_sum", [-1]), ("glist", [])]
    lists_bytes, quirks_bytes = modules
    fresh = Env(JitModule(lists_bytes, fuel=FUEL), JitModule(quirks_bytes, fuel=FUEL),
                Oracle([lists_bytes, quirks_bytes]))
    for name, args in steps:
        assert compare(fresh, "list_quirks", name, args)
        gc.collect()
        junk = [np.ones(16, np.uint8) * 0xEE for _ in range(64)]  # reuse freed memory
        del junk
    assert fresh.jit["list_quirks"].glist()[1] is buf


def test_python_list_round_trip_semantics(env):
    """Plain lists are variant lists updated in place; typed lists keep their type."""
    m = env.jit["lists"]
    values = [1, 2**40, 3.5, np.int8(-1), np.float32(0.1), None]
    assert m.get_i32(values, 1) == 0            # an i64 variant truncates
    assert m.get_i8(values, 3) == -1            # an i8 variant sign-extends
    assert m.get_f64(values, 4) == float(np.float32(0.1))  # f32 -> f64
    assert m.get_f32(values, 0) == 0.0          # int -> float gives 0
    with pytest.raises(TrapError, match="ref type mismatch"):
        m.get_i32(values, 5)                    # an empty element is not a value
    with pytest.raises(TrapError, match="out-of-bounds"):
        m.get_i32(values, 6)
    with pytest.raises(TrapError, match="null reference"):
        m.size(None)
    m.set_i8(values, 0, 1000)                   # variant: stored as an i32, not truncated
    assert values[0] == 1000 and len(values) == 6
    typed = TypedList("i8", [1, 2, 3])
    m.set_i8(typed, 0, 1000)                    # list<i8>: truncated
    assert typed == [-24, 2, 3] and typed.element_type == "i8"
    made = m.make_list_i32(2, 9)
    assert made == [9, 9] and made.element_type == "i32"
    m.set_f32(made, 1, 2.5)                     # float into list<i32>: 0
    assert made == [9, 0]
    b = np.zeros(4, np.uint8)
    assert m.get_ref([b, [1]], 0) is b and m.get_ref([b, [1]], 1) is None
    cyclic = [1]
    cyclic.append(cyclic)
    assert m.size(cyclic) == 2 and m.get_i64(cyclic, 0) == 1
    nested = env.jit["list_quirks"].make_nested(300, 0.5)
    assert nested == [300, [300, 0.5], None, [44, 44]]
    assert type(nested) is list and nested[3].element_type == "i8"


@pytest.mark.parametrize("bad, message", [
    ([True], "bool"), ([object()], "expected a buffer"), ([2**64], "does not fit i64"),
    ([np.float16(1)], "float16"), (TypedList("i8", [300]), "is not an i8"),
    (TypedList("!vm.buffer", [[1]]), "cannot be an element"),
])
def test_bad_list_elements_raise_type_error_before_running(env, bad, message):
    with pytest.raises(TypeError, match=message):
        env.jit["lists"].size(bad)


def test_capacity_cap_traps_instead_of_allocating(env):
    m = env.jit["lists"]
    with pytest.raises(TrapError, match="runtime helper failed"):
        m.iota_sum_i32(MAX_LIST_CAPACITY + 1)
    with pytest.raises(TrapError, match="runtime helper failed"):
        m.reserve_resize(0, -1, 0)             # reserve counts are unsigned
    assert m.reserve_resize(0, 100, 3) == 3
