from django.urls import path

from . import apis

order = "procedure-orders/<uuid:order_id>/"
urlpatterns = [
    path("procedure-types/", apis.ProcedureTypeListApi.as_view()),
    path("procedure-types/<slug:code>/", apis.ProcedureTypeDetailApi.as_view()),
    path("procedure-orders/", apis.OrderListApi.as_view()),
    path(order, apis.OrderDetailApi.as_view()),
    path(order + "authorization/", apis.OrderAuthorizationApi.as_view()),
    path(order + "request-authorization/", apis.OrderRequestAuthorizationApi.as_view()),
    path(order + "authorize/", apis.OrderAuthorizeApi.as_view()),
    path(order + "cancel/", apis.OrderCancelApi.as_view()),
    path(order + "override/", apis.OrderOverrideApi.as_view()),
    path(order + "check/", apis.OrderCheckApi.as_view()),
    path("procedure-records/", apis.RecordListApi.as_view()),
    path("procedure-records/<uuid:record_id>/", apis.RecordDetailApi.as_view()),
    path("procedure-records/<uuid:record_id>/outcomes/", apis.OutcomeApi.as_view()),
    path("safety-check/", apis.SafetyCheckApi.as_view()),
]
