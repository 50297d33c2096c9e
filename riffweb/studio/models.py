"""Projects, their members, the requests musicians send (transforms) and the songs they yield."""

import random
import secrets
import unicodedata
import uuid
from datetime import timedelta
from pathlib import PurePath

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import IntegrityError, models, transaction
from django.db.models import Case, F, OuterRef, Q, Subquery, Value, When
from django.dispatch import Signal
from django.urls import reverse
from django.utils import timezone
from django.utils.text import slugify

from riffweb import audio, media, queue
from riffweb.upstream import dialects


def single_line(value: str) -> None:
    """Names travel into e-mails and headers: no line breaks or other control characters."""
    if any(unicodedata.category(char) in {"Cc", "Zl", "Zp"} for char in value):
        raise ValidationError("Use one line, without line breaks or control characters.")


def choice_label(choices, value) -> str:
    """What a model's get_FOO_display gives (the label, or the value itself when no choice has
    it), without Django's rebuilding a dict of every choice on each call (~6 µs; a library row
    asks twice)."""
    try:
        return choices(value).label
    except ValueError:
        return value


def stored_files(model) -> list[str]:
    """The names of a model's file fields: what deleting its rows must also delete from storage."""
    return [field.name for field in model._meta.concrete_fields if isinstance(field, models.FileField)]


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

    def delete_with_files(self) -> None:
        """Delete the project, its requests, songs and uploads, and then their files.

        A song moved to another project stays there: its request goes along with it first,
        since deleting the request would take the song with it.
        """
        with transaction.atomic():
            for song in Song.objects.filter(transform__project=self).exclude(project=self):
                Transform.objects.filter(pk=song.transform_id).update(project=song.project_id)
            files = [f for model in (Song, Upload)
                     for row in model.objects.filter(project=self).values_list(*stored_files(model)) for f in row if f]
            files += SongFile.objects.filter(song__project=self).kept_names()
            self.delete()
            transaction.on_commit(lambda: [default_storage.delete(name) for name in files])


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


class Failure(models.TextChoices):
    """Why a song ended without audio; decides the action its card offers."""

    REJECTED = "rejected", "Declined"  # moderation or an invalid request: edit it, then send again
    SOURCE = "source", "Source unknown"  # the source is not known upstream: retrying cannot help
    UNKNOWN = "unknown", "Unconfirmed"  # a create got no answer; a callback may still adopt it
    SERVICE = "service", "Service failing"
    ACCOUNT = "account", "Account needs attention"
    RENDER = "render", "Render failed"
    FEWER = "fewer", "Fewer songs than asked"
    LOST = "lost", "Lost"
    TIMED_OUT = "timed_out", "Timed out"
    NOT_SAVED = "not_saved", "Not saved"
    MIX = "mix", "Mix failed"  # riffweb's own arranger could not mix: fix the arrangement, render again


# One sentence each, in musicians' words: what happened and what to do.
FAILURE_MESSAGES = {
    Failure.REJECTED: "The music service declined this request{reason}. Edit it and send it again.",
    Failure.SOURCE: "The music service does not know this song's source, so it cannot transform it. "
    "Make the source again or upload it as audio.",
    Failure.UNKNOWN: "The music service did not confirm this request, so we cannot tell whether it started. "
    "Retry to send it again.",
    Failure.SERVICE: "The music service kept failing, so we stopped trying. Retry in a while.",
    Failure.ACCOUNT: "The music service account needs attention; our team has been told. Retry later.",
    Failure.RENDER: "The music service could not make this song{reason}. Retry to try again.",
    Failure.FEWER: "The music service made fewer songs than asked for this request. Retry to make this one.",
    Failure.LOST: "The music service lost track of this song. Retry to make it again.",
    Failure.TIMED_OUT: "The music service took too long with this song. Retry to send it again.",
    Failure.NOT_SAVED: "We could not save this song's audio. Retry to make it again.",
    Failure.MIX: "We could not mix this arrangement{reason}. Fix it on the arrangement's page and render it again.",
}
# A mix is never sent to the music service: "retry" would send it there, so it is rendered again instead.
FINISH_ATTEMPTS = 3  # workers a song's cover and waveform may take (a crash each time: left without)
NOT_RETRYABLE = {Failure.REJECTED, Failure.SOURCE, Failure.MIX}
MIXING_MESSAGE = "riffweb is mixing this arrangement itself; it takes a few seconds."
SLOW_MESSAGE = "Taking longer than usual; the music service is still working on it."
UNREACHABLE_MESSAGE = "The music service can't be reached right now; this song will carry on when it is back."


def failure_message(failure: str, reason: str = "") -> str:
    return FAILURE_MESSAGES[failure].format(reason=f" ({reason})" if reason else "")[:500]


class KeyInUse(ValueError):
    """A form's idempotency key that already made a request in another project."""


class TransformQuerySet(models.QuerySet):
    def create_request(self, *, project, user, mode: str, fields: dict, key, dialect: str,
                       variants: int = 2) -> "Transform":
        """Store a request with its variants and hand it to the worker cluster on commit.

        A re-sent form carries the same idempotency key and gets the request it already made; a
        key already used in another project raises KeyInUse (a form is made for one project).
        """
        existing = self.filter(idempotency_key=key).first()
        if existing is not None and existing.project_id != project.pk:
            raise KeyInUse(key)
        if existing is not None:
            return existing
        try:
            with transaction.atomic():
                transform = self.create(project=project, created_by=user, mode=mode, idempotency_key=key,
                                        dialect=dialect, **fields)
                Song.objects.bulk_create(Song.of(transform, variant=variant) for variant in range(variants))
                transaction.on_commit(lambda: queue.submit_request(transform.pk))
        except IntegrityError:  # two copies of one form raced; the first one won
            return self.get(idempotency_key=key)
        return transform

    def claim_for_submit(self, pk: int, now, lease: timedelta) -> "Transform | None":
        """QUEUED and due → SUBMITTING, or None when another worker has it or it is not due."""
        claimed = (
            self.filter(pk=pk, status=Transform.Status.QUEUED)
            .filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
            .update(status=Transform.Status.SUBMITTING, lease_until=now + lease, attempts=F("attempts") + 1)
        )
        if not claimed:
            return None
        return self.select_related("source_song__transform__mix_upload", "source_upload").get(pk=pk)

    def create_render(self, arrangement: "Arrangement", user, key) -> "Transform":
        """Render an arrangement: a request riffweb fills itself (one song, mixed by a worker).

        Raises ArrangementError when the arrangement cannot be mixed as it stands; a re-sent form
        (the same key) gets the render it already made.
        """
        existing = self.filter(idempotency_key=key).first()
        if existing is not None and existing.project_id != arrangement.project_id:
            raise KeyInUse(key)
        if existing is not None:
            return existing
        regions = arrangement.snapshot()
        first = regions[0]
        with transaction.atomic():
            transform = self.create(
                project=arrangement.project, created_by=user, mode=Transform.Mode.ARRANGEMENT,
                idempotency_key=key, status=Transform.Status.RENDERING, title=arrangement.name,
                tags=first["tags"], source_song_id=first["song"], arrangement=arrangement, regions=regions,
            )
            # The card's note while it waits, as a busy service's is (`error` on a waiting song).
            Song.of(transform, variant=0, error=MIXING_MESSAGE).save(force_insert=True)
            transaction.on_commit(lambda: queue.render_arrangement(transform.pk))
        return transform

    def claim_render(self, pk: int, now, lease: timedelta) -> "Transform | None":
        """RENDERING and not held by a live worker → held by this one, or None."""
        claimed = (
            self.filter(pk=pk, status=Transform.Status.RENDERING)
            .filter(Q(lease_until__isnull=True) | Q(lease_until__lt=now))
            .update(lease_until=now + lease, attempts=F("attempts") + 1)
        )
        return self.get(pk=pk) if claimed else None

    def lost_renders(self, now, grace: timedelta) -> list[int]:
        """Renders whose task was lost (the broker dropped it) or whose worker died: for the reconciler."""
        lost = self.filter(status=Transform.Status.RENDERING).filter(
            Q(lease_until__lt=now) | Q(lease_until__isnull=True, created_at__lt=now - grace)
        )
        return list(lost.values_list("pk", flat=True)[:20])

    def expire_claims(self, now) -> int:
        """Submit claims whose worker died: the create may or may not have been sent."""
        expired = 0
        for transform in self.filter(status=Transform.Status.SUBMITTING, lease_until__lt=now):
            expired += transform.fail_submission(
                Failure.UNKNOWN, "the submitting worker stopped before recording an answer",
                only_if=Transform.Status.SUBMITTING,
            )
        return expired

    def requeue_orphans(self, now, grace: timedelta) -> int:
        """Requests with a variant waiting to be sent but no create coming (a retry that
        raced a create already on its way): queue them again."""
        return self.filter(
            songs__status=Song.Status.PENDING, songs__changed_at__lt=now - grace,
            status__in=[Transform.Status.SUBMITTED, Transform.Status.FAILED, Transform.Status.UNKNOWN],
        ).update(status=Transform.Status.QUEUED, attempts=0, next_attempt_at=None, lease_until=None)

    def due(self, now, grace: timedelta) -> list[int]:
        """Requests whose submit task never ran (lost by the broker) or whose retry time came."""
        due = self.filter(status=Transform.Status.QUEUED).filter(
            Q(next_attempt_at__lte=now) | Q(next_attempt_at__isnull=True, created_at__lt=now - grace)
        )
        return list(due.order_by("created_at").values_list("pk", flat=True)[:100])


