"""`/healthz` for load balancers: can this process reach what every page needs?

Cheap enough to be asked every few seconds: one `SELECT 1`, one broker ping, one storage
lookup, never the upstream (`manage.py upstream_check` is the deeper check). Answers 200 when
all are "ok", 503 otherwise, with which part failed and nothing else: no addresses, no errors.
"""

from __future__ import annotations

import functools
import logging

import redis
from django.conf import settings
from django.core.files.storage import default_storage
from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

log = logging.getLogger(__name__)

# A probe that waits longer than a load balancer's own timeout answers nothing useful.
TIMEOUT_SECONDS = 2.0
# Looked up, never written: absent is a fine answer, only an unreachable store raises.
STORAGE_PROBE = "healthz-probe"


def _database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")


@functools.lru_cache(maxsize=1)
def _redis(url: str) -> redis.Redis:
    return redis.Redis.from_url(url, socket_connect_timeout=TIMEOUT_SECONDS, socket_timeout=TIMEOUT_SECONDS)


def _broker() -> None:
    # Without REDIS_URL the broker is django-q2's ORM broker: the database checked above.
    if settings.REDIS_URL:
        _redis(settings.REDIS_URL).ping()
    else:
        _database()


def _storage() -> None:
    default_storage.exists(STORAGE_PROBE)


CHECKS = {"database": _database, "broker": _broker, "storage": _storage}


@never_cache
@require_safe
def healthz(request: HttpRequest) -> JsonResponse:
    answers = {}
    for name, check in CHECKS.items():
        try:
            check()
            answers[name] = "ok"
        except Exception as exc:
            log.warning("healthz: %s unavailable: %s", name, exc)
            answers[name] = "unavailable"
    healthy = all(answer == "ok" for answer in answers.values())
    return JsonResponse(answers, status=200 if healthy else 503)
