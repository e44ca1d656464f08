"""The `.vmfb` container: a bare or ZIP-wrapped, size-prefixed FlatBuffer plus external rodata.

Layout (as IREE's archive writer lays it out):
  [ZIP local file header for `module.fb`]          optional; stripped like IREE does
  u32 FlatBuffer length L, then L bytes of FlatBuffer  (file identifier `IREE`)
  external rodata, starting at align(end of FlatBuffer, 64) relative to the archive start;
  each external segment names its (offset, length) relative to that base.
Nested files (VMVX executables) are external rodata segments that are themselves archives.
"""
from __future__ import annotations

import struct

from ..errors import FormatError
from .flatbuffer import Buffer
from .schema import ModuleDef, read_module

ZIP_LOCAL_HEADER = struct.Struct("<IHHHHHIIIHH")  # 30 bytes
ZIP_LOCAL_SIGNATURE = 0x04034B50
SEGMENT_ALIGNMENT = 64
MIN_FLATBUFFER = 16


def _strip_zip_header(data: bytes) -> int:
    """Byte offset where the module starts (after a ZIP local header, if one is present)."""
    if len(data) < ZIP_LOCAL_HEADER.size:
        return 0
    fields = ZIP_LOCAL_HEADER.unpack_from(data, 0)
    if fields[0] != ZIP_LOCAL_SIGNATURE:
        return 0
    offset = ZIP_LOCAL_HEADER.size + fields[9] + fields[10]
    if offset > len(data):
        raise FormatError("archive has a ZIP header but is too short to hold a module")
    return offset


def is_archive(data: bytes) -> bool:
    """True when `data` looks like an IREE module archive (ZIP-wrapped or bare)."""
    try:
        start = _strip_zip_header(data)
    except FormatError:
        return False
    return len(data) >= start + 8 + 4 and data[start + 8:start + 12] == b"IREE"


def load_module_def(data: bytes | bytearray | memoryview) -> ModuleDef:
    """Parses a `.vmfb` (ZIP-wrapped or bare) into a `ModuleDef`; raises `FormatError`."""
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise FormatError(f"module data must be bytes, not {type(data).__name__}")
    data = bytes(data)
    start = _strip_zip_header(data)
    if len(data) - start < MIN_FLATBUFFER:
        raise FormatError(f"module is {len(data) - start} bytes, too small for a FlatBuffer")
    length = struct.unpack_from("<I", data, start)[0]
    if length > len(data) - start - 4:
        raise FormatError(f"FlatBuffer length prefix {length} exceeds the "
                          f"{len(data) - start - 4} bytes available")
    fb_start = start + 4
    rodata_base = (fb_start + length + SEGMENT_ALIGNMENT - 1) & ~(SEGMENT_ALIGNMENT - 1)
    buf = Buffer(data[fb_start:fb_start + length], "module FlatBuffer")
    return read_module(buf, data, rodata_base)
