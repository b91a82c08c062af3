"""Order fixtures: the customs rule tables, shops with catalogs, and the stock invariant."""

from __future__ import annotations

import pytest
from allauth.core import ratelimit
from django.core.cache import cache
from django.db.models import Sum
from django.test import RequestFactory

from customs import fx
from customs.rulebook import invalidate_rules
from marketplace.listings.buyer import clear_rate_cache
from marketplace.listings.cache import GENERATION_KEY
from marketplace.listings.models import Variant
from marketplace.orders.locks import HOOKS
from marketplace.orders.models import OrderLine
from tests import customs_rules
from tests.orders import factories as f
from tests.orders.stripe_fakes import (  # noqa: F401
    connect_fake,
    localstripe,
    stripe_proxy,
    stripe_settings,
)

# The shared customs rule fixtures (tests/customs_rules.py), committed once per package.
_customs_rules_committed = customs_rules._customs_rules_committed
rules = customs_rules.rules


@pytest.fixture(autouse=True)
def _fresh_state(settings):
    settings.CUSTOMS_TAX_SCHEME_IDS = {"IOSS": "IM2760000001"}
    # Catalog pages are cached per catalog generation: a new generation drops them. (Never
    # cache.clear(): on Redis that flushes a database other test runs share.)
    cache.delete(GENERATION_KEY)
    fx.clear_cache()
    clear_rate_cache()
    invalidate_rules()
    HOOKS.reset()
    # Logins by earlier tests from the same address count against allauth's per-IP limit
    # (30/min): forget them without flushing a cache other runs share.
    ratelimit.clear(RequestFactory().get("/"), action="login")
    yield
    HOOKS.reset()
    fx.clear_cache()
    invalidate_rules()


@pytest.fixture
def us_shop(shop, seller):
    shop.signatory_name = "Sam Seller"
    shop.email = "ship@maple-thread.example"
    shop.address_line1 = "812 SW Washington St"
    shop.save()
    return shop


@pytest.fixture
def cn_shop(other_shop, other_seller):
    other_shop.signatory_name = "Li Wei"
    other_shop.address_line1 = "88 Wensan Road"
    other_shop.save()
    return other_shop


@pytest.fixture
def de_shop(db):
    from accounts.models import ShopMembership
    from tests.factories import MembershipFactory, UserFactory

    shop = f.german_shop()
    owner = UserFactory(email="jonas@example.test", name="Jonas Weber", country="DE")
    MembershipFactory(shop=shop, user=owner, role=ShopMembership.Role.OWNER)
    shop.owner = owner
    return shop


@pytest.fixture
def tshirt(rules, us_shop):
    """20.00 USD, 50 in stock, ships from the US to the EU (postal 6 + 2, courier 18 + 4)."""
    return f.make_listing(
        us_shop, title="Organic cotton T-shirt", price="20.00", stock=50, sku="TEE-M"
    )


@pytest.fixture
def scarf(rules, cn_shop):
    """180.00 CNY silk scarf from China (EU postal 45 + 15 CNY, courier 160 + 30 CNY)."""
    profile = f.make_profile(
        cn_shop,
        zones=[
            (["CN"], [("postal", "10.00", "2.00", 1, 3)]),
            (f.EU, [("postal", "45.00", "15.00", 8, 15), ("courier", "160.00", "30.00", 3, 5)]),
            (None, [("postal", "60.00", "20.00", 10, 20)]),
        ],
    )
    return f.make_listing(
        cn_shop,
        title="Silk scarf",
        price="180.00",
        stock=20,
        sku="SCARF-1",
        customs=f.SCARF,
        profile=profile,
    )


@pytest.fixture
def mug(rules, de_shop):
    """A domestic item for a German buyer: 12.50 EUR, no customs."""
    return f.make_listing(
        de_shop, title="Black Forest mug", price="12.50", stock=30, sku="MUG-1", customs=f.TEAPOT
    )


def sold_quantities() -> dict[int, int]:
    return {
        row["variant_id"]: row["sold"]
        for row in OrderLine.objects.values("variant_id").annotate(
            sold=Sum("quantity") - Sum("quantity_refunded")
        )
    }


@pytest.fixture
def stock_invariant():
    """``check(initial)``: initial stock == stock now + sold and not refunded, per variant."""

    def check(initial: dict[int, int]) -> list[str]:
        sold = sold_quantities()
        mismatches = []
        for variant in Variant.objects.filter(pk__in=initial):
            expected = initial[variant.pk]
            actual = variant.stock + sold.get(variant.pk, 0)
            if actual != expected or variant.stock < 0:
                mismatches.append(
                    f"{variant.sku}: initial {expected}, stock {variant.stock}, "
                    f"sold {sold.get(variant.pk, 0)}"
                )
        return mismatches

    return check


@pytest.fixture
def ledger_invariant():
    """``check()``: the ledger says what the payment rows say, nothing more.

    Every succeeded refund is booked once at minus its shop amount; a refund that did not
    succeed is not booked at all; a parcel never paid has no entries; a payment's refunded
    amount is the sum of its succeeded refunds (or all of it, for a late capture given back).
    """
    from django.db.models import Sum

    from marketplace.orders.models import LedgerEntry, Payment, Refund, ShopOrder

    def check() -> list[str]:
        problems = []
        for refund in Refund.objects.all():
            booked = list(LedgerEntry.objects.filter(key=f"refund:{refund.pk}"))
            if refund.status == Refund.Status.SUCCEEDED:
                if [e.amount for e in booked] != [-refund.amount_shop]:
                    problems.append(f"refund {refund.pk} booked as {booked}")
            elif booked:
                problems.append(f"refund {refund.pk} is {refund.status} but booked")
        for shop_order in ShopOrder.objects.filter(order__paid_at__isnull=True):
            if shop_order.ledger_entries.exists():
                problems.append(f"unpaid parcel {shop_order.pk} has ledger entries")
        for payment in Payment.objects.all():
            refunded = (
                payment.refunds.filter(status=Refund.Status.SUCCEEDED).aggregate(
                    total=Sum("amount")
                )["total"]
                or 0
            )
            if payment.amount_refunded not in (refunded, payment.amount):
                problems.append(
                    f"payment {payment.pk} refunded {payment.amount_refunded}, rows {refunded}"
                )
        return problems

    return check
