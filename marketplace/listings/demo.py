"""Demo catalog: a category tree, the four demo shops' products, photos and shipping.

Products carry real HS 2022 subheadings, countries of origin, materials and ICS2-clean
customs descriptions. Photos are drawn with Pillow at seed time (no downloads) and go through
the same upload path as a seller's (validated, re-encoded, thumbnails). Running the seeder
again updates what it created and adds nothing twice.
"""

from __future__ import annotations

import io
import math
from datetime import datetime, timedelta
from decimal import Decimal

from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image, ImageDraw, ImageFont

from accounts.models import Shop, User
from marketplace.listings import services
from marketplace.listings.models import (
    Category,
    Listing,
    ShippingProfile,
    ShippingRate,
    ShippingZone,
    Variant,
)

# (path, English, Simplified Chinese, Spanish, featured)
CATEGORIES = [
    ("clothing", "Clothing", "服装", "Ropa", True),
    ("clothing/tops", "T-shirts & tops", "T恤和上衣", "Camisetas y tops", False),
    ("clothing/knitwear", "Knitwear & hats", "针织衫和帽子", "Punto y gorros", False),
    ("clothing/scarves", "Scarves & shawls", "围巾和披肩", "Bufandas y chales", False),
    ("clothing/footwear", "Slippers & footwear", "拖鞋和鞋类", "Zapatillas y calzado", False),
    ("home", "Home & kitchen", "家居与厨房", "Hogar y cocina", True),
    ("home/tableware", "Cups, mugs & teapots", "杯子和茶壶", "Tazas y teteras", False),
    ("home/wood", "Wooden kitchenware", "木制厨具", "Utensilios de madera", False),
    ("home/textiles", "Kitchen textiles", "厨房纺织品", "Textiles de cocina", False),
    ("home/decor", "Clocks & decor", "钟表与装饰", "Relojes y decoración", False),
    ("jewellery", "Jewellery & bags", "珠宝与包袋", "Joyería y bolsos", True),
    ("jewellery/pendants", "Pendants & necklaces", "吊坠和项链", "Colgantes y collares", False),
    ("jewellery/bags", "Bags & totes", "包袋", "Bolsos", False),
    ("food", "Tea & pantry", "茶与食品", "Té y despensa", True),
    ("food/tea", "Tea", "茶", "Té", False),
    ("food/tea-tools", "Tea tools", "茶具", "Utensilios para té", False),
    ("toys", "Toys & games", "玩具与游戏", "Juguetes y juegos", True),
    ("toys/wooden", "Wooden toys", "木制玩具", "Juguetes de madera", False),
]

EU = [
    "AT", "BE", "BG", "CY", "CZ", "DE", "DK", "EE", "ES", "FI", "FR", "GR", "HR", "HU",
    "IE", "IT", "LT", "LU", "LV", "MT", "NL", "PL", "PT", "RO", "SE", "SI", "SK",
]  # fmt: skip
ASIA = ["JP", "KR", "SG", "HK", "TW", "MY", "TH", "VN", "PH", "ID"]

# shop -> list of (zone name, countries or None = everywhere else,
#                  [(service, first, additional, min days, max days), ...])
SHIPPING = {
    "maple-thread": (
        "Standard shipping",
        2,
        [
            (
                "United States",
                ["US"],
                [("postal", "5.00", "1.00", 3, 5), ("courier", "12.00", "2.00", 1, 2)],
            ),
            ("Canada and Mexico", ["CA", "MX"], [("postal", "14.00", "3.00", 6, 10)]),
            ("Europe", [*EU, "GB", "CH", "NO"], [("postal", "19.00", "4.00", 7, 14)]),
            ("Everywhere else", None, [("postal", "25.00", "6.00", 10, 21)]),
        ],
    ),
    "jade-studio": (
        "China Post and EMS",
        3,
        [
            ("China", ["CN"], [("postal", "10.00", "3.00", 2, 4)]),
            (
                "Asia",
                ASIA,
                [("postal", "80.00", "20.00", 5, 9), ("courier", "160.00", "30.00", 2, 4)],
            ),
            ("Everywhere else", None, [("postal", "150.00", "40.00", 10, 20)]),
        ],
    ),
    "black-forest-goods": (
        "DHL Paket",
        1,
        [
            ("Germany", ["DE"], [("postal", "4.90", "1.00", 1, 3)]),
            (
                "European Union",
                [c for c in EU if c != "DE"],
                [("postal", "12.00", "2.50", 3, 7), ("courier", "25.00", "5.00", 1, 3)],
            ),
            ("UK, Switzerland, Norway", ["GB", "CH", "NO"], [("postal", "18.00", "4.00", 4, 9)]),
            ("Everywhere else", None, [("postal", "29.00", "7.00", 8, 18)]),
        ],
    ),
    "thames-tea": (
        "Royal Mail",
        1,
        [
            ("United Kingdom", ["GB"], [("postal", "3.20", "0.80", 1, 3)]),
            ("Europe", [*EU, "CH", "NO"], [("postal", "9.50", "2.00", 4, 8)]),
            ("Everywhere else", None, [("postal", "14.00", "3.00", 7, 14)]),
        ],
    ),
}

