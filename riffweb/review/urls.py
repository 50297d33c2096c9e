from django.urls import path

from riffweb.review import views

app_name = "review"
urlpatterns = [
    path("songs/<int:pk>/comments/", views.comment_create, name="comment_create"),
    path("comments/<int:pk>/edit/", views.comment_edit, name="comment_edit"),
    path("comments/<int:pk>/delete/", views.comment_delete, name="comment_delete"),
    path("comments/<int:pk>/resolve/", views.comment_resolve, name="comment_resolve"),
    path("projects/<int:pk>/activity/", views.project_activity, name="project_activity"),
    path("guest/<str:token>/comments/", views.guest_comment_create, name="guest_comment_create"),
    path("inbox/email/", views.email_preference, name="email_preference"),
    path("email/unsubscribe/<str:token>/", views.email_unsubscribe, name="email_unsubscribe"),
    path("inbox/", views.inbox, name="inbox"),
    path("inbox/read-all/", views.inbox_read_all, name="inbox_read_all"),
    path("inbox/<int:pk>/read/", views.notification_read, name="notification_read"),
]
