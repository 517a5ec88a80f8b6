from django.urls import path

from . import apis

one = "appointments/<uuid:appointment_id>/"
urlpatterns = [
    path("locations/", apis.LocationListApi.as_view()),
    path("providers/", apis.ProviderListApi.as_view()),
    path("appointment-types/", apis.AppointmentTypeListApi.as_view()),
    path("availability/", apis.AvailabilityApi.as_view()),
    path("appointments/", apis.AppointmentListApi.as_view()),
    path(one, apis.AppointmentDetailApi.as_view()),
    path(one + "cancel/", apis.CancelApi.as_view()),
    path(one + "reschedule/", apis.RescheduleApi.as_view()),
    path(one + "check-in/", apis.CheckInApi.as_view()),
    path(one + "in-room/", apis.InRoomApi.as_view()),
    path(one + "complete/", apis.CompleteApi.as_view()),
    path(one + "no-show/", apis.NoShowApi.as_view()),
    path(one + "undo/", apis.UndoApi.as_view()),
    path(one + "calendar.ics", apis.AppointmentCalendarApi.as_view()),
    path("waitlist/", apis.WaitlistApi.as_view()),
    path("waitlist-offers/<uuid:offer_id>/accept/", apis.OfferAcceptApi.as_view()),
]
