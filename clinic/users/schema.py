"""The API schema names our token check (clinic/users/tokens.py, a subclass of knox's) with
knox's security scheme: drf-spectacular matches an authenticator by its exact class."""

from drf_spectacular.contrib.knox_auth_token import KnoxTokenScheme


class ClinicTokenScheme(KnoxTokenScheme):
    target_class = "clinic.users.tokens.TokenAuthentication"
    name = "clinicApiToken"  # knox's own views (sign-out) keep knox's class and its name
