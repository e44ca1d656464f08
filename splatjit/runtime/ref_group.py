"""Modules whose refs reach each other's memory, and who decides what stays alive.

A JitModule owns what its code allocates (its BufferHeap: native arena and Python-made
buffers, lists; its ObjectSpace) and, after each outermost call, keeps exactly what its ref
globals reach (`JitModule._retain_globals`). When module A calls module B natively through an
import whose signature carries refs, a buffer B allocated can end up in A's ref global (or
one of A's in B's), and a call of either may still hold the other's buffers in registers.
Then neither module alone knows what is live.

A `RefGroup` joins such modules (transitively: a chain A -> B -> C is one group). For its
members:
  * no call ends without a collection: the scalar fast paths and builtin entries, which
    rewind the native arena when their module's dicts are empty, are diverted to the
    Python call path (`JitModule._join_group`);
  * a collection waits while any member's call runs (`busy`), since that call's frames may
    hold refs into any member's memory;
  * a collection keeps what any member's ref globals reach (`live`), in every member
    (`JitModule._collect`): a member's heap roots its own arena buffers that another
    member's global holds, so its arena retires, not reuses, their chunk;
  * a ref a member returns to Python is looked up in every member (`lookup`).

Members are held weakly: an importer keeps its providers alive (ImportTable.keep), and a
collected module has nothing left to keep.
"""
from __future__ import annotations

import weakref


class RefGroup:
    """See the module docstring."""

    def __init__(self):
        self._members: weakref.WeakSet = weakref.WeakSet()

    @staticmethod
    def join(a, b) -> "RefGroup":
        """Puts JitModules `a` and `b` (and the groups they are in) into one group."""
        group = a._group or b._group or RefGroup()
        for module in (a, b):
            other = module._group
            if other is group:
                continue
            for member in (list(other._members) if other is not None else [module]):
                group._members.add(member)
                member._join_group(group)
        return group

    def members(self) -> list:
        return list(self._members)

    def busy(self) -> bool:
        """Whether a call of some member is running."""
        return any(m._depth_cell.value for m in self._members)

    def live(self) -> frozenset[int]:
        """What the ref globals of every member reach now (through lists too)."""
        live: set[int] = set()
        for m in self._members:
            live |= m._live_refs()
        return frozenset(live)

    def lookup(self, address: int, first):
        """The Python object for a ref the code returned: `first`'s own, else another
        member's (None if no member knows it)."""
        obj = first._lookup_own(address)
        if obj is not None:
            return obj
        for m in self._members:
            if m is not first:
                obj = m._lookup_own(address)
                if obj is not None:
                    return obj
        return None
