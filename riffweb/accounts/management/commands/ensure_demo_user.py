from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand

from riffweb.studio.models import Project


class Command(BaseCommand):
    help = "Create the development demo account (and a first project) unless it exists."

    def add_arguments(self, parser):
        parser.add_argument("--username", default="demo")
        parser.add_argument("--password", default="riffweb-demo")

    def handle(self, *args, username: str, password: str, **options):
        User = get_user_model()
        user, created = User.objects.get_or_create(username=username)
        if created:
            user.set_password(password)
            user.save(update_fields=["password"])
            Project.create_for(user, name="First project")
            self.stdout.write(f"Created the demo account: log in as {username} / {password}")
        else:
            self.stdout.write(f"Demo account exists: log in as {username}")
