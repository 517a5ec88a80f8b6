"""Settings shared by every environment. All configuration comes from the environment."""

import re
from datetime import timedelta
from ipaddress import ip_network
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import environ
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured

from clinic.brokers import transport_options as broker_transport_options

BASE_DIR = Path(__file__).resolve().parent.parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)


class ConfigurationError(ImproperlyConfigured):
    """A setting is missing or wrong; manage.py and the WSGI app print it as one line."""


def required(name: str, hint: str) -> str:
    value = env.str(name, default="")
    if not value:
        raise ConfigurationError(f"{name} is not set: {hint}")
    return value


DEBUG = env.bool("DJANGO_DEBUG", default=False)
SECRET_KEY = env.str("DJANGO_SECRET_KEY", default="")
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["localhost", "127.0.0.1"])
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    # Django's admin on our own site class: our sign-in page and the second factor.
    "clinic.users.apps.ClinicAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "rest_framework",
    "knox",
    "axes",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "django_otp_webauthn",
    "pgtrigger",
    "pghistory",
    "clinic.core",
    "clinic.users",
    "clinic.audit",
    "sites",
    "patients",
    "procedures",
    "scheduling",
    "notifications",
    "history",
    "portal",
    "links",
    "overview",
    "reports",
    "interop",
    "csp",
]

MIDDLEWARE = [
    "clinic.core.middleware.HealthCheckMiddleware",
    "clinic.core.outage.DatabaseOutageMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # Pins a request to the primary database when it writes or its session just wrote.
    "clinic.core.dbrouter.ReadYourWritesMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    # The patient's language (their record's, or the browser's before sign-in); staff: English.
    "portal.language.PatientLanguageMiddleware",
    "clinic.core.middleware.NoStoreForSignedInMiddleware",
    "clinic.users.sessions.RenewIdleSessionMiddleware",
    # After sign-in: who read whose data (clinic/audit/reads.py) and who wrote it.
    "clinic.audit.middleware.AuditMiddleware",
    "clinic.users.middleware.RequireSecondFactorMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # A view's 404 is the site's page even with DEBUG on (the demo): clinic/core/middleware.py.
    "clinic.core.middleware.SiteNotFoundPageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last: turns a sign-in that django-axes paused into its page (clinic/users/signin_limits.py).
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "clinic.urls"
WSGI_APPLICATION = "clinic.wsgi.application"
ASGI_APPLICATION = "clinic.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "clinic.users.context_processors.navigation",
            ],
        },
    },
]

# --- Database: PostgreSQL only -------------------------------------------------
DATABASES = {
    "default": env.db_url("DATABASE_URL", default="postgres://postgres@127.0.0.1:5432/clinic")
}
if DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql":
    raise ConfigurationError(
        "DATABASE_URL must point at PostgreSQL (postgres://user@host:port/name); "
        f"got the {DATABASES['default']['ENGINE'].rsplit('.', 1)[-1]} engine"
    )
DATABASES["default"]["CONN_MAX_AGE"] = env.int("DATABASE_CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DATABASES["default"].setdefault("OPTIONS", {})["connect_timeout"] = env.int(
    "DATABASE_CONNECT_TIMEOUT", default=5
)
# Behind PgBouncer in transaction pooling mode each transaction may get another server
# connection, so nothing may rely on session state: no server-side cursors (decision 0033).
DATABASE_POOLER = env.str("DATABASE_POOLER", default="")
if DATABASE_POOLER not in ("", "pgbouncer"):
    raise ConfigurationError(f"DATABASE_POOLER={DATABASE_POOLER!r}: leave it empty or 'pgbouncer'")
DATABASES["default"]["DISABLE_SERVER_SIDE_CURSORS"] = DATABASE_POOLER == "pgbouncer"
# A streaming replica for read-only work that says so (clinic/core/dbrouter.py); without one,
# everything reads the primary. A session that wrote reads the primary for a while after.
if env.str("DATABASE_REPLICA_URL", default=""):
    DATABASES["replica"] = {
        **env.db_url("DATABASE_REPLICA_URL"),
        **{key: DATABASES["default"][key] for key in ("CONN_MAX_AGE", "CONN_HEALTH_CHECKS")},
        "OPTIONS": dict(DATABASES["default"]["OPTIONS"]),
        "DISABLE_SERVER_SIDE_CURSORS": DATABASES["default"]["DISABLE_SERVER_SIDE_CURSORS"],
        "TEST": {"MIRROR": "default"},
    }
