"""The broker's entry points for review e-mails (enqueued through riffweb/queue.py)."""

from django.utils import timezone

from riffweb.review import mail
from riffweb.review.models import EmailPreference, Notification


def mail_mention(notification_id: int) -> None:
    """One mention, at once: claimed first, so a redelivered task sends nothing."""
    if not Notification.objects.filter(pk=notification_id, mailed_at__isnull=True).update(mailed_at=timezone.now()):
        return
    note = Notification.objects.select_related("user", "actor", "song", "comment").get(pk=notification_id)
    if note.user.email:
        mail.send(note.user, "You were mentioned on riffweb", [note])


def mail_digests() -> None:
    """Hourly: each member who chose the digest and has had none for a day gets one, if anything
    unread has not been mailed yet."""
    now = timezone.now()
    for preference in EmailPreference.objects.filter(mode=EmailPreference.Mode.DIGEST).select_related("user"):
        pending = Notification.objects.filter(user=preference.user, read_at__isnull=True, mailed_at__isnull=True)
        if not preference.user.email or not pending.exists() or not preference.claim_digest(now):
            continue
        notes = list(pending.select_related("actor", "song", "comment").order_by("pk")[:50])
        Notification.objects.filter(pk__in=[n.pk for n in notes]).update(mailed_at=now)
        mail.send(preference.user, f"riffweb: {len(notes)} new in your inbox", notes)
