from django.urls import include, path

from . import views

app_name = "portal"
urlpatterns = [
    path("", views.portal_home, name="home"),
    path("intake/", include("portal.intake_urls")),
    path("", include("portal.booking_urls")),
]
