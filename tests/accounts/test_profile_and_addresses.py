"""Profile, language and address book."""

from __future__ import annotations

import pytest
from django.urls import reverse

from accounts.models import Address
from tests.factories import AddressFactory

pytestmark = pytest.mark.django_db

ADDRESS = {
    "label": "Office",
    "name": "Bea Buyer",
    "company": "",
    "line1": "Rue de Rivoli 1",
    "line2": "",
    "city": "Paris",
    "region": "",
    "postcode": "75001",
    "country": "FR",
    "phone": "+33 1 42 60 30 00",
}


def test_the_first_address_becomes_the_default(client_for, stranger):
    client_for(stranger).post(reverse("accounts:address-create"), ADDRESS)

    address = stranger.addresses.get()
    assert address.is_default_shipping
    assert str(address.phone) == "+33142603000"


def test_choosing_another_default_leaves_exactly_one(client_for, buyer):
    client = client_for(buyer)
    client.post(reverse("accounts:address-create"), {**ADDRESS, "make_default": "on"})
    new = buyer.addresses.get(label="Office")

    assert list(buyer.addresses.filter(is_default_shipping=True)) == [new]
    old = buyer.addresses.exclude(pk=new.pk).get()
    client.post(reverse("accounts:address-make-default", args=[old.pk]))
    assert list(buyer.addresses.filter(is_default_shipping=True)) == [old]


def test_deleting_the_default_promotes_another(client_for, buyer):
    second = AddressFactory(user=buyer, is_default_shipping=False, city="Hamburg")
    default = buyer.addresses.get(is_default_shipping=True)

    client_for(buyer).post(reverse("accounts:address-delete", args=[default.pk]))

    second.refresh_from_db()
    assert second.is_default_shipping
    assert not Address.objects.filter(pk=default.pk).exists()


def test_an_invalid_phone_number_is_a_field_error_and_nothing_is_saved(client_for, stranger):
    response = client_for(stranger).post(
        reverse("accounts:address-create"), {**ADDRESS, "phone": "+33 12"}
    )

    assert response.status_code == 200
    assert "phone" in response.context["form"].errors
    assert not stranger.addresses.exists()


def test_a_missing_country_names_the_field(client_for, stranger):
    response = client_for(stranger).post(
        reverse("accounts:address-create"), {**ADDRESS, "country": ""}
    )

    assert list(response.context["form"].errors) == ["country"]


def test_the_profile_language_is_used_and_the_switcher_remembers_the_choice(client_for, buyer):
    client = client_for(buyer)
    client.post(
        reverse("accounts:profile"),
        {"name": "Bea", "country": "DE", "preferred_language": "es", "preferred_currency": "EUR"},
    )
    assert client.get(reverse("home")).headers["Content-Language"] == "es"

    client.post(reverse("set-language"), {"language": "zh-hans", "next": "/"})

    buyer.refresh_from_db()
    assert buyer.preferred_language == "zh-hans"
    assert client.get(reverse("home")).headers["Content-Language"] == "zh-hans"


def test_anonymous_visitors_get_their_browsers_language(client):
    response = client.get(reverse("home"), headers={"accept-language": "es-ES,es;q=0.9"})

    assert response.headers["Content-Language"] == "es"


def test_the_inbox_marks_messages_read(client_for, buyer):
    from accounts.services import notify

    note = notify(user=buyer, kind="shop_rejected", context={"shop_name": "A", "reason": "B"})
    client = client_for(buyer)

    assert client.get(reverse("home")).context["unread_notifications"] == 1
    client.post(reverse("accounts:notifications-mark-read"))
    note.refresh_from_db()
    assert note.read_at is not None
