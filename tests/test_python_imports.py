"""Imports served by Python callables: fixed and variadic signatures, ref arguments and ref
results, on vm/imports_variadic (its `corpus_variadic.*` imports have variadic spans, which
iree.runtime's Python modules cannot provide, so these results are checked by hand)."""
from __future__ import annotations

import numpy as np
import pytest

import corpus
from splatjit import TrapError
from splatjit.module import JitModule
from splatjit.runtime.objects import HostObject

DATA = None


def _data() -> bytes:
    global DATA
    if DATA is None:
        DATA = corpus.compile_item(corpus.find_item("vm/imports_variadic"))
    return DATA


class Token(HostObject):
    """An opaque ref a Python import hands to native code and gets back."""

    def __init__(self, name):
        super().__init__()
        self.name = name


def _providers(log: list):
    def dispatch(cb, exe, entry, x, y, z, flags, constants, bindings):
        log.append((cb, exe, entry, (x, y, z), flags, constants,
                    [(slot, reserved, buf.copy(), off, length)
                     for slot, reserved, buf, off, length in bindings]))

    variadic = {
        "sum_i32": lambda base, values: base + sum(v for (v,) in values),
        "dot": lambda ints, floats: sum(i * f for (i,), (f,) in zip(ints, floats)),
        "dispatch": dispatch,
        "join": lambda timeout, refs: refs[1][0],
        "wait_all": lambda timeout, values: timeout + len(values),
    }
    host = {
        "add_2d_f32": lambda *a: None,
        "mix": lambda a, b, c, d: a + b + c + d,
        "echo": lambda b: b,
        "split": lambda x: (x >> 16, x & 0xFFFF),
        "slow_inc": lambda x: x + 1,
    }
    return {"corpus_variadic": variadic, "corpus_host": host}


def test_variadic_spans_arrive_as_lists_of_tuples():
    log = []
    m = JitModule(_data(), imports=_providers(log))
    assert m.resolved_mask() == 3
    assert m.sum3(1, 2, 3, 4) == (1 + 2 + 3 + 4) + 1  # second call has an empty span
    assert m.dot2(2, 3, 1.5, 0.25) == 3.75


def test_sum3_wraps_to_i32():
    m = JitModule(_data(), imports=_providers([]))
    got = m.sum3(0x7FFFFFFF, 1, 0, 0)
    want = (0x7FFFFFFF + 1 + 0x7FFFFFFF) & 0xFFFFFFFF
    assert got == (want - (1 << 32) if want >= 1 << 31 else want)


def test_dispatch_shaped_call_passes_refs_constants_and_binding_tuples():
    log = []
    m = JitModule(_data(), imports=_providers(log))
    cb, exe = Token("cb"), Token("exe")
    buf = np.arange(128, dtype=np.uint8)
    assert m.dispatch(cb, exe, buf, 7) == 1
    (got_cb, got_exe, entry, grid, flags, constants, bindings), = log
    assert got_cb is cb and got_exe is exe
    assert (entry, grid, flags) == (3, (7, 1, 1), 0)
    assert constants == [(7,), (0,), (1,)]
    assert [(s, r, o, n) for s, r, _, o, n in bindings] == [(0, 0, 0, 64), (1, 0, 64, 64)]
    for _, _, view, _, _ in bindings:  # the whole buffer, zero-copy
        assert np.array_equal(view, buf)


def test_ref_results_from_python_come_back_as_buffers():
    m = JitModule(_data(), imports=_providers([]))
    a, b = np.zeros(8, np.uint8), np.arange(8, dtype=np.uint8)
    joined = m.join(a, b)  # the Python import returns its second ref argument
    assert np.array_equal(joined, b)
    b[0] = 99  # zero-copy: the result views the caller's memory
    assert joined[0] == 99
    assert np.array_equal(m.echo(b), b)
    assert m.echo(None) is None


def test_python_import_exception_is_a_trap_naming_the_cause():
    providers = _providers([])
    providers["corpus_variadic"]["sum_i32"] = lambda base, values: 1 / 0
    m = JitModule(_data(), imports=providers)
    with pytest.raises(TrapError, match="ZeroDivisionError"):
        m.sum3(1, 2, 3, 4)
    assert m.dot2(1, 1, 1.0, 1.0) == 2.0  # the module still works after the trap


def test_wrong_result_type_is_a_trap():
    providers = _providers([])
    providers["corpus_variadic"]["join"] = lambda timeout, refs: "not a buffer"
    m = JitModule(_data(), imports=providers)
    with pytest.raises(TrapError, match="import returned str"):
        m.join(np.zeros(4, np.uint8), np.zeros(4, np.uint8))


