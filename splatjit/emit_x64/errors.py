"""The one error the x86-64 assembler raises on purpose."""
from __future__ import annotations

from splatjit.errors import SplatJitError


class AsmError(SplatJitError):
    """An illegal or unencodable instruction form, operand, label use or CPU feature.

    The message names the instruction form (e.g. ``add r/m64, imm32``) or the operand
    combination (e.g. ``[base + index*scale + disp]``) that was rejected.
    """
