"""Settings, read from the environment (typed; a bad value stops start-up with a clear message).

Defaults suit a developer's laptop: SQLite under the data folder, mail written to files.
Production sets MEDWORKS_ENV=production, SECRET_KEY, DATABASE_URL, ALLOWED_HOSTS and SMTP.
"""

import datetime as dt
import os
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent
PROJECT_DIR = BASE_DIR.parent.parent


def env_str(name: str, default: str) -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    value = raw.strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name} must be true or false, not {raw!r}")


def env_int(name: str, default: int, *, minimum: int | None = None) -> int:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a whole number, not {raw!r}") from None
    if minimum is not None and value < minimum:
        raise ImproperlyConfigured(f"{name} must be at least {minimum}, not {value}")
    return value


def env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


MEDWORKS_ENV = env_str("MEDWORKS_ENV", "development")
if MEDWORKS_ENV not in {"development", "test", "production"}:
    raise ImproperlyConfigured(
        f"MEDWORKS_ENV must be development, test or production, not {MEDWORKS_ENV!r}"
    )
PRODUCTION = MEDWORKS_ENV == "production"

DATA_DIR = Path(env_str("MEDWORKS_DATA_DIR", str(PROJECT_DIR / "var"))).resolve()
DATA_DIR.mkdir(parents=True, exist_ok=True)

SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if PRODUCTION:
        raise ImproperlyConfigured("SECRET_KEY must be set in production")
    SECRET_KEY = "dev-only-insecure-key-never-use-in-production"

DEBUG = env_bool("DEBUG", not PRODUCTION)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", [] if PRODUCTION else ["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_htmx",
    "django_tasks",
    "django_tasks_db",
    "axes",
    # The second factor at sign-in: TOTP apps and recovery codes (accounts/two_factor.py).
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "medworks.core",
    "medworks.accounts",
    "medworks.network",
    "medworks.web",
    "medworks.api",
    "medworks.notifications",
    "medworks.bookings",
    "medworks.documents",
    "medworks.billing",
    "medworks.payments",
    "medworks.reconciliation",
    "medworks.mailbox",
    "medworks.webhooks",
    "medworks.privacy",
    "medworks.demo",
]

MIDDLEWARE = [
    # First: every log line of a request carries its id, and the answer says it (X-Request-ID).
    "medworks.web.request_id.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # A strict Content-Security-Policy and a Permissions-Policy on every page.
    "medworks.web.security.SecurityHeadersMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # The language: the language cookie (the header's switch), else Accept-Language, else
    # English; a signed-in user's own preference wins (web.language, after auth).
    "django.middleware.locale.LocaleMiddleware",
    # Under /api/: an error page made outside the API (unknown address, method, 500) becomes
    # the API's JSON error, in the language just chosen (api/errors.py).
    "medworks.api.errors.ApiErrorsMiddleware",
    "django.middleware.common.CommonMiddleware",
    # A NUL character in a query or form field: 400 before any view (PostgreSQL cannot store it).
    "medworks.web.security.NulCharacterGuard",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Puts on the user the device that verified this session's second factor, if any.
    "django_otp.middleware.OTPMiddleware",
    # A signed-in person's own language wins over the cookie and the browser's.
    "medworks.web.language.UserLanguageMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # After auth and messages: signs out a session past its limits or of a suspended account.
    "medworks.accounts.middleware.SessionLimitsMiddleware",
    # After the session checks: a session that still owes its second factor reaches only the
    # second step, enrolment, the language switch and signing out (web/views/two_factor.py).
    "medworks.web.views.two_factor.TwoFactorMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # Last (django-axes): turns a locked-out login attempt into the lockout answer.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "medworks.urls"
WSGI_APPLICATION = "medworks.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "medworks.web.context_processors.navigation",
            ],
        },
    }
]

DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL") or f"sqlite:///{DATA_DIR / 'medworks.sqlite3'}",
        conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 0),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the worker and the web server read while the other writes.
    DATABASES["default"].setdefault("OPTIONS", {})
    DATABASES["default"]["OPTIONS"].update(
        {
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
        }
    )

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "web:login"
LOGIN_REDIRECT_URL = "web:home"
LOGOUT_REDIRECT_URL = "web:login"
# The lockout check first (django-axes: it refuses a locked-out account or address before any
# password is checked), then the usual username and password.
AUTHENTICATION_BACKENDS = [
    "medworks.accounts.backends.LockoutBackend",
    "django.contrib.auth.backends.ModelBackend",
]
# Argon2 for new and changed passwords; the others only read older hashes, which are rewritten
# as Argon2 at the user's next sign-in. (Tests swap in a fast hasher: tests/conftest.py.)
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
    "django.contrib.auth.hashers.BCryptSHA256PasswordHasher",
    "django.contrib.auth.hashers.ScryptPasswordHasher",
]

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-ca"
LANGUAGES = [("en", "English"), ("fr", "Français")]
# The French catalogue (Canadian French) is committed compiled: `make messages` rebuilds it.
LOCALE_PATHS = [Path(__file__).resolve().parent / "locale"]
# Dates, times and numbers as MedWorks writes them in each language (medworks/formats/).
FORMAT_MODULE_PATH = "medworks.formats"
TIME_ZONE = env_str("TIME_ZONE", "America/Toronto")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = DATA_DIR / "static"
STATIC_ROOT.mkdir(exist_ok=True)  # WhiteNoise warns on every request when it is missing
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if PRODUCTION
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
MEDIA_ROOT = DATA_DIR / "files"
# Uploads above FILE_UPLOAD_MAX_MEMORY_SIZE are streamed to a temporary file, never held in
# memory; a file larger than any page accepts (documents, the directory import) is dropped
# as it arrives instead of filling the disk (web/uploads.py).
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
FILE_UPLOAD_HANDLERS = [
    "medworks.web.uploads.SizeCappedUploadHandler",
    "django.core.files.uploadhandler.MemoryFileUploadHandler",
    "django.core.files.uploadhandler.TemporaryFileUploadHandler",
]
# Form fields other than files (the email intake carries an .eml in a hidden field).
DATA_UPLOAD_MAX_MEMORY_SIZE = 30 * 1024 * 1024

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_AGE = env_int("SESSION_COOKIE_AGE", 8 * 3600, minimum=60)
# Database sessions that also record whose they are and when they signed in, so deactivating
# a user or an organisation ends their sessions at once (accounts/sessions.py).
SESSION_ENGINE = "medworks.accounts.sessions"
# A session is signed out after this long without a request, and this long after sign-in
# whatever the activity (accounts/middleware.py).
MEDWORKS_SESSION_IDLE_MINUTES = env_int("MEDWORKS_SESSION_IDLE_MINUTES", 30, minimum=1)
MEDWORKS_SESSION_MAX_HOURS = env_int("MEDWORKS_SESSION_MAX_HOURS", 12, minimum=1)
SESSION_COOKIE_SECURE = PRODUCTION
CSRF_COOKIE_SECURE = PRODUCTION
# The API's JSON error under /api/, Django's 403 page elsewhere.
CSRF_FAILURE_VIEW = "medworks.api.errors.csrf_failure"
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
# The orchestrator probes /healthz over plain HTTP, straight at the app: never sent to HTTPS.
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
if PRODUCTION:
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
    # Eligible for browsers' HSTS preload list (submit the domain once it serves HTTPS only).
    SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# --- Failed sign-ins (django-axes) ---------------------------------------------------------
# After AXES_FAILURE_LIMIT failures an account is locked, and so is the address they came from,
# each on its own (two separate parameters, not their combination): guessing one account from
# many addresses, or many accounts from one address, is stopped. The lock lifts after the
# cool-off; staff lift it sooner in the admin (Axes > Access attempts: delete the row) or with
# `medworks axes_reset_username NAME` / `axes_reset_ip ADDRESS`.
AXES_FAILURE_LIMIT = env_int("MEDWORKS_LOGIN_FAILURE_LIMIT", 5, minimum=1)
AXES_COOLOFF_TIME = dt.timedelta(minutes=env_int("MEDWORKS_LOGIN_LOCKOUT_MINUTES", 15, minimum=1))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
# The login page again, saying why, answered 429 (web/views/auth.py).
AXES_LOCKOUT_CALLABLE = "medworks.web.views.auth.lockout_response"
AXES_CLIENT_IP_CALLABLE = "medworks.accounts.backends.client_ip_address"
# Axes' log lines name the address and path, never the username typed (a person's name, or a
# password typed in the wrong box); no start-up banner on every command.
AXES_CLIENT_STR_CALLABLE = "medworks.accounts.backends.client_str"
AXES_VERBOSE = False
# How many reverse proxies of ours stand in front of the app and append to X-Forwarded-For:
# the client's address is the one the outermost of them saw. 0: REMOTE_ADDR is the client.
# Production sits behind one TLS proxy; without this, every sign-in would come "from" it and
# one person's typos would lock everybody out.
MEDWORKS_TRUSTED_PROXIES = env_int("MEDWORKS_TRUSTED_PROXIES", 1 if PRODUCTION else 0, minimum=0)

# --- The second factor at sign-in (django-otp; accounts/two_factor.py) --------------------
# MedWorks staff (the operator organisation, and whoever opens the admin) must sign in with a
# code from an authenticator app; any organisation can require it of its users too
# (Organisation.require_two_factor). Off only for the demo and the test suite.
MEDWORKS_STAFF_REQUIRE_2FA = env_bool("MEDWORKS_STAFF_REQUIRE_2FA", True)
# The name the authenticator app shows beside the person's username.
OTP_TOTP_ISSUER = "MedWorks Booking Desk"
# Wrong codes in a row lock a device out for 1, 2, 4, 8 ... seconds (2^(n-1) times this):
# the right code is refused meanwhile, so a 6-digit code cannot be guessed, and a person who
# mistypes waits seconds. The same for recovery codes.
OTP_TOTP_THROTTLE_FACTOR = 1
OTP_STATIC_THROTTLE_FACTOR = 1
# Never show a TOTP key in the admin (django-otp's device pages are also unregistered there).
OTP_ADMIN_HIDE_SENSITIVE_DATA = True

