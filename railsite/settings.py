"""railsite settings: one file, read from the environment (see the README's table).

With no environment at all it runs on SQLite, eager Celery, a database cache (shared by
every worker) and the embedded engines, so ``make run`` works on a bare machine.
"""

from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import environ
import plotly

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DEBUG = env.bool("DEBUG", default=False)
_DEVELOPMENT_KEY = "django-insecure-railsite-local-development-only-change-me"
SECRET_KEY = env.str("SECRET_KEY", default="")
if not SECRET_KEY or SECRET_KEY == _DEVELOPMENT_KEY:
    # A public default would let anyone forge sessions and password-reset links: only a
    # DEBUG development server may use it. `make run` and `make test` write a random key to
    # .env (git-ignored) on first use; production sets SECRET_KEY in the environment.
    if not DEBUG:
        from django.core.exceptions import ImproperlyConfigured

        raise ImproperlyConfigured(
            "SECRET_KEY is not set. Set it in the environment (or in .env; `make run` writes "
            "a random one there); only DEBUG=true may run with the public development key."
        )
    SECRET_KEY = _DEVELOPMENT_KEY
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_htmx",
    "template_partials",
    "billing",
    "regen",
    "axes",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "railsite.middleware.BodySizeLimitMiddleware",
    "railsite.middleware.SecurityHeadersMiddleware",
    "railsite.middleware.RequestDeadlineMiddleware",
    "railsite.middleware.DependencyDownMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "axes.middleware.AxesMiddleware",  # last, as django-axes asks
]
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",  # refuses a locked-out log-in before checking it
    "django.contrib.auth.backends.ModelBackend",
]

ROOT_URLCONF = env.str("ROOT_URLCONF", default="railsite.urls")  # bench/ swaps in its own
WSGI_APPLICATION = "railsite.wsgi.application"

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
                "billing.dashboard.navigation",
            ],
        },
    }
]

