"""Projects, their members, the requests musicians send (transforms) and the songs they yield."""

import secrets
import unicodedata
import uuid
from datetime import timedelta
from pathlib import PurePath

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.text import slugify


def single_line(value: str) -> None:
    """Names travel into e-mails and headers: no line breaks or other control characters."""
    if any(unicodedata.category(char) in {"Cc", "Zl", "Zp"} for char in value):
        raise ValidationError("Use one line, without line breaks or control characters.")


class Project(models.Model):
    name = models.CharField(max_length=120, validators=[single_line])
    description = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    members = models.ManyToManyField(
        settings.AUTH_USER_MODEL, through="Membership", related_name="projects"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name", "pk"]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("studio:project_detail", args=[self.pk])

    @classmethod
    def create_for(cls, user, **fields) -> "Project":
        project = cls.objects.create(created_by=user, **fields)
        Membership.objects.create(project=project, user=user, role=Membership.Role.OWNER)
        return project


class Membership(models.Model):
    class Role(models.TextChoices):
        OWNER = "owner", "Owner"
        EDITOR = "editor", "Editor"
        VIEWER = "viewer", "Viewer"

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    role = models.CharField(max_length=10, choices=Role.choices, default=Role.VIEWER)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["project", "user"], name="one_membership_per_user")
        ]

    def __str__(self) -> str:
        return f"{self.user} in {self.project} ({self.role})"

    @property
    def can_edit(self) -> bool:
        return self.role in {self.Role.OWNER, self.Role.EDITOR}

    @property
    def is_owner(self) -> bool:
        return self.role == self.Role.OWNER


class InvitationQuerySet(models.QuerySet):
    def pending(self):
        return self.filter(accepted_at__isnull=True, declined_at__isnull=True, expires_at__gt=timezone.now())

    def pending_for(self, user):
        """The offers waiting for this account's answer (by username, or by an e-mail address
        that matched the account when the owner sent it)."""
        return self.pending().filter(user=user).select_related("project", "invited_by")


class Invitation(models.Model):
    """An owner's offer to join a project, which only the invited person can accept.

    Invited by username, it waits in that account's list of invitations; by e-mail address, a
    link goes to the address (and waits in the list of the account with that address, if any).
    Who is invited is fixed: `user` (the account named, when one was) and `email`.
    """

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="invitations")
    email = models.EmailField(blank=True)
    username = models.CharField(max_length=150, blank=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, null=True, blank=True,
        related_name="invitations",
    )
    role = models.CharField(
        max_length=10, choices=Membership.Role.choices, default=Membership.Role.VIEWER
    )
    token = models.CharField(max_length=64, unique=True, default=secrets.token_urlsafe)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    declined_at = models.DateTimeField(null=True, blank=True)

    objects = InvitationQuerySet.as_manager()

    class Meta:
        indexes = [
            # The per-owner rate limit: invitations one user sent in the last hour.
            models.Index(fields=["invited_by", "created_at"], name="invitation_sent_recent"),
        ]

    def __str__(self) -> str:
        return f"Invitation of {self.invitee} to {self.project}"

    def get_absolute_url(self) -> str:
        return reverse("teams:invitation_accept", args=[self.token])

    def save(self, *args, **kwargs):
        if self.expires_at is None:
            self.expires_at = timezone.now() + timedelta(days=7)
        super().save(*args, **kwargs)

    @property
    def invitee(self) -> str:
        return self.email or self.username

    @property
    def is_usable(self) -> bool:
        return self.accepted_at is None and self.declined_at is None and self.expires_at > timezone.now()

    def is_for(self, user) -> bool:
        """Only the invited account, or an account with the invited address, may answer."""
        if self.user_id is not None:
            return self.user_id == user.pk
        return bool(self.email) and user.email.lower() == self.email.lower()

    def accept(self, user) -> bool:
        """Claim the offer once (a conditional update) and make `user` a member; False if gone."""
        with transaction.atomic():
            claimed = Invitation.objects.pending().filter(pk=self.pk).update(
                accepted_at=timezone.now(), accepted_by=user
            )
            if claimed:
                Membership.objects.get_or_create(project=self.project, user=user, defaults={"role": self.role})
        return bool(claimed)

    def decline(self) -> bool:
        return bool(Invitation.objects.pending().filter(pk=self.pk).update(declined_at=timezone.now()))


