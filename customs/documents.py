"""Renderers: a frozen ``CustomsDeclaration`` in, document bytes out.

They read only the declaration and its lines (never live listings or shops), so a document
rendered again from the same snapshot is byte-for-byte the same (reportlab's invariant mode).
Text is typed, in English, as customs forms require (FACTS.md §1, §3.1).
"""

from __future__ import annotations

import io
import json
from dataclasses import replace
from decimal import Decimal

from reportlab.graphics.barcode.code128 import Code128
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas

from customs import pdf_fonts
from customs.models import CustomsDeclaration, CustomsDocument
from marketplace.core.addresses import PostalAddress, format_lines, format_phone
from marketplace.core.money import minor_units, quantize

CERTIFICATION = (
    "I, the undersigned, whose name and address are given on the item, certify that the "
    "particulars given in this declaration are correct and that this item does not contain any "
    "dangerous article or articles prohibited by legislation or by postal or customs regulations."
)
INVOICE_DECLARATION = "I declare that the information above is true and correct."
CATEGORIES = [
    ("gift", "Gift"),
    ("commercial_sample", "Commercial sample"),
    ("documents", "Documents"),
    ("returned_goods", "Returned goods"),
    ("sale_of_goods", "Sale of goods"),
    ("other", "Other"),
]
NON_DELIVERY = {
    "return_priority": "Return to sender immediately, by the priority route",
    "return_non_priority": "Return to sender immediately, by the non-priority route",
    "redirect": "Redirect to the address below",
    "abandon": "Treat as abandoned",
}


def _money(amount: Decimal, currency: str) -> str:
    # Every currency with its own minor unit (JPY none, KWD three), half-up like the quote.
    return f"{quantize(amount, currency):,.{minor_units(currency)}f} {currency}"


def _amount(amount: Decimal, currency: str) -> str:
    """A machine-readable amount with the currency's own decimals ("14997" JPY, "48.375" KWD)."""
    return f"{quantize(amount, currency):f}"


def _kg(weight: Decimal) -> str:
    return f"{weight:.3f} kg"


def postal_address(party: dict) -> PostalAddress:
    """A declaration party (snapshot dict) as the shared address formatter's value."""
    return PostalAddress(
        country=party.get("country", ""),
        name=party.get("name", ""),
        company=party.get("business", ""),
        lines=tuple(party.get("address_lines", ())),
        city=party.get("city", ""),
        region=party.get("region", ""),
        postcode=party.get("postcode", ""),
        phone=party.get("phone", ""),
        latin=party.get("latin", ""),
    )


def _party_lines(party: dict) -> list[str]:
    """Name, business and address as the party's country writes them (one formatter for
    every document: region kept, postcode where that country puts it)."""
    return format_lines(postal_address(party))


def _address_only(party: dict) -> list[str]:
    """The address lines without name and business (for forms with their own boxes)."""
    return format_lines(replace(postal_address(party), name="", company=""))


def _text(value) -> str:
    return str(value if value is not None else "")