# Database: SQLite by default; DATABASE_URL switches (postgres://... uses psycopg 3).
DATABASES = {"default": env.db_url("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
# Persistent connections: a tenfold throughput difference on PostgreSQL.
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"].setdefault("OPTIONS", {})["timeout"] = 20
else:
    # a database that is down or unreachable fails a connection in 2 s, not the OS's minutes
    DATABASES["default"].setdefault("OPTIONS", {}).setdefault(
        "connect_timeout", env.int("DATABASE_CONNECT_TIMEOUT", default=2)
    )
    # Django's queries bind on the client and are never prepared; the one statement that
    # asks to be (the API-key lookup, billing/keys.py) is prepared on first use per
    # connection, which saves its planning (0.15-0.2 ms of a 0.25 ms lookup).
    # DATABASE_PREPARE=false for a pooler that cannot keep prepared statements.
    if env.bool("DATABASE_PREPARE", default=True):
        DATABASES["default"]["OPTIONS"].setdefault("prepare_threshold", 0)
    # A frozen database: the server cancels a statement after DATABASE_STATEMENT_TIMEOUT
    # seconds (gunicorn.conf.py sets 5 for the web; workers and commands have none), and
    # the client stops waiting for an answer DATABASE_ANSWER_MARGIN seconds after that
    # (railsite/postgresql/base.py): a 503, not a request hung until its worker is killed.
    if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
        DATABASES["default"]["ENGINE"] = "railsite.postgresql"
    _statement_timeout = env.float("DATABASE_STATEMENT_TIMEOUT", default=0)
    if _statement_timeout > 0:
        _options = DATABASES["default"]["OPTIONS"]
        _options["options"] = (
            f"{_options.get('options', '')} -c statement_timeout={int(_statement_timeout * 1000)}"
        ).strip()
        DATABASE_ANSWER_TIMEOUT = _statement_timeout + env.float(
            "DATABASE_ANSWER_MARGIN", default=1.0
        )
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Cache: the database by default (table railsite_cache, made by `manage.py
# createcachetable`), so every worker shares cached evaluations; CACHE_URL=redis://...
# in production. Rate limits count in Redis, or atomically in the database without it.
CACHES = {"default": env.cache_url("CACHE_URL", default="dbcache://railsite_cache")}
if CACHES["default"]["BACKEND"].endswith("RedisCache"):
    # a Redis that is down or hung costs a request at most this, then the cache is skipped
    # (a miss; rate limits count in the database instead)
    CACHES["default"].setdefault("OPTIONS", {}).update(
        socket_connect_timeout=env.float("REDIS_TIMEOUT", default=0.5),
        socket_timeout=env.float("REDIS_TIMEOUT", default=0.5),
    )

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
PASSWORD_HASHERS = env.list(
    "PASSWORD_HASHERS",
    default=[
        "django.contrib.auth.hashers.PBKDF2PasswordHasher",
        "django.contrib.auth.hashers.MD5PasswordHasher",
    ],
)

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = False
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [
    BASE_DIR / "static",
    # plotly.js from the plotly package itself: the pages need no CDN and no network
    ("vendor/plotly", Path(plotly.__file__).parent / "package_data"),
]
STATIC_ROOT = BASE_DIR / "var" / "static"
# Compressed (gzip) and fingerprinted by default: `collectstatic` (make run does it) writes
# plotly.min.js.<hash>.js and its .gz, which WhiteNoise serves compressed and cached for a
# year. The tests render pages without collectstatic and use the plain storage
# (tests/conftest.py); so may a development server (STATICFILES_BACKEND, DEBUG).
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": env.str(
            "STATICFILES_BACKEND",
            default="whitenoise.storage.CompressedManifestStaticFilesStorage",
        )
    },
}
LOGIN_URL = "/login/"
# Invitations and password resets: printed to the console unless a real backend is set
EMAIL_BACKEND = env.str("EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="railsite <noreply@localhost>")
PASSWORD_RESET_TIMEOUT = env.int("PASSWORD_RESET_TIMEOUT", default=3 * 24 * 3600)
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "/login/"

DATA_UPLOAD_MAX_MEMORY_SIZE = env.int("DATA_UPLOAD_MAX_MEMORY_SIZE", default=262_144)

REST_FRAMEWORK = {
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["railsite.parsers.StrictJSONParser"],
    "UNAUTHENTICATED_USER": None,
    "EXCEPTION_HANDLER": "railsite.exceptions.handle_api_exception",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "railsite API",
    "DESCRIPTION": "RAIL-compatible Safe Regeneration service.",
    "VERSION": "0.1.0",
    # Swagger UI from the app's own static files: the docs work with no network.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "railsite.schema.closed_request_bodies",
    ],
    "ENUM_NAME_OVERRIDES": {
        "EvalModeEnum": ["basic", "deep", "auto"],
        "RegenerateModeEnum": ["basic", "deep"],
    },
}
WHITENOISE_USE_FINDERS = env.bool("WHITENOISE_USE_FINDERS", default=True)

# Celery: eager unless a broker is configured.
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="")
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=not CELERY_BROKER_URL)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_RESULT_BACKEND = None
CELERY_TASK_DEFAULT_QUEUE = env.str("CELERY_QUEUE", default="celery")
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_TRANSPORT_OPTIONS = {
    # A crashed worker's job comes back after this; a job that runs longer is delivered
    # again meanwhile, but the run's lease (RUN_LEASE_SECONDS) keeps the second delivery
    # from executing it at the same time (regen.runs._claim).
    "visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT", default=600),
    # workers look for such expired deliveries about every CELERY_RESTORE_EVERY seconds
    # (kombu's default is 100 s: one scan every 10th tick of 10 s)
    "unacked_restore_interval": 1,
    "unacked_restore_throttle": env.int("CELERY_RESTORE_EVERY", default=30),
    # a broker that is down or hung fails a publish quickly: the run is then failed and
    # its hold released, and the client gets a 503 (regen.runs.submit_async)
    "socket_connect_timeout": env.float("REDIS_TIMEOUT", default=0.5),
    "socket_timeout": env.float("REDIS_TIMEOUT", default=0.5),
}
RUN_LEASE_SECONDS = env.int("RUN_LEASE_SECONDS", default=300)
"""How long a worker holds a run without storing an iteration before it counts as dead."""
RAIL_QUEUE_WARNING_SECONDS = env.int("RAIL_QUEUE_WARNING_SECONDS", default=30)
"""A run still queued after this long: the dashboard says the workers look down and
offers to cancel it (a live worker takes a run within a second or two)."""
CELERY_BROKER_CONNECTION_TIMEOUT = env.float("REDIS_TIMEOUT", default=0.5)
CELERY_TASK_PUBLISH_RETRY_POLICY = {
    "max_retries": 1,
    "interval_start": 0,
    "interval_step": 0.1,
    "interval_max": 0.1,
}
if not CELERY_BROKER_URL:
    CELERY_BROKER_URL = "memory://"
