"""The exception hierarchy every stage raises.

Contract: any malformed input (bytes, bytecode, arguments) surfaces as a subclass of
`SplatJitError`; no stage lets `IndexError`, `struct.error`, `KeyError` or a crash escape.
Each error carries a `where` string (module, function, bytecode offset) when one is known.
"""
from __future__ import annotations


class SplatJitError(Exception):
    """Base class of every error splatjit raises on purpose."""

    def __init__(self, message: str, *, where: str | None = None):
        self.message = message
        self.where = where
        super().__init__(f"{where}: {message}" if where else message)


class FormatError(SplatJitError):
    """The container (ZIP or FlatBuffer) is malformed: bad offset, length, identifier."""


class DecodeError(SplatJitError):
    """Bytecode cannot be decoded: unknown opcode, truncated operand, bad encoding."""


class VerifyError(SplatJitError):
    """Decoded bytecode breaks a static rule: register range, branch target, signature."""


class UnsupportedError(SplatJitError):
    """Valid input that splatjit does not (yet) handle."""


class TrapError(SplatJitError):
    """Execution trapped (bounds, division by zero, vm.fail, vm.check.*).

    `function` and `offset` name the bytecode position of the trapping op.
    """

    def __init__(self, message: str, *, function: str | None = None, offset: int | None = None,
                 status: int | None = None):
        self.function = function
        self.offset = offset
        self.status = status
        where = None
        if function is not None:
            where = f"{function}+0x{offset:x}" if offset is not None else function
        super().__init__(message, where=where)


class LinkError(SplatJitError):
    """An import has no provider, or its provider's signature differs from the import's."""