class Transform(models.Model):
    """One request to the music service, with every input the musician gave.

    Generation modes make songs from words; transform modes reshape a source song or upload.
    The status is that of the request's latest create call: a retried variant queues the
    request again, and the next create fills the variants that wait for one (PENDING songs).
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
        # Mixed by riffweb itself from regions of the project's songs; never sent upstream.
        ARRANGEMENT = "arrangement", "Arrangement"

    GENERATION_MODES = {Mode.PROFESSIONAL, Mode.INSPIRATION, Mode.COMPOSE}

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        SUBMITTING = "submitting", "Submitting"
        SUBMITTED = "submitted", "Submitted"
        # Sent, but no answer came back: the service may or may not have started it.
        UNKNOWN = "unknown", "Outcome unknown"
        FAILED = "failed", "Failed"
        # An arrangement being mixed by a worker: the upstream reconciler leaves it alone.
        RENDERING = "rendering", "Mixing"

    # What the musician chose: shown on the request page, exported with the song, reused.
    PARAMETER_FIELDS = (
        "mode", "title", "lyrics", "tags", "topic", "model", "instrumental", "seed", "prompts",
        "lyrics_strength", "sound_prompt_strength", "weirdness", "cover_strength", "variation_strength",
        "extend_at", "replace_start", "replace_end", "source_song", "source_upload", "dialect",
    )

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
    # An arrangement's render: its regions as they were when rendered ([{"song", "title", "variant",
    # "start", "end", "crossfade"}], seconds), so editing the arrangement later leaves this song's
    # lineage as it was made.
    arrangement = models.ForeignKey(
        "Arrangement", on_delete=models.SET_NULL, null=True, blank=True, related_name="renders"
    )
    regions = models.JSONField(default=list, blank=True)
    # The rendered mix, sent to the music service as an upload: a song the service did not make
    # has no id there, so transforms of it name this upload instead (upstream.submit).
    mix_upload = models.ForeignKey(
        "Upload", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    palette = models.ForeignKey(
        "Palette", on_delete=models.SET_NULL, null=True, blank=True, related_name="+",
        help_text="the palette the form was filled from",
    )

    dialect = models.CharField(max_length=20, blank=True)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.QUEUED)
    # Every job the service started for this request, oldest first (retries add to it).
    upstream_ids = models.JSONField(default=list, blank=True)
    # Job id → the account that runs it, when the create's answer named one (dialect B's
    # `user_id`): the calls about the job and its songs name that account.
    upstream_accounts = models.JSONField(default=dict, blank=True)
    callback_secret = models.CharField(max_length=64, default=secrets.token_urlsafe)
    attempts = models.PositiveSmallIntegerField(default=0)
    lease_until = models.DateTimeField(null=True, blank=True)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    error = models.CharField(max_length=500, blank=True, help_text="shown to musicians")
    error_detail = models.TextField(blank=True, help_text="for operators only")
    created_at = models.DateTimeField(default=timezone.now)
    submitted_at = models.DateTimeField(null=True, blank=True)

    objects = TransformQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [
            # The reconciler's scan: requests not yet accepted upstream whose turn has come.
            models.Index(fields=["status", "next_attempt_at"], name="transform_due"),
        ]

    def __str__(self) -> str:
        return f"{self.get_mode_display()} #{self.pk}"

    def get_mode_display(self) -> str:
        return choice_label(self.Mode, self.mode)

    @property
    def source(self):
        return self.source_song or self.source_upload

    @property
    def display_title(self) -> str:
        return self.title or self.topic or self.get_mode_display()

    def parameters(self) -> dict:
        """What the musician asked for, as plain data (the zip's sidecar, the request page)."""
        params = {}
        for name in self.PARAMETER_FIELDS:
            field = self._meta.get_field(name)
            params[name] = getattr(self, field.attname)
        params["created_at"] = self.created_at.isoformat()
        return params

    # --- the create call's lifecycle (riffweb.upstream.submit drives it) ---

    def record_submission(self, jobs: list[tuple[str, str]], first_poll: float,
                          accounts: dict[str, str] | None = None) -> bool:
        """The service accepted the create: `jobs` are (job id, track id or "") pairs, and
        `accounts` the account running each job when the service named one.

        A job that names its track fills one waiting variant; a job without track ids covers
        every waiting variant, and its songs are matched as they appear. Tracks beyond the
        waiting variants become further takes of this request. False when our claim was taken
        (a lease expired): the ids are kept for operators and nothing else changes.
        """
        now = timezone.now()
        with transaction.atomic():
            updated = Transform.objects.filter(pk=self.pk, status=self.Status.SUBMITTING).update(
                status=self.Status.SUBMITTED, upstream_ids=list(self.upstream_ids) + [j for j, _ in jobs],
                upstream_accounts={**self.upstream_accounts, **(accounts or {})},
                submitted_at=now, lease_until=None, next_attempt_at=None, error="",
            )
            if not updated:
                Transform.objects.filter(pk=self.pk).update(error_detail=f"late answer: upstream jobs {jobs}")
                return False
            waiting = list(self.songs.filter(status=Song.Status.PENDING).order_by("variant"))
            tracked = [(job, track) for job, track in jobs if track]
            untracked = [job for job, track in jobs if not track]
            for song in waiting:
                if tracked:
                    job, track = tracked.pop(0)
                elif untracked:
                    job, track = untracked[0], ""
                else:
                    Song.objects.filter(pk=song.pk).live().fail(Failure.FEWER)
                    continue
                Song.objects.filter(pk=song.pk, status=Song.Status.PENDING).update(
                    **Song.running_fields(now, first_poll), job_id=job[:200], upstream_id=track[:200],
                )
            for job, track in tracked:  # a dialect that always makes two tracks: another take
                self.add_take(job, track, now, first_poll, beside=waiting[0] if waiting else None)
        return True

    def add_take(self, job: str, track: str, now, first_poll: float, beside: "Song | None") -> "Song":
        """A track nobody waited for: shown as a further take, in the project of the song
        whose create made it (a moved song's take never lands in a project it left)."""
        variant = (self.songs.aggregate(top=models.Max("variant"))["top"] or 0) + 1
        take = Song.of(self, project_id=beside.project_id if beside else self.project_id, variant=variant,
                       job_id=job[:200], upstream_id=track[:200], **Song.running_fields(now, first_poll))
        take.save(force_insert=True)
        return take

    def requeue_submit(self, delay: float, detail: str, note: str = "") -> None:
        """The service was busy or failing: send the create again after `delay` seconds.

        `note` tells the waiting variants' cards why they wait (a busy service).
        """
        now = timezone.now()
        with transaction.atomic():
            Transform.objects.filter(pk=self.pk, status=self.Status.SUBMITTING).update(
                status=self.Status.QUEUED, lease_until=None,
                next_attempt_at=now + timedelta(seconds=delay), error_detail=detail[:20000],
            )
            self.songs.filter(status=Song.Status.PENDING).exclude(error=note).update(error=note[:500], changed_at=now)

    def fail_submission(self, failure: str, detail: str, reason: str = "", only_if: str = "") -> int:
        """The create failed (or its outcome is unknown): end the variants that waited for it.

        Variants already made or being made by an earlier create are not touched.
        """
        status = self.Status.UNKNOWN if failure == Failure.UNKNOWN else self.Status.FAILED
        message = failure_message(failure, reason)
        with transaction.atomic():
            rows = Transform.objects.filter(pk=self.pk).exclude(status=self.Status.SUBMITTED)
            if only_if:
                rows = rows.filter(status=only_if)
            updated = rows.update(
                status=status, lease_until=None, next_attempt_at=None, error=message, error_detail=detail[:20000],
            )
            if updated:
                self.songs.filter(status=Song.Status.PENDING).fail(failure, detail, reason)
        return updated

    def store_render(self, name: str, audio_format: str, duration: float, peaks: list[float]) -> bool:
        """The mix is in storage: its song is done (the song's own store verb) and the request
        accepted. False when this render lost its claim (the caller deletes its file)."""
        with transaction.atomic():
            if not Transform.objects.filter(pk=self.pk, status=self.Status.RENDERING).update(
                status=self.Status.SUBMITTED, submitted_at=timezone.now(), lease_until=None, error="",
            ):
                return False
            song = self.songs.get(variant=0)
            Song.objects.filter(pk=song.pk, status=Song.Status.PENDING).update(status=Song.Status.DOWNLOADING)
            return song.store_audio(name, audio_format, duration, peaks)

    def offer_mix(self, name: str, duration: float, peaks: list[float]) -> "Upload":
        """Send the stored mix (its own copy, `name`) to the music service as an upload, after
        the commit, so the song can be extended, inpainted or covered like one it made."""
        with transaction.atomic():
            upload = Upload.objects.create(
                project_id=self.project_id, created_by_id=self.created_by_id, title=self.title or "Arrangement",
                audio=name, audio_format="mp3", duration=round(duration, 3), peaks=peaks,
            )
            Transform.objects.filter(pk=self.pk).update(mix_upload=upload)
            transaction.on_commit(lambda: queue.send_upload(upload.pk))
        return upload

    @property
    def mix_upload_id_upstream(self) -> str:
        """What the music service calls this render's mix ("" until it has taken it)."""
        mix = self.mix_upload if self.mix_upload_id else None
        return mix.audio_upload_id if mix is not None and mix.status == Upload.Status.READY else ""

    def adopt(self, job_ids: list[str], first_poll: float) -> bool:
        """A create recorded as UNKNOWN called back: it did start, so its variants are tracked."""
        now = timezone.now()
        with transaction.atomic():
            adopted = Transform.objects.filter(pk=self.pk, status=self.Status.UNKNOWN).update(
                status=self.Status.SUBMITTED, upstream_ids=list(self.upstream_ids) + job_ids, submitted_at=now,
                error="", error_detail="adopted: the service called back after a create that got no answer",
            )
            if adopted:
                self.songs.filter(status=Song.Status.FAILED, failure=Failure.UNKNOWN).update(
                    **Song.running_fields(now, first_poll), job_id=(job_ids[0] if job_ids else "")[:200],
                    error_detail="", failure="", finished_at=None,
                )
        return bool(adopted)


# Sent (after commit) when songs end: done=True with their audio stored, False when they failed
# or timed out. The review app's notifications listen; studio knows nothing of them.
songs_ended = Signal()


class SongQuerySet(models.QuerySet):
    def unfinished(self):
        return self.exclude(status__in=Song.FINISHED)

    def in_flight(self):
        """Songs the pipeline still works on: to be sent, being made, or being stored."""
        return self.filter(status__in=[Song.Status.PENDING, Song.Status.RUNNING, Song.Status.DOWNLOADING])

    def live(self):
        """Songs still waiting for the service to report them (not downloading, not ended)."""
        return self.filter(status__in=[Song.Status.PENDING, Song.Status.RUNNING])

    def fail(self, failure: str, detail: str = "", reason: str = "") -> int:
        now = timezone.now()
        status = Song.Status.TIMED_OUT if failure == Failure.TIMED_OUT else Song.Status.FAILED
        pks = list(self.values_list("pk", flat=True))
        failed = Song.objects.filter(pk__in=pks).update(
            status=status, failure=failure, error=failure_message(failure, reason), error_detail=detail[:20000],
            finished_at=now, changed_at=now, next_poll_at=None, lease_until=None,
        )
        if failed:
            transaction.on_commit(lambda: songs_ended.send(Song, pks=pks, done=False))
        return failed

    def time_out(self, cutoff) -> int:
        """The deadline: songs still running long after their create was accepted."""
        return self.filter(status=Song.Status.RUNNING, submitted_at__lt=cutoff).fail(Failure.TIMED_OUT)

    def poll_now(self, now) -> int:
        """Running songs are asked about at the next chance (after an outage, or unscheduled)."""
        return self.filter(status=Song.Status.RUNNING).update(next_poll_at=now)

    def poll_later(self, now, seconds: float) -> int:
        """Running songs the service would not answer about are asked again in `seconds`; their
        cadence stays (the refusal said nothing about how far they are)."""
        return self.filter(status=Song.Status.RUNNING).update(next_poll_at=now + timedelta(seconds=seconds))

    def claim_download(self, pk: int, now, lease: timedelta) -> "Song | None":
        claimed = (
            self.filter(pk=pk, status=Song.Status.DOWNLOADING)
            .filter(Q(lease_until__isnull=True) | Q(lease_until__lt=now))
            .update(lease_until=now + lease, download_attempts=F("download_attempts") + 1)
        )
        return self.get(pk=pk) if claimed else None

    def finishing_due(self, now):
        """Stored songs whose cover and waveform are still to come, and that no worker holds."""
        return self.filter(finishing=True, download_attempts__lt=FINISH_ATTEMPTS).filter(
            Q(lease_until__isnull=True) | Q(lease_until__lt=now)
        )

    def claim_finishing(self, pk: int, now, lease: timedelta) -> "Song | None":
        """Take one song's finishing (a conditional update: one worker at a time; a worker that
        dies loses it when the lease ends, and a song that kills FINISH_ATTEMPTS workers is left
        without its extras)."""
        claimed = self.filter(pk=pk).finishing_due(now).update(
            lease_until=now + lease, download_attempts=F("download_attempts") + 1
        )
        return self.get(pk=pk) if claimed else None

    def with_partial_due(self, now, every: float):
        """Unfinished songs whose preview was never copied, or not for `every` seconds."""
        return self.filter(status=Song.Status.RUNNING).exclude(upstream_partial_url="").filter(
            Q(partial_fetched_at__isnull=True) | Q(partial_fetched_at__lt=now - timedelta(seconds=every))
        )

    def claim_partial(self, pk: int, now, every: float) -> "Song | None":
        """Take one preview copy (a conditional update: one worker copies it per `every` seconds)."""
        claimed = self.filter(pk=pk).with_partial_due(now, every).update(partial_fetched_at=now)
        return self.get(pk=pk) if claimed else None

    def poison_downloads(self, now, max_attempts: int) -> int:
        """Downloads that crashed their worker on every attempt end instead of looping."""
        return self.filter(
            status=Song.Status.DOWNLOADING, download_attempts__gte=max_attempts, lease_until__lt=now
        ).fail(Failure.NOT_SAVED, "the download crashed its worker on every attempt")


class Song(models.Model):
    """One variant (or a further take) of a request: tracked until its audio is stored."""

    class Status(models.TextChoices):
        PENDING = "pending", "Waiting for the music service"
        RUNNING = "running", "Generating"
        DOWNLOADING = "downloading", "Saving audio"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"
        TIMED_OUT = "timed_out", "Timed out"

    FINISHED = {Status.DONE, Status.FAILED, Status.TIMED_OUT}
    CADENCE_FIELDS = ["progress", "poll_interval", "next_poll_at", "polls", "last_progress_at", "missing_polls",
                      "changed_at", "first_progress", "first_progress_at"]

    transform = models.ForeignKey(Transform, on_delete=models.CASCADE, related_name="songs")
    # The request's mode, copied when the song is made (a request's mode never changes), so that
    # the library's mode filter reads its songs from an index instead of joining every song to
    # its request (counting a mode's songs at 100,000 took 29 ms on either database).
    mode = models.CharField(max_length=20, choices=Transform.Mode.choices, editable=False)
    # The song's project starts as its transform's and changes when the song is moved.
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="songs")
    variant = models.PositiveSmallIntegerField(default=0)
    # The service's job this song waits on, and its own track id once known (in dialect A
    # both are the track's id; a dialect B job holds several songs).
    job_id = models.CharField(max_length=200, blank=True)
    upstream_id = models.CharField(max_length=200, blank=True)

    title = models.CharField(max_length=200, blank=True)
    lyrics = models.TextField(blank=True)
    tags = models.CharField(max_length=500, blank=True)
    # When each line is sung, as the service reported it: [{"text", "start", "end"}] in seconds,
    # checked by riffweb.upstream.client.timed_lyrics; [] when it said nothing usable.
    timed_lyrics = models.JSONField(default=list, blank=True)
    # The song's tempo and its sections ([{"kind", "start", "end"}] in seconds) when the service
    # reported them (riffweb.upstream.client.song_music); hosted APIs may not: None and [].
    bpm = models.FloatField(null=True, blank=True)
    sections = models.JSONField(default=list, blank=True)

    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PENDING)
    progress = models.PositiveSmallIntegerField(default=0)
    failure = models.CharField(max_length=20, choices=Failure.choices, blank=True)
    error = models.CharField(max_length=500, blank=True, help_text="shown to musicians")
    error_detail = models.TextField(blank=True, help_text="for operators only")

    audio = models.FileField(upload_to="songs/%Y/%m/", blank=True)
    audio_format = models.CharField(max_length=10, blank=True)
    # What listen-only guest links stream instead of the master: a 96 kbps MP3, made on the
    # first such play and kept (ensure_preview).
    preview = models.FileField(upload_to="previews/%Y/%m/", blank=True)
    duration = models.FloatField(null=True, blank=True)
    peaks = models.JSONField(default=list, blank=True)
    # Where the finished track can be fetched; used once to copy it into our storage.
    upstream_audio_url = models.URLField(max_length=1000, blank=True)
    # While it is being made: the service's preview (the part made so far), copied into our
    # storage at most every RIFFWEB_PREVIEW_REFRESH seconds, and deleted once the song is stored.
    upstream_partial_url = models.URLField(max_length=1000, blank=True)
    partial = models.FileField(upload_to="partials/%Y/%m/", blank=True)
    partial_format = models.CharField(max_length=10, blank=True)
    partial_fetched_at = models.DateTimeField(null=True, blank=True)
    # What the service reported making: the style it used, the title and lyrics it wrote
    # (the musician's own stay in title and lyrics above), and its cover art, re-encoded here.
    api_style = models.CharField(max_length=1000, blank=True)
    api_title = models.CharField(max_length=200, blank=True)
    api_lyrics = models.TextField(blank=True)
    upstream_image_url = models.URLField(max_length=1000, blank=True)
    cover = models.FileField(upload_to="covers/%Y/%m/", blank=True)

    # Tracking state for the poller; the row is the truth after a crash.
    submitted_at = models.DateTimeField(null=True, blank=True)
    next_poll_at = models.DateTimeField(null=True, blank=True)
    poll_interval = models.FloatField(default=2.0)
    polls = models.PositiveIntegerField(default=0)
    # Status answers in a row that did not mention this song: the service lost it.
    missing_polls = models.PositiveSmallIntegerField(default=0)
    last_progress_at = models.DateTimeField(null=True, blank=True)
    # The first status answer that showed progress, and when: the render's pace is measured
    # from it, so the last poll can be aimed at the render's end (riffweb.upstream.tracker).
    first_progress = models.PositiveSmallIntegerField(default=0)
    first_progress_at = models.DateTimeField(null=True, blank=True)
    lease_until = models.DateTimeField(null=True, blank=True)
    download_attempts = models.PositiveSmallIntegerField(default=0)
    # Stored, its cover art and waveform still to come: done after every waiting download, so a
    # burst of finished songs reaches the musicians before the pictures do.
    finishing = models.BooleanField(default=False)
    upstream_done_at = models.DateTimeField(null=True, blank=True)
    retries = models.PositiveSmallIntegerField(default=0)
    # Moves whenever the card would look different: the page's status poll compares it.
    changed_at = models.DateTimeField(default=timezone.now)

    labels = models.CharField(max_length=300, blank=True, help_text="the team's own tags")
    favourited_by = models.ManyToManyField(
        settings.AUTH_USER_MODEL, blank=True, related_name="favourite_songs"
    )
    deleted_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    # The team's marks on this take, counted as riffweb.takes casts them, so that the library
    # filters and sorts on columns rather than counting marks for every song it walks.
    keepers = models.PositiveIntegerField(default=0)
    maybes = models.PositiveIntegerField(default=0)
    rejects = models.PositiveIntegerField(default=0)

    objects = SongQuerySet.as_manager()

    class Meta:
        ordering = ["-transform_id", "variant"]
        constraints = [
            models.UniqueConstraint(
                fields=["transform", "variant"], name="one_song_per_transform_variant"
            ),
            models.CheckConstraint(condition=~Q(mode=""), name="song_mode_set"),
        ]
        indexes = [
            # The poller's scan: unfinished songs whose next poll is due.
            models.Index(fields=["status", "next_poll_at"], name="song_poll_due"),
            # The few stored songs whose cover and waveform are still to come.
            models.Index(fields=["finished_at"], condition=Q(finishing=True), name="song_finishing"),
            # Finding a song from an upstream callback or feed entry.
            models.Index(fields=["upstream_id"], name="song_upstream_id"),
            # Matching a dialect B job's report to the songs that wait on it.
            models.Index(fields=["job_id"], name="song_job_id"),
            # The project page and library: a project's live songs, newest first.
            models.Index(fields=["project", "deleted_at", "-created_at"], name="song_project_recent"),
            # The library's page of ids across projects, newest first: walked in order with the
            # project checked in the index, so deep pages need no sort (benchmarks/library_bench.py);
            # also the trash's scan for songs trashed before a date (empty_trash).
            models.Index(fields=["deleted_at", "-created_at", "-id", "project"], name="song_library_recent"),
            # The library sorted by "Most keepers": walked in that order, as song_library_recent.
            models.Index(fields=["deleted_at", "-keepers", "rejects", "-created_at", "-id", "project"],
                         name="song_library_keepers"),
            # The same, of the keepers only: counting the "Keepers" filter's songs (up to the
            # library's cap) walks only them, where PostgreSQL read the whole table (at 100,000
            # songs, 16-21 ms -> 3-4 ms; benchmarks/library_bench.py).
            models.Index(fields=["deleted_at", "-keepers", "rejects", "-created_at", "-id", "project"],
                         condition=Q(keepers__gt=F("rejects")), name="song_library_keepers_only"),
            # The library by title and by length, walked as song_library_recent is (backwards for
            # A-Z and shortest first): at 100,000 songs PostgreSQL sorted every song for each page
            # (about 210 ms a page; SQLite 100-120 ms).
            models.Index(fields=["deleted_at", "-title", "-id", "project"], name="song_library_title"),
            models.Index(fields=["deleted_at", "-duration", "-id", "project"], name="song_library_duration"),
            # The library's status filter: a status's songs, newest first. SQLite's statistics do
            # not tell a rare status from a common one: asked for the failed songs, it walked every
            # song (at 100,000 songs, 147 ms against 13 a page).
            models.Index(fields=["status", "deleted_at", "-created_at", "-id", "project"], name="song_library_status"),
            # The library's mode filter, as the status filter.
            models.Index(fields=["mode", "deleted_at", "-created_at", "-id", "project"], name="song_library_mode"),
        ]

    def __str__(self) -> str:
        return f"{self.display_title} ({self.variant_label})"

    @classmethod
    def of(cls, transform: Transform, **fields) -> "Song":
        """A new (unsaved) song of `transform`, with what it takes from its request: the mode,
        the words, and the project unless `fields` names another."""
        return cls(**{"transform": transform, "mode": transform.mode, "project_id": transform.project_id,
                      "title": transform.title, "lyrics": transform.lyrics, "tags": transform.tags, **fields})

    def get_absolute_url(self) -> str:
        return reverse("studio:song_detail", args=[self.pk])

    @property
    def display_title(self) -> str:
        return self.title or self.transform.display_title

    @property
    def retitled(self) -> bool:
        """The service named the song otherwise than the musician typed."""
        typed = self.transform.title
        return bool(typed and self.api_title) and self.api_title == self.title != typed

    @property
    def rewrote_lyrics(self) -> bool:
        return bool(self.api_lyrics) and self.api_lyrics == self.lyrics and self.lyrics != self.transform.lyrics

    @property
    def variant_label(self) -> str:
        return "AB"[self.variant] if self.variant < 2 else str(self.variant + 1)

    def get_status_display(self) -> str:
        return choice_label(self.Status, self.status)

    @property
    def is_finished(self) -> bool:
        return self.status in self.FINISHED

    @property
    def upstream_account(self) -> str:
        """The account whose job made this song ("" when the service named none)."""
        return self.transform.upstream_accounts.get(self.job_id, "")

    @property
    def is_playable(self) -> bool:
        return self.status == self.Status.DONE and bool(self.audio)

    @property
    def can_retry(self) -> bool:
        """Failed, timed out or lost for a reason that sending it again may cure."""
        return self.status in {self.Status.FAILED, self.Status.TIMED_OUT} and self.failure not in NOT_RETRYABLE

    @property
    def can_resend(self) -> bool:
        """Declined as asked: the musician edits the request (the form, prefilled) and sends it."""
        return self.status == self.Status.FAILED and self.failure == Failure.REJECTED

    @property
    def is_slow(self) -> bool:
        """Generating with no progress for longer than such a song usually takes."""
        if self.status != self.Status.RUNNING:
            return False
        since = self.last_progress_at or self.submitted_at
        return since is not None and timezone.now() - since > timedelta(seconds=dialects.current().usual_seconds)

    def card_message(self, unreachable: bool = False) -> str:
        """The one sentence a card shows besides its progress, or ""."""
        if self.status in {self.Status.FAILED, self.Status.TIMED_OUT}:
            return self.error or failure_message(self.failure or Failure.RENDER)
        if self.status == self.Status.PENDING and self.error:  # why it still waits (a busy service)
            return self.error
        if unreachable and self.status in {self.Status.PENDING, self.Status.RUNNING}:
            return UNREACHABLE_MESSAGE
        if self.is_slow:
            return SLOW_MESSAGE
        return ""

    # --- the library's verbs ---

    def move_to(self, project: "Project") -> None:
        """The song (and whatever is made from it later) belongs to `project` from now on;
        its request stays where it was made."""
        self.project = project
        self.save(update_fields=["project"])

    def trash(self) -> None:
        self.deleted_at = timezone.now()
        self.save(update_fields=["deleted_at"])

    def restore(self) -> None:
        self.deleted_at = None
        self.save(update_fields=["deleted_at"])

    def ensure_preview(self):
        """The listen-only copy, encoded once; safe when two guests press play at once."""
        if self.preview:
            return self.preview
        with media.local_copy(self.audio) as path:
            data = audio.encode_preview(path, max_seconds=settings.RIFFWEB_AUDIO_MAX_SECONDS)
        self.preview.save(f"{self.pk}-preview.mp3", ContentFile(data), save=False)
        if not Song.objects.filter(pk=self.pk, preview="").update(preview=self.preview.name):
            self.preview.storage.delete(self.preview.name)  # the other guest's copy won
            self.refresh_from_db(fields=["preview"])
        return self.preview

    def download_name(self) -> str:
        stem = slugify(self.display_title) or "song"
        extension = PurePath(self.audio.name).suffix or f".{self.audio_format or 'mp3'}"
        return f"{stem}-{self.variant_label.lower()}{extension}"

    # --- the lifecycle (riffweb.upstream drives it; views call retry) ---

    @staticmethod
    def running_fields(now, first_poll: float) -> dict:
        return dict(
            status=Song.Status.RUNNING, submitted_at=now, next_poll_at=now + timedelta(seconds=first_poll),
            poll_interval=first_poll, last_progress_at=now, progress=0, missing_polls=0, changed_at=now, error="",
            first_progress=0, first_progress_at=None,
        )

    def retry(self) -> bool:
        """Send this variant again, whatever its siblings are doing; False when it cannot be.

        The song waits for its request's next create (PENDING) and the request is queued; a
        create already on its way picks it up, and the reconciler requeues a request whose
        waiting variant no create will fill.
        """
        now = timezone.now()
        with transaction.atomic():
            song = Song.objects.select_for_update().filter(pk=self.pk).first()
            if song is None or not song.can_retry:
                return False
            Song.objects.filter(pk=self.pk).update(
                status=self.Status.PENDING, job_id="", upstream_id="", progress=0, failure="", error="",
                error_detail="", upstream_audio_url="", submitted_at=None, next_poll_at=None, poll_interval=2.0,
                polls=0, missing_polls=0, last_progress_at=None, first_progress=0, first_progress_at=None,
                lease_until=None, download_attempts=0,
                upstream_done_at=None, finished_at=None, retries=F("retries") + 1, changed_at=now,
                upstream_partial_url="", partial="", partial_format="", partial_fetched_at=None,
            )
            Transform.objects.filter(pk=self.transform_id).exclude(
                status__in=[Transform.Status.QUEUED, Transform.Status.SUBMITTING]
            ).update(status=Transform.Status.QUEUED, attempts=0, lease_until=None, next_attempt_at=None,
                     error="", error_detail="")
            transaction.on_commit(lambda: queue.submit_request(self.transform_id))
        if song.partial:  # a preview of the attempt that failed
            default_storage.delete(song.partial.name)
        self.refresh_from_db()
        return True

    def record_progress(self, progress: int, interval: float, now, usual_seconds: float) -> None:
        """Still generating: the new cadence, set on this object for one bulk write per chunk.

        The card changes when the progress does, and once when the song becomes slow.
        """
        if progress > self.progress:
            self.last_progress_at = self.changed_at = now
            if self.first_progress_at is None:
                self.first_progress, self.first_progress_at = progress, now
        elif self.last_progress_at and self.changed_at <= self.last_progress_at + timedelta(seconds=usual_seconds):
            if now - self.last_progress_at > timedelta(seconds=usual_seconds):
                self.changed_at = now
        self.progress, self.poll_interval = progress, interval
        self.next_poll_at = now + timedelta(seconds=interval)
        self.polls += 1
        self.missing_polls = 0

    def save_cadence(self) -> None:
        Song.objects.filter(pk=self.pk, status=self.Status.RUNNING).update(
            **{name: getattr(self, name) for name in self.CADENCE_FIELDS}
        )

    def record_done(self, audio_url: str, title: str, lyrics: str, now, counted: bool = True, style: str = "",
                    image_url: str = "", timed_lyrics: list[dict] = (), bpm: float | None = None,
                    sections: list[dict] = ()) -> bool:
        """The service finished the track: download it (and its cover art) next, and keep what
        the service says it made (when each line is sung, the tempo and sections: already
        checked). B's lyrics are "[Instrumental]" when there are none. One statement: a burst
        of finished songs is applied by the pump between its status calls."""
        lyrics = "" if lyrics.strip() == "[Instrumental]" else lyrics
        fields = dict(
            status=self.Status.DOWNLOADING, progress=100, upstream_audio_url=audio_url[:1000], upstream_done_at=now,
            next_poll_at=None, lease_until=None, polls=F("polls") + int(counted), missing_polls=0, changed_at=now,
            api_title=title[:200], api_lyrics=lyrics, api_style=style[:1000], upstream_image_url=image_url[:1000],
        )
        # The song goes by what the service made, unless the musician renamed it meanwhile; the
        # request keeps what was typed.
        typed = Transform.objects.filter(pk=OuterRef("transform_id"))
        for field, made in (("title", title[:200]), ("lyrics", lyrics)):
            if made:
                as_typed = Q(**{field: ""}) | Q(**{field: Subquery(typed.values(field)[:1])})
                fields[field] = Case(When(as_typed, then=Value(made)), default=F(field),
                                     output_field=Song._meta.get_field(field))
        if timed_lyrics:
            fields["timed_lyrics"] = self.timed_lyrics = list(timed_lyrics)
        if bpm is not None or sections:
            fields.update(bpm=bpm, sections=list(sections))
            self.bpm, self.sections = bpm, list(sections)
        return bool(Song.objects.filter(pk=self.pk).live().update(**fields))

    def note_partial(self, url: str) -> None:
        """A status answer carried a preview of this unfinished song: copy it when due."""
        if url and url[:1000] != self.upstream_partial_url:
            Song.objects.filter(pk=self.pk, status=self.Status.RUNNING).update(upstream_partial_url=url[:1000])
            self.upstream_partial_url = url[:1000]

    def store_partial(self, name: str, audio_format: str) -> bool:
        """The preview copied into our storage replaces the one before; False (and the copy is
        deleted) when the song moved on meanwhile."""
        now = timezone.now()
        with transaction.atomic():
            row = Song.objects.select_for_update().filter(pk=self.pk, status=self.Status.RUNNING).first()
            if row is not None:
                Song.objects.filter(pk=self.pk).update(partial=name, partial_format=audio_format, changed_at=now)
        gone = name if row is None else row.partial.name  # the copy that lost, or the one replaced
        if gone:
            default_storage.delete(gone)
        return row is not None

    @property
    def bar_seconds(self) -> float | None:
        """One 4/4 bar at the reported tempo; None when the tempo is unknown."""
        return 240.0 / self.bpm if self.bpm else None

    def lrc(self) -> str:
        """The timed lyrics as an LRC file: title and artist tags, then `[mm:ss.xx]line`."""
        def stamp(seconds: float) -> str:
            hundredths = round(seconds * 100)
            return f"[{hundredths // 6000:02d}:{hundredths % 6000 / 100:05.2f}]"

        def tag(value: str) -> str:  # a tag is one line and ends at "]"
            return " ".join(value.replace("]", ")").split())

        head = [f"[ti:{tag(self.display_title)}]", f"[ar:{tag(self.project.name)}]", "[by:riffweb]"]
        return "\n".join(head + [f"{stamp(line['start'])}{line['text']}" for line in self.timed_lyrics]) + "\n"

    def lrc_name(self) -> str:
        return f"{slugify(self.display_title) or 'song'}-{self.variant_label.lower()}.lrc"

    def record_callback_progress(self, progress: int, safety_poll: float, now) -> None:
        """A callback said how far along it is: polling is only the safety net now."""
        Song.objects.filter(pk=self.pk, progress__lte=progress).live().update(
            status=self.Status.RUNNING, progress=progress, last_progress_at=now, missing_polls=0,
            next_poll_at=now + timedelta(seconds=safety_poll), changed_at=now,
        )

    def match_track(self, track_id: str) -> bool:
        return bool(Song.objects.filter(pk=self.pk, upstream_id="").update(upstream_id=track_id[:200]))

    def note_missing(self, now, interval: float, lost_after: int) -> bool:
        """A status answer left this song out; True when that makes it lost."""
        if self.missing_polls + 1 >= lost_after:
            return bool(Song.objects.filter(pk=self.pk).live().fail(
                Failure.LOST, f"not reported by {lost_after} status answers in a row"
            ))
        Song.objects.filter(pk=self.pk, status=self.Status.RUNNING).update(
            missing_polls=F("missing_polls") + 1, poll_interval=interval, polls=F("polls") + 1,
            next_poll_at=now + timedelta(seconds=interval),
        )
        return False

    def wait_longer(self, now, interval: float) -> None:
        """No answer about it this time (the service failed): ask again later."""
        Song.objects.filter(pk=self.pk, status=self.Status.RUNNING).update(
            next_poll_at=now + timedelta(seconds=interval), poll_interval=interval
        )

    def store_audio(self, name: str, audio_format: str, duration: float, peaks: list[float]) -> bool:
        """Done: the final audio replaces the preview, whose file goes (a song past RUNNING takes
        no new preview, so the one this object holds is the one replaced). Without peaks, or with
        cover art to copy, the song is left `finishing`, and whoever asked for it hears once
        finish() has run; otherwise now."""
        now = timezone.now()
        finishing = not peaks or bool(self.upstream_image_url and not self.cover)
        stored = Song.objects.filter(pk=self.pk, status=self.Status.DOWNLOADING).update(
            status=self.Status.DONE, audio=name, audio_format=audio_format, duration=round(duration, 3),
            peaks=peaks, progress=100, finished_at=now, changed_at=now, lease_until=None, next_poll_at=None,
            error="", error_detail="", failure="", partial="", partial_format="", upstream_partial_url="",
            finishing=finishing, download_attempts=0,
        )
        if stored and self.partial:
            default_storage.delete(self.partial.name)
        if stored and not finishing:
            self._announce()
        return bool(stored)

    def _announce(self) -> None:
        transaction.on_commit(lambda: songs_ended.send(Song, pks=[self.pk], done=True))

    def finish(self, peaks: list[float], cover: str) -> bool:
        """The stored song's waveform (if drawn) and cover art (a stored name, or "" when there is
        none): complete, so whoever asked for it hears. False, and the cover deleted, when its
        audio was replaced meanwhile."""
        fields = dict(finishing=False, lease_until=None, changed_at=timezone.now())
        if peaks:
            fields["peaks"] = peaks
        if cover:
            fields["cover"] = cover
        if Song.objects.filter(pk=self.pk, audio=self.audio.name, cover=self.cover.name or "").update(**fields):
            self._announce()
            return True
        if cover:
            default_storage.delete(cover)
        return False

    def download_failed(self, reason: str, max_attempts: int) -> str:
        live = Song.objects.filter(pk=self.pk, status=self.Status.DOWNLOADING)
        if self.download_attempts >= max_attempts:
            live.fail(Failure.NOT_SAVED, reason)
            return "failed"
        delay = min(60.0, 2.0**self.download_attempts) * random.uniform(0.8, 1.2)
        live.update(lease_until=None, next_poll_at=timezone.now() + timedelta(seconds=delay), error_detail=reason)
        return "retry"


