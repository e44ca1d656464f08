"""A LoadedModule that lets go of its functions' IR once its JitModule is built.

A built JitModule reads its functions' IR only on rare paths: the message of a `vm.fail`
trap, the listing and tag map (which compile the module again), tier-up's optimizing
compile, `splatjit disasm`. Kept, that IR (Function, Block, Instr and its argument dict,
Successor, lists) is about half of the container objects a module leaves behind, and the
cycle collector traverses every one of them: the young collection that follows each
construction, then every older collection while the module lives. So `JitModule` wraps
the modules it loads itself in a `LeanLoaded` and calls `forget()` at the end of its
construction; a later read of `functions` decodes them again from the module definition
(which holds the bytecode) and keeps them.

Contract: `functions` is always the module's decoded, verified IR: after `forget()`, equal
to what it was (new objects, not the same ones). `defn` and the nested executables'
definitions are never dropped (rodata refs and descriptors point into `defn`'s bytes). A
`LoadedModule` a caller passes to `JitModule` is used as it is, never wrapped.
"""
from __future__ import annotations

from ..frontend.loader import LoadedModule, NestedExecutable, decode_functions


class LeanLoaded(LoadedModule):
    """`loaded` with the same definition and IR, and nested executables wrapped too (so the
    JitModules of a program's kernels, built from them, can drop theirs)."""

    def __init__(self, loaded: LoadedModule):  # (not the dataclass's: `functions` is a property)
        self.defn = loaded.defn
        self._functions = loaded.functions
        self.executables = [NestedExecutable(e.rodata_ordinal, e.format, LeanLoaded.of(e.module))
                            for e in loaded.executables]

    @classmethod
    def of(cls, loaded: LoadedModule) -> "LeanLoaded":
        return loaded if isinstance(loaded, cls) else cls(loaded)

    @property
    def functions(self) -> list:
        functions = self._functions
        if functions is None:
            functions = self._functions = decode_functions(self.defn)
        return functions

    @functions.setter
    def functions(self, value: list) -> None:
        self._functions = value

    @property
    def holds_ir(self) -> bool:
        """Whether the decoded functions are held now (else the next read decodes them)."""
        return self._functions is not None

    def forget(self) -> None:
        """Drops this module's IR (not its nested executables': their own JitModules do)."""
        self._functions = None
