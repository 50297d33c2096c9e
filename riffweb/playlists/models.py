"""Playlists: a project's songs in an order the team chooses, their guest links, and where each
listener stopped in a song or a playlist ("Resume on any device")."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.db.models import Max, OuterRef, Q, Subquery
from django.urls import reverse
from django.utils import timezone

from riffweb.review.models import Activity
from riffweb.studio.models import Project, ShareLink, Song, single_line

MAX_ENTRIES = 500


class Playlist(models.Model):
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="playlists")
    name = models.CharField(max_length=120, validators=[single_line])
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name", "pk"]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("playlists:playlist_detail", args=[self.pk])

    def songs(self) -> list[Song]:
        """Its live songs in order, each carrying `entry_id` (the same song may appear twice).

        A song moved to another project since it was added is left out: its new project's
        members may not be this one's, and neither may this playlist's guests hear it.
        """
        songs = []
        for entry in self._live_entries().select_related("song", "song__transform"):
            entry.song.entry_id = entry.pk
            songs.append(entry.song)
        return songs

    def song(self, song_id: int) -> Song | None:
        """One of its live songs (as songs() would list it), or None: one narrow query."""
        entry = self._live_entries().filter(song_id=song_id).select_related("song").first()
        return entry and entry.song

    def _live_entries(self):
        return self.entries.filter(song__deleted_at__isnull=True, song__project_id=self.project_id)

    def add(self, song: Song, by) -> "PlaylistEntry":
        """Append a song of this playlist's project; `by`: the member who did, for the activity list."""
        if song.project_id != self.project_id:
            raise ValidationError("Only songs of this playlist's project can be added.")
        with transaction.atomic():
            Playlist.objects.select_for_update().filter(pk=self.pk).first()  # one append at a time
            if self.entries.count() >= MAX_ENTRIES:
                raise ValidationError(f"A playlist holds at most {MAX_ENTRIES} songs.")
            last = self.entries.aggregate(last=Max("position"))["last"]
            entry = self.entries.create(song=song, position=0 if last is None else last + 1)
            Activity.objects.record(self.project_id, by, Activity.Verb.ADDED_TO_PLAYLIST, self)
            return entry

    def remove(self, entry_id: int, by) -> bool:
        """Take one entry out (the song stays in the project); False when there is no such entry."""
        if not self.entries.filter(pk=entry_id).delete()[0]:
            return False
        Activity.objects.record(self.project_id, by, Activity.Verb.REMOVED_FROM_PLAYLIST, self)
        return True

    def arrange(self, entry_ids: list[int], by) -> None:
        """Put the entries in this order (the caller passes every entry's id, see OrderForm.arrange)."""
        with transaction.atomic():
            for position, pk in enumerate(entry_ids):
                self.entries.filter(pk=pk).update(position=position)
            Activity.objects.record(self.project_id, by, Activity.Verb.REORDERED_PLAYLIST, self)

    def discard(self, by) -> None:
        """Delete the playlist (its songs stay in the project); the activity list keeps its name."""
        Activity.objects.record(self.project_id, by, Activity.Verb.DELETED_PLAYLIST, self)
        self.delete()

    def entry_ids(self) -> list[int]:
        return list(self.entries.values_list("pk", flat=True))


class PlaylistEntry(models.Model):
    playlist = models.ForeignKey(Playlist, on_delete=models.CASCADE, related_name="entries")
    song = models.ForeignKey(Song, on_delete=models.CASCADE, related_name="playlist_entries")
    position = models.PositiveIntegerField()

    class Meta:
        ordering = ["position", "pk"]
        indexes = [
            # A playlist's songs in order (Playlist.songs).
            models.Index(fields=["playlist", "position"], name="playlist_entry_order"),
        ]

    def __str__(self) -> str:
        return f"{self.song_id} at {self.position} in {self.playlist_id}"


class PlaylistLink(ShareLink):
    """A listen-only link to a playlist for people outside the project (never the master files)."""

    playlist = models.ForeignKey(Playlist, on_delete=models.CASCADE, related_name="guest_links")

    def __str__(self) -> str:
        return f"Guest link to {self.playlist}"

    def get_absolute_url(self) -> str:
        return reverse("playlists:guest_playlist", args=[self.token])


class PositionQuerySet(models.QuerySet):
    def remember(self, user, song: Song, seconds: float, playlist: Playlist | None = None) -> None:
        """Where the user stopped: in the song, or in the playlist (at this song)."""
        seconds = round(max(0.0, min(seconds, song.duration or seconds)), 1)
        self.update_or_create(user=user, playlist=playlist, song=None if playlist else song,
                              defaults={"seconds": seconds, "at_song": song, "updated_at": timezone.now()})

    def seconds_in_song(self, user) -> Subquery:
        """Where the user stopped in the outer query's song, for annotating songs (None if nowhere)."""
        return Subquery(self.filter(user_id=user.pk, song_id=OuterRef("pk"), playlist=None).values("seconds")[:1])

    def of_playlist(self, user, playlist: Playlist) -> "ListenPosition | None":
        return self.filter(user=user, playlist=playlist).select_related("at_song").first()


class ListenPosition(models.Model):
    """Where one listener stopped, on the server so that another device can resume there."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    # Exactly one of the two: a song on its own page, or a playlist (then at_song says where in it).
    song = models.ForeignKey(Song, on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    playlist = models.ForeignKey(Playlist, on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    at_song = models.ForeignKey(Song, on_delete=models.CASCADE, related_name="+")
    seconds = models.FloatField(default=0)
    updated_at = models.DateTimeField(default=timezone.now)

    objects = PositionQuerySet.as_manager()

    class Meta:
        constraints = [
            # Their indexes serve the lookups too: a song page's and a playlist page's "Resume at".
            models.UniqueConstraint(fields=["user", "song"], condition=Q(playlist=None), name="one_position_per_song"),
            models.UniqueConstraint(fields=["user", "playlist"], condition=Q(song=None),
                                    name="one_position_per_playlist"),
            models.CheckConstraint(condition=Q(song=None) ^ Q(playlist=None), name="position_in_song_or_playlist"),
        ]

    def __str__(self) -> str:
        return f"{self.user} at {self.seconds} s"

    @property
    def clock(self) -> str:
        whole = int(self.seconds)
        return f"{whole // 60}:{whole % 60:02d}"