class LyricsDraftQuerySet(models.QuerySet):
    def start(self, *, project, user, prompt: str, dialect: str) -> "LyricsDraft":
        """Ask the music service for lyrics: stored now, written by a worker (queue.write_lyrics).

        Raises TooManyDrafts when the user asked for RIFFWEB_LYRICS_HELP_PER_HOUR in the last hour.
        """
        hour_ago = timezone.now() - timedelta(hours=1)
        if self.filter(created_by=user, created_at__gte=hour_ago).count() >= settings.RIFFWEB_LYRICS_HELP_PER_HOUR:
            raise TooManyDrafts(settings.RIFFWEB_LYRICS_HELP_PER_HOUR)
        with transaction.atomic():
            draft = self.create(project=project, created_by=user, prompt=prompt, dialect=dialect)
            transaction.on_commit(lambda: queue.write_lyrics(draft.pk))
        return draft

    def claim(self, pk: int, now, lease: timedelta) -> "LyricsDraft | None":
        """QUEUED → RUNNING once; None when another worker has it or it has ended."""
        claimed = self.filter(pk=pk, status=LyricsDraft.Status.QUEUED).update(
            status=LyricsDraft.Status.RUNNING, lease_until=now + lease
        )
        return self.get(pk=pk) if claimed else None


