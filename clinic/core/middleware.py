from .views import healthz


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