class _Page:
    """A few drawing helpers over a reportlab canvas (top-left origin, millimetres).

    Text goes through ``pdf_fonts``: each script in a font that has it, so names and
    addresses print as typed (Chinese, Japanese, Korean, Polish, Cyrillic ...).
    """

    def __init__(self, title: str, pagesize=A4) -> None:
        pdf_fonts.register()
        self.buffer = io.BytesIO()
        self.c = Canvas(self.buffer, pagesize=pagesize, invariant=1, pageCompression=0)
        self.c.setTitle(title)
        self.c.setAuthor("Tradepost")
        self.width, self.height = pagesize

    def text(self, x, y, value, size: float = 8, bold: bool = False, country: str = "") -> None:
        pdf_fonts.draw(
            self.c, x * mm, self.height - y * mm, _text(value), size, bold=bold, country=country
        )

    def right(self, x, y, value, size: float = 8, bold: bool = False) -> None:
        value = _text(value)
        w = pdf_fonts.width(value, size, bold=bold)
        pdf_fonts.draw(self.c, x * mm - w, self.height - y * mm, value, size, bold=bold)

    def box(self, x: float, y: float, w: float, h: float) -> None:
        self.c.rect(x * mm, self.height - (y + h) * mm, w * mm, h * mm)

    def lines(self, value, width: float, size: float = 7, bold=False, country="") -> list[str]:
        """``value`` cut into lines no wider than ``width`` mm: at spaces, or between any
        two characters of a word too long for a line (Chinese and Japanese have no spaces)."""
        limit = width * mm
        fits = lambda t: pdf_fonts.width(t, size, bold=bold, country=country) <= limit  # noqa: E731
        out: list[str] = []
        for paragraph in _text(value).split("\n"):
            line = ""
            for word in paragraph.split(" "):
                candidate = f"{line} {word}" if line else word
                if fits(candidate):
                    line = candidate
                    continue
                if line:
                    out.append(line)
                line = ""
                for ch in word:
                    if fits(line + ch) or not line:
                        line += ch
                    else:
                        out.append(line)
                        line = ch
            out.append(line)
        return [ln for ln in out if ln] or [""]

    def wrap(self, x, y, value, width: float, size: float = 7, bold=False, country="") -> float:
        """Write ``value`` wrapped to ``width`` mm; returns the y below it."""
        for line in self.lines(value, width, size, bold=bold, country=country):
            self.text(x, y, line, size, bold=bold, country=country)
            y += size * 0.45
        return y

    def tick(self, x: float, y: float, label: str, checked: bool) -> float:
        """A check box and its label; returns the x where the next one can start."""
        self.box(x, y - 2.6, 3, 3)
        if checked:
            self.text(x + 0.6, y - 0.1, "X", 8, bold=True)
        self.text(x + 4, y, label, 7)
        return x + 4 + pdf_fonts.width(label, 7) / mm + 5

    def barcode(self, x: float, y: float, value: str, height: float = 9) -> None:
        code = Code128(value, barHeight=height * mm, barWidth=0.33 * mm, humanReadable=False)
        code.drawOn(self.c, x * mm, self.height - (y + height) * mm)
        # The id in clear under the bars (reportlab's own caption overlaps them).
        self.text(x + 6, y + height + 3.5, value, 9, bold=True)

    def finish(self) -> bytes:
        self.c.showPage()
        self.c.save()
        return self.buffer.getvalue()


def render_cn(declaration: CustomsDeclaration) -> bytes:
    """CN22 or CN23 as the declaration says, every field of FACTS.md §1.2 / §1.3."""
    if declaration.form == "CN22":
        return _render_cn22(declaration)
    return _render_cn23(declaration)


def _lines(declaration: CustomsDeclaration):
    # Prefetched lines when the caller loaded them; one query otherwise.
    return list(declaration.lines.all())


