"""The production profile passes Django's deployment checklist; headers on every page."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.urls import reverse

ROOT = Path(__file__).resolve().parents[1]
PRODUCTION_ENV = {
    "TRADEPOST_PROFILE": "production",
    "SECRET_KEY": "a-long-random-secret-used-only-by-this-test-9f8e7d6c5b4a3f2e1d0c",
    "ALLOWED_HOSTS": "tradepost.example",
    "REDIS_URL": "redis://127.0.0.1:6379/0",
    "DATABASE_URL": "postgres://tradepost@127.0.0.1:5432/tradepost",
    # Well-formed, not the demo's: every scheme the regimes collect tax under.
    "CUSTOMS_TAX_SCHEME_IDS": (
        "IOSS=IM5280001234,UK_VAT=GB123456782,VOEC=VOEC2001234,AU_ARN=500123456789,"
        "NZ_GST=49091850,SG_OVR=M90371234X,MY_LRN=LVG12345678,CH_VAT=CHE-116.281.710 MWST,"
        "BR_RC=RC-2024-00123,CN_CBEC=CBEC-3101-0001"
    ),
    "ORDERS_CARD_PROVIDER": "stripe",
    "STRIPE_SECRET_KEY": "sk_live_used_only_by_this_test",
    "STRIPE_PUBLISHABLE_KEY": "pk_live_used_only_by_this_test",
    "STRIPE_WEBHOOK_SECRET": "whsec_used_only_by_this_test",
}


def _check_deploy(**env) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if k not in PRODUCTION_ENV}
    # Not the test run's settings module, nor the browser tests' async switch.
    for name in ("DJANGO_SETTINGS_MODULE", "DJANGO_ALLOW_ASYNC_UNSAFE"):
        clean.pop(name, None)
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_production_profile_passes_check_deploy_with_no_warnings():
    result = _check_deploy(**PRODUCTION_ENV)

    assert result.returncode == 0, result.stderr
    assert "no issues (1 silenced)" in result.stdout  # security.W021, reason in settings


def test_production_without_redis_or_postgres_is_flagged():
    env = {**PRODUCTION_ENV}
    del env["REDIS_URL"], env["DATABASE_URL"]

    result = _check_deploy(**env)

    assert result.returncode != 0
    assert "tradepost.W001" in result.stderr and "tradepost.W002" in result.stderr


def test_production_without_tax_scheme_numbers_is_an_error():
    env = {**PRODUCTION_ENV}
    del env["CUSTOMS_TAX_SCHEME_IDS"]

    result = _check_deploy(**env)

    assert result.returncode != 0
    assert "customs.E001" in result.stderr and "No IOSS number is configured" in result.stderr


def test_production_refuses_the_test_card_provider():
    result = _check_deploy(**{**PRODUCTION_ENV, "ORDERS_CARD_PROVIDER": "test"})

    assert result.returncode != 0
    assert "orders.E001" in result.stderr


def test_production_without_a_card_provider_or_its_keys_is_an_error():
    env = {k: v for k, v in PRODUCTION_ENV.items() if k != "ORDERS_CARD_PROVIDER"}
    result = _check_deploy(**env)

    assert result.returncode != 0
    assert "orders.E002" in result.stderr

    env = {k: v for k, v in PRODUCTION_ENV.items() if k != "STRIPE_WEBHOOK_SECRET"}
    result = _check_deploy(**env)

    assert result.returncode != 0
    assert "orders.E003" in result.stderr and "STRIPE_WEBHOOK_SECRET" in result.stderr


def test_production_refuses_to_start_without_a_secret_key():
    env = {**PRODUCTION_ENV}
    del env["SECRET_KEY"]

    result = _check_deploy(**env)

    assert result.returncode != 0
    assert "Set the SECRET_KEY environment variable" in result.stderr


def test_a_malformed_setting_fails_loudly_naming_it():
    result = _check_deploy(DEBUG="maybe")

    assert result.returncode != 0
    assert "DEBUG must be a boolean" in result.stderr


PUBLIC_PAGES = ["home", "account_login", "account_signup", "accounts:seller-home"]


@pytest.mark.django_db
@pytest.mark.parametrize("name", PUBLIC_PAGES)
def test_pages_carry_csp_nosniff_and_frame_protection(client, name):
    response = client.get(reverse(name))

    csp = response["Content-Security-Policy"]
    for directive in (
        "object-src 'none'",
        "base-uri 'none'",
        "frame-ancestors 'none'",
        "script-src 'self'",
    ):
        assert directive in csp
    assert "unsafe-inline" not in csp
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["X-Frame-Options"] == "DENY"
    assert "stripe" not in csp  # only when Stripe is the card provider


def test_with_stripe_the_csp_allows_exactly_stripe_js_its_api_and_its_frames():
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "import django; django.setup(); from django.conf import settings; "
            "import json; print(json.dumps(settings.CONTENT_SECURITY_POLICY['DIRECTIVES']))",
        ],
        cwd=ROOT,
        env={
            **{k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"},
            "DJANGO_SETTINGS_MODULE": "marketplace.settings",
            "ORDERS_CARD_PROVIDER": "stripe",
        },
        capture_output=True,
        text=True,
        timeout=120,
    )
    import json

    directives = json.loads(result.stdout)
    assert directives["script-src"] == ["'self'", "https://js.stripe.com"]
    assert directives["connect-src"] == ["'self'", "https://api.stripe.com"]
    assert directives["frame-src"] == ["https://js.stripe.com", "https://hooks.stripe.com"]
    assert directives["default-src"] == ["'self'"]


@pytest.mark.django_db
def test_hsts_and_host_cookies_in_the_production_profile(client, settings):
    settings.SECURE_HSTS_SECONDS = 31_536_000
    settings.SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    settings.CSRF_COOKIE_NAME = "__Host-csrftoken"
    settings.CSRF_COOKIE_SECURE = True

    response = client.get(reverse("account_login"), secure=True)

    assert response["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"
    cookie = response.cookies["__Host-csrftoken"]
    assert cookie["secure"] and cookie["path"] == "/" and not cookie["domain"]