class TooManyDrafts(Exception):
    """A musician asked for lyrics more often than the hourly limit allows."""

    def __init__(self, limit: int):
        super().__init__(f"That is the most lyrics drafts one person may ask for in an hour ({limit}). "
                         "Try again later.")


class LyricsDraft(models.Model):
    """Lyrics a musician asked the music service to write from a prompt, for a form's lyrics field."""

    class Status(models.TextChoices):
        QUEUED = "queued", "Waiting"
        RUNNING = "running", "Writing"
        DONE = "done", "Written"
        FAILED = "failed", "Failed"

    FINISHED = {Status.DONE, Status.FAILED}
    # A draft whose task was lost (the broker dropped it, the worker died) ends after this.
    STALE_AFTER = timedelta(minutes=2)

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="lyrics_drafts")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    prompt = models.CharField(max_length=500)
    dialect = models.CharField(max_length=20, blank=True)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.QUEUED)
    lyrics = models.TextField(blank=True)
    error = models.CharField(max_length=500, blank=True, help_text="shown to musicians")
    error_detail = models.TextField(blank=True, help_text="for operators only")
    lease_until = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)

    objects = LyricsDraftQuerySet.as_manager()

    class Meta:
        indexes = [
            # The hourly limit: drafts one user asked for since an hour ago.
            models.Index(fields=["created_by", "created_at"], name="lyricsdraft_user_recent"),
        ]

    def __str__(self) -> str:
        return f"Lyrics for “{self.prompt[:40]}”"

    @property
    def is_finished(self) -> bool:
        return self.status in self.FINISHED

    def _end(self, **fields) -> bool:
        now = timezone.now()
        return bool(LyricsDraft.objects.filter(pk=self.pk).exclude(status__in=self.FINISHED).update(
            finished_at=now, lease_until=None, **fields
        ))

    def mark_done(self, lyrics: str) -> bool:
        return self._end(status=self.Status.DONE, lyrics=lyrics)

    def mark_failed(self, message: str, detail: str = "") -> bool:
        return self._end(status=self.Status.FAILED, error=message[:500], error_detail=detail[:20000])

    def give_up_if_stale(self, now) -> bool:
        """Nothing came of it (its task was lost, or its worker died): ended with a message."""
        stale = (self.status == self.Status.QUEUED and now - self.created_at > self.STALE_AFTER) or (
            self.status == self.Status.RUNNING and self.lease_until and self.lease_until < now
        )
        if stale and self.mark_failed("Writing the lyrics did not start. Try again."):
            self.refresh_from_db()
            return True
        return False
