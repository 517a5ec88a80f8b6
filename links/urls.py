from django.urls import path

from . import views

app_name = "links"
urlpatterns = [path("m/<str:token>/", views.link_page, name="link")]