DATABASE_ROUTERS = ["clinic.core.dbrouter.PrimaryReplicaRouter"]
READ_YOUR_WRITES_SECONDS = env.int("READ_YOUR_WRITES_SECONDS", default=10)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Redis: Celery broker and cache ---------------------------------------------
REDIS_URL = env.str("REDIS_URL", default="redis://127.0.0.1:6379/0")
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": env.str("CACHE_URL", default=REDIS_URL),
        "KEY_PREFIX": env.str("CACHE_KEY_PREFIX", default="clinic"),
        "OPTIONS": {"socket_connect_timeout": 2, "socket_timeout": 2},
    }
}

# --- Auth ------------------------------------------------------------------------
AUTH_USER_MODEL = "users.User"
# django-axes first: it refuses a paused sign-in before any password is checked.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# --- Time and language ------------------------------------------------------------
LANGUAGE_CODE = "en-us"
USE_I18N = True
# Patients' pages and messages in English or Spanish (portal/language.py picks which);
# staff pages stay English. Catalogs in locale/ (docs/decisions/0034-spanish.md).
LANGUAGES = [("en", "English"), ("es", "Español")]
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_TZ = True
TIME_ZONE = env.str("CLINIC_DEFAULT_TIME_ZONE", default="America/New_York")
try:
    ZoneInfo(TIME_ZONE)
except (ZoneInfoNotFoundError, ValueError):
    raise ConfigurationError(
        f"CLINIC_DEFAULT_TIME_ZONE={TIME_ZONE!r} is not an IANA time zone "
        "(for example America/Chicago)"
    ) from None

# --- Static files --------------------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = env.path("DJANGO_STATIC_ROOT", default=BASE_DIR / "staticfiles")
STATICFILES_DIRS = [
    BASE_DIR / "static",
    # Front-end packages come from npm at install time (package.json); never committed.
    ("vendor/htmx", BASE_DIR / "node_modules" / "htmx.org" / "dist"),
    ("vendor/chartjs", BASE_DIR / "node_modules" / "chart.js" / "dist"),
    ("vendor/event-calendar", BASE_DIR / "node_modules" / "@event-calendar" / "build" / "dist"),
]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

# --- Email -------------------------------------------------------------------------------
EMAIL_CONFIG = env.email_url("EMAIL_URL", default="consolemail://")
vars().update(EMAIL_CONFIG)
if env.str("EMAIL_BACKEND", default=""):  # a backend by dotted path, e.g. the keyed file one
    EMAIL_BACKEND = env.str("EMAIL_BACKEND")
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="clinic@localhost")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# --- Django REST framework and the OpenAPI schema ----------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # knox's check in one query, role included (clinic/users/tokens.py).
        "clinic.users.tokens.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "clinic.core.pagination.StandardPagination",
    "DEFAULT_PARSER_CLASSES": [
        "clinic.core.parsers.BoundedJSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "clinic.core.errors.api_exception_handler",
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Clinic API",
    "DESCRIPTION": "Practice system for interventional pain clinics.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["clinic.users.access.IsClinicStaff"],  # schema and docs: staff only
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {
        "PatientStatusEnum": "patients.models.PatientStatus",
        "IntakeStatusEnum": "patients.models.IntakeStatus",
        "DuplicateStatusEnum": "patients.models.DuplicateStatus",
        "ConditionKindEnum": "patients.models.ConditionKind",
        "DeviceKindEnum": "patients.models.DeviceKind",
        "UsageEnum": "procedures.models.Usage",
        "SideEnum": "procedures.models.Side",
        "OrderStatusEnum": "procedures.models.OrderStatus",
        "AuthStatusEnum": "procedures.models.AuthStatus",
        "DrugClassEnum": "patients.models.DrugClass",
        "EntrySourceEnum": "patients.models.EntrySource",
        "UrgentSourceEnum": "patients.models.UrgentSource",
    },
}

# --- Celery --------------------------------------------------------------------------------
# Redis or RabbitMQ (amqp://...); the transport options follow the broker (clinic/brokers.py).
# Results, where a task keeps one, stay in Redis either way.
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default=REDIS_URL)
CELERY_BROKER_TRANSPORT_OPTIONS = broker_transport_options(CELERY_BROKER_URL)
CELERY_RESULT_BACKEND = env.str("CELERY_RESULT_BACKEND", default=REDIS_URL)

