"""Reads an XML document in an encoding we allow and removes its document type declarations
before any XML parser sees it (C1-C5, H2).

A DOCTYPE is where entity bombs (billion laughs, quadratic blowup), external entities (XXE) and
DTD retrieval come from, and no feed needs one. Removing it from the prolog leaves undeclared
entity references unexpanded instead of resolved.

The declarations are looked for in the decoded text, never in the raw bytes: a document written
in UTF-7 or EBCDIC spells `<!DOCTYPE` with other bytes. So the encoding is decided here, once,
from the byte order mark, the server's charset and the XML declaration, and only encodings in
which markup is unambiguous are accepted (`ALLOWED_ENCODINGS`); the document handed on is UTF-8
and says so. defusedxml then reads the result's prolog with DTDs forbidden, so a declaration
that slipped past the scanner is refused rather than obeyed.
"""

import codecs
import re
from dataclasses import dataclass
from xml.etree.ElementTree import ParseError as XmlSyntaxError

import defusedxml
from defusedxml.ElementTree import XMLParser as DefusedXMLParser

from .common import ParseError

# Python codec names. UTF-16 and UTF-32 only when the bytes say so (a byte order mark, or a
# first "<" written in them); UTF-7, EBCDIC code pages and stateful encodings (ISO-2022, HZ)
# are refused, because they write the same characters with bytes a prolog reader misses.
ALLOWED_ENCODINGS = frozenset(
    {
        "utf-8", "utf-8-sig", "ascii",
        *(f"iso8859-{n}" for n in (1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 14, 15, 16)),
        *(f"cp{n}" for n in range(1250, 1259)),
        "cp874", "tis-620", "koi8-r", "koi8-u", "mac-roman",
        "gb2312", "gbk", "gb18030", "big5", "big5hkscs", "euc_jp", "euc_kr", "shift_jis",
        "cp932", "cp949",
        "utf-16", "utf-16-le", "utf-16-be", "utf-32", "utf-32-le", "utf-32-be",
    }
)  # fmt: skip
_WIDE = frozenset({"utf-16", "utf-16-le", "utf-16-be", "utf-32", "utf-32-le", "utf-32-be"})
_BOMS = (
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF32_LE, "utf-32-le"),  # before UTF-16 LE, whose mark it starts with
    (codecs.BOM_UTF16_BE, "utf-16-be"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
)
# Without a mark, UTF-16 and UTF-32 are recognised by the document's first "<", as the XML
# specification's appendix F describes (and as feedparser and libxml2 do).
_WIDE_WITHOUT_BOM = (
    (b"\x00\x00\x00<", "utf-32-be"),
    (b"<\x00\x00\x00", "utf-32-le"),
    (b"\x00<", "utf-16-be"),
    (b"<\x00", "utf-16-le"),
)
_EBCDIC_XML_DECLARATION = b"\x4c\x6f\xa7\x94"  # "<?xm" in every EBCDIC code page
_XML_DECLARATION = re.compile(r"<\?xml\b[^>]*?\?>")
_ENCODING_ATTRIBUTE = re.compile(r"""(\sencoding\s*=\s*)(["'])([^"']*)\2""")
_ROOT_NAME = re.compile(r"<([A-Za-z_][\w:.-]*)")
_DECLARATION_START = re.compile(r"<!(DOCTYPE|ENTITY|ELEMENT|ATTLIST|NOTATION)", re.IGNORECASE)


class RefusedEncoding(ParseError):
    """The document is written in (or names) an encoding documents may not use."""


def _codec_name(label: str) -> str:
    """Python's name for an encoding label, or "" when Python does not know it."""
    try:
        return codecs.lookup(label.strip()).name
    except (LookupError, ValueError):
        return ""


def _declared_encoding(text: str) -> str:
    declaration = _XML_DECLARATION.match(text)
    if declaration is None:
        return ""
    attribute = _ENCODING_ATTRIBUTE.search(declaration.group())
    return attribute.group(3) if attribute else ""


def _refuse_unless_allowed(label: str, where: str, *, unknown_is_refused: bool) -> str:
    name = _codec_name(label)
    if name in ALLOWED_ENCODINGS or (not name and not unknown_is_refused):
        return name
    raise RefusedEncoding(
        f"the document {where} the encoding {label[:40]!r}, which is refused: documents must be "
        "UTF-8, UTF-16 with a byte order mark, or an ISO-8859, Windows or CJK legacy encoding"
    )


