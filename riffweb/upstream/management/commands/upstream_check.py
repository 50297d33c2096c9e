"""Operators' heartbeat: exit 1 when the cluster has done no work for N minutes while work is
due, or when it runs with another SECRET_KEY than this process (it then drops every task)."""

import sys
from datetime import timedelta

from django.core.management.base import BaseCommand
from django.db.models import Q
from django.utils import timezone

from riffweb.studio.models import Song, Transform
from riffweb.upstream import keycheck
from riffweb.upstream.models import UpstreamState


class Command(BaseCommand):
    help = "Exit non-zero when the worker cluster is stalled while upstream work is due."

    def add_arguments(self, parser):
        parser.add_argument("--minutes", type=float, default=5.0, help="allowed silence (default 5)")

    def handle(self, *args, minutes: float, **options):
        now = timezone.now()
        state = UpstreamState.objects.filter(pk=UpstreamState.SINGLETON).first()
        heartbeat = state.heartbeat_at if state else None
        grace = now - timedelta(minutes=minutes)
        due_songs = Song.objects.filter(
            Q(status=Song.Status.RUNNING, next_poll_at__lt=grace)
            | Q(status=Song.Status.DOWNLOADING, upstream_done_at__lt=grace)
        ).count()
        due_requests = Transform.objects.filter(
            status=Transform.Status.QUEUED, created_at__lt=grace
        ).filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lt=grace)).count()
        in_flight = Song.objects.exclude(status__in=Song.FINISHED).count()
        age = f"{(now - heartbeat).total_seconds():.0f}s ago" if heartbeat else "never"
        self.stdout.write(
            f"heartbeat {age}; in flight {in_flight}; overdue songs {due_songs}; overdue requests {due_requests}"
        )
        if state and state.attention:
            self.stdout.write(f"upstream needs attention: {state.attention}")
        if state and keycheck.worker_key_differs(state.worker_key_check):
            self.stderr.write(f"MISCONFIGURED: {keycheck.MISMATCH}")
            sys.exit(1)
        stalled = (heartbeat is None or heartbeat < grace) and (due_songs or due_requests)
        if stalled:
            self.stderr.write(f"STALLED: no cluster work for over {minutes:g} minutes while work is due")
            sys.exit(1)
