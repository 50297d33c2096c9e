""""Inpaint this region" and "Extend from here": an editor starts a transform from a comment,
the form opens on its place, and the new songs say which comment they answer."""

import html

from django.urls import reverse

from riffweb.review.models import Comment
from riffweb.studio.models import Transform
from tests.conftest import finish_song, make_request
from tests.studio.test_modes import sliders


def test_an_editor_inpaints_a_comments_region_and_the_new_songs_answer_it(client, project, owner, editor, viewer):
    song = finish_song(make_request(project, owner).songs.get(variant=0), seconds=20.0)
    region = Comment.objects.post(song=song, author=viewer, text="Muddy bass", at=4.0, end=9.5)
    moment = Comment.objects.post(song=song, author=viewer, text="Keep going from here", at=12.0)
    client.force_login(viewer)
    assert "Inpaint this region" not in client.get(song.get_absolute_url()).content.decode()

    client.force_login(editor)
    page = html.unescape(client.get(song.get_absolute_url()).content.decode())
    assert f"?mode=inpaint&replace_start=4.0&replace_end=9.5&comment={region.pk}#transform-form" in page
    assert f"?mode=extend&extend_at=12.0&comment={moment.pk}#transform-form" in page

    form = client.get(f"{song.get_absolute_url()}?mode=inpaint&replace_start=4.0&replace_end=9.5&comment={region.pk}")
    body = form.content.decode()
    assert 'name="replace_start"' in body and 'value="4.0"' in body and 'value="9.5"' in body
    assert "Answering vera’s comment at 4.0–9.5 s" in body
    assert f'name="comment" value="{region.pk}"' in body

    answer = client.post(reverse("studio:song_transform", args=[song.pk, "inpaint"]),
                         sliders(replace_start="4.0", replace_end="9.5", comment=str(region.pk)))
    made = Transform.objects.get(mode="inpaint")
    assert list(region.requests.all()) == [made]
    new_page = client.get(answer["Location"]).content.decode()
    assert "Made to answer" in new_page and "Muddy bass" in new_page
    card = client.get(project.get_absolute_url()).content.decode()
    assert f'Answers <a href="{region.get_absolute_url()}">vera’s comment at 4.0–9.5 s</a>' in card


def test_a_comment_of_another_song_is_not_linked(client, project, owner, editor):
    song = finish_song(make_request(project, owner).songs.get(variant=0), seconds=20.0)
    other = finish_song(make_request(project, owner).songs.get(variant=0), seconds=20.0)
    elsewhere = Comment.objects.post(song=other, author=owner, text="Not this one", at=4.0, end=9.0)
    client.force_login(editor)
    client.post(reverse("studio:song_transform", args=[song.pk, "inpaint"]),
                sliders(replace_start="4.0", replace_end="9.0", comment=str(elsewhere.pk)))
    assert Transform.objects.filter(mode="inpaint").exists() and not elsewhere.requests.exists()
