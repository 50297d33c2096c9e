from django.urls import path

from riffweb.upstream import views

app_name = "upstream"

urlpatterns = [
    path("callback/", views.callback, name="callback"),
    path("upload-file/<str:token>/", views.upload_file, name="upload_file"),
    path("attention/", views.attention, name="attention"),
]