# shop -> products: title, category, description, customs (hs, description, origin,
# material) or None (domestic only), variants [(sku, options, price, stock, kg)],
# drawing (shape, colour), status
PRODUCTS = {
    "maple-thread": [
        (
            "Organic cotton T-shirt",
            "clothing/tops",
            "Heavyweight organic cotton jersey, cut and sewn in Portland. Pre-shrunk, with a "
            "taped neck that keeps its shape wash after wash.",
            ("610910", "Men's cotton T-shirt, knitted", "US", "100% organic cotton"),
            [
                ("MT-TEE-S", {"size": "S"}, "28.00", 14, "0.170"),
                ("MT-TEE-M", {"size": "M"}, "28.00", 22, "0.180"),
                ("MT-TEE-L", {"size": "L"}, "28.00", 3, "0.190"),
                ("MT-TEE-XL", {"size": "XL"}, "30.00", 0, "0.205"),
            ],
            ("tshirt", (46, 94, 140)),
            Listing.Status.ACTIVE,
        ),
        (
            "Merino wool beanie",
            "clothing/knitwear",
            "Rib-knitted from soft merino wool; warm without the itch.",
            ("650500", "Knitted merino wool beanie hat", "US", "merino wool"),
            [
                ("MT-BEANIE-RUST", {"colour": "Rust"}, "32.00", 18, "0.080"),
                ("MT-BEANIE-NAVY", {"colour": "Navy"}, "32.00", 9, "0.080"),
            ],
            ("beanie", (176, 84, 48)),
            Listing.Status.ACTIVE,
        ),
        (
            "Cotton flannel shirt",
            "clothing/tops",
            "Brushed cotton flannel woven in Portugal, finished in our Portland workshop.",
            ("620520", "Men's cotton flannel shirt, woven", "PT", "100% cotton flannel"),
            [
                ("MT-FLANNEL-M", {"size": "M"}, "68.00", 6, "0.350"),
                ("MT-FLANNEL-L", {"size": "L"}, "68.00", 4, "0.370"),
            ],
            ("tshirt", (150, 40, 40)),
            Listing.Status.ACTIVE,
        ),
        (
            "Canvas tote bag",
            "jewellery/bags",
            "A sturdy 12 oz cotton canvas tote with an inside pocket.",
            ("420222", "Cotton canvas tote bag", "US", "cotton canvas"),
            [("MT-TOTE", {}, "24.00", 40, "0.210")],
            ("bag", (214, 196, 160)),
            Listing.Status.ACTIVE,
        ),
        (
            "Hand-dyed cotton bandana",
            "clothing/scarves",
            "Each one dyed by hand with indigo; no two alike. (We only ship these within the "
            "US while we finish the customs paperwork.)",
            None,
            [("MT-BANDANA", {}, "14.00", 25, "")],
            ("scarf", (38, 64, 120)),
            Listing.Status.ACTIVE,
        ),
    ],
    "jade-studio": [
        (
            "Celadon porcelain tea cups, set of 4",
            "home/tableware",
            "Longquan-style celadon glaze on thin porcelain; each cup holds 80 ml.",
            ("691110", "Porcelain tea cups, set of 4, glazed", "CN", "porcelain"),
            [("JS-CUPS-4", {}, "268.00", 12, "0.400")],
            ("cups", (128, 170, 150)),
            Listing.Status.ACTIVE,
        ),
        (
            "Yixing clay teapot",
            "home/tableware",
            "Hand-built from purple Yixing clay, unglazed so it seasons with every brew. 200 ml.",
            ("691200", "Stoneware clay teapot, unglazed", "CN", "Yixing clay (stoneware)"),
            [("JS-TEAPOT-200", {"volume": "200 ml"}, "480.00", 5, "0.320")],
            ("teapot", (120, 62, 46)),
            Listing.Status.ACTIVE,
        ),
        (
            "Nephrite jade pendant",
            "jewellery/pendants",
            "A hand-carved nephrite jade disc on a braided silk cord.",
            ("711620", "Nephrite jade pendant on silk cord", "CN", "nephrite jade, silk"),
            [
                ("JS-JADE-S", {"size": "25 mm"}, "690.00", 4, "0.015"),
                ("JS-JADE-L", {"size": "35 mm"}, "890.00", 2, "0.025"),
            ],
            ("pendant", (70, 140, 96)),
            Listing.Status.ACTIVE,
        ),
        (
            "Printed silk scarf",
            "clothing/scarves",
            "Mulberry silk twill from Hangzhou, printed with a plum-blossom pattern.",
            ("621410", "Women's silk scarf, printed, woven", "CN", "100% mulberry silk"),
            [("JS-SCARF-PLUM", {"pattern": "Plum blossom"}, "360.00", 15, "0.060")],
            ("scarf", (196, 70, 110)),
            Listing.Status.ACTIVE,
        ),
        (
            "Bamboo tea tray",
            "food/tea-tools",
            "A slatted bamboo tray with a drip basin, for gongfu tea.",
            ("441919", "Bamboo tea tray", "CN", "bamboo"),
            [("JS-TRAY", {}, "158.00", 0, "0.900")],
            ("board", (190, 160, 90)),
            Listing.Status.ACTIVE,
        ),
    ],
    "black-forest-goods": [
        (
            "Black Forest cuckoo clock",
            "home/decor",
            "A one-day mechanical cuckoo clock, carved from linden wood in Triberg.",
            ("910529", "Wooden cuckoo wall clock, mechanical", "DE", "linden wood"),
            [("BF-CUCKOO", {}, "189.00", 3, "1.200")],
            ("clock", (92, 60, 36)),
            Listing.Status.ACTIVE,
        ),
        (
            "Walnut cutting board",
            "home/wood",
            "End-grain walnut from the Kaiserstuhl, oiled with linseed.",
            ("441990", "Walnut wood cutting board", "DE", "walnut wood"),
            [
                ("BF-BOARD-M", {"size": "30 x 20 cm"}, "45.00", 11, "0.900"),
                ("BF-BOARD-L", {"size": "40 x 28 cm"}, "65.00", 6, "1.600"),
            ],
            ("board", (100, 66, 40)),
            Listing.Status.ACTIVE,
        ),
        (
            "Felted wool slippers",
            "clothing/footwear",
            "Boiled-wool slippers on a leather sole; warm feet through the winter.",
            ("640420", "Men's felted wool slippers, leather soles", "DE", "wool felt, leather"),
            [
                ("BF-SLIPPER-42", {"size": "EU 42"}, "59.00", 5, "0.420"),
                ("BF-SLIPPER-44", {"size": "EU 44"}, "59.00", 2, "0.450"),
            ],
            ("slipper", (120, 120, 128)),
            Listing.Status.ACTIVE,
        ),
        (
            "Wooden toy train",
            "toys/wooden",
            "Beech-wood engine and three wagons, finished with water-based colours.",
            ("950300", "Wooden toy train set for children", "DE", "beech wood"),
            [("BF-TRAIN", {}, "39.00", 20, "0.700")],
            ("train", (200, 50, 40)),
            Listing.Status.ACTIVE,
        ),
        (
            "Linen tea towels, set of 2",
            "home/textiles",
            "Half-linen tea towels woven in Saxony.",
            ("630299", "Linen kitchen tea towels, woven, set of 2", "DE", "linen"),
            [("BF-TOWELS", {}, "22.00", 30, "0.220")],
            ("towel", (200, 190, 170)),
            Listing.Status.DRAFT,
        ),
    ],
    "thames-tea": [
        (
            "English breakfast tea, loose leaf",
            "food/tea",
            "A brisk blend of Assam and Ceylon, blended and packed in London.",
            ("090230", "Black tea, loose leaf, 250 g tin", "GB", "black tea leaves"),
            [("TT-EB-250", {"weight": "250 g"}, "12.00", 60, "0.250")],
            ("tin", (30, 50, 90)),
            Listing.Status.ACTIVE,
        ),
        (
            "Earl Grey tea, 50 sachets",
            "food/tea",
            "China black tea with natural bergamot oil, in plastic-free paper sachets.",
            (
                "090230",
                "Black tea with bergamot flavour, 50 paper infusion sachets",
                "GB",
                "black tea, bergamot oil",
            ),
            [("TT-EG-50", {}, "9.50", 45, "0.125")],
            ("tin", (70, 40, 110)),
            Listing.Status.ACTIVE,
        ),
        (
            "Sencha green tea",
            "food/tea",
            "First-flush sencha from Shizuoka, repacked in London.",
            ("090210", "Green tea, sencha, loose leaf, 100 g", "JP", "green tea leaves"),
            [("TT-SENCHA-100", {"weight": "100 g"}, "14.00", 2, "0.100")],
            ("tin", (90, 140, 60)),
            Listing.Status.ACTIVE,
        ),
        (
            "Bone china mug",
            "home/tableware",
            "Fine bone china from Stoke-on-Trent, 300 ml.",
            ("691110", "Bone china mug, glazed", "GB", "bone china"),
            [("TT-MUG", {}, "18.00", 24, "0.300")],
            ("mug", (235, 235, 230)),
            Listing.Status.ACTIVE,
        ),
        (
            "Stainless steel tea strainer",
            "food/tea-tools",
            "A fine-mesh strainer that rests on any cup.",
            ("732393", "Stainless steel tea strainer", "GB", "stainless steel"),
            [("TT-STRAINER", {}, "8.00", 50, "0.060")],
            ("pendant", (160, 160, 170)),
            Listing.Status.ACTIVE,
        ),
    ],
}