# Periodic clean-ups (regen.cleanups.sweep) every minute: by the beat embedded in one
# worker (`celery -A railsite worker -B`), or by `manage.py run_cleanups --every 60`, which
# `make run` starts beside the web server when there is no worker.
CELERY_BEAT_SCHEDULE = {
    "sweep": {"task": "railsite.sweep", "schedule": 60.0},
}

# The web worker's timeout (gunicorn.conf.py reads the same variable): work done for a
# request ends a few seconds before it (regen.engine.deadline), and an Idempotency-Key whose
# request has run longer than it, plus a margin, belonged to a killed worker (its lease).
RAIL_REQUEST_TIMEOUT = env.int("RAIL_REQUEST_TIMEOUT", default=30)
RAIL_REQUEST_WORK_SECONDS = RAIL_REQUEST_TIMEOUT - min(5.0, 0.2 * RAIL_REQUEST_TIMEOUT)
IDEMPOTENCY_LEASE_SECONDS = RAIL_REQUEST_TIMEOUT + 10

# Engines (SPEC 8): "embedded" (offline, default: learned heads and rules; "learned" is an
# alias), "rules" (the detectors alone), "llm" (an OpenAI-compatible judge) or "cascade"
# (embedded, the judge only when unsure); the regenerator: embedded, llm or provider/model.
RAIL_EVALUATOR = env.str("RAIL_EVALUATOR", default="embedded")
RAIL_REGENERATOR = env.str("RAIL_REGENERATOR", default="embedded")
RAIL_LLM_BASE_URL = env.str("RAIL_LLM_BASE_URL", default="")
RAIL_LLM_API_KEY = env.str("RAIL_LLM_API_KEY", default="")
RAIL_LLM_PROVIDER = env.str("RAIL_LLM_PROVIDER", default="openai")
RAIL_LLM_MODEL = env.str("RAIL_LLM_MODEL", default="gpt-4o-mini")
RAIL_LLM_CONNECT_TIMEOUT = env.float("RAIL_LLM_CONNECT_TIMEOUT", default=5.0)
RAIL_LLM_READ_TIMEOUT = env.float("RAIL_LLM_READ_TIMEOUT", default=30.0)
RAIL_LLM_DEADLINE = env.float("RAIL_LLM_DEADLINE", default=60.0)
RAIL_LLM_MAX_RETRIES = env.int("RAIL_LLM_MAX_RETRIES", default=2)
RAIL_LLM_BACKOFF_BASE = env.float("RAIL_LLM_BACKOFF_BASE", default=0.5)
RAIL_LLM_CIRCUIT_THRESHOLD = env.int("RAIL_LLM_CIRCUIT_THRESHOLD", default=5)
RAIL_LLM_CIRCUIT_COOLDOWN = env.float("RAIL_LLM_CIRCUIT_COOLDOWN", default=30.0)
RAIL_LLM_URL_ALLOWLIST = env.list("RAIL_LLM_URL_ALLOWLIST", default=[])
# Named providers (regen/providers.py), any number, as JSON: {"name": {"base_url": ...,
# "api_key_env": "VARIABLE", "models": {"model": [usd_in, usd_out per million tokens]},
# "read_timeout": ..}}. The RAIL_LLM_* variables above still define one more provider,
# named RAIL_LLM_PROVIDER, when RAIL_LLM_BASE_URL is set.
RAIL_PROVIDERS = env.json("RAIL_PROVIDERS", default={})
# What "llm" and RAIL_Safe_LLM (with RAIL_REGENERATOR=llm) mean: a provider/model;
# blank: the first provider's first model. The judge (RAIL_EVALUATOR=llm or cascade)
# is RAIL_JUDGE_MODEL, else the default model.
RAIL_DEFAULT_MODEL = env.str("RAIL_DEFAULT_MODEL", default="")
RAIL_JUDGE_MODEL = env.str("RAIL_JUDGE_MODEL", default="")
# The cascade evaluator asks the judge only when the embedded scorer is unsure (a
# confidence below the minimum) or a score lies within the margin of its threshold.
RAIL_CASCADE_MARGIN = env.float("RAIL_CASCADE_MARGIN", default=1.0)
RAIL_CASCADE_MIN_CONFIDENCE = env.float("RAIL_CASCADE_MIN_CONFIDENCE", default=0.7)
# Fernet keys (newest first) that encrypt accounts' own provider keys at rest; blank: one
# derived from SECRET_KEY. To rotate, put a new key first, keep the old ones after it,
# and run `manage.py rotate_provider_keys`.
RAIL_ENCRYPTION_KEYS = env.list("RAIL_ENCRYPTION_KEYS", default=[])
# Review webhooks (regen/webhooks.py): only public addresses, unless a host is listed here
RAIL_WEBHOOK_ALLOWLIST = env.list("RAIL_WEBHOOK_ALLOWLIST", default=[])
# Who an account admin asks for more credits (the credits page): an e-mail address, a URL
# or a sentence. Empty: the page says to ask the people who run this server.
RAIL_BILLING_CONTACT = env.str("RAIL_BILLING_CONTACT", default="")