class SongFileQuerySet(models.QuerySet):
    def kept_names(self) -> list[str]:
        """The stored files' names, to delete after their rows."""
        return [name for name in self.values_list("file", flat=True) if name]

    def ask(self, song: Song, kind: str, user) -> "SongFile":
        """A musician wants `song` as `kind`. Once made it is kept, so asking again costs
        nothing; a failed fetch, or one whose worker or task was lost, starts over. The fetch
        runs in a worker, after the commit."""
        wanted, created = self.get_or_create(song=song, kind=kind, defaults={"requested_by": user})
        now = timezone.now()
        lost = Q(lease_until__lt=now) | Q(lease_until__isnull=True, requested_at__lt=now - SongFile.LEASE)
        again = not created and self.filter(pk=wanted.pk).filter(
            Q(status=SongFile.Status.FAILED) | Q(lost, status=SongFile.Status.PREPARING)
        ).update(status=SongFile.Status.PREPARING, requested_by=user, requested_at=now, lease_until=None,
                 error="", error_detail="")
        if created or again:
            transaction.on_commit(lambda: queue.fetch_song_file(wanted.pk))
            wanted.refresh_from_db()
        return wanted

    def claim(self, pk: int, now) -> "SongFile | None":
        """PREPARING and not held by a live worker → held by this one, or None."""
        claimed = (
            self.filter(pk=pk, status=SongFile.Status.PREPARING)
            .filter(Q(lease_until__isnull=True) | Q(lease_until__lt=now))
            .update(lease_until=now + SongFile.LEASE, attempts=F("attempts") + 1)
        )
        return self.select_related("song__transform").get(pk=pk) if claimed else None


