"""The library's full-text search index: PostgreSQL's GIN over a tsvector, SQLite's FTS5."""

from django.db import migrations

from riffweb.studio import search


def install(apps, schema_editor):
    search.install(schema_editor, apps.get_model("studio", "Song"))


def uninstall(apps, schema_editor):
    search.uninstall(schema_editor, apps.get_model("studio", "Song"))


class Migration(migrations.Migration):

    dependencies = [
        ("studio", "0008_song_media"),
    ]

    operations = [migrations.RunPython(install, uninstall)]
