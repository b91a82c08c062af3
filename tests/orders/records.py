"""Order rows built directly (no catalog, no customs rules): quick objects for URL probes.

The behaviour tests build orders through the services; the authorization matrix only needs
"an order of buyer X with shop Y", "one of its documents", fast and without rule tables.
"""

from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal

from django.core.files.base import ContentFile
from django.utils import timezone

from customs.models import CustomsDeclaration, CustomsDocument, PaperworkJob
from marketplace.listings.models import Category, Listing, Variant
from marketplace.orders.models import Order, OrderLine, ShopOrder


def paid_order(buyer, shop, *, with_documents: bool = True) -> Order:
    now = timezone.now()
    category = Category.objects.order_by("pk").first() or Category.objects.create(
        name="Matrix", slug="matrix", path="matrix"
    )
    listing = Listing.objects.create(
        shop=shop,
        title="Probe item",
        category=category,
        currency=shop.currency,
        status=Listing.Status.ACTIVE,
        hs_code="610910",
        origin_country=shop.country.code,
    )
    variant = Variant.objects.create(
        listing=listing,
        shop=shop,
        sku=f"PROBE-{uuid.uuid4().hex[:6]}",
        price=Decimal("10.00"),
        stock=5,
    )
    order = Order.objects.create(
        buyer=buyer,
        checkout_token=uuid.uuid4(),
        status=Order.Status.PAID,
        currency="EUR",
        goods_total=Decimal("10.00"),
        shipping_total=Decimal("2.00"),
        total=Decimal("12.00"),
        buyer_email=buyer.email,
        ship_name=buyer.name or "Probe",
        ship_line1="Street 1",
        ship_city="Berlin",
        ship_country="DE",
        payment_method="card",
        created_at=now,
        paid_at=now,
    )
    shop_order = ShopOrder.objects.create(
        order=order,
        shop=shop,
        status=ShopOrder.Status.PAPERWORK_READY,
        shop_currency=shop.currency,
        goods_shop=Decimal("10.00"),
        shipping_shop=Decimal("2.00"),
        commission_rate=Decimal("0.10"),
        fx_rate=Decimal(1),
        goods=Decimal("10.00"),
        shipping=Decimal("2.00"),
        total=Decimal("12.00"),
        service_level="postal",
        service_label="Postal",
        paperwork_status=ShopOrder.Paperwork.READY,
    )
    OrderLine.objects.create(
        shop_order=shop_order,
        variant=variant,
        title="Probe item",
        sku=variant.sku,
        quantity=1,
        unit_price=Decimal("10.00"),
        line_total=Decimal("10.00"),
        line_total_presentment=Decimal("10.00"),
    )
    if with_documents:
        declaration = CustomsDeclaration.objects.create(
            shop=shop,
            reference=shop_order.reference,
            form="CN22",
            sender={},
            addressee={},
            ship_from=shop.country.code,
            destination="DE",
            transport="post",
            currency="EUR",
            total_value=Decimal("10.00"),
            total_net_weight_kg=Decimal("0.2"),
            total_gross_weight_kg=Decimal("0.3"),
            postal_charges=Decimal("2.00"),
            incoterm="DDP",
            non_delivery="return_priority",
            invoice_number="INV-PROBE",
            invoice_date=date.today(),
        )
        PaperworkJob.objects.create(declaration=declaration, version=1, status="done")
        for kind in (CustomsDocument.Kind.CN22, CustomsDocument.Kind.INVOICE):
            document = CustomsDocument(
                declaration=declaration,
                kind=kind,
                version=1,
                content_type="application/pdf",
                sha256="0" * 64,
                size=9,
            )
            document.file.save(f"probe-{kind}.pdf", ContentFile(b"%PDF-1.4\n"), save=False)
            document.save()
        ShopOrder.objects.filter(pk=shop_order.pk).update(declaration_id=declaration.pk)
    return order


def document_of(order, kind: str) -> CustomsDocument:
    shop_order = order.shop_orders.get()
    return CustomsDocument.objects.get(declaration_id=shop_order.declaration_id, kind=kind)