# --- Drawings -----------------------------------------------------------------------------


def _shade(colour: tuple[int, int, int], factor: float) -> tuple[int, int, int]:
    return tuple(max(0, min(255, int(c * factor))) for c in colour)


def draw_product(shape: str, colour: tuple[int, int, int], label: str, variant: int = 0) -> bytes:
    """A simple studio-style product picture (JPEG) for the demo."""
    size = 900
    background = (246, 244, 239) if variant % 2 == 0 else (232, 240, 238)
    image = Image.new("RGB", (size, size), background)
    draw = ImageDraw.Draw(image)
    dark = _shade(colour, 0.7)
    c = size // 2
    # soft floor shadow
    draw.ellipse((c - 280, c + 250, c + 280, c + 300), fill=_shade(background, 0.92))
    if shape == "tshirt":
        draw.polygon(
            [(c - 150, c - 230), (c - 300, c - 120), (c - 240, c - 40), (c - 170, c - 90),
             (c - 170, c + 260), (c + 170, c + 260), (c + 170, c - 90), (c + 240, c - 40),
             (c + 300, c - 120), (c + 150, c - 230), (c + 60, c - 230), (c, c - 170),
             (c - 60, c - 230)],
            fill=colour, outline=dark,
        )  # fmt: skip
    elif shape == "beanie":
        draw.pieslice((c - 220, c - 260, c + 220, c + 180), 180, 360, fill=colour, outline=dark)
        draw.rectangle((c - 230, c - 40, c + 230, c + 90), fill=dark)
        draw.ellipse((c - 50, c - 330, c + 50, c - 230), fill=colour)
    elif shape == "bag":
        draw.polygon(
            [(c - 210, c - 120), (c + 210, c - 120), (c + 250, c + 260), (c - 250, c + 260)],
            fill=colour, outline=dark,
        )  # fmt: skip
        draw.arc((c - 150, c - 330, c - 30, c - 60), 180, 360, fill=dark, width=18)
        draw.arc((c + 30, c - 330, c + 150, c - 60), 180, 360, fill=dark, width=18)
    elif shape == "scarf":
        for i in range(7):
            y = c - 210 + i * 60
            points = [(c - 300 + x, y + int(30 * math.sin(x / 60 + i))) for x in range(0, 601, 30)]
            draw.line(points, fill=_shade(colour, 1 - i * 0.05), width=44)
    elif shape in ("cups", "mug"):
        count = 3 if shape == "cups" else 1
        width = 150 if count == 3 else 260
        for n in range(count):
            x = c - (count - 1) * 90 + n * 180 - width // 2
            draw.rounded_rectangle((x, c - 120, x + width, c + 200), 30, fill=colour, outline=dark)
            if shape == "mug":
                draw.arc(
                    (x + width - 60, c - 60, x + width + 90, c + 110), 270, 90, fill=dark, width=26
                )
    elif shape == "teapot":
        draw.ellipse((c - 220, c - 150, c + 220, c + 230), fill=colour, outline=dark)
        draw.polygon(
            [(c + 190, c + 20), (c + 330, c - 110), (c + 350, c - 80), (c + 210, c + 90)], fill=dark
        )
        draw.arc((c - 330, c - 80, c - 150, c + 140), 90, 270, fill=dark, width=28)
        draw.ellipse((c - 40, c - 200, c + 40, c - 140), fill=dark)
    elif shape == "pendant":
        draw.line([(c - 200, c - 300), (c, c - 60), (c + 200, c - 300)], fill=dark, width=8)
        draw.ellipse((c - 130, c - 80, c + 130, c + 180), fill=colour, outline=dark, width=6)
        draw.ellipse((c - 35, c + 15, c + 35, c + 85), fill=background)
    elif shape == "board":
        draw.rounded_rectangle((c - 300, c - 170, c + 240, c + 200), 40, fill=colour, outline=dark)
        draw.ellipse((c + 170, c - 40, c + 330, c + 70), fill=colour, outline=dark)
        draw.ellipse((c + 250, c - 5, c + 290, c + 35), fill=background)
        for i in range(5):
            draw.line(
                [(c - 260, c - 120 + i * 70), (c + 200, c - 110 + i * 70)], fill=dark, width=3
            )
    elif shape == "clock":
        draw.polygon([(c - 240, c - 90), (c, c - 320), (c + 240, c - 90)], fill=dark)
        draw.rectangle((c - 200, c - 90, c + 200, c + 230), fill=colour, outline=dark)
        draw.ellipse(
            (c - 120, c - 40, c + 120, c + 200), fill=(245, 240, 225), outline=dark, width=6
        )
        draw.line([(c, c + 80), (c, c - 10)], fill=dark, width=8)
        draw.line([(c, c + 80), (c + 70, c + 80)], fill=dark, width=8)
    elif shape == "slipper":
        for dx in (-150, 150):
            draw.ellipse((c + dx - 110, c - 240, c + dx + 110, c + 250), fill=colour, outline=dark)
            draw.ellipse((c + dx - 80, c - 40, c + dx + 80, c + 200), fill=_shade(colour, 0.8))
    elif shape == "train":
        draw.rectangle((c - 320, c - 40, c - 60, c + 140), fill=colour, outline=dark)
        draw.rectangle((c - 260, c - 180, c - 120, c - 40), fill=colour, outline=dark)
        draw.rectangle((c - 20, c, c + 300, c + 140), fill=(60, 110, 170), outline=dark)
        for x in (-280, -120, 20, 240):
            draw.ellipse((c + x - 45, c + 110, c + x + 45, c + 200), fill=(40, 40, 40))
    elif shape == "towel":
        draw.rectangle((c - 220, c - 260, c + 220, c + 240), fill=colour, outline=dark)
        for y in range(c - 220, c + 240, 60):
            draw.line([(c - 220, y), (c + 220, y)], fill=(170, 40, 40), width=10)
    elif shape == "tin":
        draw.rounded_rectangle((c - 170, c - 230, c + 170, c + 240), 24, fill=colour, outline=dark)
        draw.rectangle((c - 185, c - 260, c + 185, c - 200), fill=_shade(colour, 0.6))
        draw.rectangle((c - 130, c - 40, c + 130, c + 110), fill=(240, 228, 196))
    else:  # a plain box
        draw.rectangle((c - 200, c - 200, c + 200, c + 200), fill=colour, outline=dark)
    font = ImageFont.load_default(size=34)
    draw.text((40, size - 70), label, fill=(60, 70, 75), font=font)
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=88)
    return out.getvalue()