# Credit prices (SPEC 5), in credits.
CREDIT_PRICES = {
    "basic_eval": env.str("CREDIT_PRICE_BASIC_EVAL", default="1.0"),
    "deep_eval": env.str("CREDIT_PRICE_DEEP_EVAL", default="3.0"),
    "regeneration": env.str("CREDIT_PRICE_REGENERATION", default="2.0"),
    "basic_eval_per_dimension": env.str("CREDIT_PRICE_BASIC_PER_DIMENSION", default="0.3"),
    "deep_eval_single_dimension": env.str("CREDIT_PRICE_DEEP_SINGLE_DIMENSION", default="1.0"),
    "deep_eval_per_dimension": env.str("CREDIT_PRICE_DEEP_PER_DIMENSION", default="2.0"),
}
CREDIT_PRICES = {name: Decimal(value) for name, value in CREDIT_PRICES.items()}

# Behind a TLS-terminating proxy set BEHIND_TLS_PROXY, SECURE_COOKIES, SECURE_SSL_REDIRECT
# and SECURE_HSTS_SECONDS; `manage.py check --deploy` then passes (tests/test_deploy.py).
BEHIND_TLS_PROXY = env.bool("BEHIND_TLS_PROXY", default=False)
if BEHIND_TLS_PROXY:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# Log-in throttling (django-axes): after 5 failed log-ins a username, and separately an
# address, is refused for 15 minutes with a page that says so (429); a success resets it.
AXES_FAILURE_LIMIT = env.int("LOGIN_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("LOGIN_LOCKOUT_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_CLIENT_IP_CALLABLE = "railsite.login_throttle.client_ip"
AXES_VERBOSE = False
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = env.bool("SECURE_COOKIES", default=False)
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=False)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=False)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=False)
# the health check must answer plain HTTP probes even when everything else redirects
SECURE_REDIRECT_EXEMPT = [r"^health$"]
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
SECURE_REFERRER_POLICY = "same-origin"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
}
