"""The staff MFA enrolment gate under the real production profile (not the test overlay).

A separate process with ``TRADEPOST_PROFILE=production`` (its own SQLite file and VAR_DIR, HTTPS
redirects, ``__Host-`` cookies, ``ADMIN_REQUIRE_MFA`` at its production default): a staff user
who signs in with the password cannot activate TOTP nor open the admin.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

SCRIPT = r"""
import django
django.setup()
from django.conf import settings
from django.core.management import call_command
from django.test import Client
from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from accounts.models import User

assert settings.PRODUCTION and settings.ADMIN_REQUIRE_MFA and not settings.DEBUG
call_command("migrate", verbosity=0)
staff = User.objects.create_user(email="ops@example.test", password="a-long-staff-passphrase-1")
staff.is_staff = staff.is_superuser = True
staff.save()
EmailAddress.objects.create(user=staff, email=staff.email, verified=True, primary=True)

c = Client(secure=True, HTTP_HOST="tradepost.example", HTTP_X_FORWARDED_PROTO="https")
r = c.post("/accounts/login/", {"login": staff.email, "password": "a-long-staff-passphrase-1"})
assert r.status_code == 302, r.status_code
r = c.get("/accounts/2fa/totp/activate/")
print("activate", r.status_code, r["Location"])
r = c.post(
    "/accounts/reauthenticate/?next=/accounts/2fa/totp/activate/",
    {"password": "a-long-staff-passphrase-1"},
)
r = c.get("/accounts/2fa/totp/activate/")
print("after-reauth", r.status_code, r["Location"])
print("admin", c.get("/admin/").status_code)
print("authenticators", Authenticator.objects.count())
"""


def test_production_staff_cannot_enrol_mfa_with_the_password_alone(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "TEST_"))}
    env.update(
        DJANGO_SETTINGS_MODULE="marketplace.settings",
        TRADEPOST_PROFILE="production",
        SECRET_KEY="a-long-random-secret-used-only-by-this-test-0a1b2c3d4e5f6a7b8c9d",
        ALLOWED_HOSTS="tradepost.example",
        SITE_URL="https://tradepost.example",
        VAR_DIR=str(tmp_path),
        DATABASE_URL=f"sqlite:///{tmp_path / 'prod.sqlite3'}",
        EMAIL_BACKEND="locmem",
        REDIS_URL="",
    )
    env.pop("REDIS_URL")

    result = subprocess.run(
        [sys.executable, "-c", SCRIPT],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )

    assert result.returncode == 0, result.stderr[-3000:]
    lines = dict(line.split(" ", 1) for line in result.stdout.splitlines())
    assert lines["activate"] == "302 /account/staff-2fa/"
    assert lines["after-reauth"] == "302 /account/staff-2fa/"
    assert lines["admin"] == "302"
    assert lines["authenticators"] == "0"
