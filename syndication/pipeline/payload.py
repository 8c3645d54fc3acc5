"""A parsed item as JSON and back, without what no database column accepts."""

import dataclasses
import datetime
import json
import math
from typing import Any

from syndication.items import ParsedAuthor, ParsedItem, ParsedMedia

MAX_EXCERPT = 2000


def storable(value: Any) -> Any:
    """`value` (an item, or any part of one) without what no database column accepts.

    PostgreSQL refuses NUL characters in text and JSON, and UTF-8 has no lone surrogates;
    both are dropped everywhere in the item before it is hashed, compared or stored (D9).
    NaN and the infinities are not JSON (neither database stores them in a JSON column):
    they become None (H7).
    """
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, str):
        return value.replace("\x00", "").encode("utf-8", "replace").decode("utf-8")
    if isinstance(value, list):
        return [storable(part) for part in value]
    if isinstance(value, dict):
        return {storable(key): storable(part) for key, part in value.items()}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        changes = {f.name: storable(getattr(value, f.name)) for f in dataclasses.fields(value)}
        return dataclasses.replace(value, **changes)
    return value


def as_json(value: Any) -> Any:
    """Dataclasses, wherever they are nested, as dicts; strings and numbers shared, not
    deep-copied as `dataclasses.asdict` would."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: as_json(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, list):
        return [as_json(part) for part in value]
    if isinstance(value, dict):
        return {key: as_json(part) for key, part in value.items()}
    return value


def item_payload(item: ParsedItem) -> dict[str, Any]:
    """The parsed item as JSON, kept for audit and to rebuild the item when accepting a change."""
    payload = as_json(item)
    for name in ("published", "updated"):
        value = payload[name]
        payload[name] = value.isoformat() if value else None
    return payload


def item_from_payload(payload: dict[str, Any]) -> ParsedItem:
    known = {f.name for f in dataclasses.fields(ParsedItem)}
    values = {key: value for key, value in payload.items() if key in known}
    for name in ("published", "updated"):
        if values.get(name):
            values[name] = datetime.datetime.fromisoformat(values[name])
    values["authors"] = [ParsedAuthor(**a) for a in values.get("authors") or []]
    for name in ("lead_image", "video"):
        if values.get(name):
            values[name] = ParsedMedia(**values[name])
    return ParsedItem(**values)


def excerpt(raw: Any) -> str:
    if isinstance(raw, str):
        return raw[:MAX_EXCERPT]
    return json.dumps(raw, ensure_ascii=False, default=str, indent=1)[:MAX_EXCERPT]