def _render_cn23(d: CustomsDeclaration) -> bytes:
    p = _Page(f"CN 23 {d.reference}")
    sender, to = d.sender, d.addressee
    p.text(12, 14, f"Designated operator: {sender.get('operator') or 'see carrier label'}", 7)
    p.text(12, 20, "CUSTOMS DECLARATION CN 23", 14, bold=True)
    p.text(12, 25, "May be opened officially", 8)
    p.text(12, 29, "Important! See instructions on the back", 7)
    p.text(120, 14, "No. of item (barcode, if any)", 7)
    if d.item_id:
        p.barcode(120, 16, d.item_id)
    else:
        p.text(120, 20, "(item id not yet known)", 7)

    # From / To: name, business, the address as its country writes it (region included),
    # the Latin-script version when the original is in another script, phone, references.
    from_rows = _party_box_rows(sender, email=True)
    from_rows.append(("Sender's customs reference (if any): ", _sender_reference(d)))
    to_rows = _party_box_rows(to, email=False)  # the form has its own e-mail row
    to_rows.append(("Importer/addressee reference (if any): ", _importer_reference(d)))
    to_rows.append(("Importer/addressee fax/e-mail (if known): ", to.get("email", "")))
    from_height = _rows_height(p, from_rows, 88)
    to_height = _rows_height(p, to_rows, 92)
    height = max(from_height, to_height) + 8
    p.box(10, 34, 92, height)
    p.text(12, 38, "From", 8, bold=True)
    _draw_rows(p, 12, 42, from_rows, 88, sender.get("country", ""))
    p.box(104, 34, 96, height)
    p.text(106, 38, "To", 8, bold=True)
    _draw_rows(p, 106, 42, to_rows, 92, to.get("country", ""))

    # Contents
    top = 34 + height + 4
    headers = [
        (12, "(1) Detailed description of contents"),
        (100, "(2) Quantity"),
        (120, "(3) Net weight (kg)"),
        (146, "(5) Value"),
        (168, "(7) HS tariff No."),
        (189, "(8) Origin"),
    ]
    for x, label in headers:
        p.text(x, top, label, 6, bold=True)
    y = top + 4.5
    for line in _lines(d):
        p.right(112, y, line.quantity, 7)
        p.right(140, y, f"{line.net_weight_kg:.3f}", 7)
        p.right(165, y, _money(line.value, d.currency), 7)
        p.text(168, y, line.hs_code, 7)
        p.text(192, y, line.origin, 7)
        # The whole description, wrapped (customs reject a cut one as imprecise).
        y = p.wrap(12, y, line.description, 82) + 4 - 7 * 0.45
    y += 2
    p.text(12, y, f"(4) Total gross weight: {_kg(d.total_gross_weight_kg)}", 7, bold=True)
    p.text(70, y, f"Total net weight: {_kg(d.total_net_weight_kg)}", 7)
    p.text(120, y, f"(6) Total value: {_money(d.total_value, d.currency)}", 7, bold=True)
    y += 4.5
    p.text(
        12, y, f"(9) Postal charges/Fees: {_money(d.postal_charges, d.currency)}"
        f"  (insured value: {_money(d.insured_value, d.currency)})", 7,
    )  # fmt: skip
    y += 6
    p.text(12, y, "(10) Category of item", 7, bold=True)
    x = 42
    for value, label in CATEGORIES:
        x = p.tick(x, y, label, d.category == value)
    y += 5
    p.text(12, y, f"Explanation: {_explanation(d)}", 7)
    y += 5
    p.text(12, y, "(11) Comments:", 7, bold=True)
    y = p.wrap(35, y, d.comments or "none", 160)
    y += 2
    p.tick(
        12, y, f"(12) Licence  No(s). of licence(s): {d.licence_numbers}", bool(d.licence_numbers)
    )
    y += 5
    p.tick(
        12, y, f"(13) Certificate  No(s). of certificate(s): {d.certificate_numbers}",
        bool(d.certificate_numbers),
    )  # fmt: skip
    y += 5
    p.tick(12, y, f"(14) Invoice  No. of invoice: {d.invoice_number}", bool(d.invoice_number))
    y += 6
    p.text(12, y, f"Incoterm: {d.incoterm} {d.incoterm_place}", 7)
    if d.deemed_supplier:
        p.text(90, y, _deemed_supplier_line(d), 7)
    y += 5
    p.text(12, y, "Office of origin / Date of posting: ____________________", 7)
    y += 6
    p.text(12, y, "Instruction in case of non-delivery:", 7, bold=True)
    p.text(60, y, NON_DELIVERY.get(d.non_delivery, d.non_delivery), 7)
    if d.non_delivery == "redirect" and d.redirect_address:
        y += 4
        p.text(60, y, d.redirect_address, 7)
    y += 6
    p.text(12, y, "(15)", 7, bold=True)
    y = p.wrap(20, y, CERTIFICATION, 175)
    y += 3
    p.text(
        12, y, f"Date and sender's signature: {d.invoice_date.isoformat()}  {d.signatory}", 8,
        bold=True,
    )  # fmt: skip
    p.text(12, y + 6, f"Consignment reference: {d.reference}", 6)
    return p.finish()


