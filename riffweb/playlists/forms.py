from django import forms

from riffweb.playlists.models import Playlist
from riffweb.teams.forms import ShareLinkForm


class PlaylistForm(forms.ModelForm):
    class Meta:
        model = Playlist
        fields = ["name"]
        labels = {"name": "Playlist name"}


class AddSongForm(forms.Form):
    playlist = forms.IntegerField(min_value=1, max_value=2**63 - 1,
                                  error_messages={"required": "Choose the playlist to add to."})
    song = forms.IntegerField(min_value=1, max_value=2**63 - 1,
                              error_messages={"required": "Choose a song to add."})


class PositionForm(forms.Form):
    """Where the player stopped: sent every few seconds while playing, and on pause or leaving."""

    at = forms.FloatField(min_value=0, max_value=24 * 3600)
    song = forms.IntegerField(required=False, min_value=1, max_value=2**63 - 1)


class PlaylistLinkForm(ShareLinkForm):
    """Listen-only, like a song's guest link without the download option."""
