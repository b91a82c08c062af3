"""The catalog: categories, listings with variants and images, shipping profiles and rates.

Writes that cross rows (search vector, price summary, cover image, export flag, category
paths) happen in ``marketplace.listings.services``; models hold single-row rules only.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from django.contrib.postgres.search import SearchVectorField
from django.core.validators import MinValueValidator, RegexValidator
from django.db import models
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _
from django_countries.fields import CountryField

from accounts.models import Shop, User
from marketplace.core.fields import MoneyField
from marketplace.core.money import CURRENCY_CHOICES
from marketplace.core.state import StateMachine

HS_CODE_VALIDATOR = RegexValidator(
    r"^\d{6}(\d{2}){0,2}$",
    _("An HS code has 6, 8 or 10 digits, without dots or spaces (e.g. 610910)."),
)


class Category(models.Model):
    """A node of the category tree.

    ``path`` is the slash-joined slugs from the root ("home/kitchen"): one indexed lookup
    resolves a category URL, and ``path__startswith`` finds a whole subtree without
    recursion. ``services.save_category`` keeps it (and the subtree's) up to date.
    """

    parent = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
        verbose_name=_("parent category"),
    )
    name = models.CharField(_("name"), max_length=100)
    # Names in the other site languages, e.g. {"zh-hans": "服装", "es": "Ropa"}.
    names = models.JSONField(_("translated names"), default=dict, blank=True)
    slug = models.SlugField(_("slug"), max_length=60)
    path = models.CharField(max_length=255, unique=True, editable=False)
    depth = models.PositiveSmallIntegerField(default=0, editable=False)
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    description = models.TextField(_("description"), blank=True)
    is_featured = models.BooleanField(_("featured on the home page"), default=False)

    class Meta:
        ordering = ["path"]
        verbose_name_plural = _("categories")
        constraints = [
            models.UniqueConstraint(fields=["parent", "slug"], name="category_slug_per_parent"),
        ]

    def __str__(self) -> str:
        return self.path.replace("/", " / ") if self.path else self.name

    def get_absolute_url(self) -> str:
        return reverse("listings:category", kwargs={"path": self.path})

    @property
    def label(self) -> str:
        """The name in the active language, falling back to English."""
        return self.names.get(translation.get_language() or "en") or self.name


class ShippingProfile(models.Model):
    """How a shop ships a group of listings: zones of destinations, each with rates."""

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="shipping_profiles")
    name = models.CharField(_("name"), max_length=100, help_text=_("e.g. Small parcels"))
    handling_days = models.PositiveSmallIntegerField(
        _("handling time (days)"),
        default=1,
        help_text=_("Working days between the order and the parcel leaving your hands."),
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["shop", "name"]
        constraints = [
            models.UniqueConstraint(fields=["shop", "name"], name="shipping_profile_name_per_shop")
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def currency(self) -> str:
        return self.shop.currency


class ShippingZone(models.Model):
    """A set of destination countries that share rates.

    A "rest of the world" zone serves every country no other zone of the profile lists.
    """

    profile = models.ForeignKey(ShippingProfile, on_delete=models.CASCADE, related_name="zones")
    name = models.CharField(_("zone name"), max_length=100, help_text=_("e.g. European Union"))
    countries = CountryField(_("countries"), multiple=True, blank=True)
    rest_of_world = models.BooleanField(
        _("everywhere else"),
        default=False,
        help_text=_("Serves every country that no other zone of this profile lists."),
    )

    class Meta:
        ordering = ["profile", "rest_of_world", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["profile"],
                condition=models.Q(rest_of_world=True),
                name="one_rest_of_world_zone_per_profile",
            )
        ]

    def __str__(self) -> str:
        return self.name

    def country_codes(self) -> set[str]:
        return {c.code for c in self.countries}


class ShippingRate(models.Model):
    class ServiceLevel(models.TextChoices):
        POSTAL = "postal", _("Postal")
        COURIER = "courier", _("Courier")

    zone = models.ForeignKey(ShippingZone, on_delete=models.CASCADE, related_name="rates")
    service_level = models.CharField(
        _("service level"), max_length=10, choices=ServiceLevel.choices
    )
    first_item = MoneyField(
        _("first item"), max_digits=10, decimal_places=2, validators=[MinValueValidator(0)]
    )
    additional_item = MoneyField(
        _("each additional item"),
        max_digits=10,
        decimal_places=2,
        default=Decimal("0"),
        validators=[MinValueValidator(0)],
    )
    min_days = models.PositiveSmallIntegerField(_("delivery from (days)"))
    max_days = models.PositiveSmallIntegerField(_("delivery up to (days)"))

    class Meta:
        ordering = ["zone", "service_level"]
        constraints = [
            models.UniqueConstraint(
                fields=["zone", "service_level"], name="one_rate_per_zone_and_service"
            ),
            models.CheckConstraint(
                condition=models.Q(min_days__lte=models.F("max_days")),
                name="shipping_rate_days_ordered",
            ),
            models.CheckConstraint(
                condition=models.Q(first_item__gte=0, additional_item__gte=0),
                name="shipping_rate_not_negative",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.zone} {self.service_level}"


class ListingQuerySet(models.QuerySet):
    def public(self) -> ListingQuerySet:
        """What buyers may see: active listings of approved shops."""
        return self.filter(status=Listing.Status.ACTIVE, shop__status=Shop.Status.APPROVED)


class Listing(StateMachine, models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        ACTIVE = "active", _("Active")
        PAUSED = "paused", _("Paused")

    # The listing's status machine; ``check_transition`` refuses anything else.
    TRANSITIONS: dict[str, set[str]] = {
        Status.DRAFT: {Status.ACTIVE},
        Status.ACTIVE: {Status.PAUSED},
        Status.PAUSED: {Status.ACTIVE, Status.DRAFT},
    }
    ILLEGAL_TRANSITION = _("A listing that is “%(old)s” cannot become “%(new)s”.")

    shop = models.ForeignKey(Shop, on_delete=models.PROTECT, related_name="listings")
    title = models.CharField(_("title"), max_length=140)
    slug = models.SlugField(max_length=80, editable=False)
    description = models.TextField(_("description"), blank=True)
    category = models.ForeignKey(
        Category, on_delete=models.PROTECT, related_name="listings", verbose_name=_("category")
    )
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.DRAFT
    )
    shipping_profile = models.ForeignKey(
        ShippingProfile,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="listings",
        verbose_name=_("shipping profile"),
    )

    # Customs data: what goes on CN22/CN23 lines and into advance data. Not needed for a
    # domestic sale; complete and valid before the listing ships abroad.
    hs_code = models.CharField(
        _("HS code"), max_length=10, blank=True, validators=[HS_CODE_VALIDATOR]
    )
    customs_description = models.CharField(
        _("customs description (English)"),
        max_length=200,
        blank=True,
        help_text=_('Material and function, e.g. "Men\'s cotton T-shirt, knitted".'),
    )
    origin_country = CountryField(_("country of origin"), blank=True)
    material = models.CharField(_("main material"), max_length=100, blank=True)

    # Summaries kept by the services that write variants, images and customs data, so list
    # pages read one row per listing: never edit them by hand.
    currency = models.CharField(max_length=3, choices=CURRENCY_CHOICES, editable=False)
    price_min = MoneyField(max_digits=12, decimal_places=2, null=True, blank=True, editable=False)
    price_max = MoneyField(max_digits=12, decimal_places=2, null=True, blank=True, editable=False)
    # price_min in EUR at the latest ECB rate: the order of "sort by price" (any single
    # currency gives the same order). Displayed prices are always converted live.
    sort_price = models.DecimalField(
        max_digits=16, decimal_places=4, null=True, blank=True, editable=False
    )
    export_ready = models.BooleanField(default=False, editable=False)
    cover_image = models.ForeignKey(
        "ListingImage",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        editable=False,
    )
    # Full-text search document (PostgreSQL tsvector; unused on SQLite).
    search_vector = SearchVectorField(null=True, editable=False)

    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    published_at = models.DateTimeField(null=True, blank=True)

    objects = ListingQuerySet.as_manager()

    class Meta:
        ordering = ["-published_at", "-pk"]
        indexes = [
            models.Index(
                fields=["category", "status", "-published_at"], name="listing_category_newest"
            ),
            models.Index(fields=["status", "-published_at"], name="listing_status_newest"),
            models.Index(fields=["shop", "status", "-published_at"], name="listing_shop_newest"),
            models.Index(fields=["currency", "price_min"], name="listing_price"),
            models.Index(fields=["origin_country"], name="listing_origin"),
            # PostgreSQL also has "listing_facets", a covering index for the count, facet and
            # page queries of category pages (migration 0007; SQLite has no INCLUDE).
        ]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("listings:listing", kwargs={"pk": self.pk, "slug": self.slug or "item"})

    @property
    def is_public(self) -> bool:
        return self.status == self.Status.ACTIVE and self.shop.status == Shop.Status.APPROVED

    def export_readiness(self) -> ExportReadiness:
        """The checklist of what international shipping still needs (see ``readiness``)."""
        from marketplace.listings.readiness import check_export_readiness

        return check_export_readiness(self)


class FullTextField(models.TextField):
    """The hidden column of an SQLite FTS5 table, named like the table: ``__match`` queries it."""


@FullTextField.register_lookup
class FullTextMatch(models.Lookup):
    lookup_name = "match"

    def as_sql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        rhs, rhs_params = self.process_rhs(compiler, connection)
        return f"{lhs} MATCH {rhs}", [*lhs_params, *rhs_params]


class ListingText(models.Model):
    """SQLite's full-text index of listings: an FTS5 virtual table, one row per listing.

    Created by migration 0008 on SQLite only (PostgreSQL uses ``Listing.search_vector``) and
    kept in step by ``search.refresh_search_vectors``, the same call that refreshes the
    tsvector. Never queried on PostgreSQL.
    """

    listing = models.OneToOneField(
        Listing,
        on_delete=models.DO_NOTHING,
        primary_key=True,
        db_column="rowid",
        db_constraint=False,
        related_name="fulltext",
    )
    document = FullTextField(db_column="listings_listing_fts")

    class Meta:
        managed = False
        db_table = "listings_listing_fts"

    def __str__(self) -> str:
        return f"search document of listing {self.listing_id}"


@dataclass(frozen=True)
class ReadinessItem:
    key: str
    label: str
    done: bool
    detail: str = ""


@dataclass(frozen=True)
class ExportReadiness:
    items: list[ReadinessItem] = field(default_factory=list)

    @property
    def ready(self) -> bool:
        return all(item.done for item in self.items)

    @property
    def missing(self) -> list[ReadinessItem]:
        return [item for item in self.items if not item.done]


class Variant(models.Model):
    """A buyable version of a listing; its SKU is unique within the shop."""

    listing = models.ForeignKey(Listing, on_delete=models.CASCADE, related_name="variants")
    # Denormalised from the listing so the database can enforce "SKU unique per shop".
    shop = models.ForeignKey(Shop, on_delete=models.PROTECT, related_name="variants")
    sku = models.CharField(
        _("SKU"),
        max_length=64,
        validators=[
            RegexValidator(
                r"^[A-Za-z0-9][A-Za-z0-9._/-]*$",
                _("Letters, digits, dots, dashes, slashes and underscores only."),
            )
        ],
    )
    # e.g. {"size": "M", "colour": "Blue"}; keys and values are short strings.
    options = models.JSONField(_("options"), default=dict, blank=True)
    price = MoneyField(
        _("price"), max_digits=12, decimal_places=2, validators=[MinValueValidator(0)]
    )
    stock = models.PositiveIntegerField(_("stock"), default=0)
    net_weight_kg = models.DecimalField(
        _("net weight (kg)"),
        max_digits=8,
        decimal_places=3,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("0.001"))],
    )
    low_stock_threshold = models.PositiveIntegerField(_("stock alert at"), default=3)
    position = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["listing", "position", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["shop", "sku"], name="variant_sku_unique_per_shop"),
            # The last line of defence against overselling: a decrement below zero fails.
            models.CheckConstraint(condition=models.Q(stock__gte=0), name="variant_stock_gte_0"),
            models.CheckConstraint(condition=models.Q(price__gte=0), name="variant_price_gte_0"),
        ]

    def __str__(self) -> str:
        return self.sku

    @property
    def currency(self) -> str:
        return self.listing.currency

    @property
    def options_label(self) -> str:
        return ", ".join(f"{value}" for value in self.options.values()) if self.options else ""

    @property
    def in_stock(self) -> bool:
        return self.stock > 0

    @property
    def low_stock(self) -> bool:
        return self.stock <= self.low_stock_threshold


def listing_image_path(instance: ListingImage, filename: str) -> str:
    # The file name is ours, never the uploader's: content decides the extension.
    return f"listings/{instance.listing_id}/{filename}"


class ListingImage(models.Model):
    """A product photo, re-encoded on upload (EXIF stripped); thumbnails come from a task."""

    class ThumbnailStatus(models.TextChoices):
        PENDING = "pending", _("Pending")
        READY = "ready", _("Ready")
        FAILED = "failed", _("Failed")

    listing = models.ForeignKey(Listing, on_delete=models.CASCADE, related_name="images")
    image = models.ImageField(
        upload_to=listing_image_path, width_field="width", height_field="height"
    )
    width = models.PositiveIntegerField(default=0)
    height = models.PositiveIntegerField(default=0)
    alt_text = models.CharField(
        _("alt text"),
        max_length=200,
        blank=True,
        help_text=_("What the photo shows, for people who cannot see it."),
    )
    position = models.PositiveSmallIntegerField(default=0)
    sha256 = models.CharField(max_length=64, editable=False)
    thumbnail = models.ImageField(upload_to=listing_image_path, blank=True)
    large = models.ImageField(upload_to=listing_image_path, blank=True)
    thumbnail_status = models.CharField(
        max_length=10, choices=ThumbnailStatus.choices, default=ThumbnailStatus.PENDING
    )
    thumbnail_error = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["listing", "position", "pk"]
        indexes = [models.Index(fields=["thumbnail_status", "created_at"])]

    def __str__(self) -> str:
        return self.alt_text or self.image.name

    @property
    def thumbnail_ready(self) -> bool:
        return self.thumbnail_status == self.ThumbnailStatus.READY and bool(self.thumbnail)


class ListingEvent(models.Model):
    """Audit trail of a listing: status changes, imports, moderation."""

    class Kind(models.TextChoices):
        CREATED = "created", _("Created")
        UPDATED = "updated", _("Updated")
        PUBLISHED = "published", _("Published")
        PAUSED = "paused", _("Paused")
        UNPUBLISHED = "unpublished", _("Back to draft")
        IMPORTED = "imported", _("Changed by a CSV import")

    listing = models.ForeignKey(Listing, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    actor = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL)
    note = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} ({self.listing_id})"


class ImportJob(models.Model):
    """A CSV import: validated in full first, then applied all-or-nothing (or valid rows)."""

    class Mode(models.TextChoices):
        ALL_OR_NOTHING = "all", _("Apply nothing if any row has an error")
        VALID_ONLY = "valid", _("Apply the valid rows and skip the others")

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting to start")
        VALIDATING = "validating", _("Checking rows")
        APPLYING = "applying", _("Saving")
        DONE = "done", _("Done")
        REJECTED = "rejected", _("Not applied: errors found")
        FAILED = "failed", _("Failed")

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="import_jobs")
    created_by = models.ForeignKey(User, null=True, on_delete=models.SET_NULL, related_name="+")
    file = models.FileField(upload_to="imports/%Y/%m/")
    original_name = models.CharField(max_length=200)
    mode = models.CharField(max_length=10, choices=Mode.choices, default=Mode.ALL_OR_NOTHING)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.PENDING)
    total_rows = models.PositiveIntegerField(default=0)
    processed_rows = models.PositiveIntegerField(default=0)
    # [{"row": 3, "column": "price", "message": "..."}]; row numbers as the spreadsheet shows.
    errors = models.JSONField(default=list, blank=True)
    created_listings = models.PositiveIntegerField(default=0)
    updated_listings = models.PositiveIntegerField(default=0)
    created_variants = models.PositiveIntegerField(default=0)
    updated_variants = models.PositiveIntegerField(default=0)
    skipped_rows = models.PositiveIntegerField(default=0)
    failure = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["status", "created_at"])]

    def __str__(self) -> str:
        return f"{self.original_name} ({self.get_status_display()})"

    @property
    def is_finished(self) -> bool:
        return self.status in (self.Status.DONE, self.Status.REJECTED, self.Status.FAILED)

    @property
    def progress_percent(self) -> int:
        if self.is_finished:
            return 100
        if not self.total_rows:
            return 0
        return min(100, int(self.processed_rows * 100 / self.total_rows))
