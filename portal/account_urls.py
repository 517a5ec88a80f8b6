"""Account pages under /accounts/ (included without a namespace: Django's password-reset
views look these names up as they are)."""

from django.urls import path

from . import account_views as views

urlpatterns = [
    path("register/", views.register, name="register"),
    path("register/sent/", views.register_sent, name="register-sent"),
    path("verify/<str:token>/", views.verify, name="verify"),
    path("password-reset/", views.PasswordResetView.as_view(), name="password_reset"),
    path(
        "password-reset/sent/",
        views.PasswordResetDoneView.as_view(),
        name="password_reset_done",
    ),
    path(
        "password-reset/complete/",
        views.PasswordResetCompleteView.as_view(),
        name="password_reset_complete",
    ),
    path(
        "password-reset/<uidb64>/<token>/",
        views.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
]
