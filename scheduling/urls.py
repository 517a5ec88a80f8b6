from django.urls import path

from . import views

app_name = "scheduling"
urlpatterns = [
    path("", views.day_board, name="day-board"),
    path("book/", views.book, name="book"),
    path(
        "appointments/<uuid:appointment_id>/move/",
        views.appointment_move,
        name="appointment-move",
    ),
    path(
        "appointments/<uuid:appointment_id>/reschedule/",
        views.appointment_reschedule,
        name="appointment-reschedule",
    ),
]