# Logs never carry patient or card data: messages name ids, not people (core/logs.py: a
# Luhn-valid digit run is written "[card]" whatever the message). On stderr, one JSON object
# a line in production (time, level, logger, message, request_id, task, exc_info), plain
# lines elsewhere; MEDWORKS_LOG_FORMAT=json|text chooses. Every line carries the request id
# (web/request_id.py) or the worker's task.
MEDWORKS_LOG_FORMAT = env_str("MEDWORKS_LOG_FORMAT", "json" if PRODUCTION else "text").strip()
if MEDWORKS_LOG_FORMAT not in {"json", "text"}:
    raise ImproperlyConfigured(
        f"MEDWORKS_LOG_FORMAT must be json or text, not {MEDWORKS_LOG_FORMAT!r}"
    )
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"context": {"()": "medworks.core.logs.LogContextFilter"}},
    "formatters": {
        "text": {"()": "medworks.core.logs.TextFormatter"},
        "json": {"()": "medworks.core.logs.JsonFormatter"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "stream": "ext://sys.stderr",
            "formatter": MEDWORKS_LOG_FORMAT,
            "filters": ["context"],
        }
    },
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        "axes": {"level": "WARNING"},
        # At DEBUG it writes a template's whole context (forms, cases, people as their repr) for
        # each variable it cannot resolve: never below INFO, whatever LOG_LEVEL says.
        "django.template": {"level": "INFO"},
    },
}

# --- Email and background work -------------------------------------------------------------
# Outbound mail: SMTP when EMAIL_HOST is set (and always in production); otherwise each message
# is written as a file under DATA_DIR/mail, so a developer sees what would have gone out.
# Production without EMAIL_HOST hands mail to the host's own MTA (localhost:25).
EMAIL_HOST = env_str("EMAIL_HOST", "localhost" if PRODUCTION else "")
EMAIL_PORT = env_int("EMAIL_PORT", 587 if os.environ.get("EMAIL_HOST") else 25)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", EMAIL_PORT == 587)
EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL", EMAIL_PORT == 465)
if EMAIL_USE_TLS and EMAIL_USE_SSL:
    raise ImproperlyConfigured("EMAIL_USE_TLS and EMAIL_USE_SSL are exclusive: choose one")
# Seconds; a hung SMTP server must not hold a worker longer than its claim on a message lasts.
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 30)
EMAIL_BACKEND = env_str(
    "EMAIL_BACKEND",
    "django.core.mail.backends.smtp.EmailBackend"
    if EMAIL_HOST or PRODUCTION
    else "django.core.mail.backends.filebased.EmailBackend",
)
EMAIL_FILE_PATH = DATA_DIR / "mail"

# Background work: the django-tasks database backend; `medworks worker` runs it.
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
# Delivery attempts before an outbox message is given up as failed (backoff 1, 2, 4... min).
MEDWORKS_EMAIL_MAX_ATTEMPTS = env_int("MEDWORKS_EMAIL_MAX_ATTEMPTS", 8)
# Jobs `medworks worker` runs every MEDWORKS_PERIODIC_SECONDS (dotted paths, no arguments).
MEDWORKS_PERIODIC_JOBS = [
    "medworks.notifications.services.outbox_sweep",
    "medworks.bookings.services.appointment_reminders_queue",
    "medworks.bookings.services.clinic_reminders_queue",
    "medworks.billing.invoices.invoices_mark_overdue",
    # Card security codes past MEDWORKS_CVC_MAX_HOURS, and expired cards, destroyed.
    "medworks.payments.vault.cards_sweep",
    # Webhook deliveries due whose task was lost (webhooks/README.md).
    "medworks.webhooks.services.webhook_deliveries_sweep",
    # Every order booked and not reconciled: its four checks evaluated again.
    "medworks.reconciliation.services.reconciliation_sweep",
    # Retention (privacy/retention.py): at most once a day, a no-op in between.
    "medworks.privacy.retention.retention_periodic",
]
MEDWORKS_PERIODIC_SECONDS = env_int("MEDWORKS_PERIODIC_SECONDS", 60)


