from django.urls import include, path

from . import language, views

app_name = "portal"
urlpatterns = [
    path("", views.portal_home, name="home"),
    path("language/", language.set_language, name="language"),
    path("intake/", include("portal.intake_urls")),
    path("", include("portal.booking_urls")),
]
