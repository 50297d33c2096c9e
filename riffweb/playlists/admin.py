from django.contrib import admin

from riffweb.playlists.models import Playlist, PlaylistEntry, PlaylistLink


class EntryInline(admin.TabularInline):
    model = PlaylistEntry
    extra = 0
    raw_id_fields = ["song"]


@admin.register(Playlist)
class PlaylistAdmin(admin.ModelAdmin):
    list_display = ["name", "project", "created_by", "created_at"]
    search_fields = ["name"]
    raw_id_fields = ["project", "created_by"]
    inlines = [EntryInline]


@admin.register(PlaylistLink)
class PlaylistLinkAdmin(admin.ModelAdmin):
    list_display = ["playlist", "created_by", "created_at", "expires_at", "revoked_at"]
    exclude = ["token"]  # a capability: not shown, like a song's guest link
    raw_id_fields = ["playlist", "created_by"]
