"""Addresses follow their country's rules (marketplace.core.addresses) on the forms."""

from __future__ import annotations

import pytest
from django.urls import reverse

from accounts.models import Address
from tests.accounts.test_profile_and_addresses import ADDRESS

pytestmark = pytest.mark.django_db
URL = "accounts:address-create"


def post(client, **changes):
    return client.post(reverse(URL), {**ADDRESS, **changes})


def test_a_us_address_needs_its_state_and_a_real_zip_code(client_for, stranger):
    response = post(
        client_for(stranger), country="US", line1="500 7th Avenue", city="New York",
        postcode="1001", phone="+1 212 555 0142",
    )  # fmt: skip
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert errors["region"] == [
        "This field is required for an address in United States of America."
    ]
    assert errors["postcode"] == [
        "This does not look like a postcode in United States of America, e.g. 95014."
    ]
    assert not Address.objects.exists()


def test_the_region_is_stored_by_its_code_and_printed_after_the_city(client_for, stranger):
    client = client_for(stranger)
    post(
        client, country="AU", line1="1 George Street", city="Sydney",
        region="New South Wales", postcode="2000", phone="02 9374 4000",
    )  # fmt: skip
    address = stranger.addresses.get()
    assert (address.region, str(address.phone)) == ("NSW", "+61293744000")
    page = client.get(reverse("accounts:address-list")).content.decode()
    assert "SYDNEY NSW 2000" in page
    assert "2000 Sydney" not in page


def test_an_unknown_region_lists_the_choices(client_for, stranger):
    response = post(
        client_for(stranger), country="AU", line1="1 George Street", city="Sydney",
        region="Narnia", postcode="2000", phone="02 9374 4000",
    )  # fmt: skip
    assert "Choose one of: ACT, JBT, NSW" in response.context["form"].errors["region"][0]


def test_destinations_whose_carriers_need_a_phone_ask_for_one(client_for, stranger):
    response = post(
        client_for(stranger), country="CN", name="Zhang Wei", line1="Lianshe Beilu 1",
        city="Jingdezhen", region="Jiangxi Sheng", postcode="333000", phone="",
    )  # fmt: skip
    assert response.context["form"].errors["phone"] == [
        "Carriers delivering to China need a phone number."
    ]
    response = post(client_for(stranger), phone="")  # France: optional
    assert response.status_code == 302


def test_a_national_number_is_read_in_the_address_country(client_for, stranger):
    response = post(client_for(stranger), phone="01 42 60 30 00")
    assert response.status_code == 302
    assert str(stranger.addresses.get().phone) == "+33142603000"
    response = post(client_for(stranger), phone="12345")
    assert response.context["form"].errors["phone"] == [
        "Enter a phone number valid in France, or with its + country code."
    ]


def test_a_chinese_address_comes_back_once_with_a_latin_line_to_check(client_for, stranger):
    client = client_for(stranger)
    data = {
        "country": "CN", "name": "张伟", "line1": "莲社北路1号", "city": "景德镇市",
        "region": "江西省", "postcode": "333000", "phone": "0798 822 1234", "latin": "",
    }  # fmt: skip
    response = post(client, **data)
    assert response.status_code == 200 and not Address.objects.exists()
    form = response.context["form"]
    suggestion = "Zhang Wei, Lian She Bei Lu 1 Hao, Jingdezhen Shi, JIANGXI SHENG, 333000, CHINA"
    assert form["latin"].value() == suggestion
    assert f'value="{suggestion}"' in response.content.decode()
    # The buyer corrects the romanisation and saves: their version is kept.
    mine = "Zhang Wei, 1 Lianshe North Road, Jingdezhen, Jiangxi 333000, China"
    assert post(client, **{**data, "latin": mine}).status_code == 302
    address = stranger.addresses.get()
    assert (address.name, address.latin, str(address.phone)) == ("张伟", mine, "+867988221234")


@pytest.mark.parametrize("city", ["Par\x00is", "P" * 101])
def test_bad_input_is_a_form_error_not_a_500(client_for, stranger, city):
    response = post(client_for(stranger), city=city)
    assert response.status_code == 200
    assert "city" in response.context["form"].errors


def test_a_shop_needs_a_phone_and_gets_a_latin_ship_from_line(client_for, stranger):
    from accounts.models import Shop
    from tests.accounts.test_seller_onboarding import APPLICATION

    client = client_for(stranger)
    chinese = {
        **APPLICATION, "legal_name": "景德镇青花瓷器有限公司", "country": "CN",
        "address_line1": "莲社北路1号", "city": "景德镇市", "region": "江西省",
        "postcode": "333000", "phone": "",
    }  # fmt: skip
    response = client.post(reverse("accounts:shop-apply"), chinese)
    assert response.context["form"].errors["phone"] == [
        "Customs declarations carry the sender's phone number."
    ]
    response = client.post(reverse("accounts:shop-apply"), {**chinese, "phone": "0798 822 1234"})
    form = response.context["form"]
    assert list(form.errors) == ["latin_address"]
    suggestion = form["latin_address"].value()
    assert suggestion.startswith("Jing De Zhen Qing Hua Ci Qi You Xian Gong Si, Lian She Bei Lu")
    client.post(reverse("accounts:shop-apply"), {**chinese, "phone": "0798 822 1234",
                                                 "latin_address": suggestion})  # fmt: skip
    shop = Shop.objects.get()
    assert (shop.latin_address, str(shop.phone)) == (suggestion, "+867988221234")
    assert shop.ship_from_lines()[:2] == ["333000", "江西省景德镇市"]


def test_destinations_that_ask_the_importers_tax_number_get_it_validated(client_for, stranger):
    client = client_for(stranger)
    brazil = {
        "country": "BR", "name": "Ana Souza", "line1": "Rua Augusta 1500", "city": "São Paulo",
        "region": "SP", "postcode": "01304-001", "phone": "+55 11 3333 4444",
    }  # fmt: skip
    response = post(client, **brazil, tax_reference="")
    assert response.context["form"].errors["tax_reference"] == [
        "Customs in Brazil ask for your CPF (or CNPJ) on every parcel."
    ]
    response = post(client, **brazil, tax_reference="390.533.447-06")
    assert response.context["form"].errors["tax_reference"] == [
        "CPF (or CNPJ): not a valid CPF or CNPJ (check digits)."
    ]
    assert post(client, **brazil, tax_reference="39053344705").status_code == 302
    assert stranger.addresses.get().tax_reference == "390.533.447-05"
    korea = {
        "country": "KR", "name": "Kim Minjun", "line1": "Teheran-ro 152", "city": "Gangnam-gu",
        "region": "Seoul", "postcode": "06236", "phone": "+82 2 1234 5678",
    }  # fmt: skip
    response = post(client, **korea, tax_reference="P1234")
    assert "P and 12 digits" in response.context["form"].errors["tax_reference"][0]


def test_the_importers_tax_number_goes_in_the_importer_reference_box(buyer):
    from customs.services import PartyAddress
    from tests.factories import AddressFactory

    address = AddressFactory(user=buyer, country="BR", city="São Paulo", region="SP",
                             is_default_shipping=False,
                             postcode="01304-001", tax_reference="390.533.447-05")  # fmt: skip
    party = PartyAddress.from_address(address)
    assert party.snapshot()["reference"] == "390.533.447-05"
