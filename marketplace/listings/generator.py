"""A synthetic catalog for load tests: N listings with variants across many shops.

Rows are written with ``bulk_create`` in batches and the summaries (price range, export
flag, cover photo, search document) are filled in directly or with one statement, so 100,000
listings take minutes, not hours. The shape follows the real catalog: shops in many
countries and currencies, 1-4 variants per listing, customs data on most listings, a
shipping profile per shop, publication dates over a year, a pool of shared photos.
Generated shops have slugs starting with ``gen-``; ``clear_generated`` removes them again.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import connection, transaction

from accounts.models import Shop
from marketplace.core.money import quantize
from marketplace.listings import demo
from marketplace.listings.cache import bump_catalog_generation
from marketplace.listings.images import render_thumbnails
from marketplace.listings.models import (
    Category,
    Listing,
    ListingImage,
    ShippingProfile,
    ShippingRate,
    ShippingZone,
    Variant,
)
from marketplace.listings.pricing import eur_factors, sort_price_expression
from marketplace.listings.search import refresh_search_vectors

PREFIX = "gen-"

# (product, HS code, category path, materials, drawing shape, weight kg, price in EUR)
PRODUCTS = [
    ("T-shirt", "610910", "clothing/tops", ["cotton", "organic cotton"], "tshirt", "0.18", 25),
    ("sweater", "611020", "clothing/knitwear", ["cotton", "cotton-linen"], "tshirt", "0.45", 70),
    ("beanie", "650500", "clothing/knitwear", ["merino wool", "alpaca wool"], "beanie", "0.08", 28),
    ("scarf", "621410", "clothing/scarves", ["silk", "mulberry silk"], "scarf", "0.06", 55),
    ("knitted scarf", "611710", "clothing/scarves", ["wool", "cashmere"], "scarf", "0.15", 60),
    ("socks", "611595", "clothing/footwear", ["cotton", "organic cotton"], "slipper", "0.06", 12),
    ("slippers", "640420", "clothing/footwear", ["wool felt", "boiled wool"], "slipper", "0.4", 55),
    ("mug", "691200", "home/tableware", ["stoneware", "earthenware"], "mug", "0.35", 22),
    ("tea cup", "691110", "home/tableware", ["porcelain", "bone china"], "cups", "0.15", 18),
    ("teapot", "691200", "home/tableware", ["stoneware", "clay"], "teapot", "0.6", 65),
    ("drinking glass", "701337", "home/tableware", ["recycled glass", "glass"], "cups", "0.2", 14),
    ("cutting board", "441990", "home/wood", ["walnut wood", "oak wood"], "board", "1.1", 45),
    ("serving board", "441911", "home/wood", ["bamboo"], "board", "0.8", 30),
    ("tea towel", "630299", "home/textiles", ["linen", "half-linen"], "towel", "0.1", 15),
    ("hand towel", "630260", "home/textiles", ["cotton terry"], "towel", "0.2", 18),
    ("vase", "691390", "home/decor", ["stoneware", "terracotta"], "cups", "0.9", 48),
    ("candle", "340600", "home/decor", ["soy wax", "beeswax"], "tin", "0.3", 19),
    ("wall clock", "910529", "home/decor", ["oak wood", "beech wood"], "clock", "1.0", 120),
    ("pendant", "711620", "jewellery/pendants", ["jade", "agate"], "pendant", "0.02", 80),
    ("silver ring", "711311", "jewellery/pendants", ["sterling silver"], "pendant", "0.01", 70),
    ("tote bag", "420222", "jewellery/bags", ["cotton canvas", "jute"], "bag", "0.25", 24),
    ("wallet", "420231", "jewellery/bags", ["vegetable-tanned leather"], "bag", "0.1", 45),
    ("black tea", "090230", "food/tea", ["black tea leaves"], "tin", "0.25", 12),
    ("green tea", "090210", "food/tea", ["green tea leaves"], "tin", "0.1", 14),
    ("tea strainer", "732393", "food/tea-tools", ["stainless steel"], "pendant", "0.06", 9),
    ("notebook", "482010", "toys", ["recycled paper"], "tin", "0.3", 16),
    ("toy train", "950300", "toys/wooden", ["beech wood", "maple wood"], "train", "0.7", 39),
    ("soap bar", "340111", "home/decor", ["olive oil"], "tin", "0.12", 8),
]
ADJECTIVES = [
    "hand-thrown", "hand-knitted", "organic", "vintage-style", "minimalist", "rustic",
    "handmade", "small-batch", "classic", "striped", "speckled", "natural", "indigo-dyed",
    "Nordic", "Japanese-style", "heritage", "artisan", "everyday", "travel", "oversized",
]  # fmt: skip
COLOURS = ["navy", "sage", "rust", "ivory", "charcoal", "ochre", "teal", "plum", "sand", "olive"]
SIZES = ["S", "M", "L", "XL"]
TEMPLATES = [
    "Made by hand from {material} in our {city} workshop. {extra}",
    "A {adjective} {product} in {colour}, {material} throughout. {extra}",
    "Our best-selling {product}: {material}, finished by hand and checked one by one. {extra}",
    "Designed for daily use: {material}, easy to care for, built to last. {extra}",
]
EXTRAS = [
    "Ships in recycled packaging.",
    "Each piece varies slightly: that is the charm of handwork.",
    "Gift-wrapped on request.",
    "Pairs well with the rest of the collection.",
    "Care: wash gently, dry flat.",
    "Limited run; restocked every season.",
]
# (country, currency, time zone, city, EUR -> currency factor for realistic prices)
ORIGINS = [
    ("US", "USD", "America/New_York", "Portland", Decimal("1.17")),
    ("CN", "CNY", "Asia/Shanghai", "Hangzhou", Decimal("8.3")),
    ("DE", "EUR", "Europe/Berlin", "Leipzig", Decimal("1")),
    ("GB", "GBP", "Europe/London", "Bristol", Decimal("0.85")),
    ("JP", "JPY", "Asia/Tokyo", "Kyoto", Decimal("163")),
    ("FR", "EUR", "Europe/Paris", "Lyon", Decimal("1")),
    ("AU", "AUD", "Australia/Sydney", "Hobart", Decimal("1.8")),
    ("CA", "CAD", "America/Toronto", "Montreal", Decimal("1.6")),
    ("IT", "EUR", "Europe/Rome", "Florence", Decimal("1")),
    ("CH", "CHF", "Europe/Zurich", "Bern", Decimal("0.94")),
    ("NZ", "NZD", "Pacific/Auckland", "Nelson", Decimal("1.95")),
    ("MX", "MXN", "America/Mexico_City", "Oaxaca", Decimal("21")),
]
PHOTO_POOL = 24


@dataclass
class Generated:
    shops: int = 0
    listings: int = 0
    variants: int = 0


def _photo_pool(rng: random.Random) -> list[tuple[str, str, str]]:
    """(image, thumbnail, large) storage names of shared generated photos."""
    pool = []
    for n in range(PHOTO_POOL):
        product = PRODUCTS[n % len(PRODUCTS)]
        colour = tuple(rng.randrange(40, 220) for _ in range(3))
        data = demo.draw_product(product[4], colour, product[0].capitalize(), variant=n)
        base = f"listings/generated/photo-{n:02d}"
        names = []
        thumb, large = render_thumbnails(data)
        for suffix, payload in (("jpg", data), ("thumbnail.webp", thumb), ("large.webp", large)):
            name = f"{base}.{suffix}" if suffix == "jpg" else f"{base}-{suffix}"
            if default_storage.exists(name):
                default_storage.delete(name)
            names.append(default_storage.save(name, ContentFile(payload)))
        pool.append(tuple(names))
    return pool


def _shops(count: int, rng: random.Random, now: datetime) -> list[Shop]:
    shops = []
    for n in range(count):
        country, currency, tz, city, _ = ORIGINS[n % len(ORIGINS)]
        word = rng.choice(["Studio", "Workshop", "Goods", "Atelier", "Supply", "Craft", "Co."])
        name = f"{city} {word} {n + 1}"
        shops.append(
            Shop(
                legal_name=f"{name} Ltd",
                display_name=name,
                slug=f"{PREFIX}{n + 1}",
                business_type=Shop.BusinessType.COMPANY,
                country=country,
                address_line1=f"{n + 1} Market Street",
                city=city,
                time_zone=tz,
                currency=currency,
                status=Shop.Status.APPROVED,
                reviewed_at=now,
                signatory_name="Generated Signatory",
                created_at=now - timedelta(days=400),
            )
        )
    return Shop.objects.bulk_create(shops, batch_size=500)


def _profiles(shops: list[Shop], now: datetime) -> dict[int, ShippingProfile]:
    profiles = ShippingProfile.objects.bulk_create(
        [
            ShippingProfile(shop=shop, name="Standard", handling_days=2, created_at=now)
            for shop in shops
        ]
    )
    zones, rates = [], []
    for profile, shop in zip(profiles, shops, strict=True):
        home = ShippingZone(profile=profile, name="Domestic", countries=[shop.country.code])
        europe = ShippingZone(
            profile=profile,
            name="Europe",
            countries=[c for c in (*demo.EU, "GB", "CH", "NO") if c != shop.country.code],
        )
        world = ShippingZone(profile=profile, name="Everywhere else", rest_of_world=True)
        zones += [home, europe, world]
    zones = ShippingZone.objects.bulk_create(zones, batch_size=1000)
    for index, zone in enumerate(zones):
        factor = next(o[4] for o in ORIGINS if o[1] == shops[index // 3].currency)
        base = {0: Decimal(5), 1: Decimal(14), 2: Decimal(22)}[index % 3]
        currency = shops[index // 3].currency
        rates.append(
            ShippingRate(
                zone=zone,
                service_level=ShippingRate.ServiceLevel.POSTAL,
                first_item=quantize(base * factor, currency),
                additional_item=quantize(base * factor / 4, currency),
                min_days=[2, 5, 8][index % 3],
                max_days=[5, 10, 21][index % 3],
            )
        )
    ShippingRate.objects.bulk_create(rates, batch_size=2000)
    return {p.shop_id: p for p in profiles}


def generate_catalog(
    *, listings: int, shops: int | None = None, seed: int = 1, now: datetime, batch: int = 2000,
    progress=None,
) -> Generated:  # fmt: skip
    """Add ``listings`` generated listings (active, mostly export-ready) to the catalog."""
    rng = random.Random(seed)
    categories = {c.path: c for c in Category.objects.all()}
    if not all(product[2] in categories for product in PRODUCTS):
        categories = demo.seed_categories()
    shop_count = shops or max(4, listings // 500)
    result = Generated()
    with transaction.atomic():
        shop_rows = _shops(shop_count, rng, now)
        profiles = _profiles(shop_rows, now)
    result.shops = len(shop_rows)
    pool = _photo_pool(rng)
    for start in range(0, listings, batch):
        size = min(batch, listings - start)
        with transaction.atomic():
            made = _batch(size, start, rng, shop_rows, profiles, categories, pool, now)
        result.listings += size
        result.variants += made
        if progress:
            progress(result.listings)
    generated = Listing.objects.filter(shop__slug__startswith=PREFIX)
    refresh_search_vectors(generated.values_list("pk", flat=True))
    generated.update(sort_price=sort_price_expression(eur_factors()))
    if connection.vendor == "postgresql" and not connection.in_atomic_block:
        # Fresh statistics for the planner, and the visibility map that lets the covering
        # facet index answer without touching the table (what autovacuum would do later).
        with connection.cursor() as cursor:
            for table in (
                "accounts_shop",
                "listings_listing",
                "listings_variant",
                "listings_listingimage",
                "listings_shippingprofile",
                "listings_shippingzone",
                "listings_shippingrate",
            ):
                cursor.execute(f"VACUUM ANALYZE {table}")
    bump_catalog_generation()
    return result


def _batch(size, start, rng, shops, profiles, categories, pool, now) -> int:
    rows, variant_specs = [], []
    for n in range(size):
        shop = shops[rng.randrange(len(shops))]
        country, currency, _tz, city, factor = next(o for o in ORIGINS if o[0] == shop.country.code)
        product, hs, path, materials, _shape, weight, eur = rng.choice(PRODUCTS)
        adjective, colour, material = (
            rng.choice(ADJECTIVES),
            rng.choice(COLOURS),
            rng.choice(materials),
        )
        title = f"{adjective.capitalize()} {material} {product}"
        if rng.random() < 0.5:
            title += f", {colour}"
        description = rng.choice(TEMPLATES).format(
            material=material, city=city, adjective=adjective, product=product, colour=colour,
            extra=rng.choice(EXTRAS),
        )  # fmt: skip
        customs = rng.random() < 0.85
        base = quantize(Decimal(eur) * factor * Decimal(rng.uniform(0.6, 1.8)), currency)
        count = rng.choice([1, 1, 2, 3, 4])
        specs = []
        for v in range(count):
            price = base if v < 2 else quantize(base * Decimal("1.1"), currency)
            specs.append(
                (
                    f"G{start + n}-{v}",
                    {"size": SIZES[v]} if count > 1 else {},
                    price,
                    0 if rng.random() < 0.08 else rng.randrange(1, 60),
                    Decimal(weight) if customs else None,
                )
            )
        published = now - timedelta(minutes=rng.randrange(0, 365 * 24 * 60))
        rows.append(
            Listing(
                shop=shop,
                title=title,
                slug=title.lower().replace(",", "").replace(" ", "-")[:80],
                description=description,
                category=categories[path],
                status=Listing.Status.ACTIVE,
                shipping_profile=profiles[shop.pk],
                hs_code=hs if customs else "",
                customs_description=f"{material.capitalize()} {product}" if customs else "",
                origin_country=country if customs else "",
                material=material if customs else "",
                currency=currency,
                price_min=min(s[2] for s in specs),
                price_max=max(s[2] for s in specs),
                export_ready=customs,
                created_at=published,
                updated_at=published,
                published_at=published,
            )
        )
        variant_specs.append(specs)
    rows = Listing.objects.bulk_create(rows)
    variants, images = [], []
    for listing, specs in zip(rows, variant_specs, strict=True):
        for position, (sku, options, price, stock, weight) in enumerate(specs):
            variants.append(
                Variant(
                    listing=listing, shop_id=listing.shop_id, sku=sku, options=options,
                    price=price, stock=stock, net_weight_kg=weight, position=position,
                    created_at=listing.created_at, updated_at=listing.created_at,
                )
            )  # fmt: skip
        image, thumbnail, large = pool[rng.randrange(len(pool))]
        images.append(
            ListingImage(
                listing=listing, image=image, thumbnail=thumbnail, large=large, width=900,
                height=900, alt_text=listing.title, sha256="generated",
                thumbnail_status=ListingImage.ThumbnailStatus.READY, created_at=now,
            )
        )  # fmt: skip
    Variant.objects.bulk_create(variants, batch_size=5000)
    images = ListingImage.objects.bulk_create(images, batch_size=5000)
    for listing, image in zip(rows, images, strict=True):
        listing.cover_image = image
    Listing.objects.bulk_update(rows, ["cover_image"], batch_size=2000)
    return len(variants)


def clear_generated() -> int:
    """Delete every generated shop with its listings (not the shared photo files)."""
    shops = Shop.objects.filter(slug__startswith=PREFIX)
    listings = Listing.objects.filter(shop__in=shops)
    count = listings.count()
    with transaction.atomic():
        Listing.objects.filter(pk__in=listings.values("pk")).update(cover_image=None)
        ListingImage.objects.filter(listing__in=listings).delete()
        Variant.objects.filter(shop__in=shops).delete()
        listings.delete()
        ShippingProfile.objects.filter(shop__in=shops).delete()
        shops.delete()
    bump_catalog_generation()
    return count
