from django.urls import path

from . import note_views, views

app_name = "procedures"
order = "orders/<uuid:order_id>/"
urlpatterns = [
    path("orders/", views.order_list, name="orders"),
    path("orders/new/", views.order_create, name="order-create"),
    path(order, views.order_detail, name="order"),
    path(order + "authorization/", views.order_authorization, name="order-authorization"),
    path(
        order + "request-authorization/",
        views.order_request_authorization,
        name="order-request-authorization",
    ),
    path(order + "authorize/", views.order_authorize, name="order-authorize"),
    path(order + "cancel/", views.order_cancel, name="order-cancel"),
    path(order + "override/", views.order_override, name="order-override"),
    path(order + "check/", views.order_recheck, name="order-check"),
    path(order + "record/", views.record_create, name="record-create"),
    path("records/<uuid:record_id>/", views.record_detail, name="record"),
    path("records/<uuid:record_id>/outcomes/", views.outcome_add, name="outcome-add"),
    # The consent (before the procedure) and the signed note (after): note_views.py.
    path(order + "consent/", note_views.consent_page, name="order-consent"),
    path("records/<uuid:record_id>/note/", note_views.note_page, name="note"),
    path("records/<uuid:record_id>/note/addenda/", note_views.addendum_add, name="note-addendum"),
    path("records/<uuid:record_id>/note/pdf/", note_views.note_pdf, name="note-pdf"),
]
