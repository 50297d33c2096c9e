from django.urls import path

from riffweb.takes import views

app_name = "takes"
urlpatterns = [
    path("songs/<int:pk>/take/", views.take, name="take"),
    path("projects/<int:pk>/shortlist/", views.shortlist, name="shortlist"),
    path("projects/<int:pk>/shortlist/order/", views.shortlist_order, name="shortlist_order"),
]
