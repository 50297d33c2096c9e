"""Log lines an operator can follow across processes: one per request, each with its request id.

The web process gives every request an id (or keeps the one a proxy sent, when it is safe to
print), logs one line for the request and echoes the id in `X-Request-ID`. Every task that
request enqueues carries the id in its django-q2 package, and the worker that runs the task
tags its log lines with it, so one song's path reads across web and worker logs alike.

Nothing here imports Django's models: settings.py and gunicorn.conf.py build their logging
from `config`, before the app registry exists.
"""

from __future__ import annotations

import json
import logging
import re
import time
import uuid
from contextvars import ContextVar

HEADER = "X-Request-ID"
# Letters, digits, dot, dash, underscore and colon only: an id goes into every log line, so one
# that could break a line or a JSON field, or carry a payload, is replaced by our own.
INCOMING_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{7,63}")

request_id: ContextVar[str | None] = ContextVar("request_id", default=None)
# Only work a web request enqueues carries its id: a task's follow-ups (the pump's successor,
# which tracks every song for hours) would otherwise wear one request's id forever.
_in_request: ContextVar[bool] = ContextVar("in_request", default=False)

log = logging.getLogger("riffweb.request")


class RequestFilter(logging.Filter):
    """Puts the current request id (or "-") on every record, and masks tokens in the path that
    Django's own request lines print (a server error on a guest link)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id.get() or "-"
        request = getattr(record, "request", None)
        if request is not None and isinstance(record.args, tuple):
            # Django's lines carry the path escaped (log_response), as _route escapes it.
            record.args = tuple(_route(request) if arg in (request.path, _escaped(request.path)) else arg
                                for arg in record.args)
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line; a request's own fields (method, status…) become keys too."""

    FIELDS = ("method", "path", "status", "duration_ms")

    def format(self, record: logging.LogRecord) -> str:
        line = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S%z"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", "-"),
            "process": record.process,
        }
        line.update({name: getattr(record, name) for name in self.FIELDS if hasattr(record, name)})
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, default=str)


def config(fmt: str, level: str) -> dict:
    """The `logging.dictConfig` of every riffweb process; `fmt` is "plain" or "json"."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"request": {"()": RequestFilter}},
        "formatters": {
            "plain": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s]: %(message)s"},
            "json": {"()": JsonFormatter},
        },
        "handlers": {
            "console": {"class": "logging.StreamHandler", "formatter": fmt, "filters": ["request"]},
        },
        "root": {"handlers": ["console"], "level": level},
        "loggers": {
            "urllib3": {"level": "WARNING"},
            # Its "Not Found: <path>" would repeat each 4xx of request_log's line, unmasked
            # (a guest link's token); server errors still log, with their traceback.
            "django.request": {"level": "ERROR"},
            # gunicorn's own lines go through root in our format; its access log stays off,
            # since request_log below writes the one line per request.
            "gunicorn.error": {"handlers": [], "propagate": True},
            "gunicorn.access": {"handlers": [], "propagate": False},
        },
    }


def _escaped(text: str) -> str:
    return text.encode("unicode_escape").decode("ascii")


def _route(request) -> str:
    """The path, with any capability token in it (guest links, signed uploads) masked, and
    escaped as Django escapes its own (a `%0A` in a URL must not start a forged line)."""
    match = getattr(request, "resolver_match", None)
    path = _escaped(request.path)
    if match:
        for name, value in match.kwargs.items():
            if "token" in name and isinstance(value, str) and value:
                path = path.replace(value, "…")
    return path


def request_log(get_response):
    """First middleware: the request's id, its one log line, and the id in the response."""

    def middleware(request):
        incoming = request.headers.get(HEADER, "")
        rid = incoming if INCOMING_ID.fullmatch(incoming) else uuid.uuid4().hex
        id_token, in_request_token = request_id.set(rid), _in_request.set(True)
        started = time.monotonic()
        try:
            response = get_response(request)
            response[HEADER] = rid
            # No user id: reading request.user here would load the session and the user on
            # requests whose view never needed them (the status poll, static files).
            fields = {
                "method": request.method,
                "path": _route(request),
                "status": response.status_code,
                "duration_ms": round((time.monotonic() - started) * 1000, 1),
            }
            log.info("%(method)s %(path)s %(status)s %(duration_ms)sms", fields, extra=fields)
            return response
        finally:
            request_id.reset(id_token)
            _in_request.reset(in_request_token)

    return middleware


def stamp_task(sender, task: dict, **kwargs) -> None:
    """django-q2's pre_enqueue: a task enqueued while serving a request carries its id."""
    if _in_request.get() and request_id.get():
        task["request_id"] = request_id.get()


def adopt_task(sender, task: dict, **kwargs) -> None:
    """django-q2's pre_execute, in the worker: the task's log lines wear its request's id.

    Set for every task, so a worker's next task never inherits the previous one's id.
    """
    request_id.set(task.get("request_id"))