class SongFile(models.Model):
    """A finished song in another form the music service offers (its WAV, or its stems,
    zipped by us), fetched when a musician asks and kept with the song."""

    LEASE = timedelta(seconds=90)  # one fetch's time (a zip of stems: several files)

    class Kind(models.TextChoices):
        WAV = "wav", "WAV"
        STEMS = "stems", "Stems (zip)"

    class Status(models.TextChoices):
        PREPARING = "preparing", "Preparing"
        READY = "ready", "Ready"
        FAILED = "failed", "Failed"

    song = models.ForeignKey(Song, on_delete=models.CASCADE, related_name="files")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PREPARING)
    file = models.FileField(upload_to="song-files/%Y/%m/", blank=True)
    size = models.PositiveBigIntegerField(null=True, blank=True)
    error = models.CharField(max_length=500, blank=True, help_text="shown to musicians")
    error_detail = models.TextField(blank=True, help_text="for operators only")
    attempts = models.PositiveSmallIntegerField(default=0)
    lease_until = models.DateTimeField(null=True, blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    requested_at = models.DateTimeField(default=timezone.now)
    ready_at = models.DateTimeField(null=True, blank=True)

    objects = SongFileQuerySet.as_manager()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["song", "kind"], name="one_song_file_per_kind")]

    def __str__(self) -> str:
        return f"{self.song} as {self.get_kind_display()}"

    def download_name(self) -> str:
        stem = PurePath(self.song.download_name()).stem
        return f"{stem}-stems.zip" if self.kind == self.Kind.STEMS else f"{stem}.wav"

    def store(self, name: str, size: int) -> bool:
        """The fetched file is in storage; False when this fetch lost its claim."""
        now = timezone.now()
        return bool(SongFile.objects.filter(pk=self.pk, status=self.Status.PREPARING, file="").update(
            status=self.Status.READY, file=name, size=size, ready_at=now, lease_until=None,
        ))

    def fail(self, message: str, detail: str = "") -> bool:
        return bool(SongFile.objects.filter(pk=self.pk, status=self.Status.PREPARING).update(
            status=self.Status.FAILED, error=message[:500], error_detail=detail[:20000], lease_until=None,
        ))


