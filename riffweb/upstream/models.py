"""The pipeline's own state: one row that the worker clusters share.

Per-request and per-song progress lives on the studio's Transform and Song rows; this row
holds what belongs to the upstream as a whole: which pump holds the tracking lease, when a
cluster last did work (the heartbeat operators watch), and whether the upstream needs an
operator's attention.
"""

from datetime import timedelta

from django.db import models
from django.db.models import Q
from django.db.models.functions import Least
from django.utils import timezone


class UpstreamState(models.Model):
    SINGLETON = 1

    # The pump (see tracker.py) runs in one worker at a time across every cluster.
    pump_owner = models.CharField(max_length=64, blank=True)
    pump_lease_until = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    # Set while a drain task (see tracker.drain_downloads) waits in the queue: the pump asks for
    # no other meanwhile, so drains never pile up ahead of the pump's successor.
    drain_queued_until = models.DateTimeField(null=True, blank=True)
    # A fingerprint of the SECRET_KEY the last started worker runs with (riffweb/upstream/keycheck.py):
    # django-q2 signs tasks with it, so a worker with another key drops every task from the web.
    worker_key_check = models.CharField(max_length=64, blank=True)
    worker_key_at = models.DateTimeField(null=True, blank=True)

    # Set by a 401 or 596 answer, cleared by the next successful call. Staff see it.
    attention = models.CharField(max_length=300, blank=True)
    # The HTTP status that asked for attention (401: the token; 596: the account), so the
    # banner can link to what fixes it.
    attention_code = models.PositiveSmallIntegerField(null=True, blank=True)
    attention_since = models.DateTimeField(null=True, blank=True)
    last_ok_at = models.DateTimeField(null=True, blank=True)
    last_error_detail = models.TextField(blank=True, help_text="for operators only")

    # Ids per feed call; drops to 2 when the upstream refuses longer lists.
    feed_chunk = models.PositiveSmallIntegerField(null=True, blank=True)
    # Set by a 429 on a status call: nothing is polled before this moment.
    busy_until = models.DateTimeField(null=True, blank=True)
    # Status calls refused with a 429 that named no wait, in a row: each waits longer.
    refused_in_a_row = models.PositiveSmallIntegerField(default=0)
    # Set while status calls fail (5xx, no connection): one cheap probe at probe_at instead
    # of polling every song; cards say the service is unreachable.
    unreachable_since = models.DateTimeField(null=True, blank=True)
    probe_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "upstream state"

    def __str__(self) -> str:
        return "Upstream state"

    @classmethod
    def get(cls) -> "UpstreamState":
        state, _ = cls.objects.get_or_create(pk=cls.SINGLETON)
        return state

    @classmethod
    def ensure(cls) -> None:
        cls.objects.get_or_create(pk=cls.SINGLETON)

    REFUSALS_COUNTED = 100

    # pump_owner while a pump task is on its way through the queue: any pump may take it over.
    ON_ITS_WAY = "on its way"

    @classmethod
    def reserve_pump(cls, hold: timedelta) -> bool:
        """True when no pump holds the lease or is on its way: the caller enqueues one, and for
        `hold` every other caller leaves it to that one, so a backed-up queue (where a pump may
        wait a while for a worker) gets one pump, not one per request."""
        cls.ensure()
        now = timezone.now()
        return bool(
            cls.objects.filter(pk=cls.SINGLETON)
            .filter(Q(pump_lease_until__isnull=True) | Q(pump_lease_until__lt=now))
            .update(pump_owner=cls.ON_ITS_WAY, pump_lease_until=now + hold)
        )

    @classmethod
    def reserve_drain(cls, hold: timedelta) -> bool:
        """True when no drain is on its way: the caller enqueues one. The reservation ends when
        that drain starts (`drain_started`), or after `hold` if it was lost on its way."""
        cls.ensure()
        now = timezone.now()
        return bool(
            cls.objects.filter(pk=cls.SINGLETON)
            .filter(Q(drain_queued_until__isnull=True) | Q(drain_queued_until__lt=now))
            .update(drain_queued_until=now + hold)
        )

    @classmethod
    def drain_started(cls) -> None:
        cls.objects.filter(pk=cls.SINGLETON).update(drain_queued_until=None)

    @classmethod
    def needs_attention(cls, message: str, detail: str = "", code: int | None = None) -> None:
        cls.ensure()
        now = timezone.now()
        cls.objects.filter(pk=cls.SINGLETON).exclude(attention=message).update(
            attention=message, attention_since=now, attention_code=code
        )
        if detail:
            cls.objects.filter(pk=cls.SINGLETON).update(last_error_detail=detail[:20000])

    @classmethod
    def use_feed_chunk(cls, size: int) -> None:
        """The upstream refused longer id lists: every later status call carries at most `size`."""
        cls.objects.filter(pk=cls.SINGLETON).update(feed_chunk=size)

    @classmethod
    def note_error(cls, detail: str) -> None:
        cls.ensure()
        cls.objects.filter(pk=cls.SINGLETON).update(last_error_detail=detail[:20000])

    @classmethod
    def note_busy(cls, until, detail: str) -> None:
        cls.ensure()
        cls.objects.filter(pk=cls.SINGLETON).update(busy_until=until, last_error_detail=detail[:20000])

    @classmethod
    def note_refused(cls, detail: str) -> int:
        """A status call refused without a named wait; returns how many were, in a row."""
        cls.ensure()
        # Counted up to REFUSALS_COUNTED: the wait has long reached its ceiling by then, and a
        # limit refusing for hours must not overflow the column (or the wait's power of 1.5).
        cls.objects.filter(pk=cls.SINGLETON).update(
            refused_in_a_row=Least(models.F("refused_in_a_row") + 1, cls.REFUSALS_COUNTED),
            last_error_detail=detail[:20000],
        )
        return cls.objects.values_list("refused_in_a_row", flat=True).get(pk=cls.SINGLETON)

    @classmethod
    def is_unreachable(cls) -> bool:
        return cls.objects.filter(pk=cls.SINGLETON, unreachable_since__isnull=False).exists()

    @classmethod
    def mark_unreachable(cls, probe_at, detail: str) -> None:
        """A status call failed: probe once at `probe_at` (the outage start is kept)."""
        cls.ensure()
        now = timezone.now()
        cls.objects.filter(pk=cls.SINGLETON, unreachable_since__isnull=True).update(unreachable_since=now)
        cls.objects.filter(pk=cls.SINGLETON).update(probe_at=probe_at, last_error_detail=detail[:20000])

    @classmethod
    def reachable_again(cls) -> bool:
        """A status call answered; True when that ends an outage."""
        return bool(cls.objects.filter(pk=cls.SINGLETON, unreachable_since__isnull=False).update(
            unreachable_since=None, probe_at=None
        ))

    @classmethod
    def call_succeeded(cls) -> None:
        # Conditional: a healthy upstream costs no write per call.
        cls.objects.filter(pk=cls.SINGLETON).filter(~Q(attention="") | Q(refused_in_a_row__gt=0)).update(
            attention="", attention_code=None, attention_since=None, last_ok_at=timezone.now(), refused_in_a_row=0
        )
