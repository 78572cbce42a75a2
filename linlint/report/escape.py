"""Text that cannot break the stream it is written to.

*Control characters.* Node, graph and tensor names and file paths come from the
model or the file system, and may hold anything: a node named
``x\\n::warning file=evil.onnx::injected`` would start a GitHub workflow command
on a line of its own, an ESC sequence would restyle a terminal, a bidi override
would reorder what a reviewer reads. ``printable`` writes every C0/C1 control
character, the Unicode line and paragraph separators and the bidi controls as an
escape (``\\n``, ``\\x1b``, ``\\u202e``); ``printable_findings`` does it to every
string a finding holds (nodes, messages, origins, the region picture). JSON, SARIF
and Model Explorer data keep the names exact: JSON escapes control characters itself.

*Encodings.* A stream that cannot encode ``→`` or ``≥`` (``PYTHONIOENCODING=cp1252``,
a redirected stdout on Windows) gets ASCII instead (``ascii_fallback``, a codec
error handler: ``->``, ``>=``, ...; any other character as a ``\\u`` escape). JSON
written to such a stream is made ASCII with ``\\u`` escapes (``json_for_encoding``),
so it stays valid and holds the same strings.
"""

from __future__ import annotations

import codecs
import html
import re
from collections.abc import Iterable, Sequence
from dataclasses import fields, is_dataclass, replace
from typing import Any

from linlint.checking.findings import Finding

_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}

ASCII_FALLBACKS = {
    "→": "->",
    "←": "<-",
    "↔": "<->",
    "≥": ">=",
    "≤": "<=",
    "≠": "!=",
    "≈": "~",
    "×": "x",
    "·": "*",
    "−": "-",
    "–": "-",
    "—": "--",
    "…": "...",
    "±": "+/-",
    "µ": "u",
    "²": "^2",
    "\u00a0": " ",
}
FALLBACK_ERRORS = "linlint-ascii"


def _escape(match: re.Match[str]) -> str:
    char = match.group()
    if char in _NAMED:
        return _NAMED[char]
    return f"\\x{ord(char):02x}" if ord(char) < 0x100 else f"\\u{ord(char):04x}"


def printable(text: str) -> str:
    """``text`` with every control, line-separator and bidi character escaped."""
    return _UNSAFE.sub(_escape, text)


def html_text(text: str) -> str:
    """``text`` for HTML and SVG: printable, then its markup characters escaped."""
    return html.escape(printable(text))


def html_message(text: str) -> str:
    """A message for HTML: as ``html_text``, with its backticked names as ``<code>``."""
    return re.sub(r"`([^`<>]+)`", r"<code>\1</code>", html_text(text))


def printable_data(value: Any) -> Any:
    """``value`` with every string in it printable: a string, and the strings in tuples,
    lists, dicts and dataclasses (a finding's nodes, origins and region picture alike)."""
    if isinstance(value, str):
        return printable(value)
    if isinstance(value, tuple):
        return tuple(printable_data(v) for v in value)
    if isinstance(value, list):
        return [printable_data(v) for v in value]
    if isinstance(value, dict):
        return {printable_data(k): printable_data(v) for k, v in value.items()}
    if is_dataclass(value) and not isinstance(value, type):
        changes = {f.name: printable_data(getattr(value, f.name)) for f in fields(value) if f.init}
        return replace(value, **changes)
    return value


def printable_finding(finding: Finding) -> Finding:
    """The finding with every name, path and message in it printable."""
    result: Finding = printable_data(finding)
    return result


def printable_findings(findings: Iterable[Finding]) -> list[Finding]:
    return [printable_finding(f) for f in findings]


def printable_errors(errors: Sequence[tuple[str, str]]) -> list[tuple[str, str]]:
    return [(printable(file), printable(message)) for file, message in errors]


def _ascii(char: str) -> str:
    if char in ASCII_FALLBACKS:
        return ASCII_FALLBACKS[char]
    code = ord(char)
    return f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}"


def ascii_fallback(error: UnicodeError) -> tuple[str, int]:
    """A codec error handler: each character the stream cannot encode, in ASCII."""
    if not isinstance(error, UnicodeEncodeError):
        raise error
    chunk = error.object[error.start : error.end]
    return "".join(_ascii(c) for c in chunk), error.end


def register_fallback() -> str:
    """Register ``ascii_fallback`` as the codec error handler ``FALLBACK_ERRORS``; its name."""
    codecs.register_error(FALLBACK_ERRORS, ascii_fallback)
    return FALLBACK_ERRORS


def can_encode(text: str, encoding: str | None) -> bool:
    if not encoding:
        return True
    try:
        text.encode(encoding)
    except UnicodeEncodeError:
        return False
    except LookupError:
        return True
    return True


def _json_escape(char: str) -> str:
    code = ord(char)
    if code <= 0xFFFF:
        return f"\\u{code:04x}"
    code -= 0x10000
    return f"\\u{0xD800 + (code >> 10):04x}\\u{0xDC00 + (code & 0x3FF):04x}"


def json_for_encoding(text: str, encoding: str | None) -> str:
    """JSON text that ``encoding`` can write: non-ASCII characters as ``\\u`` escapes when
    it cannot write them as they are (outside strings JSON is ASCII, so this is the same
    document)."""
    if can_encode(text, encoding):
        return text
    return re.sub(r"[^\x00-\x7f]", lambda m: _json_escape(m.group()), text)
