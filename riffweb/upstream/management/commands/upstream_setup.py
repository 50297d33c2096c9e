from django.core.management.base import BaseCommand

from riffweb import queue
from riffweb.upstream.models import UpstreamState


class Command(BaseCommand):
    help = "Create the schedules that keep the upstream tracking chain alive, and start the chain."

    def handle(self, *args, **options):
        queue.ensure_schedules()
        UpstreamState.ensure()
        queue.kick_pump()
        self.stdout.write("schedules ensured; pump kicked")