ROW_STEP = 3.4


def _party_box_rows(party: dict, *, email: bool) -> list[tuple[str, str]]:
    rows = [("Name: ", party.get("name", "")), ("Business: ", party.get("business", ""))]
    address = _address_only(party)
    rows.append(("Address: ", address[0] if address else ""))
    rows += [("", line) for line in address[1:]]
    if party.get("latin"):
        rows.append(("In Latin letters: ", party["latin"]))
    rows.append(("Tel. No.: ", format_phone(party.get("phone", ""))))
    if email and party.get("email"):
        rows.append(("E-mail: ", party["email"]))
    return rows


def _rows_height(p: _Page, rows, width: float) -> float:
    return sum(len(p.lines(label + value, width)) for label, value in rows) * ROW_STEP


def _draw_rows(p: _Page, x: float, y: float, rows, width: float, country: str) -> float:
    for label, value in rows:
        for line in p.lines(label + _text(value), width, country=country):
            p.text(x, y, line, 7, country=country)
            y += ROW_STEP
    return y


def _render_cn22(d: CustomsDeclaration) -> bytes:
    p = _Page(f"CN 22 {d.reference}")
    sender = d.sender
    p.text(12, 14, f"Designated operator: {sender.get('operator') or 'see carrier label'}", 7)
    p.text(12, 20, "CUSTOMS DECLARATION CN 22", 14, bold=True)
    p.text(12, 25, "May be opened officially", 8)
    p.text(12, 29, "Important! See instructions on the back", 7)
    if d.item_id:
        p.text(120, 14, "No. of item (barcode, if any)", 7)
        p.barcode(120, 16, d.item_id)
    y = 36
    p.text(12, y, "Category of item", 7, bold=True)
    x = 40
    for value, label in CATEGORIES:
        x = p.tick(x, y, label, d.category == value)
    y += 7
    p.text(12, y, "(1) Quantity and detailed description of contents", 6, bold=True)
    p.text(110, y, "(2) Weight (kg)", 6, bold=True)
    p.text(135, y, "(3) Value", 6, bold=True)
    p.text(160, y, "(4) HS tariff No.", 6, bold=True)
    p.text(185, y, "(5) Origin", 6, bold=True)
    y += 4.5
    for line in _lines(d):
        p.right(128, y, f"{line.net_weight_kg:.3f}", 7)
        p.right(157, y, _money(line.value, d.currency), 7)
        p.text(160, y, line.hs_code, 7)
        p.text(187, y, line.origin, 7)
        y = p.wrap(12, y, f"{line.quantity} x {line.description}", 94) + 4 - 7 * 0.45
    y += 2
    p.text(12, y, f"(6) Total weight: {_kg(d.total_gross_weight_kg)}", 7, bold=True)
    p.text(110, y, f"(7) Total value: {_money(d.total_value, d.currency)}", 7, bold=True)
    y += 6
    p.text(12, y, f"Sender's customs reference (if any): {_sender_reference(d)}", 7)
    y += 4
    p.text(12, y, f"Importer's reference (if any): {_importer_reference(d)}", 7)
    y += 4
    p.text(12, y, f"Invoice: {d.invoice_number}   Incoterm: {d.incoterm} {d.incoterm_place}", 7)
    y += 6
    y = p.wrap(12, y, CERTIFICATION, 185)
    y += 3
    p.text(
        12, y, f"(8) Date and sender's signature: {d.invoice_date.isoformat()}  {d.signatory}", 8,
        bold=True,
    )  # fmt: skip
    y += 6
    p.text(12, y, "Sender (name and address are also on the front of the item):", 6)
    y = p.wrap(12, y + 3.5, ", ".join(_party_lines(sender)), 185, 6, country=sender["country"])
    if sender.get("latin"):
        y = p.wrap(12, y, f"In Latin letters: {sender['latin']}", 185, 6)
    p.text(12, y + 1, f"Consignment reference: {d.reference}", 6)
    return p.finish()


