"""Comments on a song's timeline: at a moment (`end` is null) or on a region, with replies.

A comment is plain text; what it says about people (`@username` of project members) is kept
as `mentions`, and timestamps (`1:23`) become seek links when shown (text.py). Writers use
the verbs here: `Comment.objects.post(...)`, `comment.edit(...)`, `comment.resolve(...)`,
`comment.remove()`; each one moves `changed_at`, which the live feed's version reads.
"""

import re
from datetime import timedelta
from functools import partial

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.db.models import Q, StringAgg, Value
from django.urls import reverse
from django.utils import timezone

from riffweb import queue
from riffweb.studio import access
from riffweb.studio.models import GuestLink, Membership, Song, Transform

MAX_TEXT = 2000
MENTION = re.compile(r"(?<![\w@])@([\w.+-]{1,150})")


class TooManyComments(Exception):
    def __init__(self, per_hour: int):
        super().__init__(f"You have written {per_hour} comments in the last hour: wait a little and try again.")


def mentioned_members(project_id: int, text: str) -> list:
    """The project members the text names with `@username` (anyone else is left plain text)."""
    names = {name.rstrip(".") for name in MENTION.findall(text)}
    if not names:
        return []
    members = Membership.objects.filter(project_id=project_id).values("user_id")
    return list(get_user_model().objects.filter(username__in=names, pk__in=members))


def clean_text(text: str) -> str:
    text = (text or "").strip()
    if not text:
        raise ValidationError("Write something to comment.")
    if len(text) > MAX_TEXT:
        raise ValidationError(f"A comment is at most {MAX_TEXT} characters (this one has {len(text)}).")
    return text


def clean_range(song: Song, at, end) -> tuple[float, float | None]:
    """Seconds within the song; a region's end after its start. ValidationError says what is wrong."""
    length = song.duration or 0
    try:
        at = float(at)
        end = None if end in (None, "") else float(end)
    except (TypeError, ValueError):
        raise ValidationError("Times are seconds, such as 12.5.") from None
    if not (0 <= at <= length) or (end is not None and not (at < end <= length)):
        raise ValidationError(f"Times must lie within the song (0–{length:.1f} s), a region's end after its start.")
    return round(at, 1), None if end is None else round(end, 1)


class CommentQuerySet(models.QuerySet):
    def post(self, *, song: Song, author, text: str, at=None, end=None, parent: "Comment | None" = None) -> "Comment":
        """A member's comment (or reply, which shares its parent's place on the timeline).

        Raises ValidationError for bad text or times, TooManyComments past
        RIFFWEB_COMMENTS_PER_HOUR for this author.
        """
        text = clean_text(text)
        if parent is not None:
            at, end = parent.at, parent.end
        else:
            at, end = clean_range(song, at, end)
        hour_ago = timezone.now() - timedelta(hours=1)
        if self.filter(author=author, created_at__gte=hour_ago).count() >= settings.RIFFWEB_COMMENTS_PER_HOUR:
            raise TooManyComments(settings.RIFFWEB_COMMENTS_PER_HOUR)
        comment = self.create(song=song, author=author, text=text, at=at, end=end, parent=parent)
        comment.mentions.set(mentioned_members(song.project_id, text))
        Notification.objects.about_comment(comment)
        verb = Activity.Verb.MENTIONED if comment.mentions.exists() else Activity.Verb.COMMENTED
        Activity.objects.record(song.project_id, author, verb, comment)
        return comment

    def post_as_guest(self, *, link: GuestLink, name: str, text: str, at=None, end=None) -> "Comment":
        """A guest's comment through a link that allows them: rate-limited per link, never a reply.

        Raises ValidationError for a missing name, bad text or times; TooManyComments past
        RIFFWEB_COMMENTS_PER_HOUR for this link.
        """
        name = (name or "").strip()[:60]
        if not name:
            raise ValidationError("Give your name, so the band knows who wrote it.")
        text = clean_text(text)
        at, end = clean_range(link.song, at, end)
        hour_ago = timezone.now() - timedelta(hours=1)
        if self.filter(guest_link=link, created_at__gte=hour_ago).count() >= settings.RIFFWEB_COMMENTS_PER_HOUR:
            raise TooManyComments(settings.RIFFWEB_COMMENTS_PER_HOUR)
        comment = self.create(song=link.song, guest_name=name, guest_link=link, text=text, at=at, end=end)
        Notification.objects.about_comment(comment)
        Activity.objects.record(link.song.project_id, None, Activity.Verb.GUEST_COMMENTED, comment)
        return comment

    def for_guest(self, link: GuestLink):
        """What a guest sees: guests' comments, and the members' too when the link says so."""
        threads = self.threads(link.song_id)
        if link.show_member_comments:
            return threads
        return [thread for thread in threads if thread.author_id is None]

    def threads(self, song_id: int) -> list["Comment"]:
        """The song's comments in time order, each with its replies (oldest first) as
        `thread_replies` and the members it names as `mentioned_names`: one query, however
        many comments. The names come joined in one string, split on spaces: a mention's name
        (MENTION) has none."""
        every = list(self.filter(song_id=song_id).select_related("author")
                     .annotate(mentioned=StringAgg("mentions__username", Value(" "), default=""))
                     .order_by("at", "created_at", "pk"))
        replies: dict[int, list[Comment]] = {}
        for comment in sorted(every, key=lambda c: (c.created_at, c.pk)):
            comment.mentioned_names = set(comment.mentioned.split())
            if comment.parent_id:
                replies.setdefault(comment.parent_id, []).append(comment)
        threads = [c for c in every if not c.parent_id]
        for thread in threads:
            thread.thread_replies = replies.get(thread.pk, [])
        return threads


