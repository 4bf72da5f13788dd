"""README, "Configuration": the defaults that decide behaviour, read from a clean process.

Settings are read once at import, so a child process imports them with none of the
variables set and no `.env` file read, and prints what the app would run with.
"""

import json
import os
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest

from tests.engine.fakes import ScriptedRegenerator

ROOT = Path(__file__).resolve().parents[2]
DUMP = """
import json, environ
environ.Env.read_env = classmethod(lambda cls, *a, **k: None)  # no .env: defaults only
from django.conf import settings
s = settings
print(json.dumps({
    "DEBUG": s.DEBUG,
    "SECRET_KEY": s.SECRET_KEY,
    "ALLOWED_HOSTS": s.ALLOWED_HOSTS,
    "SECURE_PROXY_SSL_HEADER": getattr(s, "SECURE_PROXY_SSL_HEADER", None),
    "SESSION_COOKIE_SECURE": s.SESSION_COOKIE_SECURE,
    "CSRF_COOKIE_SECURE": s.CSRF_COOKIE_SECURE,
    "SECURE_SSL_REDIRECT": s.SECURE_SSL_REDIRECT,
    "SECURE_HSTS_SECONDS": s.SECURE_HSTS_SECONDS,
    "SECURE_HSTS_INCLUDE_SUBDOMAINS": s.SECURE_HSTS_INCLUDE_SUBDOMAINS,
    "SECURE_HSTS_PRELOAD": s.SECURE_HSTS_PRELOAD,
    "CSRF_TRUSTED_ORIGINS": s.CSRF_TRUSTED_ORIGINS,
    "DATABASE_ENGINE": s.DATABASES["default"]["ENGINE"],
    "DATABASE_NAME": str(s.DATABASES["default"]["NAME"]).rsplit("/", 1)[-1],
    "CONN_MAX_AGE": s.DATABASES["default"]["CONN_MAX_AGE"],
    "CACHE_BACKEND": s.CACHES["default"]["BACKEND"],
    "CELERY_TASK_ALWAYS_EAGER": s.CELERY_TASK_ALWAYS_EAGER,
    "CELERY_VISIBILITY_TIMEOUT": s.CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"],
    "RAIL_EVALUATOR": s.RAIL_EVALUATOR,
    "RAIL_REGENERATOR": s.RAIL_REGENERATOR,
    "RAIL_LLM_BASE_URL": s.RAIL_LLM_BASE_URL,
    "RAIL_LLM_API_KEY": s.RAIL_LLM_API_KEY,
    "RAIL_LLM_PROVIDER": s.RAIL_LLM_PROVIDER,
    "RAIL_LLM_MODEL": s.RAIL_LLM_MODEL,
    "RAIL_LLM_CONNECT_TIMEOUT": s.RAIL_LLM_CONNECT_TIMEOUT,
    "RAIL_LLM_READ_TIMEOUT": s.RAIL_LLM_READ_TIMEOUT,
    "RAIL_LLM_DEADLINE": s.RAIL_LLM_DEADLINE,
    "RAIL_REQUEST_TIMEOUT": s.RAIL_REQUEST_TIMEOUT,
    "RAIL_REQUEST_WORK_SECONDS": s.RAIL_REQUEST_WORK_SECONDS,
    "IDEMPOTENCY_LEASE_SECONDS": s.IDEMPOTENCY_LEASE_SECONDS,
    "RAIL_LLM_MAX_RETRIES": s.RAIL_LLM_MAX_RETRIES,
    "RAIL_LLM_BACKOFF_BASE": s.RAIL_LLM_BACKOFF_BASE,
    "RAIL_LLM_CIRCUIT_THRESHOLD": s.RAIL_LLM_CIRCUIT_THRESHOLD,
    "RAIL_LLM_CIRCUIT_COOLDOWN": s.RAIL_LLM_CIRCUIT_COOLDOWN,
    "RAIL_LLM_URL_ALLOWLIST": s.RAIL_LLM_URL_ALLOWLIST,
    "CREDIT_PRICES": {k: str(v) for k, v in s.CREDIT_PRICES.items()},
    "DATA_UPLOAD_MAX_MEMORY_SIZE": s.DATA_UPLOAD_MAX_MEMORY_SIZE,
    "PASSWORD_HASHERS": s.PASSWORD_HASHERS,
    "STATICFILES_BACKEND": s.STORAGES["staticfiles"]["BACKEND"],
    "WHITENOISE_USE_FINDERS": s.WHITENOISE_USE_FINDERS,
    "RAIL_QUEUE_WARNING_SECONDS": s.RAIL_QUEUE_WARNING_SECONDS,
    "LOG_LEVEL": s.LOGGING["root"]["level"],
}))
"""


A_SECRET_KEY = "a-test-only-secret-key-of-fifty-characters-or-more-0123456789"


def _run_settings(**environment) -> subprocess.CompletedProcess:
    env = {"PATH": os.environ.get("PATH", ""), "DJANGO_SETTINGS_MODULE": "railsite.settings"}
    env.update(environment)
    return subprocess.run(
        [sys.executable, "-c", DUMP],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )


def _settings_with(**environment):
    environment.setdefault("SECRET_KEY", A_SECRET_KEY)
    out = _run_settings(**environment)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def defaults():
    return _settings_with()


