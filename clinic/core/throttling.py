import logging

from redis import RedisError
from rest_framework.settings import api_settings
from rest_framework.throttling import ScopedRateThrottle

logger = logging.getLogger(__name__)


class ResilientScopedRateThrottle(ScopedRateThrottle):
    """Rate limits live in Redis; while Redis is down, let requests through instead of a 500."""

    @property
    def THROTTLE_RATES(self):
        # DRF copies the rates once at import; reading them per request lets settings change.
        return api_settings.DEFAULT_THROTTLE_RATES

    def allow_request(self, request, view):
        try:
            return super().allow_request(request, view)
        except (RedisError, OSError):
            logger.warning("rate limit for scope %s skipped: cache unavailable", self.scope)
            return True
