"""splatjit: a lightweight JIT compiler for IREE VM bytecode (`.vmfb`).

Pipeline: bytes -> frontend (FlatBuffer reader, table-driven decoder, verifier) -> IR ->
regalloc -> emit_x64 / emit_a64 -> runtime. See README.md and docs/ARCHITECTURE.md.
"""
from .errors import (DecodeError, FormatError, LinkError, SplatJitError, TrapError,
                     UnsupportedError, VerifyError)
from .frontend.loader import LoadedModule, load_module

__version__ = "0.1.0"
__all__ = ["SplatJitError", "FormatError", "DecodeError", "VerifyError", "UnsupportedError",
           "TrapError", "LinkError", "load_module", "LoadedModule", "JitModule"]


def __getattr__(name):  # JitModule imports the compiler stack: load it on first use
    if name == "JitModule":
        from .module import JitModule
        return JitModule
    raise AttributeError(name)
