"""A person signs up, verifies their email from the message, and applies for a shop."""

from __future__ import annotations

import re

import pytest
from django.core import mail

from accounts.models import Shop
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db(transaction=True)


def test_sign_up_verify_and_apply_for_a_shop(page, live_server, screenshot):
    page.goto("/")
    screenshot("home")
    page.get_by_role("link", name="Create account").click()

    page.locator("#id_email").fill("maria@example.test")
    page.locator("#id_password1").fill(PASSWORD)
    page.locator("#id_password2").fill(PASSWORD)
    page.get_by_label("Your name").fill("María López")
    page.get_by_label("Country you live in").select_option("ES")
    screenshot("signup")
    page.get_by_role("button", name="Sign Up").click()
    page.get_by_text("We have sent an email to you for verification").wait_for()

    body = mail.outbox[-1].body
    link = re.search(r"https?://\S+/accounts/confirm-email/\S+/", body).group(0)
    page.goto(link.replace("http://localhost:8000", live_server.url))
    page.get_by_role("button", name="Confirm").click()
    page.get_by_role("heading", name="Hello, María").wait_for()

    page.get_by_role("link", name="Sell", exact=True).click()
    page.get_by_role("link", name="Open a shop").first.click()
    page.get_by_label("Shop name").fill("Cerámica Sol")
    page.get_by_label("Shop address").fill("ceramica-sol")
    page.get_by_label("Legal name").fill("Cerámica Sol S.L.")
    page.get_by_label("Business type").select_option("company")
    page.get_by_label("Country").select_option("ES")
    page.get_by_label("Ship-from address line 1").fill("Calle Mayor 10")
    page.get_by_label("City").fill("Sevilla")
    page.get_by_label("Postcode").fill("41001")
    page.get_by_label("State / province / region").fill("Sevilla")  # Spain requires it
    page.get_by_label("Phone").fill("954 21 00 00")  # national format, ES
    page.get_by_label("Time zone").select_option("Europe/Madrid")
    page.get_by_label("Currency").select_option("EUR")
    page.get_by_role("button", name="Apply").click()

    page.get_by_text("is waiting for review").wait_for()
    screenshot("shop-application-pending")
    shop = Shop.objects.get(slug="ceramica-sol")
    assert shop.status == Shop.Status.PENDING
    assert shop.memberships.get().user.email == "maria@example.test"
    assert (shop.region, str(shop.phone)) == ("SE", "+34954210000")


def test_the_language_switcher_translates_the_page(page, screenshot):
    page.goto("/")
    page.get_by_label("Language").select_option("zh-hans")
    page.wait_for_url("**/")
    page.locator("html[lang=zh-hans]").wait_for()
    screenshot("home-zh-hans")
    page.get_by_label("语言").select_option("es")
    page.locator("html[lang=es]").wait_for()
    screenshot("home-es")