# --- Seeding -------------------------------------------------------------------------------


def seed_categories() -> dict[str, Category]:
    by_path: dict[str, Category] = {}
    for position, (path, name, zh, es, featured) in enumerate(CATEGORIES):
        parent_path, _, slug = path.rpartition("/")
        category = Category.objects.filter(path=path).first() or Category()
        category.parent = by_path.get(parent_path) if parent_path else None
        category.name = name
        category.slug = slug
        category.names = {"zh-hans": zh, "es": es}
        category.position = position
        category.is_featured = featured
        by_path[path] = services.save_category(category=category)
    return by_path


def seed_shipping(shop: Shop, now: datetime) -> ShippingProfile:
    name, handling, zones = SHIPPING[shop.slug]
    profile = ShippingProfile.objects.filter(shop=shop, name=name).first()
    if profile is None:
        profile = services.save_shipping_profile(
            profile=ShippingProfile(shop=shop, name=name, handling_days=handling), now=now
        )
    for zone_name, countries, rates in zones:
        zone = profile.zones.filter(name=zone_name).first() or ShippingZone(profile=profile)
        zone.name = zone_name
        zone.countries = countries or []
        zone.rest_of_world = countries is None
        existing = {r.service_level: r for r in zone.rates.all()} if zone.pk else {}
        rows = []
        for level, first, additional, low, high in rates:
            rate = existing.get(level) or ShippingRate(service_level=level)
            rate.first_item, rate.additional_item = Decimal(first), Decimal(additional)
            rate.min_days, rate.max_days = low, high
            rows.append(rate)
        services.save_shipping_zone(zone=zone, rates=rows)
    return profile


