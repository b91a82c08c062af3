from __future__ import annotations

import secrets
import zoneinfo
from datetime import timedelta
from decimal import Decimal

from django.conf import settings
from django.contrib.auth.models import AbstractUser, BaseUserManager
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models.functions import Lower
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_countries.fields import CountryField
from phonenumber_field.modelfields import PhoneNumberField

from marketplace.core.addresses import PostalAddress, format_lines
from marketplace.core.money import CURRENCY_CHOICES
from marketplace.core.state import StateMachine

TIMEZONE_CHOICES = [(name, name) for name in sorted(zoneinfo.available_timezones())]
# Member states whose exporters need an EORI number on customs paperwork (plus GB, XI).
EORI_COUNTRIES = {
    "AT", "BE", "BG", "CY", "CZ", "DE", "DK", "EE", "ES", "FI", "FR", "GR", "HR", "HU", "IE",
    "IT", "LT", "LU", "LV", "MT", "NL", "PL", "PT", "RO", "SE", "SI", "SK", "GB",
}  # fmt: skip


class UserManager(BaseUserManager):
    use_in_migrations = True

    def _create_user(self, email: str, password: str | None, **extra):
        if not email:
            raise ValueError("An email address is required.")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email: str, password: str | None = None, **extra):
        extra.setdefault("is_staff", False)
        extra.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra)

    def create_superuser(self, email: str, password: str | None = None, **extra):
        extra.setdefault("is_staff", True)
        extra.setdefault("is_superuser", True)
        return self._create_user(email, password, **extra)


class User(AbstractUser):
    """A person. Logs in with an email address; sells through ``ShopMembership``."""

    username = None
    first_name = None
    last_name = None
    email = models.EmailField(_("email address"), unique=True)
    name = models.CharField(_("name"), max_length=150, blank=True)
    country = CountryField(_("country"), blank=True)
    preferred_language = models.CharField(
        _("preferred language"), max_length=10, choices=settings.LANGUAGES, default="en"
    )
    preferred_currency = models.CharField(
        _("preferred currency"), max_length=3, choices=CURRENCY_CHOICES, default="EUR"
    )

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    objects = UserManager()

    class Meta:
        constraints = [
            models.UniqueConstraint(Lower("email"), name="user_email_ci_unique"),
        ]

    def __str__(self) -> str:
        return self.email

    def get_full_name(self) -> str:
        return self.name or self.email

    def get_short_name(self) -> str:
        return self.name.split(" ")[0] if self.name else self.email


class Address(models.Model):
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="addresses")
    label = models.CharField(_("label"), max_length=50, blank=True, help_text=_("e.g. Home"))
    name = models.CharField(_("full name"), max_length=150)
    company = models.CharField(_("company"), max_length=150, blank=True)
    line1 = models.CharField(_("address line 1"), max_length=200)
    line2 = models.CharField(_("address line 2"), max_length=200, blank=True)
    city = models.CharField(_("city"), max_length=100)
    region = models.CharField(_("state / province / region"), max_length=100, blank=True)
    postcode = models.CharField(_("postcode"), max_length=20, blank=True)
    country = CountryField(_("country"))
    phone = PhoneNumberField(_("phone"), blank=True)
    latin = models.CharField(
        _("address in Latin letters"),
        max_length=300,
        blank=True,
        help_text=_("For posts that read only Latin letters; filled in for you, correct it."),
    )
    tax_reference = models.CharField(
        _("your tax number for imports"),
        max_length=40,
        blank=True,
        help_text=_("Asked by customs in some countries (Korea: PCCC, Brazil: CPF, Chile: RUT)."),
    )
    is_default_shipping = models.BooleanField(_("default shipping address"), default=False)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-is_default_shipping", "pk"]
        verbose_name_plural = "addresses"
        constraints = [
            models.UniqueConstraint(
                fields=["user"],
                condition=models.Q(is_default_shipping=True),
                name="one_default_shipping_address_per_user",
            )
        ]

    def __str__(self) -> str:
        return f"{self.name}, {self.city}, {self.country.code}"

    def postal(self) -> PostalAddress:
        return PostalAddress(
            country=self.country.code,
            name=self.name,
            company=self.company,
            lines=tuple(x for x in (self.line1, self.line2) if x),
            city=self.city,
            region=self.region,
            postcode=self.postcode,
            phone=str(self.phone or ""),
            latin=self.latin,
        )

    def lines(self) -> list[str]:
        """The address as its country writes it on a label, one line per element."""
        return format_lines(self.postal())


