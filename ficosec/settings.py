"""The one settings file of the FICOSEC portal.

Every deploy-specific value comes from an environment variable (documented in README.md). Defaults are safe
for local development; with DEBUG off the portal refuses to start without a real secret key and allowed hosts.
"""

import os
import tempfile
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent


def env(name, default=""):
    return os.environ.get(name, default)


def env_bool(name, default=False):
    value = os.environ.get(name)
    if value is None:
        return default
    if value.lower() in ("1", "true", "yes", "on"):
        return True
    if value.lower() in ("0", "false", "no", "off", ""):
        return False
    raise ImproperlyConfigured(f"{name} must be a boolean (true/false), got {value!r}")


def env_int(name, default):
    value = os.environ.get(name)
    if value is None:
        return default
    try:
        return int(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be an integer, got {value!r}") from None


def env_list(name, default=""):
    return [item.strip() for item in env(name, default).split(",") if item.strip()]


DEBUG = env_bool("DEBUG", True)

DEV_SECRET_KEY = "dev-only-insecure-key-do-not-use-in-production"
SECRET_KEY = env("SECRET_KEY", DEV_SECRET_KEY)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost,[::1]" if DEBUG else "")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

if not DEBUG:
    if SECRET_KEY == DEV_SECRET_KEY or len(SECRET_KEY) < 40:
        raise ImproperlyConfigured("DEBUG is off: set SECRET_KEY to a random string of at least 40 characters.")
    if not ALLOWED_HOSTS:
        raise ImproperlyConfigured("DEBUG is off: set ALLOWED_HOSTS to the portal's host names.")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django.contrib.postgres",
    "django.contrib.sitemaps",
    "csp",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "simple_history",
    "import_export",
    "axes",
    "projects",
]

MIDDLEWARE = [
    "ficosec.middleware.RequestLogMiddleware",
    "ficosec.guard.BadInputMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
]

ROOT_URLCONF = "ficosec.urls"
WSGI_APPLICATION = "ficosec.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        env("DATABASE_URL", "postgres://ficosec:ficosec@127.0.0.1:5432/ficosec"),
        conn_max_age=env_int("DB_CONN_MAX_AGE", 60),
        conn_health_checks=True,
    )
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "dashboard"  # a URL name: /gestion/ or /en/gestion/, in the language of the sign-in page
LOGOUT_REDIRECT_URL = "home"

# Spanish (Mexico) first, English second. Source strings are written in Spanish.
LANGUAGE_CODE = "es-mx"
LANGUAGES = [("es-mx", _("Español")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "America/Chihuahua"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(env("STATIC_ROOT", BASE_DIR / "staticfiles"))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}

EMAIL_BACKEND = env("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", "portal@ficosec.local")

REDIS_URL = env("REDIS_URL")
CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
    if REDIS_URL
    else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
}
# CACHE_BACKEND=dummy remembers nothing: every page is computed from the database (the benchmark's cold pages).
if env("CACHE_BACKEND", "") not in ("", "dummy"):
    raise ImproperlyConfigured("CACHE_BACKEND takes only 'dummy' (unset: Redis with REDIS_URL, else memory).")
if env("CACHE_BACKEND", "") == "dummy":
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.dummy.DummyCache"}}

REST_FRAMEWORK = {
    "DEFAULT_SCHEMA_CLASS": "projects.api.schema.PortalSchema",
    # Filtering and paging are set on ApiViewSet (ProjectFilter, projects.api.rendering.Pages), not here.
    "COERCE_DECIMAL_TO_STRING": True,
    "EXCEPTION_HANDLER": "projects.api.access.error_handler",
    "DEFAULT_PARSER_CLASSES": [
        "projects.api.parsers.BoundedJSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
}
# API request bodies: refused above this size (413, before reading) and JSON nested deeper than this (400).
API_MAX_BODY_BYTES = env_int("API_MAX_BODY_BYTES", 1024 * 1024)
API_MAX_JSON_DEPTH = env_int("API_MAX_JSON_DEPTH", 32)
# The sync window: tombstones of withdrawn projects and merged organizations are kept this long (docs/deployment.md).
WITHDRAWAL_RETENTION_DAYS = env_int("WITHDRAWAL_RETENTION_DAYS", 180)
# API request budgets (DRF rate syntax): per API key or signed-in user, and per anonymous client address.
API_RATE_KEY = env("API_RATE_KEY", "600/min")
API_RATE_ANON = env("API_RATE_ANON", "120/min")
SPECTACULAR_SETTINGS = {
    "TITLE": "FICOSEC — API de proyectos de prevención",
    "VERSION": "1.0.0",
    "COMPONENT_SPLIT_REQUEST": True,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "DESCRIPTION": "Catálogo de proyectos de prevención de FICOSEC. Guía: /api/v1/guia/",
    "SCHEMA_PATH_PREFIX": "/api/v1",
    "ENUM_NAME_OVERRIDES": {
        "PublicationStateEnum": "projects.models.Project.Publication",
        "ContributionKindEnum": "projects.models.Participation.ContributionKind",  # also Commitment.kind
    },
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"bare": {"format": "%(message)s"}},
    "handlers": {
        "console": {"class": "logging.StreamHandler"},
        "requests": {"class": "logging.StreamHandler", "formatter": "bare"},
    },
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", "INFO")},
    "loggers": {
        # One JSON line per request (ficosec.middleware.RequestLogMiddleware); Django's own request log is redundant.
        "ficosec.request": {"handlers": ["requests"], "level": "INFO", "propagate": False},
        "django.server": {"level": "WARNING"},
    },
}