LABEL_SIZE = (100 * mm, 150 * mm)


def render_cn22_label(d: CustomsDeclaration) -> bytes:
    """The CN22 at label size (100 x 150 mm, thermal label printers), same fields as on A4.

    The description box is short here: each line keeps at most two printed lines and ends in
    "..." when cut; the whole text is on the invoice and in the advance data."""
    p = _Page(f"CN 22 {d.reference}", pagesize=LABEL_SIZE)
    x0, w = 4, 92
    p.text(x0, 6, f"Designated operator: {d.sender.get('operator') or 'see carrier label'}", 5)
    p.text(x0, 11, "CUSTOMS DECLARATION CN 22", 10, bold=True)
    p.text(x0, 14.5, "May be opened officially", 6)
    p.text(60, 14.5, "See instructions on the back", 5)
    y = 19
    if d.item_id:
        p.barcode(x0 + 10, y, d.item_id, height=8)
        y += 15
    p.text(x0, y, "Category of item", 6, bold=True)
    y += 3.5
    x = x0
    for value, label in CATEGORIES:
        if x > 70:
            x, y = x0, y + 4
        x = p.tick(x, y + 2.6, label, d.category == value)
    y += 7
    if d.category_explanation:
        y = p.wrap(x0, y, f"Explanation: {d.category_explanation}", w, 5.5) + 1
    p.text(x0, y, "(1) Quantity and detailed description", 5, bold=True)
    p.text(58, y, "(2) kg", 5, bold=True)
    p.text(68, y, "(3) Value", 5, bold=True)
    y += 3
    p.text(x0, y, "(4) HS tariff No.  (5) Country of origin", 5, bold=True)
    y += 3.5
    for line in _lines(d):
        text = p.lines(f"{line.quantity} x {line.description}", 52, 6)
        if len(text) > 2:
            text = [text[0], text[1].rstrip()[:-3] + "..."]
        p.right(65, y, f"{line.net_weight_kg:.3f}", 6)
        p.right(96, y, _money(line.value, d.currency), 6)
        for piece in text:
            p.text(x0, y, piece, 6)
            y += 2.8
        p.text(x0 + 2, y, f"HS {line.hs_code}   origin {line.origin}", 5.5)
        y += 3.5
    p.text(x0, y, f"(6) Total weight: {_kg(d.total_gross_weight_kg)}", 6, bold=True)
    p.text(52, y, f"(7) Total: {_money(d.total_value, d.currency)}", 6, bold=True)
    y += 4
    y = p.wrap(x0, y, f"Sender's customs reference: {_sender_reference(d)}", w, 5.5)
    y = p.wrap(x0, y, f"Importer's reference (if any): {_importer_reference(d)}", w, 5.5)
    y = p.wrap(x0, y, f"Invoice: {d.invoice_number}", w, 5.5) + 1
    y = p.wrap(x0, y, CERTIFICATION, w, 4.5) + 1
    p.text(x0, y, f"(8) {d.invoice_date.isoformat()}  {d.signatory}", 6.5, bold=True)
    return p.finish()


def _sender_reference(d: CustomsDeclaration) -> str:
    """The seller's own references (EORI, exporter reference); never the marketplace's."""
    parts = []
    if d.sender.get("eori"):
        parts.append(f"EORI {d.sender['eori']}")
    if d.sender.get("exporter_reference"):
        parts.append(d.sender["exporter_reference"])
    return "; ".join(parts)


def _scheme_code(supplier: dict) -> str:
    return supplier["scheme"].replace("_", " ")


def _importer_reference(d: CustomsDeclaration) -> str:
    """The importer's reference box: where posts and customs look for the IOSS (or other
    deemed-supplier) number that releases the parcel without charging the tax again, then
    the addressee's own tax reference, if any."""
    parts = []
    if d.deemed_supplier:
        s = d.deemed_supplier
        parts.append(f"{_scheme_code(s)} {s['number']} ({s['name']}, deemed supplier)")
    if d.addressee.get("reference"):
        parts.append(d.addressee["reference"])
    return "; ".join(parts)