class Shop(StateMachine, models.Model):
    """A seller account: the business that lists goods and ships consignments."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending review")
        APPROVED = "approved", _("Approved")
        REJECTED = "rejected", _("Rejected")
        SUSPENDED = "suspended", _("Suspended")

    # The shop's status machine. Moves not listed here are refused.
    TRANSITIONS: dict[str, set[str]] = {
        Status.PENDING: {Status.APPROVED, Status.REJECTED},
        Status.APPROVED: {Status.SUSPENDED},
        Status.SUSPENDED: {Status.APPROVED},
        Status.REJECTED: {Status.PENDING},
    }
    ILLEGAL_TRANSITION = _("A shop that is “%(old)s” cannot become “%(new)s”.")

    class BusinessType(models.TextChoices):
        INDIVIDUAL = "individual", _("Individual / sole trader")
        COMPANY = "company", _("Limited company")
        PARTNERSHIP = "partnership", _("Partnership")
        COOPERATIVE = "cooperative", _("Cooperative")
        NON_PROFIT = "non_profit", _("Non-profit organisation")

    class Incoterm(models.TextChoices):
        DAP = "DAP", _("DAP: the buyer pays duty and import tax on delivery")
        DDP = "DDP", _("DDP: duty and import tax paid before delivery")

    class NonDelivery(models.TextChoices):
        RETURN_PRIORITY = "return_priority", _("Return to me by the priority route")
        RETURN_NON_PRIORITY = "return_non_priority", _("Return to me by the non-priority route")
        ABANDON = "abandon", _("Treat as abandoned")

    legal_name = models.CharField(_("legal name"), max_length=200)
    display_name = models.CharField(_("shop name"), max_length=100)
    slug = models.SlugField(_("shop address"), max_length=60, unique=True)
    description = models.TextField(_("about the shop"), blank=True)
    business_type = models.CharField(
        _("business type"), max_length=20, choices=BusinessType.choices
    )
    country = CountryField(_("country"))
    address_line1 = models.CharField(_("ship-from address line 1"), max_length=200)
    address_line2 = models.CharField(_("ship-from address line 2"), max_length=200, blank=True)
    city = models.CharField(_("city"), max_length=100)
    region = models.CharField(_("state / province / region"), max_length=100, blank=True)
    postcode = models.CharField(_("postcode"), max_length=20, blank=True)
    phone = PhoneNumberField(_("phone"), blank=True)
    email = models.EmailField(_("contact email"), blank=True)
    latin_address = models.CharField(
        _("ship-from address in Latin letters"),
        max_length=300,
        blank=True,
        help_text=_("Printed on customs documents beside the original; correct the suggestion."),
    )
    time_zone = models.CharField(_("time zone"), max_length=64, choices=TIMEZONE_CHOICES)
    currency = models.CharField(_("currency"), max_length=3, choices=CURRENCY_CHOICES)

    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PENDING)
    status_reason = models.TextField(blank=True)
    applied_at = models.DateTimeField(default=timezone.now)
    reviewed_at = models.DateTimeField(null=True, blank=True)
    reviewed_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    # Export profile: filled once, copied onto every customs document.
    eori = models.CharField(_("EORI number"), max_length=17, blank=True)
    vat_number = models.CharField(_("VAT number"), max_length=20, blank=True)
    exporter_reference = models.CharField(_("exporter reference"), max_length=50, blank=True)
    origin_statement_on_file = models.BooleanField(
        _("statement on preferential origin on file"),
        default=False,
        help_text=_(
            "You make the exporter's statement on origin for goods of the origin you declare "
            "(EU-UK TCA, CUSMA): buyers then pay the agreement's duty rate, not the MFN rate."
        ),
    )
    default_incoterm = models.CharField(
        _("default incoterm"), max_length=3, choices=Incoterm.choices, default=Incoterm.DAP
    )
    non_delivery = models.CharField(
        _("if the parcel cannot be delivered"),
        max_length=24,
        choices=NonDelivery.choices,
        default=NonDelivery.RETURN_PRIORITY,
    )
    signatory_name = models.CharField(_("certifying signatory"), max_length=150, blank=True)

    # Platform commission on this shop's sales; empty means settings.PLATFORM_COMMISSION_RATE.
    commission_rate = models.DecimalField(
        _("commission rate"),
        max_digits=5,
        decimal_places=4,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("0.5"))],
        help_text=_("A fraction, e.g. 0.08 for 8 %. Leave empty for the platform default."),
    )

    members = models.ManyToManyField(User, through="ShopMembership", related_name="shops")
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["display_name"]
        permissions = [
            ("approve_shop", "Can approve or reject shop applications"),
            ("suspend_shop", "Can suspend shops"),
        ]

    def __str__(self) -> str:
        return self.display_name

    def get_absolute_url(self) -> str:
        return reverse("accounts:shop-dashboard", kwargs={"slug": self.slug})

    @property
    def is_approved(self) -> bool:
        return self.status == self.Status.APPROVED

    def postal(self) -> PostalAddress:
        return PostalAddress(
            country=self.country.code,
            name=self.legal_name,
            lines=tuple(x for x in (self.address_line1, self.address_line2) if x),
            city=self.city,
            region=self.region,
            postcode=self.postcode,
            phone=str(self.phone or ""),
            latin=self.latin_address,
        )

    def ship_from_lines(self) -> list[str]:
        return format_lines(self.postal())

    @property
    def effective_commission_rate(self) -> Decimal:
        if self.commission_rate is not None:
            return self.commission_rate
        return settings.PLATFORM_COMMISSION_RATE

    def export_profile_missing(self) -> list[str]:
        """Names of the export-profile fields customs paperwork still needs."""
        missing = []
        if not self.signatory_name:
            missing.append(str(_("certifying signatory")))
        if self.country.code in EORI_COUNTRIES and not self.eori:
            missing.append(str(_("EORI number")))
        return missing


class ShopMembership(models.Model):
    class Role(models.TextChoices):
        OWNER = "owner", _("Owner")
        STAFF = "staff", _("Staff")

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=10, choices=Role.choices, default=Role.STAFF)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["shop", "user"], name="one_membership_per_user_shop")
        ]

    def __str__(self) -> str:
        return f"{self.user} ({self.get_role_display()}) at {self.shop}"


def _invitation_token() -> str:
    return secrets.token_urlsafe(32)


def _invitation_expiry():
    return timezone.now() + timedelta(days=14)


class ShopInvitation(models.Model):
    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="invitations")
    email = models.EmailField(_("email address"))
    role = models.CharField(
        max_length=10, choices=ShopMembership.Role.choices, default=ShopMembership.Role.STAFF
    )
    token = models.CharField(max_length=64, unique=True, default=_invitation_token)
    invited_by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField(default=_invitation_expiry)
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                "shop",
                Lower("email"),
                condition=models.Q(accepted_at__isnull=True, revoked_at__isnull=True),
                name="one_open_invitation_per_email_shop",
            )
        ]

    def __str__(self) -> str:
        return f"{self.email} to {self.shop}"

    def is_open(self, now) -> bool:
        return self.accepted_at is None and self.revoked_at is None and now < self.expires_at


class ShopEvent(models.Model):
    """Audit trail of a shop: applications, reviews, profile and team changes."""

    class Kind(models.TextChoices):
        APPLIED = "applied", _("Applied")
        APPROVED = "approved", _("Approved")
        REJECTED = "rejected", _("Rejected")
        SUSPENDED = "suspended", _("Suspended")
        EXPORT_PROFILE = "export_profile", _("Export profile updated")
        INVITED = "invited", _("Member invited")
        JOINED = "joined", _("Member joined")
        REMOVED = "removed", _("Member removed")

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    actor = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL)
    note = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} ({self.shop_id})"


class Notification(models.Model):
    """An in-app inbox entry; the same event is emailed by a task on the notifications queue."""

    class EmailStatus(models.TextChoices):
        PENDING = "pending", _("Pending")
        SENDING = "sending", _("Sending")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed")
        SKIPPED = "skipped", _("Not emailed")

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="notifications")
    kind = models.CharField(max_length=50)
    title = models.CharField(max_length=200)
    body = models.TextField(blank=True)
    url = models.CharField(max_length=300, blank=True)
    context = models.JSONField(default=dict, blank=True)
    # The same event never notifies the same person twice (a task that runs twice, a double
    # click in the admin): services pass e.g. "shop-approved:42".
    dedupe_key = models.CharField(max_length=120, null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    read_at = models.DateTimeField(null=True, blank=True)
    email_status = models.CharField(
        max_length=10, choices=EmailStatus.choices, default=EmailStatus.PENDING
    )
    email_attempts = models.PositiveSmallIntegerField(default=0)
    email_error = models.TextField(blank=True)
    emailed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "dedupe_key"], name="one_notification_per_user_and_event"
            )
        ]
        indexes = [models.Index(fields=["user", "read_at"])]

    def __str__(self) -> str:
        return f"{self.kind} to {self.user}"
