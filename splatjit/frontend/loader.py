"""The frontend's entry point: `.vmfb` bytes -> verified IR for every function.

Contract: `load_module(data)` returns a `LoadedModule` whose functions are all decoded and
verified, or raises a `SplatJitError` subclass (`FormatError`, `DecodeError`,
`VerifyError`). Nested executables (VMVX kernels of a program) are found through the host
module's own references: the rodata segments passed as the executable data to
`hal.executable.create`, with the format string passed beside them.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple

from ..errors import FormatError, SplatJitError
from ..ir import Function
from .archive import load_module_def
from .decoder import decode_module_functions
from .fastload import decode_verified
from .opcodes import OPCODES
from .schema import ModuleDef
from .verifier import verify_function

#: Imports whose (format, data) rodata arguments name a nested executable, by argument index.
EXECUTABLE_CREATE_ARGS = {"hal.executable.create": (2, 3)}
#: Nested executable formats that are themselves VM bytecode modules.
BYTECODE_FORMATS = frozenset({"vmvx-bytecode-fb"})
MAX_NESTING = 4


@dataclass
class NestedExecutable:
    rodata_ordinal: int
    format: str
    module: "LoadedModule"


@dataclass
class LoadedModule:
    defn: ModuleDef
    functions: list[Function]
    executables: list[NestedExecutable] = field(default_factory=list)

    @property
    def name(self) -> str:
        return self.defn.name

    def function(self, name: str) -> Function:
        for fn in self.functions:
            if fn.name == name:
                return fn
        raise KeyError(name)

    @property
    def op_count(self) -> int:
        return sum(fn.op_count for fn in self.functions) + sum(
            e.module.op_count for e in self.executables)


class _Effects(NamedTuple):
    """What one opcode does to the "ref register holds rodata k" facts (see `_rodata_flow`)."""
    ref_dsts: tuple      # field names of ref destination registers (each kills its fact)
    dst_lists: tuple     # field names of destination register lists (refs among them kill)
    edges: tuple         # (field name, is a list of successors) of the branch fields
    loads_rodata: bool   # const.ref.rodata: its `value` register now holds `rodata`
    calls: bool          # has a `callee_ordinal` (a call: `_rodata_flow` may visit it)
    inert: bool          # none of the above: the facts pass it unchanged


_EFFECTS: dict = {}  # Opcode (identity-hashed table rows) -> its effects


def _effects(op) -> _Effects:
    e = _EFFECTS.get(op)
    if e is None:
        fields = op.fields
        ref_dsts = tuple(f.name for f in fields if f.kind == "dst" and f.bank == "ref")
        dst_lists = tuple(f.name for f in fields if f.kind == "dstlist")
        loads = op.mnemonic == "const.ref.rodata"
        calls = any(f.name == "callee_ordinal" for f in fields)
        e = _EFFECTS[op] = _Effects(ref_dsts, dst_lists, op.edge_fields, loads, calls,
                                    not (ref_dsts or dst_lists or op.edge_fields or loads or calls))
    return e


def _successors(ins, e: _Effects) -> list:
    """The instruction's successors, in field order."""
    out = []
    for name, is_list in e.edges:
        if is_list:
            out.extend(ins.args[name])
        else:
            out.append(ins.args[name])
    return out


