from django.contrib import admin

from riffweb.studio.models import GuestLink, Invitation, Membership, Project, Song, SongFile, Transform, Upload


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    raw_id_fields = ["user"]


@admin.register(Project)
class ProjectAdmin(admin.ModelAdmin):
    list_display = ["name", "created_by", "created_at"]
    search_fields = ["name"]
    inlines = [MembershipInline]


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["project", "user", "role"]
    list_filter = ["role"]
    raw_id_fields = ["project", "user"]


@admin.register(Invitation)
class InvitationAdmin(admin.ModelAdmin):
    list_display = ["project", "invitee", "role", "created_at", "expires_at", "accepted_at", "declined_at"]
    exclude = ["token"]
    raw_id_fields = ["project", "user", "invited_by", "accepted_by"]


class SongInline(admin.TabularInline):
    model = Song
    extra = 0
    fields = ["variant", "status", "progress", "upstream_id", "duration", "error"]
    readonly_fields = fields
    show_change_link = True


@admin.register(Transform)
class TransformAdmin(admin.ModelAdmin):
    list_display = ["pk", "mode", "display_title", "project", "status", "attempts", "created_at"]
    list_filter = ["mode", "status", "dialect"]
    search_fields = ["title", "topic", "tags"]
    raw_id_fields = ["project", "created_by", "source_song", "source_upload"]
    # What the request was sent as; each of its songs keeps a copy for the library's filter.
    readonly_fields = ["mode"]
    exclude = ["callback_secret"]
    inlines = [SongInline]


@admin.register(Song)
class SongAdmin(admin.ModelAdmin):
    list_display = ["pk", "display_title", "variant", "project", "status", "progress", "created_at"]
    list_filter = ["status"]
    search_fields = ["title", "upstream_id"]
    raw_id_fields = ["transform", "project", "favourited_by"]


@admin.register(SongFile)
class SongFileAdmin(admin.ModelAdmin):
    """A song's WAV or stems: why a fetch failed is in error_detail (the service's answer)."""

    list_display = ["pk", "song", "kind", "status", "size", "attempts", "requested_at", "ready_at"]
    list_filter = ["kind", "status"]
    raw_id_fields = ["song", "requested_by"]


@admin.register(Upload)
class UploadAdmin(admin.ModelAdmin):
    list_display = ["pk", "title", "project", "status", "duration", "created_at"]
    list_filter = ["status"]
    raw_id_fields = ["project", "created_by"]


@admin.register(GuestLink)
class GuestLinkAdmin(admin.ModelAdmin):
    list_display = ["song", "allow_download", "created_at", "expires_at", "revoked_at"]
    exclude = ["token"]
    raw_id_fields = ["song", "created_by"]
