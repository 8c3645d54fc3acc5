"""Removes document type declarations from XML before any XML parser sees it (C1-C5).

A DOCTYPE is where entity bombs (billion laughs, quadratic blowup), external entities (XXE) and
DTD retrieval come from, and no feed needs one. Removing it from the prolog leaves undeclared
entity references unexpanded instead of resolved.
"""

import codecs
import re
from dataclasses import dataclass

from .common import ParseError

_WIDE_ENCODINGS = (
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
)
_WIDE_WITHOUT_BOM = (
    (b"\x00\x00\x00<", "utf-32-be"),
    (b"<\x00\x00\x00", "utf-32-le"),
    (b"\x00<\x00", "utf-16-be"),
    (b"<\x00", "utf-16-le"),
)
_ROOT_NAME = re.compile(r"<([A-Za-z_][\w:.-]*)")
_DECLARATION_START = re.compile(r"<!(DOCTYPE|ENTITY|ELEMENT|ATTLIST|NOTATION)", re.IGNORECASE)


def _wide_encoding(data: bytes) -> tuple[str, bytes] | None:
    for bom, encoding in _WIDE_ENCODINGS:
        if data.startswith(bom):
            return encoding, bom
    for start, encoding in _WIDE_WITHOUT_BOM:
        if data.startswith(start):
            return encoding, b""
    return None


def _declaration_end(text: str, start: int) -> int:
    """Index just past the `>` closing the declaration at `start`, honouring quotes and `[...]`."""
    depth = 0
    quote = ""
    position = start + 2
    length = len(text)
    while position < length:
        char = text[position]
        if quote:
            if char == quote:
                quote = ""
        elif char in "\"'":
            quote = char
        elif text.startswith("<!--", position):
            close = text.find("-->", position + 4)
            if close < 0:
                break
            position = close + 3
            continue
        elif char == "[":
            depth += 1
        elif char == "]":
            depth = max(depth - 1, 0)
        elif char == ">" and depth == 0:
            return position + 1
        position += 1
    raise ParseError("the document type declaration at the start of the document never ends")


def _strip_prolog_declarations(text: str) -> tuple[str, bool, str]:
    """(`text` without markup declarations before the root element, whether any declared
    entities, the root element's name)."""
    kept: list[str] = []
    removed_entities = False
    position = 0
    found = False
    while True:
        tag = text.find("<", position)
        if tag < 0:
            break
        if text.startswith("<?", tag):
            close = text.find("?>", tag + 2)
            if close < 0:
                break
            kept.append(text[position : close + 2])
            position = close + 2
        elif text.startswith("<!--", tag):
            close = text.find("-->", tag + 4)
            if close < 0:
                break
            kept.append(text[position : close + 3])
            position = close + 3
        elif _DECLARATION_START.match(text, tag):
            end = _declaration_end(text, tag)
            removed_entities = removed_entities or "<!entity" in text[tag:end].lower()
            kept.append(text[position:tag])
            position = end
            found = True
        else:
            break
    root = _ROOT_NAME.match(text, tag) if tag >= 0 else None
    root_name = root.group(1) if root else ""
    if not found:
        return text, False, root_name
    kept.append(text[position:])
    return "".join(kept), removed_entities, root_name


@dataclass
class GuardedXml:
    data: bytes  # the document without DTD declarations
    dropped_entities: bool  # entity definitions were thrown away
    root_name: str  # the root element's name as written ("" when there is none)
    closed: bool  # the document ends with the root element's end tag (it is not truncated)


def _closes_root(text: str, root_name: str) -> bool:
    """True when, after trailing whitespace, comments and PIs, the text ends with </root>."""
    if not root_name:
        return False
    tail = text[-65536:].rstrip()
    while tail.endswith(("-->", "?>")):
        opener = "<!--" if tail.endswith("-->") else "<?"
        start = tail.rfind(opener)
        if start < 0:
            return False
        tail = tail[:start].rstrip()
    if tail.endswith("/>") and tail.rfind("<") == tail.rfind("<" + root_name):
        return True  # an empty root element written as <rss/>
    if tail.endswith("</" + root_name):
        return True  # only the final ">" is missing: nothing of the content was lost
    if not tail.endswith(">"):
        return False
    start = tail.rfind("</")
    return start >= 0 and tail[start + 2 : -1].strip() == root_name


def strip_doctype(data: bytes) -> GuardedXml:
    """The document without DTD declarations in its prolog, and what was seen on the way."""
    wide = _wide_encoding(data)
    if wide is None:
        # Every ASCII-compatible encoding spells the prolog's markup with the same bytes.
        encoding, bom = "latin-1", b""
    else:
        encoding, bom = wide
    text = data[len(bom) :].decode(encoding, "replace")
    stripped, removed_entities, root_name = _strip_prolog_declarations(text)
    closed = _closes_root(text, root_name)
    if stripped is not text:
        data = bom + stripped.encode(encoding, "replace")
    return GuardedXml(data, removed_entities, root_name, closed)
