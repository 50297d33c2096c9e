from django.core.management.base import BaseCommand

from riffweb.library.tasks import SCHEDULE_NAME, empty_trash, ensure_schedule


class Command(BaseCommand):
    help = "Delete songs that have been in the trash for more than RIFFWEB_TRASH_DAYS (30) days."

    def add_arguments(self, parser):
        parser.add_argument("--schedule", action="store_true",
                            help="instead, create (or keep) the daily django-q2 schedule that does it")

    def handle(self, *args, schedule: bool = False, **options):
        if schedule:
            ensure_schedule()
            self.stdout.write(f"Schedule “{SCHEDULE_NAME}” is in place (daily).")
            return
        self.stdout.write(f"Deleted {empty_trash()} song(s) from the trash.")
