from django.urls import path

from . import reply_views, views

app_name = "links"
urlpatterns = [
    # Under /m/ (the message channel in the audit); two segments, so never a link's token.
    path("m/replies/twilio/", reply_views.twilio_inbound_text, name="twilio-inbound-text"),
    path("m/<str:token>/", views.link_page, name="link"),
]