class UploadQuerySet(models.QuerySet):
    def claim_for_send(self, pk: int, now, lease: timedelta) -> "Upload | None":
        claimed = (
            self.filter(pk=pk, status=Upload.Status.PENDING, upstream_id="")
            .filter(Q(lease_until__isnull=True) | Q(lease_until__lt=now))
            .filter(Q(next_poll_at__isnull=True) | Q(next_poll_at__lte=now))
            .update(lease_until=now + lease, attempts=F("attempts") + 1)
        )
        return self.get(pk=pk) if claimed else None

    def fail(self, message: str, detail: str = "") -> int:
        return self.exclude(status=Upload.Status.READY).update(
            status=Upload.Status.FAILED, error=message[:500], error_detail=detail[:20000], lease_until=None,
            next_poll_at=None,
        )

    def lost_fetches(self, cutoff):
        """Links whose fetch task was lost: still without audio long after they were added."""
        return self.filter(status=Upload.Status.PENDING, audio="", created_at__lt=cutoff).exclude(source_url="")

    def due(self, now, grace: timedelta) -> tuple[list[int], list[int]]:
        """(uploads to send, uploads whose processing to ask about) for the reconciler."""
        to_send = (
            self.filter(status=Upload.Status.PENDING, upstream_id="", deleted_at__isnull=True)
            .exclude(audio="")
            .filter(Q(lease_until__isnull=True) | Q(lease_until__lt=now))
            .filter(Q(next_poll_at__lte=now) | Q(next_poll_at__isnull=True, created_at__lt=now - grace))
            .values_list("pk", flat=True)[:50]
        )
        to_poll = self.filter(status=Upload.Status.PROCESSING, next_poll_at__lte=now).values_list("pk", flat=True)
        return list(to_send), list(to_poll[:50])


