"""Deterministic XML bytes from ElementTree elements (layer 3).

ElementTree escapes ``<``, ``&`` and quotes but writes characters that XML 1.0 does
not allow at all (most control characters), which makes the whole document
unreadable; ``xml_safe`` replaces those with U+FFFD first.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

__all__ = ["xml_bytes", "xml_safe"]

_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")


def xml_safe(text: str) -> str:
    """``text`` with characters XML 1.0 cannot carry replaced by U+FFFD.

    >>> xml_safe("a\\x00b<c")
    'a\\ufffdb<c'
    """
    return _NOT_XML.sub("\ufffd", text)


def xml_bytes(root: ET.Element) -> bytes:
    """UTF-8 XML with a declaration and a final newline; attribute order as inserted."""
    ET.indent(root)
    data: bytes = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    return data + b"\n"