# --- Retention (privacy/README.md; RULES.md: retention periods per record type) -----------
def env_retention_days(name: str, default: dict[str, int], floors: dict[str, int]) -> dict:
    """Days per record type, as JSON ({"webhook_deliveries": 30}) or "type=days,...", merged
    over the defaults. Unknown types, days below 1 or below a type's legal floor are refused."""
    import json

    raw = os.environ.get(name, "").strip()
    if not raw:
        return dict(default)
    try:
        given = (
            json.loads(raw)
            if raw.startswith("{")
            else dict(part.split("=", 1) for part in raw.split(",") if part.strip())
        )
        parsed = {str(k).strip(): int(v) for k, v in dict(given).items()}
    except (ValueError, TypeError):
        raise ImproperlyConfigured(f"{name} must be JSON or type=days,..., not {raw!r}") from None
    if set(parsed) - set(default):
        raise ImproperlyConfigured(f"{name}: record types are {', '.join(sorted(default))}")
    for key, days in parsed.items():
        if days < max(1, floors.get(key, 1)):
            raise ImproperlyConfigured(
                f"{name}: {key} is kept at least {max(1, floors.get(key, 1))} days"
            )
    return {**default, **parsed}


# How long each kind of record is kept once its case or message is over (days). Never
# touched by the job: the audit trail, invoices, payments and the ledger (tax records: 6
# years), the breach register (24 months after each entry's last change). [verify] with
# the company's lawyer before go-live.
MEDWORKS_RETENTION_DAYS = env_retention_days(
    "MEDWORKS_RETENTION_DAYS",
    {
        # A closed case's patient is anonymised after this (6 years of tax records, and one).
        "closed_case_patient_data": 7 * 365,
        "cancelled_case_patient_data": 2 * 365,
        # The original email kept on a closed or cancelled case.
        "case_source_emails": 365,
        # Messages read from the mailbox, once handled: their original and what was read.
        "inbound_email_sources": 365,
        # Sent (or given up) emails' bodies and attachments.
        "email_outbox_bodies": 90,
        # Webhook deliveries delivered or given up.
        "webhook_deliveries": 90,
    },
    # A closed case's patient supports its invoices: never before the 6 years tax records keep.
    floors={"closed_case_patient_data": 6 * 365 + 2},
)
# /healthz counts a worker alive while it claimed a task or ran the periodic jobs within this
# many seconds (notifications/heartbeats.py); longer than the periodic jobs' cadence, or an
# idle worker would flap.
MEDWORKS_HEALTH_WORKER_STALE_SECONDS = env_int("MEDWORKS_HEALTH_WORKER_STALE_SECONDS", 300)
if MEDWORKS_HEALTH_WORKER_STALE_SECONDS <= MEDWORKS_PERIODIC_SECONDS:
    raise ImproperlyConfigured(
        "MEDWORKS_HEALTH_WORKER_STALE_SECONDS must be more than MEDWORKS_PERIODIC_SECONDS "
        f"({MEDWORKS_PERIODIC_SECONDS}), not {MEDWORKS_HEALTH_WORKER_STALE_SECONDS}"
    )

# Webhooks to insurers' systems (webhooks/README.md). Seconds before a receiver that has not
# answered is given up for this attempt (a short one: a worker waits on it).
MEDWORKS_WEBHOOKS_TIMEOUT_SECONDS = env_int("MEDWORKS_WEBHOOKS_TIMEOUT_SECONDS", 5, minimum=1)
# A delivery is retried with backoff this long after its event, then shown as failed.
MEDWORKS_WEBHOOKS_GIVE_UP_HOURS = env_int("MEDWORKS_WEBHOOKS_GIVE_UP_HOURS", 24, minimum=1)
# An endpoint whose attempts fail this many times in a row is disabled, its contact emailed.
MEDWORKS_WEBHOOKS_DISABLE_AFTER = env_int("MEDWORKS_WEBHOOKS_DISABLE_AFTER", 20, minimum=1)
# After a secret is rotated, the old one still signs beside the new one this long (hours).
MEDWORKS_WEBHOOKS_ROTATION_OVERLAP_HOURS = env_int(
    "MEDWORKS_WEBHOOKS_ROTATION_OVERLAP_HOURS", 24, minimum=0
)
# Tests only: plain http and loopback/private addresses as endpoints. Refused in production.
MEDWORKS_WEBHOOKS_ALLOW_PRIVATE = env_bool("MEDWORKS_WEBHOOKS_ALLOW_PRIVATE", False)
if PRODUCTION and MEDWORKS_WEBHOOKS_ALLOW_PRIVATE:
    raise ImproperlyConfigured("MEDWORKS_WEBHOOKS_ALLOW_PRIVATE is for tests, never production")

# Inbound mail: the booking team's mailbox, read over IMAP (mailbox/README.md). Off while
# MEDWORKS_IMAP_HOST is empty. TLS "ssl" (implicit, port 993) or "starttls" (port 143) verify
# the server's certificate; "none" only for tests and a server on this machine.
MEDWORKS_IMAP_HOST = env_str("MEDWORKS_IMAP_HOST", "").strip()
MEDWORKS_IMAP_TLS = env_str("MEDWORKS_IMAP_TLS", "ssl").strip().lower()
if MEDWORKS_IMAP_TLS not in {"ssl", "starttls", "none"}:
    raise ImproperlyConfigured(
        f"MEDWORKS_IMAP_TLS must be ssl, starttls or none, not {MEDWORKS_IMAP_TLS!r}"
    )
