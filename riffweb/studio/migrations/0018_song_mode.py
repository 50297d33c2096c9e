from django.db import migrations, models
from django.db.models import OuterRef, Q, Subquery


def copy_modes(apps, schema_editor):
    Song, Transform = apps.get_model("studio", "Song"), apps.get_model("studio", "Transform")
    Song.objects.update(mode=Subquery(Transform.objects.filter(pk=OuterRef("transform_id")).values("mode")[:1]))


class Migration(migrations.Migration):

    dependencies = [
        ("studio", "0017_song_library_sorts_and_filters"),
    ]

    operations = [
        migrations.AddField(
            model_name="song",
            name="mode",
            field=models.CharField(
                choices=[("professional", "Professional"), ("inspiration", "Inspiration"), ("compose", "Compose"),
                         ("cover", "Cover"), ("extend", "Extend"), ("inpaint", "Inpaint"),
                         ("swap_vocals", "Swap vocals"), ("swap_sound", "Swap sound"), ("arrangement", "Arrangement")],
                default="", editable=False, max_length=20),
            preserve_default=False,
        ),
        migrations.RunPython(copy_modes, migrations.RunPython.noop),
        migrations.AddIndex(
            model_name="song",
            index=models.Index(fields=["mode", "deleted_at", "-created_at", "-id", "project"], name="song_library_mode"),
        ),
        migrations.AddConstraint(
            model_name="song",
            constraint=models.CheckConstraint(condition=~Q(mode=""), name="song_mode_set"),
        ),
    ]
