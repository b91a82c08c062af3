"""Issue 9: the shared catalog cache never holds one visitor's cart badge, messages or token.

Before the fix, whole anonymous list pages were cached with the header inside: a visitor with
seven items in the cart rendered the page first and the next anonymous visitor saw "Cart 7".
"""

import re

import pytest
from django.test import Client
from django.urls import reverse

pytestmark = pytest.mark.django_db


@pytest.fixture
def catalog_cache(settings):
    settings.LISTINGS_CACHE_SECONDS = 60


def _badge(html: str) -> str | None:
    match = re.search(r'data-cart-link>[^<]*(?:<span class="badge"[^>]*>(\d+)</span>)?', html)
    return match.group(1) if match else "no cart link"


def _token(html: str) -> str:
    return re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html).group(1)


def _pages(listing) -> list[str]:
    return [
        reverse("listings:category", kwargs={"path": listing.category.path}),
        reverse("listings:search") + "?q=cotton",
        reverse("listings:shop", kwargs={"slug": listing.shop.slug}),
        reverse("listings:category-index"),
        reverse("home"),
    ]


def test_two_anonymous_visitors_never_see_each_others_cart_badge(catalog_cache, tshirt):
    with_cart, without_cart = Client(), Client()
    variant, listing = tshirt, tshirt.listing
    response = with_cart.post(reverse("orders:cart-add"), {"variant": variant.pk, "quantity": 7})
    assert response.status_code == 302
    with_cart.get(reverse("orders:cart"))  # shows (and so consumes) the "in your cart" message
    # The message cookie is now expired; a browser drops it, the test client keeps it empty.
    if "messages" in with_cart.cookies and not with_cart.cookies["messages"].value:
        del with_cart.cookies["messages"]

    for url in _pages(listing):
        first = with_cart.get(url).content.decode()
        assert _badge(first) == "7", url
        other = without_cart.get(url).content.decode()
        assert _badge(other) is None, url
        assert "Organic cotton T-shirt" in other or url == reverse("listings:category-index")
        # And the other way round: the cart holder's next view still shows their own count.
        assert _badge(with_cart.get(url).content.decode()) == "7", url


def test_messages_and_csrf_tokens_are_per_visitor(catalog_cache, tshirt):
    url = _pages(tshirt.listing)[0]
    first, second = Client(enforce_csrf_checks=True), Client(enforce_csrf_checks=True)
    one = first.get(url).content.decode()
    # The second visitor has a pending flash message (a refused currency choice).
    second.post(
        reverse("listings:preferences"),
        {"csrfmiddlewaretoken": _token(second.get(url).content.decode()), "currency": "XXX"},
    )
    two = second.get(url).content.decode()
    assert "Choose a currency and a country from the lists." in two
    assert "Choose a currency and a country from the lists." not in one
    assert "Choose a currency" not in first.get(url).content.decode()
    assert _token(one) != _token(two)
    # The token in the page works for this visitor.
    response = second.post(
        reverse("listings:preferences"),
        {"csrfmiddlewaretoken": _token(two), "currency": "GBP", "next": url},
    )
    assert response.status_code == 302
