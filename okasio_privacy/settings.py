"""Okasio Privacy settings: one file, driven by the environment (django-environ).

Every variable is listed, alphabetised, in `.env.example` and described in the README.
Values production needs (SECRET_KEY, SUBJECT_HASH_KEY) have no default here: `make run`
writes a local `.env` with random ones.
"""

from __future__ import annotations

from pathlib import Path

import environ
from celery.schedules import crontab
from csp.constants import NONCE, SELF
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
ENV_FILE = Path(environ.Env().str("ENV_FILE", default=str(BASE_DIR / ".env")))
if ENV_FILE.exists():
    env.read_env(ENV_FILE)

# --- Core -------------------------------------------------------------------------------

SECRET_KEY = env("SECRET_KEY")
DEBUG = env.bool("DEBUG", default=False)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
SITE_URL = env("SITE_URL", default="http://127.0.0.1:8000")

INSTALLED_APPS = [
    "okasio_privacy.apps.OkasioAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "axes",
    "people",
    "audit",
    "rights",
    "consent",
    "retention",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "csp.middleware.CSPMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, as django-axes asks: it turns a locked-out login into its lockout response.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "okasio_privacy.urls"
WSGI_APPLICATION = "okasio_privacy.wsgi.application"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

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
                "csp.context_processors.nonce",
                "okasio_privacy.context_processors.controller",
            ],
        },
    },
]

# --- Database, cache, Celery ------------------------------------------------------------

DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
}
# Each web worker keeps its connection between requests (bench/load.py: connecting costs a
# PostgreSQL process and several round trips, more than a whole consent POST) and checks it
# before reusing it, so a restarted or failed-over database costs no request an error. On
# PostgreSQL the check reads the socket instead of sending a query (okasio_privacy/postgresql).
DATABASES["default"]["CONN_MAX_AGE"] = env.int("DATABASE_CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    DATABASES["default"]["ENGINE"] = "okasio_privacy.postgresql"

# With REDIS_URL set, Redis is the Celery broker and the shared cache (rate limits are
# shared by every worker). Without it (the quick start), tasks run in-process and the
# cache is local memory.
REDIS_URL = env("REDIS_URL", default="")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

CELERY_BROKER_URL = REDIS_URL or "memory://"
# Results hold counts only (never personal data) and expire after a day.
CELERY_RESULT_BACKEND = REDIS_URL or None
CELERY_RESULT_EXPIRES = 24 * 60 * 60
CELERY_TASK_ALWAYS_EAGER = not REDIS_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TIMEZONE = "UTC"
# A task is acknowledged when it ends, not when it starts: a worker killed mid-task (a
# deploy, the OOM killer) leaves its message to be delivered again. With Redis, that is once
# the visibility timeout has passed (a worker restores unacknowledged messages at start and
# every few minutes), so it must exceed the longest task, or a task still running would be
# delivered twice; tasks are idempotent either way (README, "Faults and recovery").
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT_SECONDS", default=3600),
}
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# Sending a task retries once, at once (a stale connection after Redis came back), not
# Celery's 3 times with pauses: while Redis is down, a web request that queues an email
# fails over to the outbox relay in milliseconds instead of waiting (rights.services).
CELERY_TASK_PUBLISH_RETRY_POLICY = {"max_retries": 1, "interval_start": 0}
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BEAT_SCHEDULE = {
    "verify-audit-chain": {
        "task": "audit.tasks.verify_audit_chain",
        "schedule": crontab(minute=30, hour=2),  # https://crontab.guru/#30_2_*_*_*
    },
    # The outbox relay: sends any email still pending (broker down when it was queued...).
    "rights-relay-pending-emails": {
        "task": "rights.tasks.relay_pending_emails",
        "schedule": crontab(),  # https://crontab.guru/#*_*_*_*_*
    },
    "rights-send-confirmation-reminders": {
        "task": "rights.tasks.send_confirmation_reminders",
        "schedule": crontab(minute="*/15"),  # https://crontab.guru/#*/15_*_*_*_*
    },
    # Erasures' Stripe deletions that Stripe has not confirmed (rights.PendingStripeDeletion).
    "rights-retry-stripe-deletions": {
        "task": "rights.tasks.retry_stripe_deletions",
        "schedule": crontab(minute=45),  # https://crontab.guru/#45_*_*_*_*
    },
    # The DPO group's morning digest: requests due soon and overdue (references only).
    "rights-send-deadline-digest": {
        "task": "rights.tasks.send_deadline_digest",
        "schedule": crontab(minute=0, hour=6),  # https://crontab.guru/#0_6_*_*_*
    },
    # Every retention policy in retention.sweeps.POLICIES, one task each (UTC).
    "retention-sweeps": {
        "task": "retention.tasks.run_all_sweeps",
        "schedule": crontab(minute=30, hour=3),  # https://crontab.guru/#30_3_*_*_*
    },
    # ...and unconfirmed requests every hour as well: an expired request must not stay
    # "open" for a day, or a new submission would join it and get a dead link.
    "retention-unconfirmed-requests": {
        "task": "retention.tasks.run_sweep",
        "args": ("unconfirmed_requests",),
        "schedule": crontab(minute=5),  # https://crontab.guru/#5_*_*_*_*
    },
}