class Comment(models.Model):
    song = models.ForeignKey(Song, on_delete=models.CASCADE, related_name="comments")
    # A member's comment has its author; a guest's has none, but the name they gave and their link.
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE,
                               related_name="comments")
    guest_name = models.CharField(max_length=60, blank=True)
    guest_link = models.ForeignKey(GuestLink, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    text = models.TextField(max_length=MAX_TEXT)
    at = models.FloatField(help_text="Seconds into the song.")
    end = models.FloatField(null=True, blank=True, help_text="A region's end; empty for a moment.")
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.CASCADE, related_name="replies")
    resolved = models.BooleanField(default=False)
    mentions = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="mentioned_in")
    # "Inpaint this region" / "Extend from here": the requests started from this comment.
    requests = models.ManyToManyField(Transform, blank=True, related_name="answers")
    created_at = models.DateTimeField(default=timezone.now)
    edited_at = models.DateTimeField(null=True, blank=True)
    # Moved by every verb: the live feed's version is the song's count and latest changed_at.
    changed_at = models.DateTimeField(default=timezone.now)

    objects = CommentQuerySet.as_manager()

    class Meta:
        indexes = [
            # The status poll's feed version: count and max(changed_at) per song; the threads' list.
            models.Index(fields=["song", "changed_at"], name="comment_song_changed"),
            # The rate limit: an author's comments in the last hour.
            models.Index(fields=["author", "created_at"], name="comment_author_created"),
        ]

    def __str__(self):
        return self.text[:80]

    def get_absolute_url(self) -> str:
        return f"{reverse('studio:song_detail', args=[self.song_id])}#comment-{self.pk}"

    @property
    def by(self) -> str:
        return self.author.username if self.author_id else self.guest_name

    @property
    def is_region(self) -> bool:
        return self.end is not None

    def may_edit(self, user) -> bool:
        return user.is_authenticated and user.pk == self.author_id

    def may_resolve(self, user, role: str | None) -> bool:
        return self.may_edit(user) or access.role_may(role, "edit")

    def transform_url(self) -> str:
        """The song page's transform form, opened on this comment's place ("" for a reply)."""
        if self.parent_id:
            return ""
        if self.is_region:
            query = f"mode=inpaint&replace_start={self.at}&replace_end={self.end}"
        else:
            query = f"mode=extend&extend_at={self.at}"
        return f"{reverse('studio:song_detail', args=[self.song_id])}?{query}&comment={self.pk}#transform-form"

    def answer_with(self, transform: Transform) -> None:
        """Record that `transform` was started from this comment (its songs say so)."""
        self.requests.add(transform)

    def _touch(self, **fields):
        for name, value in fields.items():
            setattr(self, name, value)
        self.changed_at = timezone.now()
        self.save(update_fields=[*fields, "changed_at"])

    def edit(self, text: str) -> None:
        text = clean_text(text)
        self._touch(text=text, edited_at=timezone.now())
        self.mentions.set(mentioned_members(self.song.project_id, text))

    def resolve(self, resolved: bool = True) -> None:
        self._touch(resolved=resolved)

    def remove(self) -> None:
        """Delete it with its replies: the song's comment count, and so the live feed's version, drops."""
        self.delete()


