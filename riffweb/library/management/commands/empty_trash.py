from django.core.management.base import BaseCommand

from riffweb.library.tasks import empty_trash


class Command(BaseCommand):
    help = "Delete songs that have been in the trash for more than RIFFWEB_TRASH_DAYS (30) days."

    def handle(self, *args, **options):
        self.stdout.write(f"Deleted {empty_trash()} song(s) from the trash.")