def decode_document(
    data: bytes, *, charset: str = "", unknown_is_refused: bool = False
) -> tuple[str, str]:
    """(the document as text, the encoding it was read in).

    The byte order mark decides when there is one, or a UTF-16/32 first "<"; otherwise the
    server's `charset`, then the XML declaration, then UTF-8, then Windows-1252 (what browsers
    read "ISO-8859-1" as), the first that decodes cleanly. Raises RefusedEncoding for UTF-7,
    EBCDIC, any other encoding outside ALLOWED_ENCODINGS named by the charset or the
    declaration, and (with `unknown_is_refused`) an encoding Python does not know.
    """
    marks = [(bom, encoding, len(bom)) for bom, encoding in _BOMS]
    signatures = [(start, encoding, 0) for start, encoding in _WIDE_WITHOUT_BOM]
    for start, encoding, mark_length in (*marks, *signatures):
        if data.startswith(start):
            text = data[mark_length:].decode(encoding, "replace")
            if charset:
                _refuse_unless_allowed(charset, "is served with", unknown_is_refused=False)
            declared = _declared_encoding(text)
            if declared:
                _refuse_unless_allowed(declared, "declares", unknown_is_refused=unknown_is_refused)
            return text, encoding
    if data.startswith(_EBCDIC_XML_DECLARATION):
        raise RefusedEncoding("the document is written in EBCDIC, an encoding that is refused")
    if b"\x00" in data[:4]:
        raise RefusedEncoding(
            "the document starts with NUL bytes but is not UTF-16 or UTF-32, which is refused"
        )
    head = data[:1024].decode("latin-1")  # markup of the prolog is ASCII in every allowed encoding
    candidates = []
    if charset:
        candidates.append(
            _refuse_unless_allowed(charset, "is served with", unknown_is_refused=False)
        )
    declared = _declared_encoding(head)
    if declared:
        candidates.append(
            _refuse_unless_allowed(declared, "declares", unknown_is_refused=unknown_is_refused)
        )
    candidates += ["utf-8", "cp1252"]
    tried = []
    for name in candidates:
        if not name or name in _WIDE or name in tried:
            continue  # a UTF-16 label on bytes without a mark and without NULs is wrong
        name = {"iso8859-1": "cp1252", "ascii": "utf-8"}.get(name, name)
        tried.append(name)
        try:
            return data.decode(name), name
        except UnicodeDecodeError:
            continue
    return data.decode(tried[0], "replace"), tried[0]


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


def _strip_prolog_declarations(text: str) -> tuple[str, bool, bool, str]:
    """(`text` without markup declarations before the root element, whether any were removed,
    whether any declared entities, the root element's name)."""
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
        return text, False, False, root_name
    kept.append(text[position:])
    return "".join(kept), True, removed_entities, root_name


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


class _RootReached(Exception):
    pass


class _PrologOnly:
    """An ElementTree parser target that stops the parse at the root element's start tag."""

    def start(self, tag, attributes):
        raise _RootReached

    def close(self):
        return None


def refuse_dtd(data: bytes) -> None:
    """Raise ParseError if the prolog of `data` (UTF-8 XML) holds a DTD or entity declaration.

    defusedxml reads up to the root element with DTDs forbidden. Whether the rest is
    well-formed is not decided here: feed parsers read ill-formed feeds leniently.
    """
    parser = DefusedXMLParser(target=_PrologOnly(), forbid_dtd=True)
    try:
        parser.feed(data)
    except _RootReached:
        return
    except defusedxml.DefusedXmlException as error:
        raise ParseError(f"the document declares a document type or entities ({error})") from error
    except XmlSyntaxError:
        return


@dataclass
class GuardedXml:
    data: bytes  # the document in UTF-8, declared as such, without DTD declarations
    encoding: str  # the encoding it was written in
    declared_dtd: bool  # a document type (or other markup declaration) was removed
    dropped_entities: bool  # entity definitions were thrown away
    root_name: str  # the root element's name as written ("" when there is none)
    closed: bool  # the document ends with the root element's end tag (it is not truncated)


def guard_xml(data: bytes, *, charset: str = "", unknown_is_refused: bool = False) -> GuardedXml:
    """The document read in its (allowed) encoding, without DTD declarations, as UTF-8.

    Raises RefusedEncoding (a ParseError) for an encoding that is not allowed, and ParseError
    for a declaration that never ends. See `decode_document` for how the encoding is decided.
    """
    text, encoding = decode_document(data, charset=charset, unknown_is_refused=unknown_is_refused)
    stripped, declared_dtd, removed_entities, root_name = _strip_prolog_declarations(text)
    declaration = _XML_DECLARATION.match(stripped)
    if declaration is not None:
        utf8 = _ENCODING_ATTRIBUTE.sub(r'\1"utf-8"', declaration.group(), count=1)
        stripped = utf8 + stripped[declaration.end() :]
    result = stripped.encode("utf-8", "replace")
    refuse_dtd(result)
    return GuardedXml(
        data=result,
        encoding=encoding,
        declared_dtd=declared_dtd,
        dropped_entities=removed_entities,
        root_name=root_name,
        closed=_closes_root(text, root_name),
    )