class NotificationQuerySet(models.QuerySet):
    def unread(self):
        return self.filter(read_at__isnull=True)

    def mark_read(self) -> int:
        return self.unread().update(read_at=timezone.now())

    def about_comment(self, comment: Comment) -> None:
        """A new comment or reply: its thread's author (reply), the members it names (mention),
        the owner of the song's request (comment); each person once, never its own author."""
        told = {comment.author_id}
        wanted = []
        for user in comment.mentions.all():
            wanted.append((user.pk, Notification.Kind.MENTION))
        if comment.parent_id:
            wanted.append((comment.parent.author_id, Notification.Kind.REPLY))
        wanted.append((comment.song.transform.created_by_id, Notification.Kind.COMMENT))
        rows = []
        for user_id, kind in wanted:
            if user_id and user_id not in told:
                told.add(user_id)
                rows.append(Notification(user_id=user_id, kind=kind, actor_id=comment.author_id,
                                         song_id=comment.song_id, comment=comment))
        created = self.bulk_create(rows)
        mentioned = [n.user_id for n in created if n.kind == Notification.Kind.MENTION]
        by_mail = set(EmailPreference.objects.filter(user_id__in=mentioned, mode=EmailPreference.Mode.MENTIONS)
                      .values_list("user_id", flat=True)) if mentioned else set()
        for note in created:
            if note.user_id in by_mail and note.kind == Notification.Kind.MENTION:
                transaction.on_commit(partial(queue.mail_mention, note.pk))

    def about_songs(self, pks: list[int], done: bool) -> None:
        """Songs ended: whoever asked for each hears, and the project's activity says so."""
        kind = Notification.Kind.FINISHED if done else Notification.Kind.FAILED
        songs = list(Song.objects.filter(pk__in=pks).select_related("transform", "transform__created_by"))
        self.bulk_create(
            Notification(user_id=song.transform.created_by_id, kind=kind, song=song)
            for song in songs if song.transform.created_by_id
        )
        for song in songs:
            verb = Activity.Verb.FINISHED if done else Activity.Verb.FAILED
            Activity.objects.record(song.project_id, song.transform.created_by, verb, song)


