"""Opaque cursors for keyset pagination: a page is what comes after the last row of the one
before, so inserting newer rows never shifts or repeats what a client is paging through."""

import base64
import binascii
import datetime
import json


class BadCursor(ValueError):
    """The cursor was not one this API handed out."""


def encode(*values) -> str:
    """A URL-safe token for a row's sort key (strings, integers and aware datetimes)."""
    plain = [
        value.isoformat() if isinstance(value, datetime.datetime) else value for value in values
    ]
    text = json.dumps(plain, separators=(",", ":"))
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def decode(token: str, *kinds: type) -> tuple:
    """The values `encode` was given, checked against the expected `kinds`."""
    try:
        padded = token + "=" * (-len(token) % 4)
        values = json.loads(base64.urlsafe_b64decode(padded.encode("ascii")))
    except (UnicodeError, binascii.Error, ValueError) as error:
        raise BadCursor("This cursor is not valid.") from error
    if not isinstance(values, list) or len(values) != len(kinds):
        raise BadCursor("This cursor is not valid.")
    decoded = []
    for value, kind in zip(values, kinds, strict=True):
        if kind is datetime.datetime:
            try:
                value = datetime.datetime.fromisoformat(value)
            except (TypeError, ValueError) as error:
                raise BadCursor("This cursor is not valid.") from error
            if value.tzinfo is None:
                raise BadCursor("This cursor is not valid.")
        elif type(value) is not kind:
            raise BadCursor("This cursor is not valid.")
        decoded.append(value)
    return tuple(decoded)
