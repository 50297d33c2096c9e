"""The review e-mails: one mention at once, or a daily digest; each with an unsubscribe link
that works without logging in (a signed token naming the user)."""

from django.conf import settings
from django.core import signing
from django.core.mail import send_mail
from django.template.loader import render_to_string
from django.urls import reverse

SALT = "riffweb.review.unsubscribe"


def unsubscribe_token(user) -> str:
    return signing.dumps(user.pk, salt=SALT)


def user_id_from(token: str) -> int | None:
    """The user a token names, or None when it is not ours (it never expires: a mail is kept)."""
    try:
        return int(signing.loads(token, salt=SALT))
    except (signing.BadSignature, TypeError, ValueError):
        return None


def _site() -> str:
    return (settings.RIFFWEB_PUBLIC_URL or "").rstrip("/")


def send(user, subject: str, notes: list) -> None:
    context = {"user": user, "notes": notes, "site": _site(),
               "unsubscribe": _site() + reverse("review:email_unsubscribe", args=[unsubscribe_token(user)]),
               "inbox": _site() + reverse("review:inbox")}
    send_mail(subject, render_to_string("review/email.txt", context), None, [user.email])
