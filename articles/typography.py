"""What counts as a typographic change of an article's text, and what changes its words.

Licences that forbid derivatives (CC BY-ND) still allow the typographic adjustments any
publisher makes, and "changes were made" is owed to readers only when the words changed. Both
rules compare texts in their *typographic form*: the text of the HTML (markup, emphasis and
links are not compared), with these differences taken out:

* whitespace: runs of spaces, line breaks, tabs, no-break and narrow no-break spaces are one
  space; zero-width spaces and soft hyphens are nothing;
* quotes: curly, low, angle (guillemets) and primes are straight quotes;
* dashes: hyphens, en and em dashes, the minus sign and runs of them are one hyphen, with the
  spaces around them dropped ("a — b" is "a-b");
* the ellipsis character is three full stops.

Letter case is not typography: "us" and "US" are different words.
"""

import hashlib
import re

from articles.sanitize import plain_text

_EQUIVALENTS = str.maketrans(
    {
        **dict.fromkeys("\u2018\u2019\u201a\u201b\u2032\u2035\u2039\u203a\u00b4\u0060", "'"),
        **dict.fromkeys("\u201c\u201d\u201e\u201f\u2033\u2036\u00ab\u00bb", '"'),
        **dict.fromkeys("\u2010\u2011\u2012\u2013\u2014\u2015\u2212\ufe58\ufe63\uff0d", "-"),
        "\u2026": "...",
        "\u200b": None,
        "\u00ad": None,
        "\u2060": None,
        "\ufeff": None,
    }
)
_DASH_RUN = re.compile(r"\s*-+\s*")


def typographic_form(html: str | None) -> str:
    """The words of an HTML fragment, as two typographic variants of it share them."""
    return typographic_form_of_text(plain_text(html))


def typographic_form_of_text(text: str) -> str:
    """The typographic form of a plain text (`articles.sanitize.plain_text`'s)."""
    text = " ".join(text.translate(_EQUIVALENTS).split())
    return _DASH_RUN.sub("-", text)


def body_fingerprint(html: str | None) -> str:
    """A hash of the typographic form: equal for two bodies that differ only typographically."""
    return fingerprint_of_text(plain_text(html))


def fingerprint_of_text(text: str) -> str:
    """`body_fingerprint` of a body whose plain text is `text`."""
    return hashlib.sha256(typographic_form_of_text(text).encode()).hexdigest()


def differs_beyond_typography(old: str | None, new: str | None) -> bool:
    return typographic_form(old) != typographic_form(new)