# --- Logging: no PHI, ever. Log ids, never names, dates of birth or contact details. -------------
LOGGING: dict[str, Any] = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
    },
    # Tokens in paths (message, verification, reset and feed links) become "…" in runserver's
    # access log; gunicorn's uses the same patterns (gunicorn.conf.py).
    "filters": {"redact_tokens": {"()": "clinic.core.logredact.RedactTokens"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        # WeasyPrint reports each step of every PDF (and of its own stylesheet at import).
        "weasyprint": {"level": "WARNING"},
        "fontTools": {"level": "WARNING"},
        "django.server": {"filters": ["redact_tokens"], "level": "INFO", "propagate": True},
        # "Not Found: /m/<token>/" and the like
        "django.request": {"filters": ["redact_tokens"], "propagate": True},
    },
}

# Attempts per client IP and per account (clinic.core.ratelimit): "count/min|hour|day".
RATE_LIMITS = {
    "register": env.str("RATE_LIMIT_REGISTER", default="5/hour"),
    "password_reset": env.str("RATE_LIMIT_PASSWORD_RESET", default="5/hour"),
    "booking": env.str("RATE_LIMIT_BOOKING", default="20/hour"),
    "unlock": env.str("RATE_LIMIT_UNLOCK", default="5/hour"),
}
# The proxies (addresses or networks, e.g. 10.0.0.0/8) whose X-Forwarded-For is believed
# (clinic/core/clientip.py). Empty: the client's address is REMOTE_ADDR, whatever the headers say.
TRUSTED_PROXIES = [p.strip() for p in env.list("TRUSTED_PROXIES", default=[]) if p.strip()]
for _proxy in TRUSTED_PROXIES:
    try:
        ip_network(_proxy, strict=False)
    except ValueError:
        raise ConfigurationError(
            f"TRUSTED_PROXIES: {_proxy!r} is not an IP address or network (e.g. 10.0.0.0/8)"
        ) from None

# --- Sign-in limits (django-axes; clinic/users/signin_limits.py) ---------------------------------
# Per account and per client address, each on its own: SIGNIN_FAILURE_LIMIT failures pause
# sign-in for SIGNIN_FIRST_DELAY_SECONDS, doubling with each further failure up to
# SIGNIN_MAX_DELAY_SECONDS; failures are remembered SIGNIN_FAILURE_MEMORY_SECONDS after the last.
SIGNIN_FAILURE_LIMIT = env.int("SIGNIN_FAILURE_LIMIT", default=5)
SIGNIN_FIRST_DELAY_SECONDS = env.int("SIGNIN_FIRST_DELAY_SECONDS", default=60)
SIGNIN_MAX_DELAY_SECONDS = env.int("SIGNIN_MAX_DELAY_SECONDS", default=3600)
SIGNIN_FAILURE_MEMORY_SECONDS = env.int("SIGNIN_FAILURE_MEMORY_SECONDS", default=24 * 3600)
# The emailed unlock link works once, for this long; the browser that used it may sign in to
# that account for a few minutes even while its address is paused.
SIGNIN_UNLOCK_LINK_MINUTES = env.int("SIGNIN_UNLOCK_LINK_MINUTES", default=30)
SIGNIN_UNLOCKED_BROWSER_SECONDS = env.int("SIGNIN_UNLOCKED_BROWSER_SECONDS", default=10 * 60)
AXES_ENABLED = True
AXES_HANDLER = "clinic.users.signin_limits.SignInAttemptHandler"
AXES_FAILURE_LIMIT = SIGNIN_FAILURE_LIMIT
AXES_LOCKOUT_PARAMETERS = ["ip_address", "username"]
AXES_COOLOFF_TIME = "clinic.users.signin_limits.cool_off"
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False  # a refused try does not lengthen the pause
AXES_RESET_ON_SUCCESS = True
AXES_CLIENT_IP_CALLABLE = "clinic.core.clientip.client_ip"
AXES_USERNAME_CALLABLE = "clinic.users.signin_limits.attempt_username"
AXES_WHITELIST_CALLABLE = "clinic.users.signin_limits.unlocked_in_this_browser"
AXES_LOCKOUT_CALLABLE = "clinic.users.signin_limits.lockout_response"
AXES_ENABLE_ACCESS_FAILURE_LOG = True  # the managers' list of failed sign-ins
AXES_ENABLE_ADMIN = False  # registered read-only by clinic/users/admin.py
AXES_VERBOSE = False

