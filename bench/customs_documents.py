"""Customs documents per second per worker process: a 5-line CN23 and its commercial invoice.

    .venv/bin/python bench/customs_documents.py [--jobs 200]

Measures, in one process (what one Celery worker does, minus the broker):
  * renderers only: CN23 PDF + commercial invoice PDF from a frozen declaration;
  * whole jobs: claim, render CN23 + invoice + advance-data JSON, store the files, record rows.
Reference run (same process): a one-line reportlab PDF ("hello"), the floor of any PDF.
"""

from __future__ import annotations

import argparse
import time
from datetime import date
from decimal import Decimal

from _customs_setup import setup_django


def show(label: str, value: float, unit: str, reference: float) -> None:
    print(f"{label:40s}{value:8,.0f} {unit:12s}{reference / value:5.1f}x reference")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--jobs", type=int, default=200)
    args = parser.parse_args()
    var = setup_django()
    from django.conf import settings

    settings.MEDIA_ROOT = var / "media"
    import io

    from reportlab.pdfgen.canvas import Canvas

    from accounts.models import Shop
    from customs.documents import render_cn, render_invoice
    from customs.landed_cost import Consignment, ConsignmentLine
    from customs.models import CustomsDeclaration, CustomsDocument, PaperworkJob
    from customs.services import PartyAddress, create_declaration, process_paperwork_job

    shop = Shop.objects.create(
        legal_name="Bench Exports LLC", display_name="Bench", slug="bench", business_type="company",
        country="US", address_line1="1 Main St", city="Portland", postcode="97204",
        time_zone="America/Los_Angeles", currency="USD", signatory_name="Ben Bench",
    )  # fmt: skip
    to = PartyAddress(
        name="Bea Buyer", country="DE", address_lines=("Torstrasse 1",), city="Berlin",
        postcode="10119", email="bea@example.test",
    )  # fmt: skip
    items = [
        ("610910", "Men's cotton T-shirt, knitted"), ("621410", "Women's silk scarf, printed"),
        ("420292", "Canvas backpack for laptops"), ("711311", "Sterling silver ring"),
        ("490199", "Printed novel, paperback"),
    ]  # fmt: skip

    def declaration(n: int) -> CustomsDeclaration:
        consignment = Consignment(
            date=date(2026, 10, 15), ship_from="US", destination="DE", currency="EUR",
            shipping=Decimal("9.00"), transport="post", postal_service="parcel",
            lines=tuple(
                ConsignmentLine(hs_code=hs, origin="US", description=text, quantity=1,
                                unit_price=Decimal("25.00"), net_weight_kg=Decimal("0.3"))
                for hs, text in items
            ),
        )  # fmt: skip
        return create_declaration(
            shop=shop, reference=f"BENCH-{n}", consignment=consignment, addressee=to,
            invoice_number=f"INV-{n}", item_id="RR123456785US",
        )  # fmt: skip

    def hello() -> bytes:
        buf = io.BytesIO()
        c = Canvas(buf)
        c.drawString(72, 720, "hello")
        c.showPage()
        c.save()
        return buf.getvalue()

    def per_second(fn, n: int) -> float:
        fn()
        start = time.perf_counter()
        for _ in range(n):
            fn()
        return n / (time.perf_counter() - start)

    sample = declaration(0)
    assert sample.form == "CN23"
    sample = CustomsDeclaration.objects.prefetch_related("lines").get(pk=sample.pk)
    ref = per_second(hello, args.jobs)
    print(f"reference: one-line PDF                 {ref:8,.0f} /s")
    cn23 = per_second(lambda: render_cn(sample), args.jobs)
    invoice = per_second(lambda: render_invoice(sample), args.jobs)
    pair = per_second(lambda: (render_cn(sample), render_invoice(sample)), args.jobs)
    show("render CN23 (5 lines)", cn23, "/s", ref)
    show("render commercial invoice (5 lines)", invoice, "/s", ref)
    show("render CN23 + invoice", 2 * pair, "documents/s", ref * 2)

    declarations = [declaration(n) for n in range(1, args.jobs + 1)]
    jobs = list(
        PaperworkJob.objects.filter(declaration__in=declarations).values_list("pk", flat=True)
    )
    engine = settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[-1]
    start = time.perf_counter()
    for job_id in jobs:
        process_paperwork_job(job_id=job_id)
    elapsed = time.perf_counter() - start
    stored = CustomsDocument.objects.filter(declaration__in=declarations).count()
    assert stored == 3 * len(jobs), stored
    print(
        f"whole jobs (claim, render, store, record): {len(jobs) / elapsed:6,.1f} jobs/s = "
        f"{2 * len(jobs) / elapsed:6,.1f} CN23+invoice documents/s "
        f"({stored / elapsed:,.1f}/s counting the JSON), on {engine}"
    )


if __name__ == "__main__":
    main()
