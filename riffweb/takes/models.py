"""Takes: each member's mark on each song (keeper, maybe, reject), and the team's shortlist order.

A song is a *keeper* of its project when keeper marks outnumber rejects (so at least one member
marked it keeper); *undecided* when nobody has marked it. Casting a mark keeps the song's own
counters (Song.keepers, maybes, rejects) in step, in the same transaction: the library filters
and sorts on those columns, and a page of songs needs only "my mark" annotated (never a query
per row).
"""

from django.conf import settings
from django.db import models, transaction
from django.db.models import Count, Exists, F, OuterRef, Subquery, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from riffweb.review.models import Activity
from riffweb.studio.models import Song

COUNTERS = {"keeper": "keepers", "maybe": "maybes", "reject": "rejects"}
MARKED = {"keeper": Activity.Verb.MARKED_KEEPER, "maybe": Activity.Verb.MARKED_MAYBE,
          "reject": Activity.Verb.MARKED_REJECT}


class TakeQuerySet(models.QuerySet):
    def cast(self, song: Song, user, mark: str) -> None:
        """The user's mark on the song, replacing any earlier one; "" removes it."""
        with transaction.atomic():
            # One change to a song's marks at a time, so that its counters stay exact.
            Song.objects.select_for_update().filter(pk=song.pk).values_list("pk").first()
            before = self.filter(song=song, user=user).values_list("mark", flat=True).first() or ""
            if before == mark:
                return
            if mark:
                self.update_or_create(song=song, user=user, defaults={"mark": mark, "changed_at": timezone.now()})
            else:
                self.filter(song=song, user=user).delete()
            counts = {}
            if before:
                counts[COUNTERS[before]] = F(COUNTERS[before]) - 1
            if mark:
                counts[COUNTERS[mark]] = F(COUNTERS[mark]) + 1
            Song.objects.filter(pk=song.pk).update(**counts)
            if mark:
                Activity.objects.record(song.project_id, user, MARKED[mark], song)


def with_tally(songs, user):
    """Songs annotated with my_mark ("" when I have not marked it); the counts are the song's own."""
    mine = Take.objects.filter(song_id=OuterRef("pk"), user_id=user.pk).values("mark")[:1]
    return songs.annotate(my_mark=Coalesce(Subquery(mine), Value("")))


def keepers(songs):
    """Only the keepers: more keeper marks than rejects (so at least one keeper mark)."""
    return songs.filter(keepers__gt=F("rejects"))


FILTERS = {
    "keepers": lambda songs, user: keepers(songs),
    "undecided": lambda songs, user: songs.filter(keepers=0, maybes=0, rejects=0),
    "rejected": lambda songs, user: songs.filter(rejects__gt=F("keepers")),
    "mine": lambda songs, user: songs.filter(Exists(
        Take.objects.filter(song_id=OuterRef("pk"), user_id=user.pk, mark=Take.Mark.KEEPER))),
    "unmarked_by_me": lambda songs, user: songs.exclude(Exists(
        Take.objects.filter(song_id=OuterRef("pk"), user_id=user.pk))),
}


def filtered(songs, name: str, user):
    return FILTERS[name](songs, user)


def recount(songs) -> int:
    """Set the songs' counters from their marks: for marks written without cast (a bulk load,
    or a deleted account's marks, which go with it)."""
    def count(mark):
        counted = (Take.objects.filter(song_id=OuterRef("pk"), mark=mark).order_by()
                   .values("song_id").annotate(n=Count("pk")).values("n"))
        return Coalesce(Subquery(counted, output_field=models.IntegerField()), Value(0))
    return songs.update(**{field: count(mark) for mark, field in COUNTERS.items()})


class Take(models.Model):
    """One member's mark on one song."""

    class Mark(models.TextChoices):
        KEEPER = "keeper", "Keeper"
        MAYBE = "maybe", "Maybe"
        REJECT = "reject", "Reject"

    song = models.ForeignKey(Song, on_delete=models.CASCADE, related_name="takes")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="takes")
    mark = models.CharField(max_length=10, choices=Mark.choices)
    changed_at = models.DateTimeField(default=timezone.now)

    objects = TakeQuerySet.as_manager()

    class Meta:
        constraints = [
            # One vote per member per song; its index also serves "my mark" (song and user).
            models.UniqueConstraint(fields=["song", "user"], name="one_take_per_member_per_song"),
        ]

    def __str__(self) -> str:
        return f"{self.user} marks {self.song_id} {self.mark}"


class ShortlistQuerySet(models.QuerySet):
    def for_project(self, project, user) -> list[Song]:
        """The project's live keepers with their tallies, in the team's order; keepers not placed
        yet come last, newest first."""
        spot = ShortlistSpot.objects.filter(song_id=OuterRef("pk")).values("position")[:1]
        songs = keepers(with_tally(Song.objects.filter(project=project, deleted_at__isnull=True), user))
        songs = songs.annotate(position=Subquery(spot)).select_related("transform")
        return list(songs.order_by(F("position").asc(nulls_last=True), "-created_at", "-pk"))

    def place(self, ids: list[int]) -> None:
        """Store this order (the caller passes the shortlist's own ids, see OrderForm.arrange)."""
        with transaction.atomic():
            for position, pk in enumerate(ids):
                self.update_or_create(song_id=pk, defaults={"position": position})


class ShortlistSpot(models.Model):
    """Where the team put a keeper in its project's shortlist."""

    song = models.OneToOneField(Song, on_delete=models.CASCADE, related_name="shortlist_spot")
    position = models.PositiveIntegerField()

    objects = ShortlistQuerySet.as_manager()

    def __str__(self) -> str:
        return f"{self.song_id} at {self.position}"


def tally(song: Song, user) -> Song:
    """One song's counts, fresh from its row, and my mark on it (as with_tally gives a page of songs)."""
    song.refresh_from_db(fields=list(COUNTERS.values()))
    song.my_mark = Take.objects.filter(song=song, user_id=user.pk).values_list("mark", flat=True).first() or ""
    return song
