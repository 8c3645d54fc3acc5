"""Structured logs: one JSON object per line, for journald, Docker or any log shipper.

Production settings use `JsonFormatter` for every log record (LOG_FORMAT=json); development
keeps the plain one-line format. Gunicorn's own access and error logs go through the same
formatter via `config/gunicorn.conf.py`.
"""

import json
import logging
from datetime import UTC, datetime

# Attributes every LogRecord has; anything else on a record was passed in `extra=`.
_STANDARD_ATTRIBUTES = frozenset(
    logging.LogRecord("", logging.INFO, "", 0, "", (), None).__dict__.keys()
) | {"message", "asctime", "taskName"}
# Django passes these in `extra=`; they are turned into plain fields below.
_REQUEST_ATTRIBUTES = frozenset({"request", "status_code", "server_time"})


class JsonFormatter(logging.Formatter):
    """Format a record as one line of JSON.

    Always present: `time` (UTC, ISO 8601 with milliseconds), `level`, `logger`, `message`.
    From Django's request loggers: `method`, `path` and `status`. Any other `extra=` field is
    kept under its own name (values JSON cannot represent are written as their `str`).
    An exception adds `exception` with the formatted traceback.
    """

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, tz=UTC).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        entry.update(self._request_fields(record))
        for name, value in record.__dict__.items():
            if name not in _STANDARD_ATTRIBUTES and name not in _REQUEST_ATTRIBUTES:
                entry.setdefault(name, value)
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        elif record.exc_text:
            entry["exception"] = record.exc_text
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return json.dumps(entry, default=str, ensure_ascii=False)

    @staticmethod
    def _request_fields(record: logging.LogRecord) -> dict:
        fields = {}
        request = getattr(record, "request", None)
        # django.request passes an HttpRequest; runserver's django.server passes a socket.
        if hasattr(request, "path") and hasattr(request, "method"):
            fields["method"] = request.method
            fields["path"] = request.path
        status = getattr(record, "status_code", None)
        if status is not None:
            fields["status"] = status
        return fields