class Notification(models.Model):
    """Something a member should see in their inbox; read once they open or dismiss it."""

    class Kind(models.TextChoices):
        FINISHED = "finished", "Your song is ready"
        FAILED = "failed", "Your song failed"
        REPLY = "reply", "Reply to your comment"
        MENTION = "mention", "You were mentioned"
        COMMENT = "comment", "Comment on your song"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE,
                              related_name="+")
    song = models.ForeignKey(Song, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    comment = models.ForeignKey(Comment, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    read_at = models.DateTimeField(null=True, blank=True)
    mailed_at = models.DateTimeField(null=True, blank=True)  # claimed by the mail that tells of it

    objects = NotificationQuerySet.as_manager()

    class Meta:
        indexes = [
            # The top bar's unread count (every page, every poll) and the inbox list, newest first.
            models.Index(fields=["user", "read_at", "-id"], name="notification_user_unread"),
        ]

    def get_absolute_url(self) -> str:
        if self.comment_id:
            return f"{reverse('studio:song_detail', args=[self.song_id])}#comment-{self.comment_id}"
        return reverse("studio:song_detail", args=[self.song_id])


def notify_songs_ended(sender, pks: list[int], done: bool, **kwargs) -> None:
    """studio's `songs_ended` signal: tell whoever asked for them."""
    Notification.objects.about_songs(pks, done)


class ActivityQuerySet(models.QuerySet):
    def record(self, project, actor, verb: str, target) -> "Activity":
        """The one way to add to a project's activity list.

        project: the Project (or its id) the event belongs to; actor: the user who did it
        (None for the system); verb: an Activity.Verb (or any short past-tense word for new
        kinds, e.g. "voted", "reordered a playlist"); target: the object it is about, any model
        instance with get_absolute_url() (a song, a comment, a membership, a playlist...), linked
        from the list while it exists.
        """
        return self.create(
            project_id=getattr(project, "pk", project), actor=actor, verb=verb,
            target_type=ContentType.objects.get_for_model(target), target_id=target.pk,
            summary=str(target)[:200],
        )


class Activity(models.Model):
    """One line of a project's activity list: who did what to which object, and when."""

    class Verb(models.TextChoices):
        FINISHED = "finished", "finished"
        FAILED = "failed", "failed"
        COMMENTED = "commented", "commented on"
        MENTIONED = "mentioned", "mentioned someone on"
        GUEST_COMMENTED = "guest commented", "A guest commented on"
        JOINED = "joined", "joined"
        MARKED_KEEPER = "marked keeper", "marked as a keeper"
        MARKED_MAYBE = "marked maybe", "marked as a maybe"
        MARKED_REJECT = "marked reject", "rejected"
        MADE_PLAYLIST = "made playlist", "made the playlist"
        ADDED_TO_PLAYLIST = "added to playlist", "added a song to"
        REMOVED_FROM_PLAYLIST = "removed from playlist", "took a song out of"
        REORDERED_PLAYLIST = "reordered playlist", "reordered"
        DELETED_PLAYLIST = "deleted playlist", "deleted the playlist"

    project = models.ForeignKey("studio.Project", on_delete=models.CASCADE, related_name="activity")
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                              related_name="+")
    verb = models.CharField(max_length=40)
    target_type = models.ForeignKey(ContentType, on_delete=models.CASCADE, related_name="+")
    target_id = models.PositiveBigIntegerField()
    target = GenericForeignKey("target_type", "target_id")
    summary = models.CharField(max_length=200, help_text="What the target was called, kept if it goes.")
    created_at = models.DateTimeField(default=timezone.now)

    objects = ActivityQuerySet.as_manager()

    class Meta:
        indexes = [
            # The project's activity page, newest first.
            models.Index(fields=["project", "-id"], name="activity_project_newest"),
        ]

    def verb_display(self) -> str:
        return dict(self.Verb.choices).get(self.verb, self.verb)


def record_membership(sender, instance, created: bool, **kwargs) -> None:
    """post_save of Membership: a member joined (the project's creator included)."""
    if created:
        Activity.objects.record(instance.project_id, instance.user, Activity.Verb.JOINED, instance.project)


class EmailPreference(models.Model):
    """How a member wants to hear of their notifications by e-mail; no row means off."""

    class Mode(models.TextChoices):
        OFF = "off", "No e-mail"
        MENTIONS = "mentions", "At once when someone mentions me"
        DIGEST = "digest", "A daily digest of what is unread"

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="email_preference")
    mode = models.CharField(max_length=10, choices=Mode.choices, default=Mode.OFF)
    last_digest_at = models.DateTimeField(null=True, blank=True)

    @classmethod
    def set_mode(cls, user, mode: str) -> "EmailPreference":
        preference, _ = cls.objects.update_or_create(user=user, defaults={"mode": mode})
        return preference

    def claim_digest(self, now) -> bool:
        """At most one digest a day, even with two workers: the row moves only for one of them."""
        due = Q(last_digest_at__isnull=True) | Q(last_digest_at__lte=now - timedelta(days=1))
        return bool(EmailPreference.objects.filter(due, pk=self.pk, mode=self.Mode.DIGEST).update(last_digest_at=now))