class Transform(models.Model):
    """One request to the upstream, with every input the musician gave.

    Generation modes make songs from words; transform modes reshape a source song or upload.
    The row is the truth about the request's progress: the worker cluster claims it with a
    conditional update, records the upstream ids first, and the reconciler re-drives it when
    a lease expires.
    """

    class Mode(models.TextChoices):
        PROFESSIONAL = "professional", "Professional"
        INSPIRATION = "inspiration", "Inspiration"
        COMPOSE = "compose", "Compose"
        COVER = "cover", "Cover"
        EXTEND = "extend", "Extend"
        INPAINT = "inpaint", "Inpaint"
        SWAP_VOCALS = "swap_vocals", "Swap vocals"
        SWAP_SOUND = "swap_sound", "Swap sound"

    GENERATION_MODES = {Mode.PROFESSIONAL, Mode.INSPIRATION, Mode.COMPOSE}

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        SUBMITTING = "submitting", "Submitting"
        SUBMITTED = "submitted", "Submitted"
        # Sent, but no answer came back: the upstream may or may not have started it.
        UNKNOWN = "unknown", "Outcome unknown"
        FAILED = "failed", "Failed"

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="transforms")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    mode = models.CharField(max_length=20, choices=Mode.choices)
    # A form carries one key; a double-clicked or re-sent form maps to the same row.
    idempotency_key = models.UUIDField(default=uuid.uuid4, unique=True)

    source_song = models.ForeignKey(
        "Song", on_delete=models.SET_NULL, null=True, blank=True, related_name="children"
    )
    source_upload = models.ForeignKey(
        "Upload", on_delete=models.SET_NULL, null=True, blank=True, related_name="children"
    )

    title = models.CharField(max_length=200, blank=True)
    lyrics = models.TextField(blank=True)
    tags = models.CharField(max_length=500, blank=True)
    topic = models.CharField(max_length=500, blank=True)
    model = models.CharField(max_length=40, blank=True)
    instrumental = models.BooleanField(default=False)
    seed = models.BigIntegerField(null=True, blank=True)
    # Compose: [{"text": str, "strength": 0-1, "start": 0-1, "end": 0-1}, ...] (at most three).
    prompts = models.JSONField(default=list, blank=True)
    lyrics_strength = models.FloatField(null=True, blank=True)
    sound_prompt_strength = models.FloatField(null=True, blank=True)
    weirdness = models.FloatField(null=True, blank=True)
    cover_strength = models.FloatField(null=True, blank=True)
    variation_strength = models.FloatField(null=True, blank=True)
    extend_at = models.FloatField(null=True, blank=True, help_text="seconds")
    replace_start = models.FloatField(null=True, blank=True, help_text="seconds")
    replace_end = models.FloatField(null=True, blank=True, help_text="seconds")

    dialect = models.CharField(max_length=20, blank=True)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.QUEUED)
    upstream_ids = models.JSONField(default=list, blank=True)
    callback_secret = models.CharField(max_length=64, default=secrets.token_urlsafe)
    attempts = models.PositiveSmallIntegerField(default=0)
    lease_until = models.DateTimeField(null=True, blank=True)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    error = models.CharField(max_length=500, blank=True, help_text="shown to musicians")
    error_detail = models.TextField(blank=True, help_text="for operators only")
    created_at = models.DateTimeField(default=timezone.now)
    submitted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [
            # The reconciler's scan: requests not yet accepted upstream whose turn has come.
            models.Index(fields=["status", "next_attempt_at"], name="transform_due"),
        ]

    def __str__(self) -> str:
        return f"{self.get_mode_display()} #{self.pk}"

    @property
    def source(self):
        return self.source_song or self.source_upload

    @property
    def display_title(self) -> str:
        return self.title or self.topic or self.get_mode_display()