# --- Email --------------------------------------------------------------------------------

vars().update(env.email_url("EMAIL_URL", default="consolemail://"))
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="Okasio <vie-privee@okasio.fr>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# --- Internationalisation and time (STYLE 19) ---------------------------------------------

LANGUAGE_CODE = "fr"
LANGUAGES = [("fr", _("French")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_I18N = True
USE_TZ = True
TIME_ZONE = "UTC"
# Legal dates (received_on, due_on) are calendar dates in Paris (REQUIREMENTS A1).
LEGAL_TIME_ZONE = env("LEGAL_TIME_ZONE", default="Europe/Paris")

# --- Static files -------------------------------------------------------------------------

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}
WHITENOISE_USE_FINDERS = True
MEDIA_ROOT = env.path("MEDIA_ROOT", default=BASE_DIR / "var" / "media")

# --- Security -----------------------------------------------------------------------------

# HTTPS is on unless the environment says otherwise (the quick start and the test
# suite serve plain HTTP on 127.0.0.1).
HTTPS = env.bool("HTTPS", default=True)
SECURE_SSL_REDIRECT = HTTPS
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SESSION_COOKIE_SECURE = HTTPS
CSRF_COOKIE_SECURE = HTTPS
SECURE_HSTS_SECONDS = 31_536_000 if HTTPS else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = HTTPS
SECURE_HSTS_PRELOAD = HTTPS
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_AGE = 8 * 60 * 60  # staff sessions end after 8 hours
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
# Load balancers probe /healthz over plain HTTP.
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]

CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF, NONCE],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "form-action": [SELF],
        "frame-ancestors": ["'none'"],
        "base-uri": ["'none'"],
        "object-src": ["'none'"],
    },
}

# --- Staff access: password + TOTP (django-otp), lockout after failures (django-axes) -------

AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
OTP_TOTP_ISSUER = "Okasio Privacy"
# How many reverse proxies of ours (TLS terminator, load balancer) stand in front of the
# portal, each appending to X-Forwarded-For: 0 when clients connect to gunicorn directly.
# The per-IP rate limits and the login lockouts read the client's address through it.
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)
# Five failed logins for one username from one address lock that pair out for an hour.
AXES_CLIENT_IP_CALLABLE = "okasio_privacy.proxies.client_ip"
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = env.int("AXES_COOLOFF_HOURS", default=1)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
# Failed attempts only: successful staff logins are not logged by axes.
AXES_DISABLE_ACCESS_LOG = True
AXES_VERBOSE = False

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# Keyed hash of a normalised email: how the audit log and the opposition list name a
# person without holding their address. Not the Django secret key, so rotating one does
# not orphan the other.
SUBJECT_HASH_KEY = env("SUBJECT_HASH_KEY")