# Idle sign-outs (clinic/users/sessions.py): a session lapses after this long without a request.
SESSION_IDLE_SECONDS_STAFF = env.int("SESSION_IDLE_SECONDS_STAFF", default=15 * 60)
SESSION_IDLE_SECONDS_PATIENT = env.int("SESSION_IDLE_SECONDS_PATIENT", default=30 * 60)
# API tokens (django-rest-knox: stored as SHA-512 digests) expire this long after sign-in.
API_TOKEN_TTL_SECONDS_STAFF = env.int("API_TOKEN_TTL_SECONDS_STAFF", default=8 * 3600)
API_TOKEN_TTL_SECONDS_PATIENT = env.int("API_TOKEN_TTL_SECONDS_PATIENT", default=8 * 3600)
REST_KNOX = {
    # Tokens made outside POST /api/v1/auth/token/ (the admin) get the staff lifetime.
    "TOKEN_TTL": timedelta(seconds=API_TOKEN_TTL_SECONDS_STAFF),
    "AUTO_REFRESH": False,
    "AUTH_HEADER_PREFIX": "Token",
}

# Bounds on what a request may ask (clinic/core/bounds.py): bookings no further ahead than the
# horizon, availability windows no wider than these many days (a 400 naming the cap beyond).
BOOKING_HORIZON_DAYS = env.int("BOOKING_HORIZON_DAYS", default=2 * 365)
AVAILABILITY_MAX_DAYS_PATIENT = env.int("AVAILABILITY_MAX_DAYS_PATIENT", default=31)
AVAILABILITY_MAX_DAYS_STAFF = env.int("AVAILABILITY_MAX_DAYS_STAFF", default=62)

# --- Content-Security-Policy (django-csp; docs/decisions/0027-content-security-policy.md) -----
# Scripts and styles only from our own files: no inline <script>, on*= handlers, style=
# attributes or <style> blocks anywhere (clinic/core/tests/test_csp.py greps for them).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    },
}

# --- Audit (clinic/audit) -----------------------------------------------------------------------
# Every table django-pghistory tracks keeps its events append-only: triggers refuse UPDATE and
# DELETE on them (and on clinic.audit's AuditEvent), whoever asks.
PGHISTORY_APPEND_ONLY = True

CLINIC_NAME = env.str("CLINIC_NAME", default="Clinic")
CLINIC_PHONE = env.str("CLINIC_PHONE", default="")
# The header and buttons of emails to patients (a CSS colour; white text goes on it).
CLINIC_BRAND_COLOUR = env.str("CLINIC_BRAND_COLOUR", default="#0b5cad")
if not re.fullmatch(r"#[0-9a-fA-F]{6}", CLINIC_BRAND_COLOUR):
    raise ImproperlyConfigured("CLINIC_BRAND_COLOUR must be a colour like #0b5cad.")
# Links in messages are absolute: the address patients reach the site at.
CLINIC_BASE_URL = env.str("CLINIC_BASE_URL", default="http://localhost:8000")

# --- Second factor (django-otp, django-otp-webauthn; clinic/users/two_factor.py) ----------------
# Staff always sign in with a second factor; patients once they turn it on. Wrong codes are
# throttled by the devices themselves (1, 2, 4, 8... seconds after each failure).
OTP_TOTP_ISSUER = CLINIC_NAME
# Passkeys are bound to this domain (never an IP address) and checked against these origins.
_base_url = urlsplit(CLINIC_BASE_URL)
OTP_WEBAUTHN_RP_ID = env.str("WEBAUTHN_RP_ID", default=_base_url.hostname or "")
OTP_WEBAUTHN_RP_NAME = CLINIC_NAME
OTP_WEBAUTHN_ALLOWED_ORIGINS = env.list(
    "WEBAUTHN_ALLOWED_ORIGINS", default=[f"{_base_url.scheme}://{_base_url.netloc}"]
)
OTP_WEBAUTHN_ALLOW_PASSWORDLESS_LOGIN = False  # a passkey is the second step, never the only one

