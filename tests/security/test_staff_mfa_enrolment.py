"""Staff MFA enrolment needs the emailed one-time link, not just the password.

Regression (issue 9, "Admin"): in production a staff user not yet enrolled could enrol TOTP
with only the password and reach the admin. Before the fix
``test_the_password_alone_cannot_enrol_an_authenticator`` activated TOTP and opened the admin.
"""

from __future__ import annotations

import re
import time

import pytest
import time_machine
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value
from allauth.mfa.totp.internal.auth import yield_hotp_counters_from_time as counters
from django.core import mail
from django.urls import reverse

from accounts import staff_mfa
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _mfa_required(settings):
    # The production profile's value (ADMIN_REQUIRE_MFA defaults to on there); the test
    # overlay turns it off for everything else. tests/security/test_production_profile.py
    # runs the same refusal under TRADEPOST_PROFILE=production.
    settings.ADMIN_REQUIRE_MFA = True


def _sign_in(client, user):
    response = client.post(reverse("account_login"), {"login": user.email, "password": PASSWORD})
    assert response.status_code == 302 and "_auth_user_id" in client.session
    return client


def _activate_with_a_code(client):
    """Do what an attacker with the password would: open the TOTP page, post a valid code."""
    page = client.get(reverse("mfa_activate_totp"))
    if page.status_code == 302 and page["Location"].startswith(reverse("account_reauthenticate")):
        client.post(page["Location"], {"password": PASSWORD})  # allauth asks for it again
        page = client.get(reverse("mfa_activate_totp"))
    if page.status_code != 200:
        return page
    secret = page.context["form"].secret
    code = format_hotp_value(hotp_value(secret, next(counters())))
    return client.post(reverse("mfa_activate_totp"), {"code": code})


def _emailed_link() -> str:
    (message,) = mail.outbox
    return re.search(r"http\S+/account/staff-2fa/\S+/", message.body).group(0)


def test_the_password_alone_cannot_enrol_an_authenticator(client, staff):
    _sign_in(client, staff)

    response = _activate_with_a_code(client)

    assert response.status_code == 302
    assert response["Location"] == reverse("accounts:staff-mfa-enrol")
    assert not Authenticator.objects.filter(user=staff).exists()
    assert client.get(reverse("admin:index")).status_code == 302
    assert client.get(reverse("admin:accounts_shop_changelist")).status_code == 302


def test_the_admin_sends_unenrolled_staff_to_the_emailed_link_step(client, staff):
    _sign_in(client, staff)

    response = client.get(reverse("admin:login"))

    assert response["Location"] == reverse("accounts:staff-mfa-enrol")
    assert b"Email me the link" in client.get(response["Location"]).content


def test_the_emailed_link_opens_enrolment_once(client, staff, run_on_commit):
    _sign_in(client, staff)
    with run_on_commit():
        client.post(reverse("accounts:staff-mfa-send"))
    link = _emailed_link()
    assert mail.outbox[0].to == [staff.email]

    response = client.get(link)
    assert response["Location"] == reverse("mfa_activate_totp")
    _activate_with_a_code(client)

    assert Authenticator.objects.filter(user=staff, type="totp").exists()
    assert client.get(reverse("admin:index")).status_code == 200

    # The same link a second time (here: in a fresh session) is refused.
    client.logout()
    other = UserFactory(is_staff=True)
    _sign_in(client, other)
    assert client.get(link)["Location"] == reverse("accounts:staff-mfa-enrol")


def test_a_used_link_is_refused_the_second_time(client, staff):
    token = staff_mfa.make_token(staff)

    assert staff_mfa.redeem_token(user=staff, token=token) is True
    assert staff_mfa.redeem_token(user=staff, token=token) is False


def test_a_link_for_another_staff_user_is_refused(client, staff):
    other = UserFactory(is_staff=True)
    _sign_in(client, other)

    response = client.get(reverse("accounts:staff-mfa-confirm", args=[staff_mfa.make_token(staff)]))

    assert response["Location"] == reverse("accounts:staff-mfa-enrol")
    assert _activate_with_a_code(client)["Location"] == reverse("accounts:staff-mfa-enrol")
    assert not Authenticator.objects.exists()


def test_an_expired_or_tampered_link_is_refused(client, staff, settings):
    settings.STAFF_MFA_ENROLMENT_LINK_MINUTES = 30
    with time_machine.travel(time.time() - 31 * 60):
        old = staff_mfa.make_token(staff)

    assert staff_mfa.redeem_token(user=staff, token=old) is False
    assert staff_mfa.redeem_token(user=staff, token=staff_mfa.make_token(staff) + "x") is False
    assert staff_mfa.redeem_token(user=staff, token="\x00" * 5000) is False


def test_a_new_password_voids_links_sent_before(staff):
    token = staff_mfa.make_token(staff)
    staff.set_password("another-long-passphrase-42")
    staff.save()

    assert staff_mfa.redeem_token(user=staff, token=token) is False


def test_buyers_enrol_totp_without_the_email_step(client, buyer):
    _sign_in(client, buyer)

    _activate_with_a_code(client)

    assert Authenticator.objects.filter(user=buyer, type="totp").exists()
