from django.contrib.auth import views as auth_views
from django.urls import include, path

from . import two_factor_views, unlock_views, views

urlpatterns = [
    path("", views.home, name="home"),
    # Limited by django-axes in authenticate() itself (clinic/users/signin_limits.py).
    path(
        "accounts/login/",
        auth_views.LoginView.as_view(redirect_authenticated_user=True),
        name="login",
    ),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/unlock/", unlock_views.unlock_request, name="signin-unlock"),
    path("accounts/unlock/sent/", unlock_views.unlock_sent, name="signin-unlock-sent"),
    path("accounts/unlock/<str:token>/", unlock_views.unlock_use, name="signin-unlock-use"),
    path("accounts/two-factor/", two_factor_views.two_factor_verify, name="two-factor-verify"),
    path("accounts/two-factor/setup/", two_factor_views.two_factor_setup, name="two-factor-setup"),
    path("accounts/two-step/", two_factor_views.two_factor_settings, name="two-factor-settings"),
    path(
        "accounts/two-step/recovery-codes/",
        two_factor_views.two_factor_recovery_codes,
        name="two-factor-recovery-codes",
    ),
    path(
        "accounts/two-step/turn-off/",
        two_factor_views.two_factor_turn_off,
        name="two-factor-turn-off",
    ),
    # Passkeys (django-otp-webauthn): registering one, and using one as the second step.
    path("accounts/passkeys/", include("django_otp_webauthn.urls")),
]
