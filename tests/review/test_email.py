"""Inbox e-mail: off by default; mentions at once (a task that claims its notification); a daily
digest at most once a day; an unsubscribe link that works without logging in."""

from datetime import timedelta

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone
from django_q.models import Schedule

from riffweb import queue
from riffweb.review import tasks
from riffweb.review.mail import unsubscribe_token
from riffweb.review.models import Comment, EmailPreference
from tests.conftest import finish_song, make_request


@pytest.fixture
def song(project, owner):
    return finish_song(make_request(project, owner).songs.get(variant=0), seconds=20.0)


def test_a_mention_is_mailed_at_once_and_only_once(django_capture_on_commit_callbacks, enqueued, song, owner,
                                                    viewer):
    EmailPreference.set_mode(owner, EmailPreference.Mode.MENTIONS)
    with django_capture_on_commit_callbacks(execute=True):
        Comment.objects.post(song=song, author=viewer, text="@olivia the hook at 0:12", at=1)
        Comment.objects.post(song=song, author=viewer, text="no mention here", at=2)
    [(func, (note_id,))] = enqueued
    assert func == queue.MAIL_MENTION
    tasks.mail_mention(note_id)
    tasks.mail_mention(note_id)  # delivered twice: one mail
    [sent] = mail.outbox
    assert sent.to == [owner.email] and "@olivia the hook" in sent.body
    assert "/email/unsubscribe/" in sent.body


def test_nobody_is_mailed_by_default(django_capture_on_commit_callbacks, enqueued, song, viewer):
    with django_capture_on_commit_callbacks(execute=True):
        Comment.objects.post(song=song, author=viewer, text="@olivia hi", at=1)
    tasks.mail_digests()
    assert enqueued == [] and mail.outbox == []


def test_the_digest_comes_at_most_once_a_day_with_what_is_new(song, owner, viewer):
    EmailPreference.set_mode(owner, EmailPreference.Mode.DIGEST)
    Comment.objects.post(song=song, author=viewer, text="First thought", at=1)
    tasks.mail_digests()
    tasks.mail_digests()
    assert len(mail.outbox) == 1 and "First thought" in mail.outbox[0].body
    Comment.objects.post(song=song, author=viewer, text="Second thought", at=2)
    tasks.mail_digests()
    assert len(mail.outbox) == 1  # not before a day has passed
    EmailPreference.objects.filter(user=owner).update(last_digest_at=timezone.now() - timedelta(days=1, minutes=1))
    tasks.mail_digests()
    assert len(mail.outbox) == 2
    assert "Second thought" in mail.outbox[1].body and "First thought" not in mail.outbox[1].body


def test_the_unsubscribe_link_works_without_logging_in(client, owner):
    EmailPreference.set_mode(owner, EmailPreference.Mode.DIGEST)
    url = reverse("review:email_unsubscribe", args=[unsubscribe_token(owner)])
    assert client.get(url).status_code == 200
    assert EmailPreference.objects.get(user=owner).mode == "digest"  # a GET (a mail scanner) changes nothing
    answer = client.post(url)
    assert answer.status_code == 200 and "no more e-mail" in answer.content.decode()
    assert EmailPreference.objects.get(user=owner).mode == "off"
    assert client.post(reverse("review:email_unsubscribe", args=["forged"])).status_code == 404


def test_a_member_chooses_their_mail(client, owner):
    client.force_login(owner)
    url = reverse("review:email_preference")
    assert 'value="off" checked' in client.get(url).content.decode()
    assert client.post(url, {"mode": "digest"}).status_code == 302
    assert 'value="digest" checked' in client.get(url).content.decode()
    assert client.post(url, {"mode": "hourly"}).status_code == 400


def test_the_digest_schedule_is_made(db):
    queue.ensure_schedules()
    assert Schedule.objects.get(name=queue.DIGEST_SCHEDULE).func == queue.MAIL_DIGESTS
