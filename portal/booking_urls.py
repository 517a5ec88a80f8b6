from django.urls import path

from . import booking_views as views

one = "appointments/<uuid:appointment_id>/"
urlpatterns = [
    path("book/", views.book_start, name="book"),
    path("book/times/", views.book_times, name="book-times"),
    path("appointments/", views.my_appointments, name="appointments"),
    path(one + "booked/", views.appointment_booked, name="appointment-booked"),
    path(one + "calendar.ics", views.appointment_calendar, name="appointment-calendar"),
    path(one + "cancel/", views.appointment_cancel, name="appointment-cancel"),
    path("waitlist/", views.waitlist, name="waitlist"),
]
