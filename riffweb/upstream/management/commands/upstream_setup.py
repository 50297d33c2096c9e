from django.core.management.base import BaseCommand

from riffweb.upstream.models import UpstreamState
from riffweb.upstream.tasks import ensure_schedule, kick


class Command(BaseCommand):
    help = "Create the schedule that keeps the upstream tracking chain alive, and start the chain."

    def handle(self, *args, **options):
        ensure_schedule()
        UpstreamState.ensure()
        kick()
        self.stdout.write("upstream schedule ensured; pump kicked")
