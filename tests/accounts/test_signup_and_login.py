"""Sign-up, email verification, login, rate limits: allauth configured as the issue asks."""

from __future__ import annotations

import re

import pytest
import time_machine
from allauth.account.models import EmailAddress
from django.core import mail
from django.core.cache import cache
from django.urls import reverse

from accounts.models import User
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db


def _signup(client, email="new@example.test", **extra):
    data = {
        "email": email,
        "password1": PASSWORD,
        "password2": PASSWORD,
        "name": "Nina New",
        "country": "FR",
        **extra,
    }
    return client.post(reverse("account_signup"), data)


def _confirmation_link(message) -> str:
    match = re.search(r"https?://[^/\s]+(/accounts/confirm-email/[^\s]+/)", message.body)
    assert match, message.body
    return match.group(1)


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    cache.clear()


def test_sign_up_sends_a_verification_email_and_does_not_log_in_yet(client):
    response = _signup(client)

    assert response.status_code == 302
    assert response["Location"] == reverse("account_email_verification_sent")
    user = User.objects.get(email="new@example.test")
    assert (user.name, user.country.code) == ("Nina New", "FR")
    assert not EmailAddress.objects.get(user=user).verified
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["new@example.test"]
    assert "/accounts/confirm-email/" in mail.outbox[0].body
    # Mandatory verification: no session until the address is confirmed.
    assert "_auth_user_id" not in client.session


def test_following_the_link_verifies_the_address_and_logs_in(client):
    _signup(client)
    link = _confirmation_link(mail.outbox[0])

    assert client.get(link).status_code == 200  # a confirm button, never confirm on GET
    response = client.post(link)

    assert response.status_code == 302
    assert EmailAddress.objects.get(email="new@example.test").verified
    assert int(client.session["_auth_user_id"]) == User.objects.get(email="new@example.test").pk


def test_unverified_user_cannot_log_in_and_gets_the_email_again(client):
    with time_machine.travel("2026-11-01 10:00Z", tick=False):
        _signup(client)
    client.logout()
    mail.outbox.clear()

    # allauth sends at most one verification email per address every 3 minutes.
    with time_machine.travel("2026-11-01 10:04Z", tick=False):
        response = client.post(
            reverse("account_login"), {"login": "new@example.test", "password": PASSWORD}
        )

    assert response.status_code == 302
    assert response["Location"] == reverse("account_email_verification_sent")
    assert "_auth_user_id" not in client.session
    assert len(mail.outbox) == 1


def test_expired_verification_link_is_refused_with_a_message(client):
    with time_machine.travel("2026-11-01 10:00Z", tick=False):
        _signup(client)
        link = _confirmation_link(mail.outbox[0])

    with time_machine.travel("2026-11-05 10:00Z", tick=False):  # 3-day validity
        page = client.get(link)
        confirm = client.post(link)

    assert "This email confirmation link expired or is invalid" in page.content.decode()
    assert confirm.status_code == 404
    assert not EmailAddress.objects.get(email="new@example.test").verified


def test_duplicate_email_creates_nothing_and_tells_the_owner_of_the_address(client):
    """Enumeration stays closed (ACCOUNT_PREVENT_ENUMERATION): the form answers as for a new
    address, and the message goes to the inbox of the person who owns it."""
    UserFactory(email="taken@example.test")

    response = _signup(client, email="Taken@Example.test")

    assert response["Location"] == reverse("account_email_verification_sent")
    assert User.objects.filter(email__iexact="taken@example.test").count() == 1
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["taken@example.test"]
    assert "already exists" in mail.outbox[0].body


def test_verified_user_logs_in_with_email_and_password(client, buyer):
    response = client.post(
        reverse("account_login"), {"login": "buyer@example.test", "password": PASSWORD}
    )

    assert response.status_code == 302
    assert response["Location"] == reverse("accounts:overview")
    assert int(client.session["_auth_user_id"]) == buyer.pk


def test_sixth_failed_login_in_a_row_is_refused_even_with_the_right_password(client, buyer):
    for _ in range(5):
        response = client.post(
            reverse("account_login"), {"login": buyer.email, "password": "wrong-password"}
        )
        assert "The email address and/or password you specified are not correct." in (
            response.content.decode()
        )

    response = client.post(reverse("account_login"), {"login": buyer.email, "password": PASSWORD})

    assert response.status_code == 200
    assert "Too many failed login attempts" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_password_reset_sends_a_link_that_sets_a_new_password(client, buyer):
    client.post(reverse("account_reset_password"), {"email": buyer.email})

    assert len(mail.outbox) == 1
    path = re.search(r"https?://[^/\s]+(/accounts/password/reset/key/\S+/)", mail.outbox[0].body)
    form_url = client.get(path.group(1))["Location"]  # allauth hides the key in the session
    response = client.post(
        form_url, {"password1": "a-new-long-password-7", "password2": "a-new-long-password-7"}
    )

    assert response.status_code == 302
    buyer.refresh_from_db()
    assert buyer.check_password("a-new-long-password-7")


def test_password_reset_for_an_unknown_address_does_not_reveal_it(client):
    response = client.post(reverse("account_reset_password"), {"email": "nobody@example.test"})

    assert response.status_code == 302  # same answer as for a known address
    assert len(mail.outbox) == 1  # "someone asked, but you have no account" notice
    assert "nobody@example.test" in mail.outbox[0].to


def test_more_than_30_logins_a_minute_from_one_address_get_429(client, buyer):
    statuses = [
        client.post(
            reverse("account_login"), {"login": f"u{i}@example.test", "password": "x"}
        ).status_code
        for i in range(31)
    ]

    assert statuses[:30] == [200] * 30
    assert statuses[30] == 429
