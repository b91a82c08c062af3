"""Customs rules and paperwork.

Rules (HS codes, exchange rates, regimes, duty rates, restrictions, sanctions) are data with
effective dates and sources, loaded from ``customs/data/`` by ``load_customs_rules`` and
editable in admin with history. Quotes and declarations are frozen snapshots: they record the
ids of the rule rows they used and never read live listings again.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from marketplace.core.state import StateMachine

HS_EDITION = "HS2022"


class HSCode(models.Model):
    """One node of the Harmonized System: chapter (2 digits), heading (4) or subheading (6)."""

    class Level(models.IntegerChoices):
        CHAPTER = 2, _("Chapter")
        HEADING = 4, _("Heading")
        SUBHEADING = 6, _("Subheading")

    # Unique on its own (not per edition) so other apps may point at it by code; loading
    # HS 2028 in 2027 will need a correlation table and this constraint revisited.
    code = models.CharField(_("code"), max_length=6, unique=True)
    level = models.PositiveSmallIntegerField(_("level"), choices=Level.choices)
    parent_code = models.CharField(_("parent code"), max_length=6, blank=True)
    description = models.TextField(_("description"))
    section = models.CharField(_("section"), max_length=5)
    section_name = models.CharField(_("section name"), max_length=255, blank=True)
    hs_edition = models.CharField(_("HS edition"), max_length=10, default=HS_EDITION)

    history = HistoricalRecords()

    class Meta:
        ordering = ["code"]
        verbose_name = _("HS code")
        verbose_name_plural = _("HS codes")
        indexes = [models.Index(fields=["level", "code"])]

    def __str__(self) -> str:
        return f"{self.dotted} {self.description[:60]}"

    @property
    def dotted(self) -> str:
        """``6109.10`` style, as printed in tariffs."""
        if self.level == self.Level.SUBHEADING:
            return f"{self.code[:4]}.{self.code[4:]}"
        return self.code


class ExchangeRate(models.Model):
    """Units of ``currency`` per 1 EUR on ``date`` (the ECB convention, EUR itself is 1)."""

    class Kind(models.TextChoices):
        ECB_DAILY = "ECB_DAILY", _("ECB daily reference rate")
        EU_CUSTOMS_MONTHLY = "EU_CUSTOMS_MONTHLY", _("EU customs rate for the month")
        MANUAL = "MANUAL", _("Manual rate (currency the ECB does not publish)")

    date = models.DateField(_("date"))
    currency = models.CharField(_("currency"), max_length=3)
    rate = models.DecimalField(_("units per 1 EUR"), max_digits=20, decimal_places=8)
    rate_kind = models.CharField(
        _("kind"), max_length=20, choices=Kind.choices, default=Kind.ECB_DAILY
    )
    source = models.CharField(_("source"), max_length=255, blank=True)
    imported_at = models.DateTimeField(auto_now=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["-date", "currency"]
        constraints = [
            models.UniqueConstraint(
                fields=["rate_kind", "currency", "date"], name="exchange_rate_unique_per_day"
            ),
            models.CheckConstraint(condition=models.Q(rate__gt=0), name="exchange_rate_positive"),
        ]
        indexes = [models.Index(fields=["rate_kind", "currency", "-date"])]

    def __str__(self) -> str:
        return f"{self.date} 1 EUR = {self.rate} {self.currency} ({self.rate_kind})"


# --- Rules with effective dates ---------------------------------------------------------------


class RuleQuerySet(models.QuerySet):
    def in_force(self, on):
        """Rows effective on ``on``: from is inclusive, to is exclusive (the next rule's start)."""
        return self.filter(active=True, effective_from__lte=on).filter(
            models.Q(effective_to__isnull=True) | models.Q(effective_to__gt=on)
        )


class DatedRule(models.Model):
    """Common columns of every rule table: where it comes from and when it applies."""

    # Natural key of a row loaded from customs/data/ (blank for rows created in admin).
    data_key = models.CharField(_("data key"), max_length=80, blank=True, db_index=True)
    effective_from = models.DateField(_("effective from"))
    effective_to = models.DateField(
        _("effective to (exclusive)"), null=True, blank=True, help_text=_("Blank: open-ended.")
    )
    active = models.BooleanField(_("active"), default=True)
    source = models.TextField(_("source"), blank=True)
    as_of = models.CharField(_("as of"), max_length=20, blank=True)
    uncertain = models.BooleanField(
        _("uncertain (⚠)"), default=False, help_text=_("Flagged as unverified in the sources.")
    )
    notes = models.TextField(_("notes"), blank=True)

    objects = RuleQuerySet.as_manager()

    class Meta:
        abstract = True

    def applies_on(self, on) -> bool:
        return (
            self.active
            and self.effective_from <= on
            and (self.effective_to is None or on < self.effective_to)
        )


class Regime(DatedRule):
    """How one destination taxes small consignments during a period (FACTS.md §5, §6, §10a)."""

    class Basis(models.TextChoices):
        CIF = "CIF", _("CIF: goods + freight + insurance")
        FOB = "FOB", _("FOB: goods only")

    class ThresholdBasis(models.TextChoices):
        INTRINSIC = "intrinsic", _("intrinsic value of the consignment (goods)")
        CUSTOMS_VALUE = "customs_value", _("customs value")
        PER_ITEM = "per_item", _("per item (unit price)")
        TAX_AMOUNT = "tax_amount", _("amount of tax")

    class DutyFormula(models.TextChoices):
        TARIFF = "tariff", _("tariff rates per line (DutyRate)")
        BR_REMESSA = "br_remessa", _("Brazil Remessa Conforme (20 % / 60 % - US$20)")
        FLAT_RATE = "flat_rate", _("one rate on the customs value (params.rate)")
        GLOBAL_RATE = "global_rate", _("global rate covering duty and tax (params.brackets)")
        NONE = "none", _("no duty")

    class TaxBase(models.TextChoices):
        SUPPLY = "supply", _("consumer price: goods + shipping + insurance")
        GOODS = "goods", _("goods only (excl. shipping and insurance)")
        CV_DUTY = "cv_duty", _("customs value + duty")
        CIF_DUTY = "cif_duty", _("goods + shipping + insurance + duty")
        ATV = "atv", _("customs value x (1 + uplift) + duty (South Africa ATV)")
        POR_DENTRO = "por_dentro", _("(customs value + duty) / (1 - rate) (Brazil ICMS)")

    class Channel(models.TextChoices):
        ANY = "", _("any")
        MARKETPLACE = "marketplace", _("marketplace (deemed supplier)")
        DIRECT = "direct", _("direct sale by the seller")

    class Transport(models.TextChoices):
        ANY = "", _("any")
        POST = "post", _("post")
        COURIER = "courier", _("courier / express")

    name = models.CharField(_("name"), max_length=120)
    destination = models.CharField(_("destination"), max_length=2, db_index=True)
    destination_region = models.CharField(
        _("region (ISO 3166-2)"), max_length=6, blank=True, help_text=_("e.g. CA-ON")
    )
    channel = models.CharField(_("channel"), max_length=12, choices=Channel.choices, blank=True)
    transport = models.CharField(
        _("transport"), max_length=8, choices=Transport.choices, blank=True
    )
    ship_from = models.CharField(
        _("shipped from"),
        max_length=60,
        blank=True,
        help_text=_("Comma-separated countries of direct shipment; blank: anywhere."),
    )
    currency = models.CharField(_("currency of the amounts"), max_length=3)
    fx_kind = models.CharField(
        _("exchange rates used"),
        max_length=20,
        choices=ExchangeRate.Kind.choices,
        default=ExchangeRate.Kind.ECB_DAILY,
    )
    customs_value_basis = models.CharField(
        _("customs value basis"), max_length=3, choices=Basis.choices
    )
    duty_threshold = models.DecimalField(
        _("duty de minimis"), max_digits=12, decimal_places=2, null=True, blank=True,
        help_text=_("No duty at or under this value. Blank: no de minimis."),
    )  # fmt: skip
    duty_threshold_basis = models.CharField(
        _("duty de minimis applies to"),
        max_length=16,
        choices=ThresholdBasis.choices,
        default=ThresholdBasis.CUSTOMS_VALUE,
    )
    tax_threshold = models.DecimalField(
        _("tax de minimis"), max_digits=12, decimal_places=2, null=True, blank=True,
        help_text=_("No import tax at or under this value. Blank: none."),
    )  # fmt: skip
    tax_threshold_basis = models.CharField(
        _("tax de minimis applies to"),
        max_length=16,
        choices=ThresholdBasis.choices,
        default=ThresholdBasis.CUSTOMS_VALUE,
    )
    deminimis_max_uses_per_year = models.PositiveSmallIntegerField(
        _("de minimis uses per buyer per year"), null=True, blank=True
    )
    tax_name = models.CharField(_("tax name"), max_length=40, blank=True)
    tax_rate = models.DecimalField(
        _("tax rate %"), max_digits=7, decimal_places=4, null=True, blank=True,
        help_text=_("Standard VAT/GST rate; blank: no import tax."),
    )  # fmt: skip
    tax_rate_factor = models.DecimalField(
        _("tax rate factor"), max_digits=5, decimal_places=4, default=1,
        help_text=_("Multiplier on the rate (China CBEC: 0.7)."),
    )  # fmt: skip
    collect_at_sale = models.BooleanField(_("marketplace collects tax at checkout"), default=False)
    collect_max_value = models.DecimalField(
        _("collected up to"), max_digits=12, decimal_places=2, null=True, blank=True
    )
    collect_max_basis = models.CharField(
        _("collection limit applies to"),
        max_length=16,
        choices=ThresholdBasis.choices,
        default=ThresholdBasis.INTRINSIC,
    )
    tax_scheme = models.CharField(
        _("tax scheme"), max_length=12, blank=True, help_text=_("IOSS, UK_VAT, VOEC, AU_ARN ...")
    )
    tax_base_at_sale = models.CharField(
        _("tax base when collected"), max_length=12, choices=TaxBase.choices, default="supply"
    )
    tax_base_at_border = models.CharField(
        _("tax base at the border"), max_length=12, choices=TaxBase.choices, default="cv_duty"
    )
    no_duty_when_collected = models.BooleanField(
        _("no duty when tax is collected at sale"), default=False
    )
    tax_minimum = models.DecimalField(
        _("tax not collected at or under"), max_digits=12, decimal_places=2, null=True,
        blank=True, help_text=_("Switzerland: CHF 5.00 (inclusive)."),
    )  # fmt: skip
    duty_formula = models.CharField(
        _("duty formula"), max_length=12, choices=DutyFormula.choices, default="tariff"
    )
    apply_mfn = models.BooleanField(_("MFN tariff rates apply"), default=True)
    flat_duty_amount = models.DecimalField(
        _("flat duty per tariff line"), max_digits=8, decimal_places=2, null=True, blank=True
    )
    flat_duty_max_value = models.DecimalField(
        _("flat duty for intrinsic values up to"),
        max_digits=12,
        decimal_places=2,
        null=True,
        blank=True,
    )
    duty_exempt_hs_prefixes = models.CharField(
        _("duty-free HS prefixes"),
        max_length=200,
        blank=True,
        help_text=_("Comma-separated, e.g. 49 (informational materials)."),
    )
    params = models.JSONField(_("formula parameters"), default=dict, blank=True)
    rounding_increment = models.DecimalField(
        _("cash rounding increment"), max_digits=6, decimal_places=3, null=True, blank=True
    )
    round_per_line = models.BooleanField(_("round duty per line"), default=False)
    limits_inclusive = models.BooleanField(
        _("limits are inclusive"),
        default=True,
        help_text=_(
            "On: a value at the limit qualifies (NZ$1,000 or less). Off: only values strictly "
            "below it (Norway VOEC: items below NOK 3,000). A per-item collection limit is "
            "decided item by item."
        ),
    )

    history = HistoricalRecords()

    class Meta:
        ordering = ["destination", "destination_region", "-effective_from"]
        indexes = [models.Index(fields=["destination", "effective_from"])]

    def __str__(self) -> str:
        return self.name


class DutyRate(DatedRule):
    """Ad valorem duty for an HS prefix at a destination (``EU`` rows apply to the 27 members)."""

    class Layer(models.TextChoices):
        MFN = "mfn", _("MFN tariff")
        SURCHARGE = "surcharge", _("surcharge on top (e.g. US s.122, s.301)")
        PREFERENCE = "preference", _("preferential rate of a trade agreement (origin statement)")

    destination = models.CharField(_("destination"), max_length=2, db_index=True)
    hs_prefix = models.CharField(_("HS prefix"), max_length=10, blank=True)
    layer = models.CharField(_("layer"), max_length=10, choices=Layer.choices, default="mfn")
    origin = models.CharField(
        _("origin"), max_length=2, blank=True, help_text=_("Blank: any origin.")
    )
    rate_percent = models.DecimalField(
        _("rate %"), max_digits=7, decimal_places=3, null=True, blank=True,
        help_text=_("Blank: not purely ad valorem (see note); quotes are flagged incomplete."),
    )  # fmt: skip
    national_code = models.CharField(_("national code"), max_length=20, blank=True)
    description = models.CharField(_("description"), max_length=255, blank=True)
    specific_note = models.TextField(_("specific duty / split note"), blank=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["destination", "hs_prefix", "-effective_from"]
        indexes = [models.Index(fields=["destination", "hs_prefix"])]

    def __str__(self) -> str:
        rate = "specific" if self.rate_percent is None else f"{self.rate_percent}%"
        return f"{self.destination} {self.hs_prefix or '*'} {rate}"


class Fee(DatedRule):
    """A national handling or clearance fee (IT €2, FR €2 per article, KE IDF 2.5 % ...)."""

    class Unit(models.TextChoices):
        CONSIGNMENT = "consignment", _("per consignment")
        ARTICLE = "article", _("per declared article (line)")
        PERCENT_CV = "percent_cv", _("percent of the customs value")

    class Payer(models.TextChoices):
        BUYER = "buyer", _("buyer (part of the landed cost)")
        MARKETPLACE = "marketplace", _("marketplace (a cost, not a buyer line)")

    name = models.CharField(_("name"), max_length=120)
    destination = models.CharField(_("destination"), max_length=2, db_index=True)
    transport = models.CharField(
        _("transport"), max_length=8, choices=Regime.Transport.choices, blank=True
    )
    unit = models.CharField(_("unit"), max_length=12, choices=Unit.choices)
    amount = models.DecimalField(_("amount or percent"), max_digits=10, decimal_places=3)
    currency = models.CharField(_("currency"), max_length=3, blank=True)
    max_intrinsic_value = models.DecimalField(
        _("only for intrinsic values up to"), max_digits=12, decimal_places=2, null=True,
        blank=True,
    )  # fmt: skip
    payer = models.CharField(_("paid by"), max_length=12, choices=Payer.choices, default="buyer")
    only_when_charges_due = models.BooleanField(
        _("only when duty or tax is collected on delivery"), default=False
    )

    history = HistoricalRecords()

    class Meta:
        ordering = ["destination", "name"]

    def __str__(self) -> str:
        return f"{self.destination} {self.name}"


class Restriction(DatedRule):
    """HS prefix x destination x transport → allow / warn / require a document / block."""

    class Action(models.TextChoices):
        ALLOW = "allow", _("allow")
        WARN = "warn", _("warn")
        REQUIRE_DOC = "require_doc", _("require a document")
        BLOCK = "block", _("block")

    hs_prefix = models.CharField(_("HS prefix"), max_length=10)
    destination = models.CharField(
        _("destination"), max_length=2, blank=True, help_text=_("Blank: every destination.")
    )
    transport = models.CharField(
        _("transport"), max_length=8, choices=Regime.Transport.choices, blank=True
    )
    action = models.CharField(_("action"), max_length=12, choices=Action.choices)
    reason = models.TextField(_("reason shown to seller and buyer"))
    document = models.CharField(_("document required"), max_length=120, blank=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["hs_prefix", "destination", "transport"]

    def __str__(self) -> str:
        return (
            f"{self.hs_prefix} → {self.destination or '*'} {self.transport or '*'}: {self.action}"
        )


class SanctionedDestination(DatedRule):
    """Sanctions by destination, per seller jurisdiction (EU Blocking Statute)."""

    class Action(models.TextChoices):
        BLOCK = "block", _("block")
        REVIEW = "review", _("hold for manual review")
        SCREEN = "screen", _("allow, with party screening")

    destination = models.CharField(_("destination"), max_length=2, db_index=True)
    region = models.CharField(
        _("region (ISO 3166-2)"), max_length=6, blank=True, help_text=_("e.g. UA-43 Crimea")
    )
    seller_jurisdiction = models.CharField(
        _("seller jurisdiction"),
        max_length=2,
        blank=True,
        help_text=_("Country or EU; blank: every seller."),
    )
    programme = models.CharField(_("programme"), max_length=120)
    action = models.CharField(_("action"), max_length=8, choices=Action.choices)
    min_item_value_eur = models.DecimalField(
        _("only items above (EUR)"), max_digits=10, decimal_places=2, null=True, blank=True,
        help_text=_("EU luxury-goods ban: items above EUR 300."),
    )  # fmt: skip
    reason = models.TextField(_("reason"))

    history = HistoricalRecords()

    class Meta:
        ordering = ["destination", "region", "seller_jurisdiction"]

    def __str__(self) -> str:
        where = self.region or self.destination
        return f"{where} {self.action} ({self.seller_jurisdiction or 'all sellers'})"


class SdrRate(DatedRule):
    """Units of ``currency`` per 1 SDR: decides CN22 (≤ 300 SDR) or CN23."""

    currency = models.CharField(_("currency"), max_length=3)
    units_per_sdr = models.DecimalField(_("units per SDR"), max_digits=12, decimal_places=6)
    cn22_max_sdr = models.DecimalField(_("CN22 up to (SDR)"), max_digits=8, decimal_places=2)

    history = HistoricalRecords()

    class Meta:
        ordering = ["currency", "-effective_from"]

    def __str__(self) -> str:
        return f"1 SDR = {self.units_per_sdr} {self.currency} from {self.effective_from}"


class ScreeningList(models.Model):
    """A bundled denied-party list snapshot (provenance for screening hits)."""

    name = models.CharField(_("list"), max_length=60)
    version = models.CharField(_("version"), max_length=60)
    entries = models.PositiveIntegerField(_("names"), default=0)
    sha256 = models.CharField(max_length=64, blank=True)
    source = models.TextField(_("source"), blank=True)
    loaded_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["name", "version"], name="screening_list_version")
        ]

    def __str__(self) -> str:
        return f"{self.name} {self.version}"


class ScreeningHit(models.Model):
    """A possible denied-party match, held for an admin's decision."""

    class Subject(models.TextChoices):
        SELLER = "seller", _("seller")
        BUYER = "buyer", _("buyer")
        CONSIGNEE = "consignee", _("consignee")

    class Decision(models.TextChoices):
        PENDING = "pending", _("pending review")
        CLEARED = "cleared", _("cleared: not the listed party")
        CONFIRMED = "confirmed", _("confirmed: blocked")

    TRANSITIONS = {
        Decision.PENDING: {Decision.CLEARED, Decision.CONFIRMED},
        Decision.CLEARED: set(),
        Decision.CONFIRMED: set(),
    }

    reference = models.CharField(_("reference"), max_length=80, db_index=True)
    subject = models.CharField(_("who"), max_length=10, choices=Subject.choices)
    query_name = models.CharField(_("name screened"), max_length=200)
    query_country = models.CharField(_("country"), max_length=2, blank=True)
    list_name = models.CharField(_("list"), max_length=60)
    list_version = models.CharField(_("list version"), max_length=60)
    entry_id = models.CharField(_("list entry"), max_length=40)
    matched_name = models.CharField(_("listed name"), max_length=300)
    programs = models.CharField(_("programmes"), max_length=200, blank=True)
    score = models.DecimalField(_("score"), max_digits=5, decimal_places=1)
    decision = models.CharField(
        _("decision"), max_length=10, choices=Decision.choices, default=Decision.PENDING
    )
    decided_by = models.ForeignKey(
        "accounts.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_note = models.TextField(_("note"), blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["decision", "-created_at"]
        permissions = [("decide_screeninghit", "Can clear or confirm screening hits")]
        constraints = [
            models.UniqueConstraint(
                fields=["reference", "subject", "list_name", "list_version", "entry_id"],
                name="screening_hit_once_per_reference",
            )
        ]

    def __str__(self) -> str:
        return f"{self.query_name} ~ {self.matched_name} ({self.score})"


# --- Quotes, declarations, documents ------------------------------------------------------------


class Quote(models.Model):
    """A landed-cost quote: the inputs, the breakdown and the rule rows it used, frozen."""

    shop = models.ForeignKey(
        "accounts.Shop", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reference = models.CharField(_("reference"), max_length=80, blank=True, db_index=True)
    quote_date = models.DateField(_("date"))
    destination = models.CharField(_("destination"), max_length=2)
    currency = models.CharField(_("currency"), max_length=3)
    goods = models.DecimalField(max_digits=14, decimal_places=4)
    shipping = models.DecimalField(max_digits=14, decimal_places=4)
    insurance = models.DecimalField(max_digits=14, decimal_places=4)
    customs_value = models.DecimalField(max_digits=14, decimal_places=4)
    duty = models.DecimalField(max_digits=14, decimal_places=4)
    tax = models.DecimalField(max_digits=14, decimal_places=4)
    fees = models.DecimalField(max_digits=14, decimal_places=4)
    landed_cost = models.DecimalField(max_digits=14, decimal_places=4)
    collected_at_checkout = models.BooleanField()
    incoterm = models.CharField(max_length=3)
    form = models.CharField(max_length=4)
    blocked = models.BooleanField(default=False)
    review_required = models.BooleanField(default=False)
    incomplete = models.BooleanField(default=False)
    regime = models.ForeignKey(
        Regime, null=True, blank=True, on_delete=models.SET_NULL, related_name="quotes"
    )
    inputs = models.JSONField()
    breakdown = models.JSONField()
    rules_used = models.JSONField(default=list)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"Quote {self.pk} {self.destination} {self.landed_cost} {self.currency}"


class CustomsDeclaration(models.Model):
    """A frozen CN22/CN23 snapshot for one consignment (one shop's part of an order)."""

    class Category(models.TextChoices):
        SALE_OF_GOODS = "sale_of_goods", _("Sale of goods")
        COMMERCIAL_SAMPLE = "commercial_sample", _("Commercial sample")
        GIFT = "gift", _("Gift")
        DOCUMENTS = "documents", _("Documents")
        RETURNED_GOODS = "returned_goods", _("Returned goods")
        OTHER = "other", _("Other")

    class NonDelivery(models.TextChoices):
        RETURN_PRIORITY = "return_priority", _("Return to sender by the priority route")
        RETURN_NON_PRIORITY = "return_non_priority", _("Return to sender by the non-priority route")
        REDIRECT = "redirect", _("Redirect to another address")
        ABANDON = "abandon", _("Treat as abandoned")

    shop = models.ForeignKey(
        "accounts.Shop", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    reference = models.CharField(
        _("consignment reference"), max_length=80, unique=True,
        help_text=_("e.g. the shop order number; one declaration per consignment."),
    )  # fmt: skip
    quote = models.ForeignKey(
        Quote, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    form = models.CharField(_("form"), max_length=4)
    category = models.CharField(
        _("category"), max_length=20, choices=Category.choices, default=Category.SALE_OF_GOODS
    )
    category_explanation = models.CharField(
        _("explanation"), max_length=200, blank=True, help_text=_("Required for “Other”.")
    )
    sender = models.JSONField(_("sender"))
    addressee = models.JSONField(_("addressee"))
    ship_from = models.CharField(_("country of export"), max_length=2)
    destination = models.CharField(_("country of destination"), max_length=2)
    transport = models.CharField(_("transport"), max_length=8)
    currency = models.CharField(_("currency"), max_length=3)
    # Amounts keep up to 3 decimals (KWD, BHD); each is rounded to its currency's own minor
    # unit by marketplace.core.money, never by the column.
    total_value = models.DecimalField(_("total value"), max_digits=14, decimal_places=3)
    total_net_weight_kg = models.DecimalField(max_digits=10, decimal_places=3)
    total_gross_weight_kg = models.DecimalField(max_digits=10, decimal_places=3)
    postal_charges = models.DecimalField(_("postal charges/fees"), max_digits=12, decimal_places=3)
    # The value the parcel is insured for (CN23 "insured value"), not what the insurance cost.
    insured_value = models.DecimalField(max_digits=12, decimal_places=3, default=0)
    insurance_premium = models.DecimalField(max_digits=12, decimal_places=3, default=0)
    duty = models.DecimalField(max_digits=12, decimal_places=3, default=0)
    tax = models.DecimalField(max_digits=12, decimal_places=3, default=0)
    incoterm = models.CharField(_("incoterm"), max_length=3)
    incoterm_place = models.CharField(_("named place"), max_length=100, blank=True)
    tax_collected = models.BooleanField(_("tax collected at checkout"), default=False)
    tax_scheme = models.CharField(_("tax scheme"), max_length=12, blank=True)
    tax_scheme_id = models.CharField(_("tax scheme id"), max_length=40, blank=True)
    # The marketplace as deemed supplier when it collected the tax: name, scheme, label and
    # number, frozen so a later settings change never alters a parcel already declared.
    deemed_supplier = models.JSONField(_("deemed supplier"), default=dict, blank=True)
    non_delivery = models.CharField(
        _("if undeliverable"), max_length=24, choices=NonDelivery.choices
    )
    redirect_address = models.TextField(_("redirect address"), blank=True)
    invoice_number = models.CharField(_("invoice number"), max_length=40)
    invoice_date = models.DateField(_("invoice date"))
    order_number = models.CharField(_("order number"), max_length=40, blank=True)
    item_id = models.CharField(_("item id (S10 / tracking)"), max_length=40, blank=True)
    licence_numbers = models.CharField(max_length=200, blank=True)
    certificate_numbers = models.CharField(max_length=200, blank=True)
    comments = models.TextField(_("comments"), blank=True)
    signatory = models.CharField(_("signatory"), max_length=150, blank=True)
    documents_version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        permissions = [("regenerate_paperwork", "Can regenerate customs paperwork")]

    def __str__(self) -> str:
        return f"{self.form} {self.reference}"


class DeclarationLine(models.Model):
    declaration = models.ForeignKey(
        CustomsDeclaration, on_delete=models.CASCADE, related_name="lines"
    )
    position = models.PositiveSmallIntegerField()
    description = models.CharField(max_length=512)
    quantity = models.PositiveIntegerField()
    net_weight_kg = models.DecimalField(
        _("net weight per line (kg)"), max_digits=10, decimal_places=3
    )
    unit_value = models.DecimalField(max_digits=12, decimal_places=3)
    value = models.DecimalField(max_digits=14, decimal_places=3)
    hs_code = models.CharField(max_length=10)
    origin = models.CharField(max_length=2)
    sku = models.CharField(max_length=64, blank=True)

    class Meta:
        ordering = ["position"]
        constraints = [
            models.UniqueConstraint(fields=["declaration", "position"], name="declaration_line")
        ]

    def __str__(self) -> str:
        return f"{self.quantity} x {self.description}"


class PaperworkJob(StateMachine, models.Model):
    """Outbox row: render one version of a declaration's documents (pending → done/failed).

    The services move it with conditional UPDATEs (a claim is pending/expired-running →
    running); every move they make is listed here (tests/customs check it)."""

    class Status(models.TextChoices):
        PENDING = "pending", _("pending")
        RUNNING = "running", _("running")
        DONE = "done", _("done")
        FAILED = "failed", _("failed")

    TRANSITIONS = {
        # Claimed by a worker; or failed for good before any worker claimed it.
        Status.PENDING: {Status.RUNNING, Status.FAILED},
        # Done (or superseded), failed for good, given back after a transient error, or
        # re-claimed once a dead worker's lease ran out.
        Status.RUNNING: {Status.DONE, Status.FAILED, Status.PENDING, Status.RUNNING},
        Status.FAILED: {Status.PENDING},  # an admin's retry
        Status.DONE: set(),
    }
    ILLEGAL_TRANSITION = _("A paperwork job that is “%(old)s” cannot become “%(new)s”.")

    declaration = models.ForeignKey(
        CustomsDeclaration, on_delete=models.CASCADE, related_name="jobs"
    )
    version = models.PositiveIntegerField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["declaration", "version"], name="one_job_per_version")
        ]
        indexes = [models.Index(fields=["status", "created_at"])]

    def __str__(self) -> str:
        return f"job {self.pk} {self.declaration_id} v{self.version} {self.status}"


class CustomsDocument(models.Model):
    class Kind(models.TextChoices):
        CN22 = "cn22", _("CN22 customs declaration")
        CN22_LABEL = "cn22_label", _("CN22 as a 100 x 150 mm label")
        CN23 = "cn23", _("CN23 customs declaration")
        INVOICE = "invoice", _("Commercial invoice")
        ADVANCE_DATA = "advance_data", _("Advance data (ITMATT JSON)")

    declaration = models.ForeignKey(
        CustomsDeclaration, on_delete=models.CASCADE, related_name="documents"
    )
    kind = models.CharField(max_length=14, choices=Kind.choices)
    version = models.PositiveIntegerField()
    file = models.FileField(upload_to="customs/", max_length=200)
    content_type = models.CharField(max_length=40)
    sha256 = models.CharField(max_length=64)
    size = models.PositiveIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["declaration", "kind", "-version"]
        constraints = [
            models.UniqueConstraint(
                fields=["declaration", "kind", "version"], name="one_document_per_kind_version"
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} v{self.version} ({self.declaration.reference})"

    @property
    def filename(self) -> str:
        ext = "json" if self.kind == self.Kind.ADVANCE_DATA else "pdf"
        return f"{self.declaration.reference}-{self.kind}-v{self.version}.{ext}"