def _deemed_supplier_line(d: CustomsDeclaration) -> str:
    s = d.deemed_supplier
    return f"Deemed supplier: {s['name']}, {s['label']} {s['number']}"


def render_invoice(d: CustomsDeclaration) -> bytes:
    """Commercial invoice with the fields of FACTS.md §3.1."""
    p = _Page(f"Commercial Invoice {d.invoice_number}")
    sender, to = d.sender, d.addressee
    p.text(12, 16, "COMMERCIAL INVOICE", 16, bold=True)
    p.text(130, 12, f"Invoice number: {d.invoice_number}", 8, bold=True)
    p.text(130, 16, f"Invoice date: {d.invoice_date.isoformat()}", 8)
    p.text(130, 20, f"Shipment date: {d.invoice_date.isoformat()}", 8)
    p.text(130, 24, f"Order number: {d.order_number or d.reference}", 8)

    p.text(12, 32, "Seller / exporter", 8, bold=True)
    y = 36
    for line in _party_lines(sender):
        y = p.wrap(12, y, line, 90, country=sender.get("country", "")) + 3.5 - 7 * 0.45
    if sender.get("latin"):
        y = p.wrap(12, y, f"In Latin letters: {sender['latin']}", 90) + 3.5 - 7 * 0.45
    for label, key in (("Tel.", "phone"), ("E-mail", "email"), ("VAT No.", "vat_number"),
                       ("EORI", "eori")):  # fmt: skip
        if sender.get(key):
            value = format_phone(sender[key]) if key == "phone" else sender[key]
            p.text(12, y, f"{label}: {value}", 7)
            y += 3.5
    p.text(110, 32, "Buyer / importer (consignee)", 8, bold=True)
    y2 = 36
    for line in _party_lines(to):
        y2 = p.wrap(110, y2, line, 88, country=to.get("country", "")) + 3.5 - 7 * 0.45
    if to.get("latin"):
        y2 = p.wrap(110, y2, f"In Latin letters: {to['latin']}", 88) + 3.5 - 7 * 0.45
    for label, key in (("Tel.", "phone"), ("E-mail", "email"), ("VAT/EORI", "reference")):
        if to.get(key):
            value = format_phone(to[key]) if key == "phone" else to[key]
            p.text(110, y2, f"{label}: {value}", 7)
            y2 += 3.5
    y = max(y, y2) + 3
    if d.deemed_supplier:
        # The marketplace, not the seller, is the supplier of record for the tax it collected.
        p.text(12, y, "Deemed supplier (tax collected at checkout)", 8, bold=True)
        y += 4
        p.text(12, y, f"{d.deemed_supplier['name']}, {d.deemed_supplier['label']}: "
               f"{d.deemed_supplier['number']}", 7)  # fmt: skip
        y += 6
    p.text(12, y, f"Country of export: {d.ship_from}", 7)
    p.text(60, y, f"Country of destination: {d.destination}", 7)
    p.text(110, y, f"Transport: {'postal' if d.transport == 'post' else 'courier'}", 7)
    p.text(150, y, f"Tracking / S10: {d.item_id or 'to follow'}", 7)
    y += 4
    p.text(12, y, f"Incoterms(R) 2020: {d.incoterm} {d.incoterm_place}", 7, bold=True)
    p.text(110, y, f"Reason for export: {_explanation(d)}", 7)
    y += 7
    cols = [
        (12, "Description"), (92, "HS code"), (112, "Origin"), (126, "Qty"),
        (138, "Unit price"), (160, "Line total"), (183, "Net kg"),
    ]  # fmt: skip
    for x, label in cols:
        p.text(x, y, label, 7, bold=True)
    y += 4
    lines = _lines(d)
    for line in lines:
        p.text(92, y, line.hs_code, 7)
        p.text(114, y, line.origin, 7)
        p.right(132, y, f"{line.quantity} pcs", 7)
        p.right(157, y, _money(line.unit_value, d.currency), 7)
        p.right(180, y, _money(line.value, d.currency), 7)
        p.right(197, y, f"{line.net_weight_kg:.3f}", 7)
        y = p.wrap(12, y, line.description, 78) + 4 - 7 * 0.45
    y += 3
    rows = [
        ("Subtotal (goods)", d.total_value),
        ("Freight", d.postal_charges - d.insurance_premium),
        ("Insurance", d.insurance_premium),
        ("Packing and other charges", Decimal(0)),
    ]
    if d.tax_collected:
        # What the buyer paid at checkout, inside the total, with the scheme it was paid under.
        scheme = (
            f" ({_scheme_code(d.deemed_supplier)} {d.deemed_supplier['number']})"
            if (d.deemed_supplier)
            else ""
        )
        rows += [
            ("Duty collected at checkout", d.duty),
            (f"Import tax collected at checkout{scheme}", d.tax),
        ]
    total = sum((amount for _label, amount in rows), Decimal(0))
    rows.append((f"Total ({d.currency})", total))
    for label, amount in rows:
        bold = label.startswith("Total")
        p.text(104, y, label, 7, bold=bold)
        p.right(197, y, _money(amount, d.currency), 7, bold=bold)
        y += 4
    y += 2
    p.text(12, y, f"Currency of all amounts: {d.currency}", 7)
    p.text(70, y, "Packages: 1 parcel", 7)
    p.text(110, y, f"Total net weight: {_kg(d.total_net_weight_kg)}", 7)
    p.text(155, y, f"Gross: {_kg(d.total_gross_weight_kg)}", 7)
    y += 6
    p.text(12, y, "VAT statement:", 7, bold=True)
    y = p.wrap(35, y, _vat_statement(d), 160) + 2
    p.text(12, y, "Payment terms:", 7, bold=True)
    p.text(35, y, "paid in full by the buyer at checkout (marketplace order)", 7)
    y += 6
    if sender.get("origin_declaration"):
        p.text(12, y, "Statement on origin (EU-UK TCA):", 7, bold=True)
        text = sender["origin_declaration"]
        if sender.get("origin_exceptions"):
            lines = ", ".join(str(n) for n in sender["origin_exceptions"])
            text += f" Not of preferential origin: line(s) {lines}."
        y = p.wrap(12, y + 4, text, 185)
        y = p.wrap(12, y + 1, f"{d.invoice_date.isoformat()}, {sender.get('name', '')}", 185) + 4
    p.text(12, y, INVOICE_DECLARATION, 8)
    y += 6
    p.text(12, y, f"Name and signature: {d.signatory or sender.get('name', '')}", 8, bold=True)
    p.text(120, y, f"Date: {d.invoice_date.isoformat()}", 8)
    return p.finish()


