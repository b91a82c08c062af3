"""The admin sits behind allauth's login (rate limits, second factor) and, in production, MFA."""

from __future__ import annotations

import pytest
from allauth.mfa.totp.internal.auth import (
    TOTP,
    format_hotp_value,
    generate_totp_secret,
    hotp_value,
    yield_hotp_counters_from_time,
)
from django.core.cache import cache
from django.urls import reverse

from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db


def _current_code(secret: str) -> str:
    return format_hotp_value(hotp_value(secret, next(yield_hotp_counters_from_time())))


def test_admin_login_is_allauths_login(client):
    response = client.get(reverse("admin:login"))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))


def test_staff_without_mfa_are_sent_to_set_it_up_when_required(client, staff, settings):
    settings.ADMIN_REQUIRE_MFA = True
    client.force_login(staff)

    response = client.get(reverse("admin:index"), follow=True)

    hops = [url for url, _status in response.redirect_chain]
    # First the emailed one-time link (tests/security/test_staff_mfa_enrolment.py), then TOTP.
    assert reverse("accounts:staff-mfa-enrol") in hops
    assert "Set up two-factor authentication" in response.content.decode()
    assert client.get(reverse("admin:accounts_shop_changelist")).status_code == 302


def test_staff_with_totp_reach_the_admin_after_the_second_factor(client, staff, settings):
    settings.ADMIN_REQUIRE_MFA = True
    secret = generate_totp_secret()
    TOTP.activate(staff, secret)

    response = client.post(reverse("account_login"), {"login": staff.email, "password": PASSWORD})
    assert response["Location"] == reverse("mfa_authenticate")
    assert "_auth_user_id" not in client.session  # password alone is not enough
    client.post(reverse("mfa_authenticate"), {"code": _current_code(secret)})

    assert client.get(reverse("admin:index")).status_code == 200


def test_the_setting_off_lets_staff_in_without_mfa(client, staff, settings):
    settings.ADMIN_REQUIRE_MFA = False
    client.force_login(staff)

    assert client.get(reverse("admin:index")).status_code == 200


def test_admin_login_failures_are_rate_limited_like_every_login(client, staff):
    cache.clear()
    for _ in range(5):
        client.post(reverse("account_login"), {"login": staff.email, "password": "nope"})

    response = client.post(
        reverse("account_login") + "?next=/admin/", {"login": staff.email, "password": PASSWORD}
    )

    assert "Too many failed login attempts" in response.content.decode()
    assert client.get(reverse("admin:index")).status_code == 302


def test_the_shop_admin_offers_the_review_actions(client, staff, shop):
    client.force_login(staff)
    page = client.get(reverse("admin:accounts_shop_changelist"))

    assert page.status_code == 200
    assert {"approve", "reject", "suspend"} <= {
        c[0] for c in page.context["action_form"].fields["action"].choices
    }