_CODES = {"i32": "i", "i64": "q", "f32": "f", "f64": "d", "ref": "Q"}


@pytest.mark.parametrize("types, args", [
    (("i64",), [-5]),
    (("ref", "i32", "ref"), [0x1000, 3, 0]),
    (("i32", ("i64",)), [5, [(1,), (-2,), (3,)]]),
    (("i32", ("i32",)), [5, []]),
    (("ref", "i64", ("ref", "i64", "i64"), "i32"), [0x10, 9, [(0x20, 1, 2), (0, 3, -4)], 7]),
    (("i32", ("i32",), ("f32",)), [1, [(2,), (3,), (4,)], [(0.5,), (-1.5,), (2.0,)]]),
    ((("i32", "ref"),), [[(1, 0x30), (2, 0x40), (3, 0)]]),
])
def test_args_decoder_reads_memory_as_it_decodes_bytes(types, args):
    """abi.ArgsDecoder: `decode` on a copy, `read` and `reader` on memory agree, spans
    (empty, several, followed by scalars, holding refs) included."""
    import ctypes

    from splatjit.runtime import abi
    counts = [len(a) if isinstance(t, tuple) else 0 for t, a in zip(types, args)]
    flat = []
    for t, a in zip(types, args):
        if isinstance(t, tuple):
            flat.append(len(a))
            flat.extend(v for item in a for v in item)
        else:
            flat.append(a)
    st, size = abi.layout_struct(abi.flatten_variadic(types, counts), codes=_CODES)
    raw = st.pack(*flat)
    memory = ctypes.create_string_buffer(raw, len(raw))

    def ref(address):
        return ("ref", address)

    def refs(t, v):
        return ref(v) if t == "ref" else v

    want = [[tuple(refs(et, v) for et, v in zip(t, item)) for item in a]
            if isinstance(t, tuple) else refs(t, a) for t, a in zip(types, args)]
    decoder = abi.ArgsDecoder(types)
    assert decoder.decode(raw, ref) == want
    assert decoder.read(ctypes.addressof(memory), ref) == want
    assert list(decoder.reader()(ctypes.addressof(memory), ref)) == want
    assert decoder.reader() is decoder.reader()  # made once per decoder


def test_a_module_cannot_be_closed_from_inside_its_own_call():
    """An import that closes the module calling it gets an error instead of unmapping the
    code it returns into; the module keeps working afterwards."""
    from splatjit import SplatJitError
    box = {"close": True}

    def closing_inc(x):
        if box["close"]:
            box["m"].close()
        return x + 1

    providers = _providers([])
    providers["corpus_host"]["slow_inc"] = closing_inc
    m = box["m"] = JitModule(_data(), imports=providers)
    with pytest.raises((SplatJitError, TrapError), match="cannot close it while"):
        m.slow_add3(1)
    box["close"] = False
    assert m.slow_add3(1) == 4


def test_a_builtin_call_waits_for_another_threads_call_inside_a_python_import():
    """Thread A's call of `slow_add3` (a scalar export: a CPython builtin) blocks inside its
    Python import, which lets the GIL go. Thread B's call of another scalar export of the
    same module must not run its native code in the meantime (a module's Context and arena
    serve one call at a time): it returns only once A's call has returned."""
    import threading
    entered, go, order = threading.Event(), threading.Event(), []

    def blocking_inc(x):
        if x == 100:
            entered.set()
            assert go.wait(10)
        return x + 1

    providers = _providers([])
    providers["corpus_host"]["slow_inc"] = blocking_inc
    m = JitModule(_data(), imports=providers)
    assert m.slow_add3(1) == 4 and m.mix(1, 2.0, 3, 4.0) == 10.0  # (first calls: the entries)
    assert m._exports["slow_add3"]._entry is not None and m._exports["mix"]._entry is not None

    def first():
        order.append(("a", m.slow_add3(100)))

    def second():
        order.append(("b", m.mix(1, 2.0, 3, 4.0)))

    a = threading.Thread(target=first)
    a.start()
    assert entered.wait(10)
    b = threading.Thread(target=second)
    b.start()
    b.join(0.3)
    assert b.is_alive() and order == []  # B waits while A is inside its import
    go.set()
    a.join(10)
    b.join(10)
    assert order == [("a", 103), ("b", 10.0)]
    assert m.slow_add3(5) == 8 and m.mix(1, 2.0, 3, 4.0) == 10.0  # both paths still work