MEDWORKS_IMAP_PORT = env_int(
    "MEDWORKS_IMAP_PORT", 993 if MEDWORKS_IMAP_TLS == "ssl" else 143, minimum=1
)
MEDWORKS_IMAP_USER = env_str("MEDWORKS_IMAP_USER", "")
MEDWORKS_IMAP_PASSWORD = env_str("MEDWORKS_IMAP_PASSWORD", "")
MEDWORKS_IMAP_MAILBOX = env_str("MEDWORKS_IMAP_MAILBOX", "INBOX").strip() or "INBOX"
MEDWORKS_IMAP_POLL_SECONDS = env_int("MEDWORKS_IMAP_POLL_SECONDS", 60, minimum=5)
if MEDWORKS_IMAP_HOST:
    if not MEDWORKS_IMAP_USER:
        raise ImproperlyConfigured("MEDWORKS_IMAP_USER must be set with MEDWORKS_IMAP_HOST")
    if (
        PRODUCTION
        and MEDWORKS_IMAP_TLS == "none"
        and MEDWORKS_IMAP_HOST not in {"localhost", "127.0.0.1", "::1"}
    ):
        raise ImproperlyConfigured(
            "MEDWORKS_IMAP_TLS=none sends the mailbox password in clear: in production only "
            "to a server on this machine (use ssl or starttls)"
        )
# Jobs `medworks worker` runs on a cadence of their own: (dotted path, seconds).
MEDWORKS_SCHEDULED_JOBS = (
    [("medworks.mailbox.services.mailbox_fetch_scheduled", MEDWORKS_IMAP_POLL_SECONDS)]
    if MEDWORKS_IMAP_HOST
    else []
)

# --- MedWorks -------------------------------------------------------------------------------
# The designated service area: "usually within an hour of the address provided" (SOP case 2).
MEDWORKS_SERVICE_AREA_MINUTES = env_int("MEDWORKS_SERVICE_AREA_MINUTES", 60)
# Largest spreadsheet accepted from the staff import page.
MEDWORKS_IMPORT_MAX_BYTES = env_int("MEDWORKS_IMPORT_MAX_BYTES", 20 * 1024 * 1024)
# Drive time: the offline estimate by default; a dotted path to a routing-engine adapter
# (network.drivetime.DriveTimeEstimator) replaces it.
MEDWORKS_DRIVE_TIME_ESTIMATOR = env_str(
    "MEDWORKS_DRIVE_TIME_ESTIMATOR", "medworks.network.drivetime.OfflineEstimator"
)

# Where links in emails point (the public address of this desk).
MEDWORKS_BASE_URL = env_str("MEDWORKS_BASE_URL", "http://127.0.0.1:8000")
# The Core Booking Team's shared inbox, and management's, for new cases and escalations.
MEDWORKS_BOOKING_TEAM_EMAIL = env_str("MEDWORKS_BOOKING_TEAM_EMAIL", "bookings@medworks.example")
MEDWORKS_MANAGEMENT_EMAIL = env_str("MEDWORKS_MANAGEMENT_EMAIL", "management@medworks.example")
# Finance's inbox: the order of a pre-paid booking goes there with its PDF (SOP case 2 step 3).
MEDWORKS_FINANCE_EMAIL = env_str("MEDWORKS_FINANCE_EMAIL", "finance@medworks.example")


# --- Invoices to insurers and the ledger (billing/README.md) --------------------------------
def env_registration(name: str, default: str, pattern: str, example: str) -> str:
    """A tax registration number as the invoice prints it; empty is allowed (an invoice that
    needs it is then refused), a malformed one stops start-up."""
    import re

    value = " ".join(env_str(name, default).split())
    if value and not re.fullmatch(pattern, value):
        raise ImproperlyConfigured(f"{name} must look like {example!r}, not {value!r}")
    return value


def env_ledger_accounts(name: str, default: dict[str, str]) -> dict[str, str]:
    """The ledger's account codes by role, as JSON ({"cash": "1010"}) or "cash=1010,...",
    merged over the defaults. Unknown roles, empty or repeated codes are refused."""
    import json

    raw = os.environ.get(name, "").strip()
    if not raw:
        return dict(default)
    try:
        if raw.startswith("{"):
            given = json.loads(raw)
            if not isinstance(given, dict):
                raise ValueError
        else:
            given = dict(part.split("=", 1) for part in raw.split(",") if part.strip())
        parsed = {str(k).strip(): str(v).strip() for k, v in given.items()}
    except (ValueError, TypeError):
        raise ImproperlyConfigured(f"{name} must be JSON or role=code,..., not {raw!r}") from None
    merged = {**default, **parsed}
    codes = list(merged.values())
    if set(parsed) - set(default) or not all(codes) or len(set(codes)) != len(codes):
        raise ImproperlyConfigured(
            f"{name}: roles are {', '.join(sorted(default))}, each with its own non-empty code"
        )
    return merged


