from django.apps import AppConfig
from django.db.models.signals import post_migrate


def _ensure_schedule(sender, **kwargs):
    from riffweb.library.tasks import ensure_schedule

    ensure_schedule()


class LibraryConfig(AppConfig):
    name = "riffweb.library"
    verbose_name = "Song library"

    def ready(self):
        from django.apps import apps

        # Every deploy migrates, so the daily trash schedule can never be forgotten. The
        # library has no models of its own (Django signals only apps that have), so listen
        # for the studio's, whose songs the schedule empties.
        post_migrate.connect(
            _ensure_schedule,
            sender=apps.get_app_config("studio"),
            dispatch_uid="riffweb-library-schedule",
        )