# --- Security -------------------------------------------------------------------------------------------------
# Content-Security-Policy (django-csp), in development too so that a violation shows up in tests: no inline
# script or style anywhere; Swagger UI / Redoc come from drf-spectacular-sidecar under 'self'.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
        "base-uri": ["'self'"],
    },
}
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
if not DEBUG:
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]  # load balancers probe over plain HTTP
if env_bool("TRUST_X_FORWARDED_PROTO", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# Sign-in and password-reset throttling (ficosec/throttle.py): attempts allowed per window, per account and address.
LOGIN_ATTEMPTS = env_int("LOGIN_ATTEMPTS", 5)
LOGIN_LOCK_SECONDS = env_int("LOGIN_LOCK_SECONDS", 900)
PASSWORD_RESET_ATTEMPTS = env_int("PASSWORD_RESET_ATTEMPTS", 5)
# Failed sign-ins from one address over any accounts (credential stuffing) before the address is locked as well.
LOGIN_ADDRESS_ATTEMPTS = env_int("LOGIN_ADDRESS_ATTEMPTS", 10)

# --- Scale-out ----------------------------------------------------------------------------------------------------
# Read replicas: DATABASE_REPLICA_URL (comma-separated) adds aliases replica1..N; ficosec.db_router sends reads there.
for number, url in enumerate(env_list("DATABASE_REPLICA_URL"), start=1):
    DATABASES[f"replica{number}"] = dj_database_url.parse(
        url, conn_max_age=env_int("DB_CONN_MAX_AGE", 60), conn_health_checks=True
    )
if len(DATABASES) > 1:
    DATABASE_ROUTERS = ["ficosec.db_router.ReplicaRouter"]
# No JIT compilation: PostgreSQL starts it from a plan's estimated cost alone, and at 100,000 projects it compiled
# for 100-140 ms in the money and evidence aggregates (EXPLAIN); with it off the money figures took 730 ms against
# 813 ms (medians of 8 interleaved runs), the evidence roll-up the same (issue 18).
for database in DATABASES.values():
    database.setdefault("OPTIONS", {})["options"] = "-c jit=off"
if REDIS_URL:
    SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"

# Privacy: public counts of people under this are shown as "menos de N" (projects.privacy, one rule for every output).
SMALL_CELL_THRESHOLD = env_int("SMALL_CELL_THRESHOLD", 10)
# Where people send ARCO requests (access, rectification, cancellation, opposition), shown in the privacy notice.
PRIVACY_CONTACT_EMAIL = env("PRIVACY_CONTACT_EMAIL", "privacidad@ficosec.local")
# --- Open data (/datos-abiertos/): IATI 2.03 and 360Giving 1.4.3 files -------------------------------------------
# The public address of the portal, for the absolute links inside the downloadable files.
PORTAL_URL = env("PORTAL_URL", "http://localhost:8000")
# FICOSEC's IATI organisation identifier. Empty: MX-RFC-<RFC> of the organization marked as FICOSEC.
FICOSEC_ORG_IDENTIFIER = env("FICOSEC_ORG_IDENTIFIER", "")
# Prefix of 360Giving grant ids (and of the portal-scoped ids of organizations without an RFC).
GRANT_ID_PREFIX = env("GRANT_ID_PREFIX", "360G-FICOSEC")
# Where the big open-data files are kept once built (one folder per database; rebuilt when a project changes).
OPEN_DATA_DIR = env("OPEN_DATA_DIR", str(Path(tempfile.gettempdir()) / "ficosec-opendata"))
# The licence of every open-data file.
OPEN_DATA_LICENCE = {
    "name": env("OPEN_DATA_LICENCE_NAME", "CC-BY-4.0"),
    "title": env("OPEN_DATA_LICENCE_TITLE", "Creative Commons Atribución 4.0 Internacional (CC BY 4.0)"),
    "url": env("OPEN_DATA_LICENCE_URL", "https://creativecommons.org/licenses/by/4.0/deed.es"),
}