def _rodata_flow(fn: Function, calls: dict, visit) -> None:
    """Forward dataflow of "ref register r holds rodata segment k" over `fn`'s blocks.

    `visit(ins, state)` sees each call whose callee ordinal is in `calls`, with the facts
    that hold before it. At a block entry a fact holds only if it holds on every incoming
    edge. Blocks are passed in order until no block's entry facts change after the block
    was passed (so an acyclic function takes one pass).
    """
    effects = _EFFECTS
    entry: dict[int, dict[int, int]] = {0: {}}
    changed = True
    while changed:
        changed = False
        for block in fn.blocks:
            if block.index not in entry:
                continue
            state = dict(entry[block.index])
            for ins in block.instrs:
                e = effects.get(ins.op) or _effects(ins.op)
                if e.inert:
                    continue
                args = ins.args
                if e.calls and args["callee_ordinal"] in calls:
                    visit(ins, state)
                if state:
                    for name in e.ref_dsts:
                        state.pop(args[name].ordinal, None)
                    for name in e.dst_lists:
                        for r in args[name]:
                            if r.is_ref:
                                state.pop(r.ordinal, None)
                if e.loads_rodata:
                    state[args["value"].ordinal] = args["rodata"]
                if not e.edges:
                    continue
                for succ in _successors(ins, e):
                    out = dict(state)
                    for src, dst in succ.remap:
                        if dst.is_ref:
                            out.pop(dst.ordinal, None)
                            if src.ordinal in state:
                                out[dst.ordinal] = state[src.ordinal]
                    old = entry.get(succ.block)
                    new = out if old is None else {k: v for k, v in old.items() if out.get(k) == v}
                    if new != old:
                        entry[succ.block] = new
                        # (a later block sees it in this pass: only a change to a block
                        # already passed needs another pass; an unresolved successor, as
                        # the bare decoder leaves them, takes one as it always did)
                        if succ.block is None or succ.block <= block.index:
                            changed = True


def _calls_any(fn: Function, callees) -> bool:
    calls = _CALLS
    for block in fn.blocks:
        for ins in block.instrs:
            if ins.op in calls and ins.args["callee_ordinal"] in callees:
                return True
    return False


#: The ops that name a callee (`callee_ordinal`): the only ones `_calls_any` looks into.
_CALLS = frozenset(op for op in OPCODES if any(f.name == "callee_ordinal" for f in op.fields))


def executable_references(module: ModuleDef, functions: list[Function]) -> list[tuple[int, int]]:
    """(format rodata, data rodata) ordinal pairs passed to executable-creation imports.
    Only the functions that call one of those imports are analysed (the facts are per
    function, and only such calls record pairs)."""
    wanted = {i | 0x80000000: EXECUTABLE_CREATE_ARGS[imp.name]
              for i, imp in enumerate(module.imports) if imp.name in EXECUTABLE_CREATE_ARGS}
    found: list[tuple[int, int]] = []

    def visit(ins, state):
        positions = wanted[ins.args["callee_ordinal"]]
        ops = ins.args["operands"]
        if max(positions) < len(ops):
            pair = tuple(state.get(ops[i].ordinal) if ops[i].is_ref else None for i in positions)
            if None not in pair and pair not in found:
                found.append(pair)

    if wanted:
        for fn in functions:
            if _calls_any(fn, wanted):
                _rodata_flow(fn, wanted, visit)
    return found


def decode_functions(defn) -> list:
    """`defn`'s functions, decoded and verified: the fused pass, or where it does not accept
    the module the reference pair, which raises the error."""
    functions = decode_verified(defn)
    if functions is None:  # not plainly valid: the reference pass decides (and names the error)
        functions = decode_module_functions(defn)
        for fn in functions:
            verify_function(fn, defn)
    return functions


def load_module(data, *, nested: bool = True, _depth: int = 0) -> LoadedModule:
    """Parses, decodes and verifies a module (and, if `nested`, its nested executables)."""
    defn = load_module_def(data)
    functions = decode_functions(defn)
    loaded = LoadedModule(defn, functions)
    if nested:
        if _depth >= MAX_NESTING:
            raise FormatError(f"executables nested deeper than {MAX_NESTING} levels")
        for fmt_i, data_i in executable_references(defn, functions):
            fmt = defn.rodata[fmt_i].data.decode("utf-8", errors="replace")
            if fmt not in BYTECODE_FORMATS:
                continue
            try:
                inner = load_module(defn.rodata[data_i].data, nested=True, _depth=_depth + 1)
            except SplatJitError as e:
                raise type(e)(f"nested executable in rodata[{data_i}]: {e.message}",
                              where=e.where) from None
            loaded.executables.append(NestedExecutable(data_i, fmt, inner))
    return loaded
