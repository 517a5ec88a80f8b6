import logging
from typing import cast

from redis import RedisError
from rest_framework.request import Request
from rest_framework.settings import api_settings
from rest_framework.throttling import ScopedRateThrottle
from rest_framework.views import APIView

logger = logging.getLogger(__name__)


class ResilientScopedRateThrottle(ScopedRateThrottle):
    """Rate limits live in Redis; while Redis is down, let requests through instead of a 500."""

    def __init__(self) -> None:
        super().__init__()
        # DRF copies the rates once at import; a throttle is made per request, so reading them
        # here lets settings change. The stubs type the setting's rates as numbers; they are the
        # "count/period" strings THROTTLE_RATES holds.
        rates = api_settings.DEFAULT_THROTTLE_RATES
        self.THROTTLE_RATES = cast(dict[str, str | None], rates)

    def allow_request(self, request: Request, view: APIView) -> bool:
        try:
            return super().allow_request(request, view)
        except (RedisError, OSError):
            logger.warning("rate limit for scope %s skipped: cache unavailable", self.scope)
            return True