# --- Data-subject requests: the intake (rights/) ------------------------------------------

# A confirmation link works for this many days; a request never confirmed then expires.
RIGHTS_CONFIRMATION_LINK_DAYS = env.int("RIGHTS_CONFIRMATION_LINK_DAYS", default=7)
# One reminder this many days after submission, if still unconfirmed.
RIGHTS_CONFIRMATION_REMINDER_DAYS = env.int("RIGHTS_CONFIRMATION_REMINDER_DAYS", default=2)
# A privacy-space sign-in link works for this many minutes, once.
RIGHTS_SIGN_IN_LINK_MINUTES = env.int("RIGHTS_SIGN_IN_LINK_MINUTES", default=30)
# A privacy-space session ends this many minutes after sign-in.
RIGHTS_SPACE_SESSION_MINUTES = env.int("RIGHTS_SPACE_SESSION_MINUTES", default=30)
# Submissions and sign-in requests per client IP and per address: "N/s", "N/m", "N/h" or
# "N/d" (rights.ratelimits).
RIGHTS_RATE_LIMIT_PER_IP = env("RIGHTS_RATE_LIMIT_PER_IP", default="20/h")
RIGHTS_RATE_LIMIT_PER_EMAIL = env("RIGHTS_RATE_LIMIT_PER_EMAIL", default="5/h")
# Tracker look-ups through the API per client IP: slows down guessing tracker secrets.
RIGHTS_RATE_LIMIT_TRACKER_PER_IP = env("RIGHTS_RATE_LIMIT_TRACKER_PER_IP", default="120/h")
# Sent emails (they hold the address and single-use links) are deleted after this many days.
RIGHTS_SENT_EMAIL_RETENTION_DAYS = env.int("RIGHTS_SENT_EMAIL_RETENTION_DAYS", default=30)

# --- Data-subject requests: the DPO's back office (rights/admin.py) -------------------------

# A request is "due soon" (an orange badge, the daily digest) this many days before its
# deadline (REQUIREMENTS A3: a policy choice).
RIGHTS_DUE_SOON_DAYS = env.int("RIGHTS_DUE_SOON_DAYS", default=7)
# The clock may pause while we wait for the person only if we asked within this many
# French working days of receipt, "without undue delay" (A6, EDPB 01/2022 § 159: a policy
# choice). Later questions go out without pausing the clock.
RIGHTS_PAUSE_ASK_WITHIN_WORKING_DAYS = env.int("RIGHTS_PAUSE_ASK_WITHIN_WORKING_DAYS", default=3)

# --- Data-subject requests: the fulfilment (rights/exports.py, rights/fulfilment.py) -------

# An access or portability export can be downloaded for this many days, then it is deleted.
RIGHTS_EXPORT_LINK_DAYS = env.int("RIGHTS_EXPORT_LINK_DAYS", default=7)
# Rows fetched per database round trip while an export streams (memory stays flat).
RIGHTS_EXPORT_CHUNK_SIZE = env.int("RIGHTS_EXPORT_CHUNK_SIZE", default=2000)

# --- Consent: the cookie banner, Google Analytics, the platform's APIs ----------------------

# How long a banner choice (acceptance or refusal) holds before we ask again (C5: 6 months).
CONSENT_CHOICE_MONTHS = env.int("CONSENT_CHOICE_MONTHS", default=6)
if not 1 <= CONSENT_CHOICE_MONTHS <= 13:
    raise environ.ImproperlyConfigured("CONSENT_CHOICE_MONTHS must be 1 to 13 (REQUIREMENTS C5).")