# --- Messages to patients (notifications/) -------------------------------------------------------
NOTIFICATIONS_QUEUE = env.str("NOTIFICATIONS_QUEUE", default="notifications")
# The dispatcher's own queue: queued sends never stand in front of it.
NOTIFY_DISPATCH_QUEUE = env.str("NOTIFY_DISPATCH_QUEUE", default="dispatch")
# Rows the dispatcher claims per transaction, and message ids per send task (one email
# connection per task).
NOTIFY_BATCH_SIZE = env.int("NOTIFY_BATCH_SIZE", default=500)
NOTIFY_SEND_BATCH_SIZE = env.int("NOTIFY_SEND_BATCH_SIZE", default=50)
# The dispatcher stops handing over while this many send tasks wait (10,000 messages): the
# rest wait as rows until the workers catch up, never long enough to be handed over twice.
NOTIFY_QUEUE_HIGH_WATER = env.int("NOTIFY_QUEUE_HIGH_WATER", default=200)
# A dispatcher run claims until nothing is due; past this it queues the next run and stops.
NOTIFY_DISPATCH_BUDGET_SECONDS = env.float("NOTIFY_DISPATCH_BUDGET_SECONDS", default=60.0)
# A hand-over older than this is not re-sent: the send task would be a duplicate in flight.
NOTIFY_REQUEUE_SECONDS = env.int("NOTIFY_REQUEUE_SECONDS", default=300)
# A send task that waited in the queue longer than this sends the message back for a fresh look.
NOTIFY_DISPATCH_MAX_LAG_SECONDS = env.int("NOTIFY_DISPATCH_MAX_LAG_SECONDS", default=600)
# Longer than a send task may run (task_time_limit): a row `sending` longer lost its worker.
NOTIFY_SENDING_LEASE_SECONDS = env.int("NOTIFY_SENDING_LEASE_SECONDS", default=420)
SMS_BACKEND = env.str("SMS_BACKEND", default="notifications.channels.ConsoleSmsBackend")
SMS_FILE_PATH = env.str("SMS_FILE_PATH", default=str(BASE_DIR / ".data" / "sms"))
SMS_FILE_DELAY_SECONDS = env.float("SMS_FILE_DELAY_SECONDS", default=0.0)
# Tests: a file of keys whose sends wait while listed (notifications.channels.FileSmsBackend).
SMS_FILE_HOLD_PATH = env.str("SMS_FILE_HOLD_PATH", default="")
TWILIO_ACCOUNT_SID = env.str("TWILIO_ACCOUNT_SID", default="")
TWILIO_AUTH_TOKEN = env.str("TWILIO_AUTH_TOKEN", default="")
TWILIO_FROM_NUMBER = env.str("TWILIO_FROM_NUMBER", default="")
TWILIO_API_BASE = env.str("TWILIO_API_BASE", default="https://api.twilio.com")
EMAIL_FILE_PATH = env.str("EMAIL_FILE_PATH", default=str(BASE_DIR / ".data" / "email"))
EMAIL_MESSAGE_ID_DOMAIN = env.str("EMAIL_MESSAGE_ID_DOMAIN", default="clinic.local")

# --- HL7 v2 SIU scheduling messages to a practice-management system over MLLP (docs/operations/hl7.md)
# Off while HL7_MLLP_HOST is empty: no SIU message is then planned at all.
HL7_MLLP_HOST = env.str("HL7_MLLP_HOST", default="")
HL7_MLLP_PORT = env.int("HL7_MLLP_PORT", default=2575)
# How long to wait for a connection and then for the ACK before the attempt counts as failed.
HL7_MLLP_TIMEOUT_SECONDS = env.float("HL7_MLLP_TIMEOUT_SECONDS", default=10.0)
# Attempts (1, 2, 4 ... 60 minutes apart) before a message is marked failed for staff to retry.
HL7_MLLP_MAX_ATTEMPTS = env.int("HL7_MLLP_MAX_ATTEMPTS", default=10)
# A message whose visit has an earlier one not yet acknowledged looks again after this long.
HL7_MLLP_ORDER_WAIT_SECONDS = env.int("HL7_MLLP_ORDER_WAIT_SECONDS", default=60)
HL7_SENDING_APPLICATION = env.str("HL7_SENDING_APPLICATION", default="PAINCLINIC")
HL7_SENDING_FACILITY = env.str("HL7_SENDING_FACILITY", default="CLINIC")
HL7_RECEIVING_APPLICATION = env.str("HL7_RECEIVING_APPLICATION", default="PM")
HL7_RECEIVING_FACILITY = env.str("HL7_RECEIVING_FACILITY", default="")
# MSH-11: P in production, T for a test interface, D while debugging.
HL7_PROCESSING_ID = env.str("HL7_PROCESSING_ID", default="P")