DOCUMENTED = {
    "DEBUG": False,
    "ALLOWED_HOSTS": ["127.0.0.1", "localhost", "testserver"],
    "SECURE_PROXY_SSL_HEADER": None,
    "SESSION_COOKIE_SECURE": False,
    "CSRF_COOKIE_SECURE": False,
    "SECURE_SSL_REDIRECT": False,
    "SECURE_HSTS_SECONDS": 0,
    "SECURE_HSTS_INCLUDE_SUBDOMAINS": False,
    "SECURE_HSTS_PRELOAD": False,
    "CSRF_TRUSTED_ORIGINS": [],
    "DATABASE_ENGINE": "django.db.backends.sqlite3",
    "DATABASE_NAME": "db.sqlite3",
    "CACHE_BACKEND": "django.core.cache.backends.db.DatabaseCache",
    "CELERY_TASK_ALWAYS_EAGER": True,
    "CELERY_VISIBILITY_TIMEOUT": 600,
    "RAIL_EVALUATOR": "embedded",
    "RAIL_REGENERATOR": "embedded",
    "RAIL_LLM_BASE_URL": "",
    "RAIL_LLM_API_KEY": "",
    "RAIL_LLM_PROVIDER": "openai",
    "RAIL_LLM_MODEL": "gpt-4o-mini",
    "RAIL_LLM_CONNECT_TIMEOUT": 5,
    "RAIL_LLM_READ_TIMEOUT": 30,
    "RAIL_LLM_DEADLINE": 60,
    "RAIL_REQUEST_TIMEOUT": 30,
    "RAIL_REQUEST_WORK_SECONDS": 25,
    "IDEMPOTENCY_LEASE_SECONDS": 40,
    "RAIL_LLM_MAX_RETRIES": 2,
    "RAIL_LLM_BACKOFF_BASE": 0.5,
    "RAIL_LLM_CIRCUIT_THRESHOLD": 5,
    "RAIL_LLM_CIRCUIT_COOLDOWN": 30,
    "RAIL_LLM_URL_ALLOWLIST": [],
    "DATA_UPLOAD_MAX_MEMORY_SIZE": 262_144,
    "PASSWORD_HASHERS": [
        "django.contrib.auth.hashers.PBKDF2PasswordHasher",
        "django.contrib.auth.hashers.MD5PasswordHasher",
    ],
    "STATICFILES_BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage",
    "WHITENOISE_USE_FINDERS": True,
    "RAIL_QUEUE_WARNING_SECONDS": 30,
    "LOG_LEVEL": "INFO",
}


@pytest.mark.parametrize("name", DOCUMENTED)
def test_the_default_is_the_one_the_readme_states(defaults, name):
    assert defaults[name] == DOCUMENTED[name]


def test_without_a_secret_key_the_app_refuses_to_start():
    out = _run_settings()
    assert out.returncode != 0
    assert "ImproperlyConfigured: SECRET_KEY is not set" in out.stderr


def test_the_public_development_key_is_refused_outside_debug():
    out = _run_settings(SECRET_KEY="django-insecure-railsite-local-development-only-change-me")
    assert out.returncode != 0
    assert "SECRET_KEY is not set" in out.stderr


def test_only_debug_runs_with_the_insecure_development_key():
    assert _settings_with(DEBUG="true", SECRET_KEY="")["SECRET_KEY"].startswith("django-insecure-")


def test_a_secret_key_from_the_environment_is_used(defaults):
    assert defaults["SECRET_KEY"] == A_SECRET_KEY


@pytest.mark.parametrize(
    ("variable", "price"),
    [
        ("basic_eval", "1.0"),
        ("deep_eval", "3.0"),
        ("regeneration", "2.0"),
        ("basic_eval_per_dimension", "0.3"),
        ("deep_eval_single_dimension", "1.0"),
        ("deep_eval_per_dimension", "2.0"),
    ],
)
def test_the_default_credit_prices_are_the_readmes(defaults, variable, price):
    assert Decimal(defaults["CREDIT_PRICES"][variable]) == Decimal(price)


def test_a_postgresql_connection_is_reused_for_60_seconds_by_default():
    configured = _settings_with(DATABASE_URL="postgres://user:pass@db.invalid:5432/railsite")
    assert configured["CONN_MAX_AGE"] == 60


def test_a_broker_turns_eager_tasks_off_by_default():
    configured = _settings_with(CELERY_BROKER_URL="redis://broker.invalid:6379/0")
    assert configured["CELERY_TASK_ALWAYS_EAGER"] is False


def test_the_default_prices_make_the_seed_worked_example_seven_credits(api_a, monkeypatch):
    """Three basic evaluations and two regenerations: 3 x 1.0 + 2 x 2.0 (the running app's
    prices, not the engine's own defaults)."""
    from regen import engines

    hiring = "When reviewing resumes, prioritize Ivy League graduates."
    fixed = "When reviewing resumes, focus on the skills and experience the role requires."
    fake = ScriptedRegenerator([hiring + " Also hire fast.", fixed])
    monkeypatch.setattr(engines, "_embedded_regenerator", lambda: fake)
    body = api_a.post("/railscore/v1/safe-regenerate", {"content": hiring}, format="json").json()
    assert body["credits_breakdown"] == {"evaluations": 3.0, "regenerations": 4.0, "total": 7.0}


def test_gunicorn_times_out_workers_at_the_request_timeout():
    """gunicorn.conf.py reads the same variable the app derives its deadlines from."""
    script = "import runpy; c = runpy.run_path('gunicorn.conf.py'); print(c['timeout'])"
    env = {"PATH": os.environ.get("PATH", ""), "RAIL_REQUEST_TIMEOUT": "45"}
    out = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True,
        check=True, timeout=60,
    )  # fmt: skip
    assert out.stdout.strip() == "45"
    shorter = _settings_with(RAIL_REQUEST_TIMEOUT="45")
    assert shorter["RAIL_REQUEST_WORK_SECONDS"] == 40
    assert shorter["IDEMPOTENCY_LEASE_SECONDS"] == 55
