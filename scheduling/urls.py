from django.urls import path

from . import (
    board_views,
    book_views,
    chart_views,
    print_views,
    refill_views,
    views,
    waitlist_views,
)

app_name = "scheduling"
urlpatterns = [
    path("", board_views.day_board, name="day-board"),
    path("calendar/events/", board_views.calendar_events, name="calendar-events"),
    path("calendar/move/", board_views.calendar_move, name="calendar-move"),
    path("book/", book_views.book, name="book"),
    path("book/patients/", book_views.book_patients, name="book-patients"),
    path(
        "appointments/<uuid:appointment_id>/move/",
        views.appointment_move,
        name="appointment-move",
    ),
    path(
        "appointments/<uuid:appointment_id>/undo/",
        views.appointment_undo,
        name="appointment-undo",
    ),
    path("waitlist/", waitlist_views.waitlist, name="waitlist"),
    path("waitlist/add/", waitlist_views.waitlist_add, name="waitlist-add"),
    path("waitlist/<uuid:entry_id>/", waitlist_views.waitlist_entry, name="waitlist-entry"),
    path("waitlist/<uuid:entry_id>/offer/", waitlist_views.waitlist_offer, name="waitlist-offer"),
    path(
        "waitlist/<uuid:entry_id>/remove/",
        waitlist_views.waitlist_remove,
        name="waitlist-remove",
    ),
    path("print/", print_views.print_day, name="print-day"),
    path("refills/", refill_views.pump_refills, name="pump-refills"),
    path("patients/<uuid:patient_id>/visits/", chart_views.chart_visits, name="chart-visits"),
]