# Sites that embed the banner with its script tag and call its API (CORS, no credentials).
CONSENT_EMBED_ORIGINS = env.list("CONSENT_EMBED_ORIGINS", default=[])
# Google Analytics 4 measurement id; empty: never loaded. Loaded only after consent (C1).
GA_MEASUREMENT_ID = env("GA_MEASUREMENT_ID", default="")
# Service tokens of Okasio's platform: the opposition check (B11); the consents given on the
# platform and card withdrawal (B12, C10).
OPPOSITION_API_TOKENS = env.list("OPPOSITION_API_TOKENS", default=[])
PLATFORM_API_TOKENS = env.list("PLATFORM_API_TOKENS", default=[])
# POST /api/v1/consents/ refuses a choice made longer ago than this (its `at`).
CONSENT_RECORD_MAX_AGE_HOURS = env.int("CONSENT_RECORD_MAX_AGE_HOURS", default=24)

if GA_MEASUREMENT_ID:
    # The loader banner.js injects after consent, and where it sends its hits.
    _directives = CONTENT_SECURITY_POLICY["DIRECTIVES"]
    _directives["script-src"] = [*_directives["script-src"], "https://www.googletagmanager.com"]
    _directives["connect-src"] = [
        SELF,
        "https://*.google-analytics.com",
        "https://*.analytics.google.com",
        "https://*.googletagmanager.com",
    ]
    _directives["img-src"] = [
        *_directives["img-src"],
        "https://*.google-analytics.com",
        "https://*.googletagmanager.com",
    ]

# --- Stripe (people/stripe.py is the only module that talks to it) -------------------------

STRIPE_SECRET_KEY = env("STRIPE_SECRET_KEY", default="")
STRIPE_WEBHOOK_SECRET = env("STRIPE_WEBHOOK_SECRET", default="")
# Empty means Stripe itself; tests point it at a local Stripe-compatible server.
STRIPE_API_BASE = env("STRIPE_API_BASE", default="")
# The ledger of handled webhook events (people.StripeEvent) is deleted after this many
# days: Stripe retries an event for up to 3 days, and keeps it only 30 days itself.
STRIPE_EVENT_RETENTION_DAYS = env.int("STRIPE_EVENT_RETENTION_DAYS", default=30)

# --- Django REST framework and the schema -------------------------------------------------

REST_FRAMEWORK = {
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_AUTHENTICATION_CLASSES": [],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.AllowAny"],
    "UNAUTHENTICATED_USER": None,
    # JSON in, JSON out: no form parsing, no browsable API (its inline scripts break the CSP).
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    # \u-escape non-ASCII: an error message that quotes the input (a lone surrogate...)
    # could not be encoded as UTF-8, and would be a 500 instead of a 400.
    "UNICODE_JSON": False,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Okasio Privacy API",
    "DESCRIPTION": (
        "Okasio Privacy's JSON APIs. Anyone: file a GDPR request (access, rectification, "
        "erasure, portability, restriction, objection) and follow it with its tracker secret "
        "(the person confirms every request from the email we send; the answer never says "
        "whether an address is known); the cookie banner's state and choices. Okasio's "
        "platform, with its service tokens: the opposition check, the consents given on the "
        "platform (the portal keeps their proof) and card withdrawal."
    ),
    "VERSION": "1.0.0",
    # The schema describes the API, not the endpoints that serve the schema and the docs.
    "SERVE_INCLUDE_SCHEMA": False,
    "ENUM_NAME_OVERRIDES": {
        "RequestKindEnum": "rights.models.RequestKind",
        "RequestStatusEnum": "rights.models.RequestStatus",
    },
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

# --- The controller (GDPR 13(1)(a); REQUIREMENTS D3) --------------------------------------

CONTROLLER = {
    "name": "Okasio SAS",
    "address": env(
        "CONTROLLER_ADDRESS", default="8 rue du Chevalier Français, 59800 Lille, France"
    ),
    "privacy_email": env("PRIVACY_CONTACT_EMAIL", default="vie-privee@okasio.fr"),
    # No DPO is designated unless one is configured (GDPR 37; REQUIREMENTS D3).
    "dpo_email": env("DPO_EMAIL", default=""),
}