# The seller on every invoice (RULES.md: from $100 the GST/HST registration number, BN + RT;
# Quebec invoices the QST number too). The defaults are the demo's: set them in production.
MEDWORKS_LEGAL_NAME = env_str("MEDWORKS_LEGAL_NAME", "MedWorks Health Services Inc.").strip()
# Lines separated by "|": "100 King Street West, Suite 5600 | Toronto ON  M5X 1C9".
MEDWORKS_ADDRESS = env_str(
    "MEDWORKS_ADDRESS", "100 King Street West, Suite 5600 | Toronto ON  M5X 1C9"
).strip()
MEDWORKS_GST_HST_NUMBER = env_registration(
    "MEDWORKS_GST_HST_NUMBER", "123456789 RT0001", r"[0-9]{9} ?RT ?[0-9]{4}", "123456789 RT0001"
)
MEDWORKS_QST_NUMBER = env_registration(
    "MEDWORKS_QST_NUMBER", "1234567890 TQ0001", r"[0-9]{10} ?TQ ?[0-9]{4}", "1234567890 TQ0001"
)
# Days an insurer has to pay an invoice (the due date is the issue date plus these).
MEDWORKS_INVOICE_TERMS_DAYS = env_int("MEDWORKS_INVOICE_TERMS_DAYS", 30, minimum=0)
# Days before its due date an unpaid invoice is reminded once (the overdue sweep); 0: never.
MEDWORKS_INVOICE_REMINDER_DAYS_BEFORE_DUE = env_int(
    "MEDWORKS_INVOICE_REMINDER_DAYS_BEFORE_DUE", 5, minimum=0
)
# The chart of accounts the ledger posts to, by role (the accountant's codes).
MEDWORKS_LEDGER_ACCOUNTS = env_ledger_accounts(
    "MEDWORKS_LEDGER_ACCOUNTS",
    {
        "cash": "1000",
        "receivable": "1200",
        "payable": "2000",
        "gst_hst_payable": "2200",
        "qst_payable": "2210",
        "pst_payable": "2220",
        "revenue": "4000",
        "cost_of_services": "5000",
        "tax_recoverable": "1300",
    },
)
# One-click approval links in emails expire after this many hours.
MEDWORKS_OFFER_LINK_MAX_AGE_HOURS = env_int("MEDWORKS_OFFER_LINK_MAX_AGE_HOURS", 72)
# The link a clinic is emailed to give dates works at most this long (and only while the case
# waits for that clinic's dates); 14 days covers a clinic answering late, after its reminder.
MEDWORKS_CLINIC_LINK_MAX_AGE_HOURS = env_int(
    "MEDWORKS_CLINIC_LINK_MAX_AGE_HOURS", 14 * 24, minimum=1
)
# A clinic asked for dates that has given none after this long is reminded once (the worker),
# and the work queue flags the case.
MEDWORKS_CLINIC_REMINDER_HOURS = env_int("MEDWORKS_CLINIC_REMINDER_HOURS", 24, minimum=1)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "MedWorks Booking Desk <desk@medworks.example>")


def env_hours_by_state(name: str, default: dict[str, float]) -> dict[str, float]:
    """Hours per state, as JSON ({"received": 2}) or "received=2,sourcing=24".

    Merged over the defaults, so one state can be changed alone. Unknown states are refused
    here, not silently ignored in the queue.
    """
    import json

    raw = os.environ.get(name, "").strip()
    if not raw:
        return dict(default)
    try:
        if raw.startswith("{"):
            given = json.loads(raw)
            if not isinstance(given, dict):
                raise ValueError
        else:
            given = dict(part.split("=", 1) for part in raw.split(",") if part.strip())
        parsed = {str(k).strip(): float(v) for k, v in given.items()}
    except (ValueError, TypeError):
        raise ImproperlyConfigured(f"{name} must be JSON or state=hours,..., not {raw!r}") from None
    unknown = set(parsed) - set(default)
    if unknown or any(hours <= 0 for hours in parsed.values()):
        raise ImproperlyConfigured(
            f"{name}: states are {', '.join(sorted(default))} and hours are positive"
        )
    return {**default, **parsed}


# The work queue highlights a case that has waited longer than this in its state (hours).
MEDWORKS_QUEUE_THRESHOLDS_HOURS = env_hours_by_state(
    "MEDWORKS_QUEUE_THRESHOLDS_HOURS",
    {
        "received": 2,
        "sourcing": 24,
        "escalated": 24,
        "awaiting_availability": 48,
        "dates_offered": 48,
        "booked": 24 * 30,  # an appointment not marked done a month on
        "no_show": 24,
    },
)


