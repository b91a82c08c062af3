"""Settings for Tradepost, read from the environment.

One module for every deployment. ``TRADEPOST_PROFILE`` picks the defaults (``local`` for a
laptop, ``production`` for a server); every other variable overrides one setting and is listed
in the README. ``marketplace/settings_test.py`` is the only overlay, for test speed.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import dj_database_url
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured

from marketplace.core.money import SUPPORTED_CURRENCIES
from marketplace.env import (
    env_bool,
    env_choice,
    env_decimal,
    env_int,
    env_list,
    env_str,
)

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("VAR_DIR", str(BASE_DIR / "var")))
# Local state (SQLite file, broker queue, uploads, mail): created when Django starts
# (marketplace.core.apps), never by importing this module.
VAR_SUBDIRS = ("", "static", "celery/broker", "celery/processed", "celery/control", "mail")

PROFILE = env_choice("TRADEPOST_PROFILE", "local", {"local", "production"})
PRODUCTION = PROFILE == "production"
DEBUG = env_bool("DEBUG", not PRODUCTION)

if DEBUG:
    SECRET_KEY = env_str(
        "SECRET_KEY", "local-only-insecure-key-never-use-it-on-a-server-0123456789"
    )
else:
    SECRET_KEY = env_str("SECRET_KEY", required=True)

ALLOWED_HOSTS = env_list(
    "ALLOWED_HOSTS", [] if PRODUCTION else ["localhost", "127.0.0.1", "[::1]", "testserver"]
)
if PRODUCTION and not ALLOWED_HOSTS:
    raise ImproperlyConfigured("Set ALLOWED_HOSTS (comma-separated host names) in production.")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])
SITE_URL = env_str("SITE_URL", "http://localhost:8000").rstrip("/")

INSTALLED_APPS = [
    "marketplace.apps.TradepostAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django.contrib.postgres",
    "django.forms",
    "django_countries",
    "phonenumber_field",
    "simple_history",
    "csp",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "marketplace.core",
    "accounts",
    "customs",
    "marketplace.listings",
    "marketplace.orders",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "accounts.middleware.PreferredLanguageMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
]

ROOT_URLCONF = "marketplace.urls"
# Project templates may override Django's form templates (templates/django/forms/).
FORM_RENDERER = "django.forms.renderers.TemplatesSetting"
WSGI_APPLICATION = "marketplace.wsgi.application"

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
                "marketplace.core.context_processors.site",
                "accounts.navigation.shop_nav",
            ],
        },
    }
]

# --- Database -------------------------------------------------------------------------------
# Default: an SQLite file under var/. WAL lets the web server read while the Celery worker
# writes; IMMEDIATE transactions take the write lock at BEGIN, so two writers queue behind
# busy_timeout instead of failing with "database is locked" when one upgrades a read lock.
SQLITE_OPTIONS = {
    "transaction_mode": "IMMEDIATE",
    "timeout": 20,
    "init_command": (
        "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=20000;"
        " PRAGMA foreign_keys=ON;"
    ),
}
DATABASE_URL = env_str("DATABASE_URL", f"sqlite:///{VAR_DIR / 'tradepost.sqlite3'}")
try:
    DATABASES = {
        "default": dj_database_url.parse(
            DATABASE_URL, conn_max_age=env_int("DB_CONN_MAX_AGE", 60), conn_health_checks=True
        )
    }
except ValueError as exc:
    raise ImproperlyConfigured(f"DATABASE_URL is not a database URL: {exc}") from None
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["OPTIONS"] = dict(SQLITE_OPTIONS)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
DB_IS_POSTGRES = DATABASES["default"]["ENGINE"].endswith("postgresql")

# --- Cache and broker -------------------------------------------------------------------------
REDIS_URL = env_str("REDIS_URL")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "tradepost",
            # A cache outage must not hang a request: fail in a second instead.
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
    }
else:
    # Per-process memory. Enough for one runserver process; allauth's rate limits need a
    # shared cache as soon as there are several web processes (see README, "Scaling").
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

CELERY_BROKER_URL = REDIS_URL or "filesystem://localhost/"
if REDIS_URL:
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        # Longer than any countdown or time limit below, so no task is redelivered while
        # it is still waiting or running (celery docs, "Redis: visibility timeout").
        "visibility_timeout": env_int("CELERY_VISIBILITY_TIMEOUT", 3600),
        "socket_connect_timeout": 2,
        "socket_timeout": 5,
    }
else:
    _broker_dir = VAR_DIR / "celery" / "broker"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir),
        "data_folder_out": str(_broker_dir),
        "processed_folder": str(VAR_DIR / "celery" / "processed"),
        "control_folder": str(VAR_DIR / "celery" / "control"),
        "store_processed": False,
        # The file broker polls its folder; the default 1 s makes the local worker take
        # about one task a second.
        "polling_interval": 0.1,
    }
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BROKER_CONNECTION_TIMEOUT = 2
# Publishing gives up after ~0.4 s: a broker outage must not hang a checkout. Work that
# could not be published stays "pending" in the database and the sweepers enqueue it later.
CELERY_TASK_PUBLISH_RETRY_POLICY = {
    "max_retries": 2,
    "interval_start": 0,
    "interval_step": 0.2,
    "interval_max": 0.2,
}
CELERY_TASK_DEFAULT_QUEUE = "default"
# Queue per task module; anything unlisted runs on "default".
CELERY_TASK_ROUTES = {
    "accounts.tasks.*": {"queue": "notifications"},
    "customs.tasks.*": {"queue": "paperwork"},
    "marketplace.orders.tasks.notify_order_event": {"queue": "notifications"},
    "marketplace.orders.tasks.sweep_order_notifications": {"queue": "notifications"},
    "marketplace.orders.tasks.sweep_paperwork": {"queue": "paperwork"},
}
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = env_int("CELERY_TASK_TIME_LIMIT", 300)
CELERY_TASK_SOFT_TIME_LIMIT = env_int("CELERY_TASK_SOFT_TIME_LIMIT", 240)
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", False)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
CELERY_BEAT_SCHEDULE = {
    "sweep-notification-emails": {
        "task": "accounts.tasks.sweep_notification_emails",
        "schedule": timedelta(minutes=2),
    },
    "sweep-paperwork-jobs": {
        "task": "customs.tasks.sweep_paperwork_jobs",
        "schedule": timedelta(minutes=2),
    },
    "import-manual-rates": {
        # A no-op unless MANUAL_RATES_URL is set (central-bank rates the ECB does not publish).
        "task": "customs.tasks.import_manual_rates",
        "schedule": timedelta(hours=12),
    },
    "import-ecb-rates": {
        # A no-op unless ECB_RATES_URL is set; the ECB publishes around 16:00 CET.
        "task": "customs.tasks.import_ecb_rates",
        "schedule": timedelta(hours=6),
    },
    "sweep-catalog-work": {
        # Thumbnails and CSV imports whose task was never published or whose worker died.
        "task": "marketplace.listings.tasks.sweep_catalog_work",
        "schedule": timedelta(minutes=5),
    },
    "refresh-catalog-sort-prices": {
        # "Sort by price" across currencies follows the newest ECB rates.
        "task": "marketplace.listings.tasks.refresh_sort_prices",
        "schedule": timedelta(hours=1),
    },
    "expire-unpaid-orders": {
        # Unpaid orders past their payment window give their stock back.
        "task": "marketplace.orders.tasks.expire_unpaid_orders",
        "schedule": timedelta(minutes=5),
    },
    "sweep-order-notifications": {
        "task": "marketplace.orders.tasks.sweep_order_notifications",
        "schedule": timedelta(minutes=2),
    },
    "sweep-order-paperwork": {
        # Parcels whose paperwork watcher was lost: sync them with their customs job.
        "task": "marketplace.orders.tasks.sweep_paperwork",
        "schedule": timedelta(minutes=2),
    },
    "reconcile-payments": {
        # Card payments whose webhook never arrived: ask the provider.
        "task": "marketplace.orders.tasks.reconcile_payments",
        "schedule": timedelta(minutes=5),
    },
    "run-payouts": {
        # One transfer per shop and currency for what became available; retries failures.
        "task": "marketplace.orders.tasks.run_payouts",
        "schedule": timedelta(hours=1),
    },
}

# --- Accounts and authentication ---------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 10},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "accounts:overview"

ACCOUNT_ADAPTER = "accounts.adapters.AccountAdapter"
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_SIGNUP_FORM_CLASS = "accounts.forms.SignupExtraForm"
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_EMAIL_VERIFICATION = "mandatory"
ACCOUNT_EMAIL_CONFIRMATION_EXPIRE_DAYS = 3
ACCOUNT_LOGIN_ON_EMAIL_CONFIRMATION = True
ACCOUNT_CONFIRM_EMAIL_ON_GET = False
ACCOUNT_LOGOUT_ON_PASSWORD_CHANGE = False
ACCOUNT_PREVENT_ENUMERATION = True
ACCOUNT_EMAIL_SUBJECT_PREFIX = "[Tradepost] "
# allauth's defaults, written out so they are visible: the 6th failed login for one account
# within 5 minutes is refused, even with the right password.
ACCOUNT_RATE_LIMITS = {
    "login_failed": "10/m/ip,5/5m/key",
    "login": "30/m/ip",
    "signup": "20/m/ip",
    "reset_password": "20/m/ip,5/m/key",
    "change_password": "5/m/user",
}
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
MFA_TOTP_ISSUER = "Tradepost"
# Staff must have set up two-factor authentication before they reach the admin. The local
# demo turns this off so its printed admin login works at once.
ADMIN_REQUIRE_MFA = env_bool("ADMIN_REQUIRE_MFA", PRODUCTION)
ADMIN_URL = env_str("ADMIN_URL", "admin/")
# Staff who must use MFA enrol only after opening a one-time link emailed to their address
# (accounts/staff_mfa.py): how long the link is valid, and how long the page to scan the QR
# code stays open after it was opened.
STAFF_MFA_ENROLMENT_LINK_MINUTES = env_int("STAFF_MFA_ENROLMENT_LINK_MINUTES", 30)
STAFF_MFA_ENROLMENT_WINDOW_MINUTES = env_int("STAFF_MFA_ENROLMENT_WINDOW_MINUTES", 15)

# --- Internationalisation ----------------------------------------------------------------
LANGUAGE_CODE = "en"
LANGUAGES = [
    ("en", "English"),
    ("zh-hans", "简体中文"),
    ("es", "Español"),
]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True
# The currencies buyers can show prices in, and sellers can price in.
# A subset of marketplace.core.money.SUPPORTED_CURRENCIES (the model choices).
CURRENCIES = env_list("CURRENCIES", list(SUPPORTED_CURRENCIES))
_unsupported = sorted(set(CURRENCIES) - set(SUPPORTED_CURRENCIES))
if _unsupported:
    raise ImproperlyConfigured(
        f"CURRENCIES: {', '.join(_unsupported)} not in {', '.join(SUPPORTED_CURRENCIES)}"
    )
DEFAULT_CURRENCY = "EUR"

# --- Static files and uploads ---------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = env_str("MEDIA_URL", "/media/")
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(VAR_DIR / "media")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if PRODUCTION
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}
WHITENOISE_USE_FINDERS = DEBUG
FILE_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
DATA_UPLOAD_MAX_NUMBER_FILES = 20

# --- Email ---------------------------------------------------------------------------
EMAIL_HOST = env_str("EMAIL_HOST")
EMAIL_BACKEND_NAME = env_choice(
    "EMAIL_BACKEND", "smtp" if EMAIL_HOST else "console", {"console", "file", "smtp", "locmem"}
)
EMAIL_BACKEND = {
    "console": "django.core.mail.backends.console.EmailBackend",
    "file": "django.core.mail.backends.filebased.EmailBackend",
    "smtp": "django.core.mail.backends.smtp.EmailBackend",
    "locmem": "django.core.mail.backends.locmem.EmailBackend",
}[EMAIL_BACKEND_NAME]
EMAIL_FILE_PATH = VAR_DIR / "mail"
EMAIL_PORT = env_int("EMAIL_PORT", 587)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", True)
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 10)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "Tradepost <hello@tradepost.localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# --- Marketplace --------------------------------------------------------------------
PLATFORM_COMMISSION_RATE = env_decimal("PLATFORM_COMMISSION_RATE", Decimal("0.10"))
# Orders: how long an unpaid order holds its stock, per payment method (minutes).
ORDERS_PAYMENT_WINDOW_MINUTES = {
    "card": env_int("ORDERS_CARD_PAYMENT_MINUTES", 30),
    # A bank-transfer order holds its stock this long at most, then expires (with an email).
    "bank_transfer": env_int("ORDERS_BANK_TRANSFER_HOLD_HOURS", 48) * 60,
}
# Stock held by unpaid orders is bounded: a buyer has at most this many orders awaiting
# payment at once (one buyer cannot sell a listing out with orders never paid).
ORDERS_MAX_UNPAID_PER_BUYER = env_int("ORDERS_MAX_UNPAID_PER_BUYER", 2)
# Where buyers send bank transfers: the deployment's own account, never a built-in one.
# Bank transfer is offered only when the account is configured (a deploy check errors when
# ORDERS_BANK_TRANSFER=on and the account is missing or its IBAN invalid).
ORDERS_BANK_ACCOUNT = {
    "account_name": env_str("ORDERS_BANK_ACCOUNT_NAME", ""),
    "iban": env_str("ORDERS_BANK_ACCOUNT_IBAN", ""),
    "bic": env_str("ORDERS_BANK_ACCOUNT_BIC", ""),
    "bank": env_str("ORDERS_BANK_ACCOUNT_BANK", ""),
}
ORDERS_BANK_TRANSFER = env_bool("ORDERS_BANK_TRANSFER", bool(ORDERS_BANK_ACCOUNT["iban"]))
# The provider behind "card" payments: "stripe", or "test" (the built-in test provider, a
# development tool: its routes, tasks and table exist only then, and production refuses it).
ORDERS_CARD_PROVIDER = env_choice(
    "ORDERS_CARD_PROVIDER", "" if PRODUCTION else "test", {"", "test", "stripe"}
)
# Signs the test provider's webhooks (default: derived from SECRET_KEY).
ORDERS_TEST_PROVIDER_SECRET = env_str("ORDERS_TEST_PROVIDER_SECRET", "")
# Payouts: a parcel's earnings become available once it is delivered, or this many days
# after it shipped (no delivery scan); the periodic task then pays each shop out.
PAYOUT_HOLD_DAYS = env_int("PAYOUT_HOLD_DAYS", 14)
# Stripe (ORDERS_CARD_PROVIDER=stripe): the secret key calls the API, the publishable key is
# what Stripe.js in the buyer's browser uses, the webhook secret verifies event signatures.
# STRIPE_API_BASE points the client (and the page's Stripe.js) at a fake server in tests.
STRIPE_SECRET_KEY = env_str("STRIPE_SECRET_KEY", "")
STRIPE_PUBLISHABLE_KEY = env_str("STRIPE_PUBLISHABLE_KEY", "")
STRIPE_WEBHOOK_SECRET = env_str("STRIPE_WEBHOOK_SECRET", "")
STRIPE_API_BASE = env_str("STRIPE_API_BASE", "").rstrip("/")
# Seconds before a Stripe API call is given up (its outcome is then "unknown" until the
# reconciliation task asks Stripe again with the same idempotency key).
STRIPE_TIMEOUT_SECONDS = env_int("STRIPE_TIMEOUT_SECONDS", 20)
# Catalog: how long result pages, counts and facets stay cached (seconds; 0 = off). Every
# catalog write invalidates them at once; the time only bounds how stale stock shown on
# list pages can be after orders change it.
LISTINGS_CACHE_SECONDS = env_int("LISTINGS_CACHE_SECONDS", 120)
# Customs: the ECB feed to import rates from (e.g. the eurofxref-hist-90d.xml URL). Unset
# (the default) means no network at all: the bundled snapshot and manual rates are used.
ECB_RATES_URL = env_str("ECB_RATES_URL")
# A CSV of dated manual rates (currency,date,rate_per_eur,source) for currencies the ECB does
# not publish (KES, NGN, RWF, ETB, GHS, UGX, TZS ...), imported twice a day when set.
MANUAL_RATES_URL = env_str("MANUAL_RATES_URL")
# A quote that needs an exchange rate past its validity (ECB daily: 5 days; the EU customs
# rate: its month; manual rates: 40 days) is `incomplete` ("duty and tax unknown") when on;
# when off (the local profile, whose bundled snapshot ages) only the admin warns.
CUSTOMS_STALE_RATES_INCOMPLETE = env_bool("CUSTOMS_STALE_RATES_INCOMPLETE", PRODUCTION)
# The marketplace's own tax-scheme registrations: "IOSS=IM2760000000,UK_VAT=GB123456789,...".
# Tax is collected at checkout under a scheme only when its number is here (otherwise the
# quote falls back to DAP), and the number is printed on every document of the parcel.
# The local profile (demo, bin/run, tests) uses clearly fake but well-formed numbers;
# production has none until set, and `check --deploy` errors for each scheme the regimes use.
CUSTOMS_DEMO_TAX_SCHEME_IDS = {
    "IOSS": "IM9990000001",
    "UK_VAT": "GB999999973",  # HMRC's published test VAT number
    "VOEC": "VOEC9999999",
    "AU_ARN": "999999999999",
    "NZ_GST": "99999902",
    "SG_OVR": "M99999999Z",
    "MY_LRN": "LVG99999999",
    "CH_VAT": "CHE-999.999.996 MWST",
    "BR_RC": "RC-DEMO-99999",
    "CN_CBEC": "CBEC-DEMO-99999",
}
CUSTOMS_TAX_SCHEME_IDS = dict(
    item.split("=", 1)
    for item in env_list(
        "CUSTOMS_TAX_SCHEME_IDS",
        [] if PRODUCTION else [f"{k}={v}" for k, v in CUSTOMS_DEMO_TAX_SCHEME_IDS.items()],
    )
    if "=" in item
)
# The marketplace operator as named on documents when it is the deemed supplier.
CUSTOMS_MARKETPLACE_NAME = env_str("CUSTOMS_MARKETPLACE_NAME", "Tradepost")
# A paperwork job claimed longer ago than this is taken to belong to a dead worker.
CUSTOMS_JOB_LEASE_SECONDS = env_int("CUSTOMS_JOB_LEASE_SECONDS", CELERY_TASK_TIME_LIMIT + 30)
# Pending jobs older than this are re-published by the sweeper (the broker may have been down).
CUSTOMS_SWEEP_AFTER_SECONDS = env_int("CUSTOMS_SWEEP_AFTER_SECONDS", 120)
# How old unsent order work (notifications, paperwork outcomes) must be before a sweeper
# republishes it: its first publish may still be on its way.
ORDERS_SWEEP_AFTER_SECONDS = env_int("ORDERS_SWEEP_AFTER_SECONDS", 120)

# --- Security ----------------------------------------------------------------------------
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        # data: for the TOTP QR code allauth renders inline; uploads may live on a media host.
        "img-src": [SELF, "data:", *env_list("CSP_IMG_SRC", [])],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [NONE],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}
if ORDERS_CARD_PROVIDER == "stripe":
    # Exactly what Stripe.js needs (Stripe's CSP guide): its script, its API for the card
    # Element, and its frames for the Element and 3-D Secure. A test server stands in for all.
    _stripe = {
        "script-src": [STRIPE_API_BASE or "https://js.stripe.com"],
        "connect-src": [STRIPE_API_BASE or "https://api.stripe.com"],
        "frame-src": (
            [STRIPE_API_BASE]
            if STRIPE_API_BASE
            else ["https://js.stripe.com", "https://hooks.stripe.com"]
        ),
    }
    for _directive, _origins in _stripe.items():
        _current = CONTENT_SECURITY_POLICY["DIRECTIVES"].get(_directive, [])
        CONTENT_SECURITY_POLICY["DIRECTIVES"][_directive] = [*_current, *_origins]
if PRODUCTION:
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_HSTS_SECONDS = 31_536_000
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    # __Host- cookies are only accepted over HTTPS, for this exact host, on path "/".
    SESSION_COOKIE_NAME = "__Host-sessionid"
    CSRF_COOKIE_NAME = "__Host-csrftoken"
    LANGUAGE_COOKIE_SECURE = True
    SILENCED_SYSTEM_CHECKS = [
        # HSTS preload is a submission to browser vendors that cannot be undone quickly;
        # the operator decides it for the real domain, not this code base.
        "security.W021",
    ]

# --- Logging ------------------------------------------------------------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}
