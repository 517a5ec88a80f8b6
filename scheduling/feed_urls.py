from django.urls import path

from .calendar_views import provider_feed

urlpatterns = [
    path("calendars/providers/<str:token>.ics", provider_feed, name="provider-calendar"),
]