def seed_products(
    shop: Shop, profile: ShippingProfile, categories: dict[str, Category], owner, now: datetime
) -> int:
    count = 0
    for index, (title, path, description, customs, variants, drawing, status) in enumerate(
        PRODUCTS[shop.slug]
    ):
        first_sku = variants[0][0]
        existing = (
            Variant.objects.filter(shop=shop, sku=first_sku).select_related("listing").first()
        )
        listing = existing.listing if existing else Listing(shop=shop)
        listing.title = title
        listing.description = description
        listing.category = categories[path]
        listing.shipping_profile = profile
        hs, customs_text, origin, material = customs or ("", "", "", "")
        listing.hs_code, listing.customs_description = hs, customs_text
        listing.origin_country, listing.material = origin, material
        current = {v.sku: v for v in listing.variants.all()} if listing.pk else {}
        rows = []
        for sku, options, price, stock, weight in variants:
            variant = current.get(sku) or Variant(sku=sku)
            variant.options, variant.price = options, Decimal(price)
            variant.stock = stock
            variant.net_weight_kg = Decimal(weight) if weight else None
            rows.append(variant)
        # Publication times spread over the last weeks, so "newest" has an order.
        moment = now - timedelta(days=3 * index + len(shop.slug) % 5, hours=index)
        listing = services.save_listing(listing=listing, variants=rows, actor=owner, now=moment)
        if not listing.images.exists():
            shape, colour = drawing
            for n in range(2):
                upload = SimpleUploadedFile(
                    f"{first_sku.lower()}-{n}.jpg",
                    draw_product(shape, _shade(colour, 1 - 0.12 * n), title, variant=n),
                    content_type="image/jpeg",
                )
                image = services.add_listing_image(
                    listing=listing,
                    upload=upload,
                    alt_text=f"{title}, {'front' if n == 0 else 'detail'}",
                    now=moment,
                )
                # No worker may be running yet: make thumbnails now (the queued task is a
                # no-op later, the service being idempotent).
                services.generate_thumbnails(image_id=image.pk)
        if status == Listing.Status.ACTIVE and listing.status == Listing.Status.DRAFT:
            services.change_listing_status(
                listing=listing, target=Listing.Status.ACTIVE, actor=owner, now=moment
            )
        count += 1
    return count


def seed(*, now: datetime) -> list[tuple[str, str, str]]:
    categories = seed_categories()
    for slug in PRODUCTS:
        shop = Shop.objects.filter(slug=slug).first()
        if shop is None:
            continue  # accounts.demo did not run
        owner = (
            User.objects.filter(memberships__shop=shop, memberships__role="owner")
            .order_by("pk")
            .first()
        )
        profile = seed_shipping(shop, now)
        seed_products(shop, profile, categories, owner, now)
    return []
