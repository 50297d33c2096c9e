"""Tiny HTTP vocabulary shared by the dialect handlers: requests, responses, errors,
body parsing and field validation. Every validation error names its field."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from datetime import datetime, timezone
from email.parser import BytesParser
from email.policy import HTTP
from urllib.parse import parse_qsl


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]  # lower-cased names
    body: bytes = b""
    base_url: str = ""

    def form(self) -> dict:
        """The body as a dict: JSON, url-encoded form or multipart form."""
        ctype = self.headers.get("content-type", "").lower()
        if "multipart/form-data" in ctype:
            message = BytesParser(policy=HTTP).parsebytes(
                b"Content-Type: " + self.headers["content-type"].encode() + b"\r\n\r\n" + self.body
            )
            return {
                part.get_param("name", header="content-disposition"): part.get_content().strip()
                if part.get_content_maintype() == "text"
                else part.get_payload(decode=True)
                for part in message.iter_parts()
            }
        if "application/x-www-form-urlencoded" in ctype:
            return dict(parse_qsl(self.body.decode("utf-8", "replace"), keep_blank_values=True))
        if not self.body.strip():
            raise ApiError.bad("body: a JSON object is required")
        try:
            data = json.loads(self.body)
        except ValueError:
            raise ApiError.bad("body: not valid JSON") from None
        if not isinstance(data, dict):
            raise ApiError.bad("body: a JSON object is required")
        return data


@dataclass
class Response:
    status: int
    body: bytes
    content_type: str = "application/json"
    headers: dict[str, str] = field(default_factory=dict)


def json_response(data, status: int = 200) -> Response:
    return Response(status, json.dumps(data).encode())


def iso_time(ts: float) -> str:
    """A Unix time as the API writes times: ISO 8601 in UTC with a Z."""
    return datetime.fromtimestamp(ts, timezone.utc).isoformat().replace("+00:00", "Z")


class ApiError(Exception):
    def __init__(self, status: int, payload: dict):
        super().__init__(payload)
        self.status = status
        self.payload = payload

    @classmethod
    def bad(cls, message: str) -> "ApiError":
        return cls(400, {"error": message, "code": 400})

    @classmethod
    def not_found(cls, message: str) -> "ApiError":
        return cls(404, {"error": message, "code": 404})

    def response(self) -> Response:
        return json_response(self.payload, self.status)


# Field readers: each returns the cleaned value or raises a 400 naming the field.


def text(data: dict, name: str, *, required: bool = False, max_length: int = 20000, label: str | None = None) -> str:
    label = label or name
    value = data.get(name)
    if value is None or value == "":
        if required:
            raise ApiError.bad(f"{label}: required")
        return ""
    if not isinstance(value, str):
        raise ApiError.bad(f"{label}: must be a string")
    if len(value) > max_length:
        raise ApiError.bad(f"{label}: longer than {max_length} characters")
    return value


def number(
    data: dict,
    name: str,
    low: float,
    high: float,
    *,
    default: float | None = None,
    required: bool = False,
    integer: bool = False,
    label: str | None = None,
) -> float | None:
    label = label or name
    value = data.get(name)
    if value is None or value == "":
        if required:
            raise ApiError.bad(f"{label}: required")
        return default
    if isinstance(value, str):  # form posts carry numbers as text
        try:
            value = float(value)
        except ValueError:
            raise ApiError.bad(f"{label}: must be a number") from None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ApiError.bad(f"{label}: must be a number")
    if integer and value != int(value):
        raise ApiError.bad(f"{label}: must be a whole number")
    if not low <= value <= high:
        raise ApiError.bad(f"{label}: must be between {_num(low)} and {_num(high)}")
    return int(value) if integer else float(value)


def flag(data: dict, name: str, label: str | None = None) -> bool:
    value = data.get(name, False)
    if isinstance(value, str) and value.lower() in ("true", "1", "false", "0", ""):
        return value.lower() in ("true", "1")
    if not isinstance(value, bool) and value is not None:
        raise ApiError.bad(f"{label or name}: must be true or false")
    return bool(value)


def _num(value: float) -> str:
    return str(int(value)) if value == int(value) else f"{value:g}"