# --- Retention periods (months). The inventory points at these names; sweeps, the public
# data page and the Art. 30 register all read them from here (REQUIREMENTS B15, C8–C10, B11).

RETENTION_MONTHS = {
    # Non-client prospects: 3 years after collection or last contact they initiated (C8).
    "prospect": env.int("RETENTION_PROSPECT_MONTHS", default=36),
    # Client data used for prospecting: 3 years after the relationship ends (C8).
    "client_prospecting": env.int("RETENTION_CLIENT_PROSPECTING_MONTHS", default=36),
    # Card details as dispute evidence: 13 months after the debit date (C10, CMF L133-24).
    "card_evidence": env.int("RETENTION_CARD_EVIDENCE_MONTHS", default=13),
    # ...15 months for deferred-debit cards (C10).
    "card_evidence_deferred_debit": env.int("RETENTION_CARD_EVIDENCE_DEFERRED_MONTHS", default=15),
    # Accounting documents and invoices: 10 years (C9, Code de commerce L123-22).
    "accounting": env.int("RETENTION_ACCOUNTING_MONTHS", default=120),
    # Opposition-list entries: at least 3 years (B11). A lower value is refused below.
    "opposition_list": env.int("RETENTION_OPPOSITION_LIST_MONTHS", default=36),
    # Consent records, after the consent stops being relied on (withdrawn or superseded):
    # proof of consent (GDPR 7(1)) for the 5-year limitation period [POLICY CHOICE].
    "consent_proof": env.int("RETENTION_CONSENT_PROOF_MONTHS", default=60),
    # Technical traces (IP address, browser): 13 months.
    "technical_traces": env.int("RETENTION_TECHNICAL_TRACES_MONTHS", default=13),
    # Reviews and activities: while the account lives, then 3 years of inactivity.
    "account_content": env.int("RETENTION_ACCOUNT_CONTENT_MONTHS", default=36),
    # Contact requests: 3 years after the last exchange.
    "contact_requests": env.int("RETENTION_CONTACT_REQUESTS_MONTHS", default=36),
    # Closed rights requests: the person's address, name, answers and messages are
    # anonymised this long after closure; the procedural facts stay as proof (A11). No
    # source sets it: a policy choice, the 5-year limitation period (Code civil 2224).
    "closed_requests": env.int("RETENTION_CLOSED_REQUESTS_MONTHS", default=60),
    # Requests never confirmed (expired): only long enough to answer "what happened to it".
    "unconfirmed_requests": env.int("RETENTION_UNCONFIRMED_REQUESTS_MONTHS", default=1),
}
# Prospects asked to stay in touch at the end of their period are deleted when no explicit
# "yes" came within this many days of the email (C8, a policy choice).
RETENTION_REPERMISSION_GRACE_DAYS = env.int("RETENTION_REPERMISSION_GRACE_DAYS", default=30)
if RETENTION_MONTHS["opposition_list"] < 36:
    raise environ.ImproperlyConfigured(
        "RETENTION_OPPOSITION_LIST_MONTHS must be at least 36 (REQUIREMENTS B11)."
    )

# --- Health (/healthz) --------------------------------------------------------------------

# /healthz answers 503 when a policy's last successful sweep is older than this.
HEALTHZ_MAX_SWEEP_AGE_HOURS = env.int("HEALTHZ_MAX_SWEEP_AGE_HOURS", default=26)

# --- Logging: no personal data in messages (STYLE 16) -------------------------------------

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    # No link secret nor searched address in the log (okasio_privacy/logs.py).
    "filters": {"redact_urls": {"()": "okasio_privacy.logs.RedactURLs"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "filters": ["redact_urls"]}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="INFO")},
    # django-axes logs every reset and clean-up at INFO; its warnings are what matter.
    "loggers": {"axes": {"level": "WARNING"}},
}
