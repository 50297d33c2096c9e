from django.contrib import admin
from django.urls import include, path

from riffweb import health

urlpatterns = [
    path("admin/", admin.site.urls),
    path("healthz", health.healthz, name="healthz"),
    path("upstream/", include("riffweb.upstream.urls")),
    path("", include("riffweb.accounts.urls")),
    path("", include("riffweb.studio.urls")),
    path("", include("riffweb.teams.urls")),
    path("", include("riffweb.library.urls")),
    path("", include("riffweb.takes.urls")),
    path("", include("riffweb.playlists.urls")),
    path("", include("riffweb.review.urls")),
]