class Song(models.Model):
    """One variant of a transform: tracked upstream until its audio is in our storage."""

    class Status(models.TextChoices):
        PENDING = "pending", "Waiting for the upstream"
        RUNNING = "running", "Generating"
        DOWNLOADING = "downloading", "Saving audio"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"
        TIMED_OUT = "timed_out", "Timed out"

    FINISHED = {Status.DONE, Status.FAILED, Status.TIMED_OUT}

    transform = models.ForeignKey(Transform, on_delete=models.CASCADE, related_name="songs")
    # The song's project starts as its transform's and changes when the song is moved.
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="songs")
    variant = models.PositiveSmallIntegerField(default=0)
    upstream_id = models.CharField(max_length=200, blank=True)

    title = models.CharField(max_length=200, blank=True)
    lyrics = models.TextField(blank=True)
    tags = models.CharField(max_length=500, blank=True)

    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PENDING)
    progress = models.PositiveSmallIntegerField(default=0)
    error = models.CharField(max_length=500, blank=True, help_text="shown to musicians")
    error_detail = models.TextField(blank=True, help_text="for operators only")

    audio = models.FileField(upload_to="songs/%Y/%m/", blank=True)
    audio_format = models.CharField(max_length=10, blank=True)
    duration = models.FloatField(null=True, blank=True)
    peaks = models.JSONField(default=list, blank=True)
    # Where the finished track can be fetched; used once to copy it into our storage.
    upstream_audio_url = models.URLField(max_length=1000, blank=True)

    # Tracking state for the poller; the row is the truth after a crash.
    next_poll_at = models.DateTimeField(null=True, blank=True)
    poll_interval = models.FloatField(default=2.0)
    polls = models.PositiveIntegerField(default=0)
    last_progress_at = models.DateTimeField(null=True, blank=True)
    lease_until = models.DateTimeField(null=True, blank=True)
    download_attempts = models.PositiveSmallIntegerField(default=0)
    upstream_done_at = models.DateTimeField(null=True, blank=True)

    labels = models.CharField(max_length=300, blank=True, help_text="the team's own tags")
    favourited_by = models.ManyToManyField(
        settings.AUTH_USER_MODEL, blank=True, related_name="favourite_songs"
    )
    deleted_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-transform_id", "variant"]
        constraints = [
            models.UniqueConstraint(
                fields=["transform", "variant"], name="one_song_per_transform_variant"
            ),
        ]
        indexes = [
            # The poller's scan: unfinished songs whose next poll is due.
            models.Index(fields=["status", "next_poll_at"], name="song_poll_due"),
            # Finding a song from an upstream callback or feed entry.
            models.Index(fields=["upstream_id"], name="song_upstream_id"),
            # The project page and library: a project's live songs, newest first.
            models.Index(fields=["project", "deleted_at", "-created_at"], name="song_project_recent"),
            # The library's page of ids across projects, newest first: walked in order with the
            # project checked in the index, so deep pages need no sort (benchmarks/library_bench.py);
            # also the trash's scan for songs trashed before a date (empty_trash).
            models.Index(fields=["deleted_at", "-created_at", "-id", "project"], name="song_library_recent"),
        ]

    def __str__(self) -> str:
        return f"{self.display_title} ({self.variant_label})"

    def get_absolute_url(self) -> str:
        return reverse("studio:song_detail", args=[self.pk])

    @property
    def display_title(self) -> str:
        return self.title or self.transform.display_title

    @property
    def variant_label(self) -> str:
        return "AB"[self.variant] if self.variant < 2 else str(self.variant + 1)

    @property
    def is_finished(self) -> bool:
        return self.status in self.FINISHED

    @property
    def is_playable(self) -> bool:
        return self.status == self.Status.DONE and bool(self.audio)

    def download_name(self) -> str:
        stem = slugify(self.display_title) or "song"
        extension = PurePath(self.audio.name).suffix or f".{self.audio_format or 'mp3'}"
        return f"{stem}-{self.variant_label.lower()}{extension}"


class Upload(models.Model):
    """Audio a musician brought: a file or a URL, copied into our storage, then sent upstream."""

    class Status(models.TextChoices):
        PENDING = "pending", "Checking"
        PROCESSING = "processing", "Processing upstream"
        READY = "ready", "Ready"
        FLAGGED = "flagged", "Flagged by the upstream"
        FAILED = "failed", "Failed"

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="uploads")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    title = models.CharField(max_length=200)
    source_url = models.URLField(max_length=1000, blank=True)
    audio = models.FileField(upload_to="uploads/%Y/%m/", blank=True)
    audio_format = models.CharField(max_length=10, blank=True)
    duration = models.FloatField(null=True, blank=True)
    peaks = models.JSONField(default=list, blank=True)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PENDING)
    upstream_id = models.CharField(max_length=200, blank=True)
    transcribed_lyrics = models.TextField(blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    lease_until = models.DateTimeField(null=True, blank=True)
    next_poll_at = models.DateTimeField(null=True, blank=True)
    error = models.CharField(max_length=500, blank=True)
    error_detail = models.TextField(blank=True)
    deleted_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [
            # The poller's scan for uploads still processing upstream.
            models.Index(fields=["status", "next_poll_at"], name="upload_poll_due"),
        ]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("studio:upload_detail", args=[self.pk])


class GuestLink(models.Model):
    """A listen-only link to one song for people outside the project."""

    song = models.ForeignKey(Song, on_delete=models.CASCADE, related_name="guest_links")
    token = models.CharField(max_length=64, unique=True, default=secrets.token_urlsafe)
    allow_download = models.BooleanField(default=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"Guest link to {self.song}"

    def get_absolute_url(self) -> str:
        return reverse("teams:guest_song", args=[self.token])

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None and (
            self.expires_at is None or self.expires_at > timezone.now()
        )
