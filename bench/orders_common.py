"""Shared set-up of the orders benchmarks: a throw-away database, the customs rules, and a
small marketplace (a US, a Chinese and a German shop with two listings each, buyers in
Germany). Not a test module: imported by ``bench/orders_*.py``.
"""

from __future__ import annotations

import os
import sys
import tempfile
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def setup_django(*, eager: bool = False) -> Path:
    """Django on a fresh database in a temporary VAR_DIR (SQLite, or PostgreSQL with
    ``BENCH_DATABASE_URL`` pointing at an empty database); migrate; load the customs rules."""
    var = Path(tempfile.mkdtemp(prefix="tp-bench-orders-"))
    os.environ["VAR_DIR"] = str(var)
    os.environ.pop("DATABASE_URL", None)
    if os.environ.get("BENCH_DATABASE_URL"):
        os.environ["DATABASE_URL"] = os.environ["BENCH_DATABASE_URL"]
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "marketplace.settings")
    os.environ["CELERY_TASK_ALWAYS_EAGER"] = "1" if eager else "0"
    os.environ["LOG_LEVEL"] = "ERROR"
    os.environ.setdefault("CUSTOMS_TAX_SCHEME_IDS", "IOSS=IM2760000001")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from customs.loaders import load_all

    load_all()
    return var


def reset_database() -> None:
    """Empty the app tables of a reused PostgreSQL database (the bench owns it)."""
    from django.db import connection

    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND "
            "(tablename LIKE 'orders_%%' OR tablename LIKE 'listings_%%' OR "
            "tablename LIKE 'accounts_%%' OR tablename IN ('customs_quote', "
            "'customs_customsdeclaration', 'customs_declarationline', 'customs_paperworkjob', "
            "'customs_customsdocument', 'customs_screeninghit', 'django_session', "
            "'account_emailaddress'))"
        )
        tables = [row[0] for row in cursor.fetchall()]
        if tables:
            cursor.execute("TRUNCATE " + ", ".join(f'"{t}"' for t in tables) + " CASCADE")


def marketplace(*, stock: int = 1_000_000):
    """Three shops (US, CN, DE) with two listings each; returns the six variants."""
    from django.utils import timezone

    from accounts.models import Shop
    from marketplace.listings import services as catalog
    from marketplace.listings.models import (
        Category,
        Listing,
        ShippingProfile,
        ShippingRate,
        ShippingZone,
        Variant,
    )

    now = timezone.now()
    category = catalog.save_category(category=Category(name="Bench goods"))
    specs = [
        (
            "bench-us",
            "US",
            "USD",
            "America/New_York",
            "20.00",
            "6.00",
            [
                ("Organic cotton T-shirt", "610910", "Men's cotton T-shirt, knitted", "Cotton"),
                ("Canvas tote bag", "420222", "Cotton canvas tote bag", "Cotton canvas"),
            ],
        ),
        (
            "bench-cn",
            "CN",
            "CNY",
            "Asia/Shanghai",
            "180.00",
            "45.00",
            [
                ("Silk scarf", "621410", "Women's silk scarf, woven", "Silk"),
                (
                    "Porcelain tea cups",
                    "691110",
                    "Porcelain tea cups, set of 4, glazed",
                    "Porcelain",
                ),
            ],
        ),
        (
            "bench-de",
            "DE",
            "EUR",
            "Europe/Berlin",
            "25.00",
            "5.00",
            [
                (
                    "Beech cutting board",
                    "441919",
                    "Beech wood cutting board for kitchen use",
                    "Beech wood",
                ),
                ("Linen tea towels", "630251", "Linen kitchen tea towels, woven", "Linen"),
            ],
        ),
    ]
    variants = []
    for slug, country, currency, zone_name, price, ship, products in specs:
        shop = Shop.objects.create(
            legal_name=f"{slug} Ltd",
            display_name=slug,
            slug=slug,
            business_type="company",
            country=country,
            address_line1="1 Bench Street",
            city="Bench",
            postcode="1000",
            time_zone=zone_name,
            currency=currency,
            status=Shop.Status.APPROVED,
            signatory_name="Bea Bench",
            eori="DE123456789012345" if country == "DE" else "",
        )
        profile = catalog.save_shipping_profile(
            profile=ShippingProfile(shop=shop, name="Parcels"), now=now
        )
        for countries, rest in (([country], False), ([], True)):
            catalog.save_shipping_zone(
                zone=ShippingZone(
                    profile=profile, name="zone", countries=countries, rest_of_world=rest
                ),
                rates=[
                    ShippingRate(
                        service_level="postal",
                        first_item=Decimal(ship),
                        additional_item=Decimal("1.00"),
                        min_days=3,
                        max_days=9,
                    )
                ],
            )
        for n, (title, hs, description, material) in enumerate(products):
            listing = catalog.save_listing(
                listing=Listing(
                    shop=shop,
                    title=title,
                    category=category,
                    shipping_profile=profile,
                    hs_code=hs,
                    customs_description=description,
                    origin_country=country,
                    material=material,
                ),
                variants=[
                    Variant(
                        sku=f"{slug}-{n}",
                        price=Decimal(price),
                        stock=stock,
                        net_weight_kg=Decimal("0.250"),
                    )
                ],
                actor=None,
                now=now,
            )
            catalog.change_listing_status(
                listing=listing, target=Listing.Status.ACTIVE, actor=None, now=now
            )
            variants.append(listing.variants.get())
    return variants


def buyers(n: int, *, prefix: str = "bench"):
    """``n`` buyers in Berlin (verified email, default address), paying in EUR."""
    from allauth.account.models import EmailAddress

    from accounts.models import Address, User

    users = User.objects.bulk_create(
        User(
            email=f"{prefix}-{i}@buyer.bench",
            name=f"Buyer {i}",
            country="DE",
            preferred_currency="EUR",
            password="",
        )
        for i in range(n)
    )
    Address.objects.bulk_create(
        Address(
            user=u,
            name=u.name,
            line1="Unter den Linden 5",
            city="Berlin",
            postcode="10117",
            country="DE",
            is_default_shipping=True,
        )
        for u in users
    )
    EmailAddress.objects.bulk_create(
        EmailAddress(user=u, email=u.email, verified=True, primary=True) for u in users
    )
    return users
