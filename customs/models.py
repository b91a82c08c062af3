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