def _explanation(d: CustomsDeclaration) -> str:
    if d.category_explanation:
        return d.category_explanation
    if d.category == CustomsDeclaration.Category.SALE_OF_GOODS:
        return "sale of goods through an online marketplace"
    return dict(CATEGORIES).get(d.category, d.category).lower()


def _vat_statement(d: CustomsDeclaration) -> str:
    if d.tax_collected and d.deemed_supplier:
        s = d.deemed_supplier
        return (
            f"Destination tax of {_money(d.tax, d.currency)} charged at the point of sale by "
            f"{s['name']} as deemed supplier ({s['label']} {s['number']})."
        )
    if d.tax_collected:
        return "Duty and tax paid by the seller (DDP)."
    return "VAT 0 % - export; import taxes are due from the consignee at the destination."


def advance_data(d: CustomsDeclaration) -> dict:
    """The ITMATT data set (FACTS.md §2.1) as a carrier-neutral dict."""

    def party(p: dict) -> dict:
        return {
            "name": p.get("name", ""),
            "business": p.get("business", ""),
            "address_lines": list(p.get("address_lines", [])),
            "postcode": p.get("postcode", ""),
            "city": p.get("city", ""),
            "region": p.get("region", ""),
            "country": p.get("country", ""),
            "phone": p.get("phone", ""),
            "email": p.get("email", ""),
        }

    sender = party(d.sender)
    sender["eori"] = d.sender.get("eori", "")
    sender["vat_number"] = d.sender.get("vat_number", "")
    addressee = party(d.addressee)
    # The importer reference carries the deemed supplier's number (the IOSS number in the EU
    # H7 data set); the addressee's own tax code travels beside it.
    own = d.addressee.get("reference", "")
    addressee["importer_reference"] = d.deemed_supplier["number"] if d.deemed_supplier else own
    addressee["tax_reference"] = own
    return {
        "schema": "tradepost.advance-data/1",
        "message": "ITMATT",
        "reference": d.reference,
        "item_id": d.item_id or None,
        "form": d.form,
        "category": d.category.upper(),
        "sender": sender,
        "addressee": addressee,
        "origin_country": d.ship_from,
        "destination_country": d.destination,
        "transport": d.transport,
        "contents": [
            {
                "description": line.description,
                "quantity": line.quantity,
                "net_weight_kg": f"{line.net_weight_kg:.3f}",
                "value": _amount(line.value, d.currency),
                "currency": d.currency,
                "hs_code": line.hs_code[:6],
                "national_tariff_code": line.hs_code if len(line.hs_code) > 6 else None,
                "origin_country": line.origin,
            }
            for line in _lines(d)
        ],
        "total_value": {"amount": _amount(d.total_value, d.currency), "currency": d.currency},
        "total_gross_weight_kg": f"{d.total_gross_weight_kg:.3f}",
        "postal_charges": {"amount": _amount(d.postal_charges, d.currency), "currency": d.currency},
        "insured_value": {"amount": _amount(d.insured_value, d.currency), "currency": d.currency},
        "invoice_number": d.invoice_number,
        "licence_numbers": [n for n in d.licence_numbers.split(",") if n.strip()],
        "certificate_numbers": [n for n in d.certificate_numbers.split(",") if n.strip()],
        "incoterm": d.incoterm,
        "tax_scheme": (
            {
                "type": d.deemed_supplier["scheme"],
                "id": d.deemed_supplier["number"],
                "deemed_supplier": d.deemed_supplier["name"],
            }
            if d.deemed_supplier
            else None
        ),
        "duty_tax_collected": {
            "collected": d.tax_collected,
            "duty": _amount(d.duty, d.currency),
            "tax": _amount(d.tax, d.currency),
            "currency": d.currency,
        },
        "non_delivery": {
            "instruction": d.non_delivery.upper(),
            "redirect_address": d.redirect_address or None,
        },
        "posting_date_time": None,
    }


def render_advance_data(d: CustomsDeclaration) -> bytes:
    return json.dumps(advance_data(d), indent=2, sort_keys=True, ensure_ascii=False).encode()


RENDERERS = {
    CustomsDocument.Kind.CN22: (render_cn, "application/pdf"),
    CustomsDocument.Kind.CN22_LABEL: (render_cn22_label, "application/pdf"),
    CustomsDocument.Kind.CN23: (render_cn, "application/pdf"),
    CustomsDocument.Kind.INVOICE: (render_invoice, "application/pdf"),
    CustomsDocument.Kind.ADVANCE_DATA: (render_advance_data, "application/json"),
}


def kinds_for(d: CustomsDeclaration) -> list[str]:
    """The documents a declaration gets: its CN form (a CN22 on A4 and at label size), the
    invoice and the advance data."""
    K = CustomsDocument.Kind
    cn = [K.CN22, K.CN22_LABEL] if d.form == "CN22" else [K.CN23]
    return [*cn, K.INVOICE, K.ADVANCE_DATA]