# --- Documents (paperwork, GOPs, signed forms; documents/README.md) -------------------------
def _document_key() -> bytes:
    """The AES-256 key documents are encrypted with: 32 bytes, urlsafe base64 in the env.

    Make one with: python -c "import base64,os;print(base64.urlsafe_b64encode(os.urandom(32))
    .decode())". Production refuses to start without it: a silent
    plaintext fallback would leave patients' papers readable to anyone with the disk.
    """
    import base64
    import binascii
    import hashlib

    raw = os.environ.get("MEDWORKS_DOCUMENT_KEY", "").strip()
    if raw:
        try:
            key = base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4))
        except (binascii.Error, ValueError):
            key = b""
        if len(key) != 32:
            raise ImproperlyConfigured(
                "MEDWORKS_DOCUMENT_KEY must be 32 random bytes in urlsafe base64 (44 characters)"
            )
        return key
    if PRODUCTION:
        raise ImproperlyConfigured(
            "MEDWORKS_DOCUMENT_KEY must be set in production: documents are encrypted at rest "
            "with it (32 random bytes, urlsafe base64)"
        )
    # Development and tests only: a key derived from SECRET_KEY, so a laptop needs no setup.
    # Changing SECRET_KEY makes documents stored under the old one unreadable.
    return hashlib.sha256(b"medworks-documents:" + SECRET_KEY.encode()).digest()


MEDWORKS_DOCUMENT_KEY = _document_key()


def _backup_key(raw: str) -> bytes | None:
    """MEDWORKS_BACKUP_KEY: the key `medworks backup` encrypts its archives with (32 random
    bytes, base64, either alphabet), or None when unset: only backup and restore need it, and
    they say how to make one (documents/backup.py). Keep it apart from the backups."""
    import base64
    import binascii

    raw = (raw or "").strip()
    if not raw:
        return None
    try:
        key = base64.urlsafe_b64decode(
            raw.replace("+", "-").replace("/", "_") + "=" * (-len(raw) % 4)
        )
    except (binascii.Error, ValueError):
        key = b""
    if len(key) != 32:
        raise ImproperlyConfigured("MEDWORKS_BACKUP_KEY must be 32 random bytes in base64")
    return key


MEDWORKS_BACKUP_KEY = _backup_key(os.environ.get("MEDWORKS_BACKUP_KEY", ""))

# The card vault's keyring (payments/vault_crypto.py): insurers' card numbers and, until the
# payment, security codes are sealed with AES-256-GCM under these keys. Separate from the
# documents' key (RULES.md, cards: managed keys), so that either can be rotated or revoked alone.
_CARD_KEY_ID = r"[a-z0-9-]{1,16}"
_CARD_KEY_B64 = r"[A-Za-z0-9_-]{43}=?"  # 32 bytes, urlsafe base64


def _card_keys(
    raw: str, *, production: bool, secret_key: str, document_key: bytes | None = None
) -> tuple[tuple[str, bytes], ...]:
    """MEDWORKS_CARD_KEYS="id1:base64key1,id2:base64key2" as ((id, key), ...).

    The first key seals; every key listed opens what it sealed. To rotate: put a new key
    first, re-seal the vault (payments.vault_crypto.reseal), then drop the old key. Ids are 1
    to 16 characters of a-z, 0-9 and "-"; each key is 32 random bytes in urlsafe base64 (see
    _document_key for the command that makes one). A key is never shown in an error.
    """
    import base64
    import hashlib
    import re

    name = "MEDWORKS_CARD_KEYS"
    entries = [entry.strip() for entry in (raw or "").split(",") if entry.strip()]
    if not entries:
        if (raw or "").strip():
            raise ImproperlyConfigured(f"{name} must look like 'id1:base64key1,id2:base64key2'")
        if production:
            raise ImproperlyConfigured(
                f"{name} must be set in production: card numbers are encrypted with it "
                "(id:key, the key 32 random bytes in urlsafe base64)"
            )
        # Development and tests only: derived from SECRET_KEY, with its own label so that it
        # is never the documents' key.
        return (("dev", hashlib.sha256(b"medworks-card-vault:" + secret_key.encode()).digest()),)
    keys: list[tuple[str, bytes]] = []
    for position, entry in enumerate(entries, start=1):
        key_id, colon, encoded = (part.strip() for part in entry.partition(":"))
        if not colon:
            raise ImproperlyConfigured(
                f"{name}: entry {position} must be id:key ('id1:base64key1,id2:base64key2')"
            )
        if not re.fullmatch(_CARD_KEY_ID, key_id):
            raise ImproperlyConfigured(
                f"{name}: entry {position} has a bad key id: ids are 1 to 16 characters "
                "of a-z, 0-9 and -"
            )
        if not re.fullmatch(_CARD_KEY_B64, encoded):
            raise ImproperlyConfigured(
                f"{name}: the key of {key_id!r} must be 32 random bytes in urlsafe base64 "
                "(44 characters, - and _ rather than + and /)"
            )
        key = base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4))
        if any(key_id == known for known, _ in keys):
            raise ImproperlyConfigured(f"{name}: the key id {key_id!r} is listed twice")
        if any(key == known for _, known in keys):
            raise ImproperlyConfigured(f"{name}: {key_id!r} repeats the key of another id")
        if document_key is not None and key == document_key:
            raise ImproperlyConfigured(
                f"{name}: the key of {key_id!r} is MEDWORKS_DOCUMENT_KEY: the vault has its own"
            )
        keys.append((key_id, key))
    return tuple(keys)


