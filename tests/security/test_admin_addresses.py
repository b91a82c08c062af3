"""The admin shows a declaration's sender and addressee as postal addresses, not raw JSON.

Regression (issue 9, "Admin"): the snapshots were printed as ``{"name": "Bea Buyer", ...}``.
"""

from __future__ import annotations

import pytest
from django.urls import reverse

from tests.customs.factories import make_declaration


@pytest.mark.django_db
def test_declaration_parties_render_as_addresses(rules, shop, staff, client_for, run_on_commit):
    shop.signatory_name = "Sam Seller"
    shop.save()
    with run_on_commit():
        declaration = make_declaration(shop)

    page = client_for(staff).get(
        reverse("admin:customs_customsdeclaration_change", args=[declaration.pk])
    )

    html = page.content.decode()
    assert page.status_code == 200
    assert "Bea Buyer<br>Torstraße 1<br>10119 BERLIN<br>GERMANY<br>" in html
    assert "Tel. +49 30 1234567<br>Email buyer@example.test" in html
    assert '"address_lines"' not in html and "&quot;address_lines&quot;" not in html