class Upload(models.Model):
    """Audio a musician brought: a file or a URL, copied into our storage, then sent upstream."""

    class Status(models.TextChoices):
        PENDING = "pending", "Checking"
        PROCESSING = "processing", "Processing at the music service"
        READY = "ready", "Ready"
        FLAGGED = "flagged", "Flagged by the music service"
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
    # What the service calls the upload while processing it, and what a transform sends.
    upstream_id = models.CharField(max_length=200, blank=True)
    audio_upload_id = models.CharField(max_length=200, blank=True)
    transcribed_lyrics = models.TextField(blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    lease_until = models.DateTimeField(null=True, blank=True)
    next_poll_at = models.DateTimeField(null=True, blank=True)
    error = models.CharField(max_length=500, blank=True)
    error_detail = models.TextField(blank=True)
    deleted_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    objects = UploadQuerySet.as_manager()

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

    def _live(self):
        return Upload.objects.filter(pk=self.pk, status__in=[self.Status.PENDING, self.Status.PROCESSING])

    def store_fetched(self, name: str, audio_format: str, duration: float, peaks: list[float]) -> bool:
        """A link's audio is in our storage; False when another fetch got there first."""
        return bool(Upload.objects.filter(pk=self.pk, status=self.Status.PENDING, audio="").update(
            audio=name, audio_format=audio_format, duration=duration, peaks=peaks,
        ))

    def record_sent(self, upstream_id: str, audio_upload_id: str) -> None:
        Upload.objects.filter(pk=self.pk).update(
            upstream_id=upstream_id[:200], audio_upload_id=audio_upload_id[:200], lease_until=None, error=""
        )

    def mark_ready(self, lyrics: str = "") -> bool:
        return bool(self._live().update(
            status=self.Status.READY, transcribed_lyrics=lyrics, next_poll_at=None, lease_until=None
        ))

    def mark_flagged(self, message: str) -> bool:
        return bool(self._live().update(status=self.Status.FLAGGED, error=message, next_poll_at=None, lease_until=None))

    def fail(self, message: str, detail: str = "") -> bool:
        return bool(Upload.objects.filter(pk=self.pk).fail(message, detail))

    def wait_processing(self, next_poll_at) -> None:
        self._live().update(status=self.Status.PROCESSING, next_poll_at=next_poll_at, lease_until=None)

    def ask_again(self, next_poll_at, detail: str) -> None:
        """A status call about its processing failed: ask again later."""
        Upload.objects.filter(pk=self.pk).update(
            next_poll_at=next_poll_at, error_detail=detail[:20000], attempts=F("attempts") + 1
        )

    def requeue_send(self, next_poll_at, detail: str) -> None:
        Upload.objects.filter(pk=self.pk, status=self.Status.PENDING).update(
            lease_until=None, next_poll_at=next_poll_at, error_detail=detail[:20000]
        )


class ShareLink(models.Model):
    """A link for people outside the project: whoever holds the token may listen, until it
    expires or is revoked. A song's guest link and a playlist's share this."""

    token = models.CharField(max_length=64, unique=True, default=secrets.token_urlsafe)
    allow_download = models.BooleanField(default=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        abstract = True

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None and (
            self.expires_at is None or self.expires_at > timezone.now()
        )

    def revoke(self) -> None:
        if self.revoked_at is None:
            self.revoked_at = timezone.now()
            self.save(update_fields=["revoked_at"])


class GuestLink(ShareLink):
    """A listen-only link to one song for people outside the project."""

    song = models.ForeignKey(Song, on_delete=models.CASCADE, related_name="guest_links")
    # Guests may comment (under a name they give); and see the members' comments too, not only guests'.
    allow_comments = models.BooleanField(default=False)
    show_member_comments = models.BooleanField(default=False)

    def __str__(self) -> str:
        return f"Guest link to {self.song}"

    def get_absolute_url(self) -> str:
        return reverse("teams:guest_song", args=[self.token])


class ArrangementError(ValueError):
    """An arrangement that cannot be mixed as it stands; the message is shown to musicians."""


class Arrangement(models.Model):
    """Regions of a project's finished songs, in order on one lane, with crossfades between
    them: riffweb mixes them into a new song of the project (Transform.Mode.ARRANGEMENT)."""

    MAX_REGIONS = 20
    MIN_REGION_SECONDS = 0.5

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="arrangements")
    name = models.CharField(max_length=120, validators=[single_line])
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("studio:arrangement_detail", args=[self.pk])

    @property
    def max_seconds(self) -> float:
        return float(settings.RIFFWEB_AUDIO_MAX_SECONDS)

    def lane(self) -> list["Region"]:
        return list(self.regions.select_related("song", "song__transform").order_by("position", "pk"))

    def length(self, regions=None) -> float:
        """Seconds of the mix: every region's length, less each crossfade's overlap."""
        regions = self.lane() if regions is None else regions
        return sum(r.length for r in regions) - sum(r.crossfade for r in regions[1:])

    def problems(self, regions=None) -> list[str]:
        """Why this arrangement cannot be mixed as it stands ([] when it can)."""
        regions = self.lane() if regions is None else regions
        found = [] if regions else ["Add a region first."]
        if len(regions) > self.MAX_REGIONS:
            found.append(f"An arrangement holds at most {self.MAX_REGIONS} regions.")
        for number, region in enumerate(regions, 1):
            found += [f"Region {number}: {p}" for p in region.problems()]
            if number > 1 and region.crossfade >= min(region.length, regions[number - 2].length):
                found.append(f"Region {number}: the crossfade must be shorter than this region and the one before it.")
        if regions and self.length(regions) > self.max_seconds:
            found.append(f"The mix would be {self.length(regions):.0f} seconds long; the limit is "
                         f"{self.max_seconds:.0f}.")
        return found

    def snapshot(self) -> list[dict]:
        """The regions as a render keeps them; raises ArrangementError when they cannot be mixed."""
        regions = self.lane()
        if problems := self.problems(regions):
            raise ArrangementError(" ".join(problems))
        return [{"song": r.song_id, "title": r.song.display_title, "variant": r.song.variant_label,
                 "tags": r.song.tags, "start": r.start, "end": r.end, "crossfade": r.crossfade if i else 0.0}
                for i, r in enumerate(regions)]

    def add_region(self, song: "Song", start: float, end: float, crossfade: float = 0.0) -> "Region":
        """A region at the end of the lane; raises ArrangementError (nothing saved) when it does not fit."""
        position = (self.regions.aggregate(top=models.Max("position"))["top"] or 0) + 1
        region = Region(arrangement=self, song=song, start=start, end=end, crossfade=crossfade, position=position)
        if problems := region.problems():
            raise ArrangementError(" ".join(problems))
        if self.regions.count() >= self.MAX_REGIONS:
            raise ArrangementError(f"An arrangement holds at most {self.MAX_REGIONS} regions.")
        region.save()
        return region

    def move(self, region: "Region", step: int) -> None:
        """Swap a region with its neighbour before (-1) or after (+1) it on the lane."""
        lane = self.lane()
        index = next(i for i, r in enumerate(lane) if r.pk == region.pk)
        if 0 <= index + step < len(lane):
            lane[index], lane[index + step] = lane[index + step], lane[index]
        with transaction.atomic():
            for position, row in enumerate(lane, 1):
                if row.position != position:
                    Region.objects.filter(pk=row.pk).update(position=position)


class Region(models.Model):
    """A stretch of one finished song on an arrangement's lane; `crossfade` overlaps it with
    the region before it (seconds, equal-power)."""

    arrangement = models.ForeignKey(Arrangement, on_delete=models.CASCADE, related_name="regions")
    song = models.ForeignKey(Song, on_delete=models.CASCADE, related_name="+")
    position = models.PositiveIntegerField(default=0)
    start = models.FloatField(help_text="seconds")
    end = models.FloatField(help_text="seconds")
    crossfade = models.FloatField(default=0.0, help_text="seconds")

    class Meta:
        ordering = ["position", "pk"]

    @property
    def length(self) -> float:
        return self.end - self.start

    def problems(self) -> list[str]:
        song, found = self.song, []
        if song.project_id != self.arrangement.project_id or song.deleted_at is not None:
            found.append("pick a song of this project.")
        elif not song.is_playable or not song.duration:
            found.append(f"“{song.display_title}” has no audio yet.")
        elif not 0 <= self.start < self.end <= song.duration + 0.001:
            found.append(f"pick a start and end inside “{song.display_title}” (0–{song.duration:.2f} s).")
        elif self.length < Arrangement.MIN_REGION_SECONDS:
            found.append(f"a region lasts at least {Arrangement.MIN_REGION_SECONDS} seconds.")
        if not 0 <= self.crossfade < 60:
            found.append("a crossfade lasts 0 to 60 seconds.")
        return found

    def change(self, start: float, end: float, crossfade: float) -> None:
        """New bounds; raises ArrangementError (nothing saved) when they do not fit the song."""
        self.start, self.end, self.crossfade = start, end, crossfade
        if problems := self.problems():
            self.refresh_from_db()
            raise ArrangementError(" ".join(problems))
        self.save(update_fields=["start", "end", "crossfade"])


class Palette(models.Model):
    """A project's named set of style tags, sound prompts and slider values, to fill any mode's
    form with one click."""

    # The form fields a palette keeps (those of Transform.PARAMETER_FIELDS that describe a sound).
    FIELDS = ("tags", "prompts", "lyrics_strength", "sound_prompt_strength", "weirdness", "cover_strength",
              "variation_strength")

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="palettes")
    name = models.CharField(max_length=80, validators=[single_line])
    tags = models.CharField(max_length=500, blank=True)
    # As Transform.prompts: [{"text", "strength", "start", "end"}], at most three.
    prompts = models.JSONField(default=list, blank=True)
    lyrics_strength = models.FloatField(null=True, blank=True)
    sound_prompt_strength = models.FloatField(null=True, blank=True)
    weirdness = models.FloatField(null=True, blank=True)
    cover_strength = models.FloatField(null=True, blank=True)
    variation_strength = models.FloatField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name", "pk"]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("studio:palette_detail", args=[self.pk])

    def change(self, name: str, **values) -> None:
        self.name = name
        for field in self.FIELDS:
            setattr(self, field, values.get(field))
        self.save(update_fields=["name", *self.FIELDS])

    def form_initial(self) -> dict:
        """What the palette fills in a mode form, by the form's field names (unset values are
        left as the form has them), and the palette's id for the request to keep."""
        initial = {name: getattr(self, name) for name in self.FIELDS
                   if name != "prompts" and getattr(self, name) not in (None, "")}
        for n, prompt in enumerate(self.prompts or [], 1):
            initial |= {f"prompt_{n}": prompt.get("text", ""), f"prompt_{n}_strength": prompt.get("strength"),
                        f"prompt_{n}_start": prompt.get("start"), f"prompt_{n}_end": prompt.get("end")}
        return initial | {"palette": self.pk}