MEDWORKS_CARD_KEYS = _card_keys(
    os.environ.get("MEDWORKS_CARD_KEYS", ""),
    production=PRODUCTION,
    secret_key=SECRET_KEY,
    document_key=MEDWORKS_DOCUMENT_KEY,
)
# How long a card's security code may wait in the vault for the payment before it is destroyed
# (hours). It is destroyed as soon as the payment is authorised in any case.
MEDWORKS_CVC_MAX_HOURS = env_int("MEDWORKS_CVC_MAX_HOURS", 72, minimum=1)
# The card processor: a class of payments/gateway.py's PaymentGateway. The offline one records
# charges and approves them (a card ending in 0002 is declined), for development and tests.
MEDWORKS_PAYMENT_GATEWAY = env_str(
    "MEDWORKS_PAYMENT_GATEWAY", "medworks.payments.gateway.OfflineGateway"
)

# EFT to providers (payments/eft.py): MedWorks as its bank knows it in CPA-005 files. The
# defaults are the demo's outside production, empty in production: there, EFT export is
# refused at use until MEDWORKS_EFT_ORIGINATOR_ID is set [verify each value with the bank].
# A malformed originator ID stops start-up; the other values are checked when a file is made.
_EFT_DEMO = not PRODUCTION
MEDWORKS_EFT_ORIGINATOR_ID = env_str(
    "MEDWORKS_EFT_ORIGINATOR_ID", "MEDWORKS01" if _EFT_DEMO else ""
).strip()
if MEDWORKS_EFT_ORIGINATOR_ID:
    import re as _re

    if not _re.fullmatch(r"[A-Z0-9]{1,10}", MEDWORKS_EFT_ORIGINATOR_ID):
        raise ImproperlyConfigured(
            "MEDWORKS_EFT_ORIGINATOR_ID must be the 1-10 upper-case letters or digits the bank "
            f"gave, not {MEDWORKS_EFT_ORIGINATOR_ID!r}"
        )
MEDWORKS_EFT_SHORT_NAME = env_str("MEDWORKS_EFT_SHORT_NAME", "MEDWORKS" if _EFT_DEMO else "")
MEDWORKS_EFT_LONG_NAME = env_str(
    "MEDWORKS_EFT_LONG_NAME", "MEDWORKS HEALTH SERVICES INC" if _EFT_DEMO else ""
)
MEDWORKS_EFT_DESTINATION_DATA_CENTRE = env_str(
    "MEDWORKS_EFT_DESTINATION_DATA_CENTRE", "00310" if _EFT_DEMO else ""
).strip()
MEDWORKS_EFT_RETURN_INSTITUTION = env_str(
    "MEDWORKS_EFT_RETURN_INSTITUTION", "003" if _EFT_DEMO else ""
).strip()
MEDWORKS_EFT_RETURN_TRANSIT = env_str(
    "MEDWORKS_EFT_RETURN_TRANSIT", "00012" if _EFT_DEMO else ""
).strip()
MEDWORKS_EFT_RETURN_ACCOUNT = env_str(
    "MEDWORKS_EFT_RETURN_ACCOUNT", "1234567" if _EFT_DEMO else ""
).strip()

# Largest document accepted (bytes).
MEDWORKS_DOCUMENT_MAX_BYTES = env_int("MEDWORKS_DOCUMENT_MAX_BYTES", 25 * 1024 * 1024)
# The "documents" storage: encrypted files under DATA_DIR/documents, or any Django storage
# class (e.g. storages.backends.s3.S3Storage) with its options as JSON, wrapped so that it
# only ever receives encrypted bytes (documents/storage.py).
MEDWORKS_DOCUMENT_STORAGE_BACKEND = env_str("MEDWORKS_DOCUMENT_STORAGE_BACKEND", "")
if MEDWORKS_DOCUMENT_STORAGE_BACKEND:
    import json as _json

    try:
        _options = _json.loads(env_str("MEDWORKS_DOCUMENT_STORAGE_OPTIONS", "{}"))
    except ValueError:
        raise ImproperlyConfigured(
            "MEDWORKS_DOCUMENT_STORAGE_OPTIONS must be a JSON object"
        ) from None
    if not isinstance(_options, dict):
        raise ImproperlyConfigured("MEDWORKS_DOCUMENT_STORAGE_OPTIONS must be a JSON object")
    STORAGES["documents"] = {
        "BACKEND": "medworks.documents.storage.EncryptedStorage",
        "OPTIONS": {"backend": MEDWORKS_DOCUMENT_STORAGE_BACKEND, "options": _options},
    }
else:
    STORAGES["documents"] = {
        "BACKEND": "medworks.documents.storage.EncryptedFileSystemStorage",
        "OPTIONS": {"location": str(DATA_DIR / "documents")},
    }
