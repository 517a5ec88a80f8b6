"""Settings for the test suite: real PostgreSQL and Redis, fast password hashing."""

from .base import *  # noqa: F403
from .base import env

DEBUG = False
SECRET_KEY = "test-only-not-secret"  # noqa: S105
ALLOWED_HOSTS = ["testserver", "localhost", "127.0.0.1"]
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = env.str("EMAIL_BACKEND", default="django.core.mail.backends.locmem.EmailBackend")
SMS_BACKEND = env.str("SMS_BACKEND", default="notifications.channels.LocmemSmsBackend")
CLINIC_PHONE = "+19195550100"
# Each pytest-xdist worker keeps its own cache keys (rate limits, locks) in the shared Redis.
CACHES["default"]["KEY_PREFIX"] = env.str(  # noqa: F405
    "CACHE_KEY_PREFIX", default="clinic-test-" + env.str("PYTEST_XDIST_WORKER", default="main")
)
# Generous limits for the suite (browser tests post from 127.0.0.1 many times); the rate limit
# tests set their own. Sign-in limits (django-axes) stay as in production: only failures count,
# and each test's rows go with its transaction.
RATE_LIMITS = {scope: "1000/min" for scope in ("register", "password_reset", "booking", "unlock")}
LOGGING["root"]["level"] = "WARNING"  # noqa: F405

# Serve static files straight from the finders (app folders, node_modules) without collectstatic.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True

# Many tests book on fixed dates in 2030 (clear of notice and horizon rules); the horizon tests
# read this value (clinic/core/tests/test_bounds.py), the default is two years (base.py).
BOOKING_HORIZON_DAYS = env.int("BOOKING_HORIZON_DAYS", default=10 * 365)
