from django.conf import settings
from django.http import Http404
from django.utils.cache import patch_cache_control

from .views import healthz, page_not_found


class HealthCheckMiddleware:
    """Answer /healthz before host validation and the HTTPS redirect.

    Load balancers and container health checks call it by IP over plain HTTP; placed
    first in MIDDLEWARE, it never asks Django for the host name.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path == "/healthz":
            return healthz(request)
        return self.get_response(request)


class NoStoreForSignedInMiddleware:
    """Answers to a signed-in user (session or API token) carry patient data or could:
    no browser or proxy may keep them (`Cache-Control: no-store`)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        user = getattr(request, "user", None)  # DRF sets it for token-authenticated calls too
        if user is not None and user.is_authenticated:
            patch_cache_control(response, no_store=True, private=True)
        return response


class SiteNotFoundPageMiddleware:
    """A view's 404 (an unknown id, a record out of reach) answers with the site's own page
    even with DEBUG on, as in local development and the demo: Django's technical page lists
    the URL patterns and reads as a crash to a clinician. Unknown addresses keep Django's
    page under DEBUG, which helps developers; without DEBUG every 404 is the site's."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if settings.DEBUG and isinstance(exception, Http404):
            return page_not_found(request, exception)
        return None
