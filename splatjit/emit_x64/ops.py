"""The x86-64 lowering table: every supported mnemonic -> its lowering function."""
from __future__ import annotations

from . import ops_control, ops_copy_nest, ops_float, ops_int, ops_list, ops_memory

HANDLERS = {**ops_int.HANDLERS, **ops_float.HANDLERS, **ops_memory.HANDLERS, **ops_control.HANDLERS,
            **ops_list.HANDLERS, **ops_copy_nest.HANDLERS}  # last: its cast.any.ref adds list targets to ops_memory's
#: Mnemonics lowered to native calls (libm, libc, other functions): caller-saved registers die.
CALLS = frozenset(ops_float.CALLS | ops_memory.CALLS | ops_control.CALLS | ops_list.CALLS)


def clobbers_caller_saved(ins) -> bool:
    return ins.op.mnemonic in CALLS
