"""Demo people and shops. Fixed addresses and passwords so the README can name them."""

from __future__ import annotations

from allauth.account.models import EmailAddress

from accounts.models import Address, Shop, ShopMembership, User

DEMO_PASSWORD = "tradepost-demo"  # noqa: S105 - printed in the README on purpose
ADMIN = ("admin@tradepost.localhost", "Ada Admin")

SHOPS = [
    # slug, display, legal, country, city, postcode, region, line1, tz, currency, eori, vat,
    # owner email, owner name
    (
        "maple-thread",
        "Maple & Thread",
        "Maple & Thread LLC",
        "US",
        "Portland",
        "97204",
        "OR",
        "812 SW Washington St",
        "America/Los_Angeles",
        "USD",
        "",
        "",
        "sam@maple-thread.example",
        "Sam Carter",
    ),
    (
        "jade-studio",
        "Jade Studio",
        "Hangzhou Jade Studio Co., Ltd.",
        "CN",
        "Hangzhou",
        "310000",
        "Zhejiang",
        "88 Wensan Road",
        "Asia/Shanghai",
        "CNY",
        "",
        "",
        "li@jade-studio.example",
        "Li Wei",
    ),
    (
        "black-forest-goods",
        "Black Forest Goods",
        "Schwarzwald Waren GmbH",
        "DE",
        "Freiburg",
        "79098",
        "",
        "Kaiser-Joseph-Straße 200",
        "Europe/Berlin",
        "EUR",
        "DE136695976000001",
        "DE136695976",
        "jonas@black-forest.example",
        "Jonas Weber",
    ),
    (
        "thames-tea",
        "Thames Tea Co.",
        "Thames Tea Company Ltd",
        "GB",
        "London",
        "SE1 9GF",
        "",
        "32 London Bridge St",
        "Europe/London",
        "GBP",
        "GB980780684000",
        "GB980780684",
        "olivia@thames-tea.example",
        "Olivia Brown",
    ),
]

BUYERS = [
    # email, name, country, language, currency, city, postcode, line1, region
    (
        "lena@buyer.example",
        "Lena Fischer",
        "DE",
        "en",
        "EUR",
        "Berlin",
        "10117",
        "Unter den Linden 5",
        "",
    ),
    (
        "camille@buyer.example",
        "Camille Martin",
        "FR",
        "en",
        "EUR",
        "Lyon",
        "69002",
        "12 Rue de la République",
        "",
    ),
    (
        "james@buyer.example",
        "James Wilson",
        "GB",
        "en",
        "GBP",
        "Manchester",
        "M1 1AE",
        "1 Piccadilly",
        "",
    ),
    (
        "chloe@buyer.example",
        "Chloe Nguyen",
        "AU",
        "en",
        "AUD",
        "Sydney",
        "2000",
        "200 George St",
        "NSW",
    ),
    ("mateo@buyer.example", "Mateo García", "ES", "es", "EUR", "Madrid", "28013", "Gran Vía 1", ""),
    (
        "mei@buyer.example",
        "Wang Mei",
        "SG",
        "zh-hans",
        "SGD",
        "Singapore",
        "049315",
        "1 Raffles Place",
        "",
    ),
    (
        "noah@buyer.example",
        "Noah Smith",
        "US",
        "en",
        "USD",
        "Austin",
        "78701",
        "100 Congress Ave",
        "TX",
    ),
]


def _person(email: str, name: str, **extra) -> User:
    user, _created = User.objects.get_or_create(email=email, defaults={"name": name, **extra})
    if not user.has_usable_password() or not user.check_password(DEMO_PASSWORD):
        user.set_password(DEMO_PASSWORD)
        user.save(update_fields=["password"])
    EmailAddress.objects.update_or_create(
        user=user, email=email, defaults={"verified": True, "primary": True}
    )
    return user


def seed(*, now) -> list[tuple[str, str, str]]:
    logins = []
    admin = _person(ADMIN[0], ADMIN[1], is_staff=True, is_superuser=True, country="NL")
    logins.append(("admin", admin.email, DEMO_PASSWORD))
    for (
        slug,
        display,
        legal,
        country,
        city,
        postcode,
        region,
        line1,
        tz,
        currency,
        eori,
        vat,
        owner_email,
        owner_name,
    ) in SHOPS:
        owner = _person(owner_email, owner_name, country=country)
        shop, _created = Shop.objects.update_or_create(
            slug=slug,
            defaults={
                "display_name": display,
                "legal_name": legal,
                "business_type": Shop.BusinessType.COMPANY,
                "country": country,
                "city": city,
                "postcode": postcode,
                "region": region,
                "address_line1": line1,
                "time_zone": tz,
                "currency": currency,
                "email": owner_email,
                "eori": eori,
                "vat_number": vat,
                "signatory_name": owner_name,
                "status": Shop.Status.APPROVED,
                "reviewed_at": now,
                "reviewed_by": admin,
                "description": f"{display}: small-batch goods from {city}.",
            },
        )
        ShopMembership.objects.get_or_create(
            shop=shop, user=owner, defaults={"role": ShopMembership.Role.OWNER}
        )
        logins.append((f"seller ({country})", owner.email, DEMO_PASSWORD))
    for email, name, country, language, currency, city, postcode, line1, region in BUYERS:
        buyer = _person(
            email,
            name,
            country=country,
            preferred_language=language,
            preferred_currency=currency,
        )
        if not buyer.addresses.exists():
            Address.objects.create(
                user=buyer,
                label="Home",
                name=name,
                line1=line1,
                city=city,
                postcode=postcode,
                region=region,
                country=country,
                is_default_shipping=True,
            )
        logins.append((f"buyer ({country})", buyer.email, DEMO_PASSWORD))
    return logins
