from __future__ import annotations

import phonenumbers
from django import forms
from django.conf import settings
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _
from django_countries import countries
from django_countries.fields import CountryField

from accounts.models import Address, Shop, ShopMembership, User
from accounts.validators import clean_eori, clean_vat_number
from marketplace.core.addresses import (
    TAX_REFERENCE,
    PostalAddress,
    clean_tax_reference,
    needs_latin,
    rules_for,
    suggested_latin,
    validate,
)

RESERVED_SLUGS = {"admin", "apply", "invitations", "new", "settings", "static", "media"}


class SignupExtraForm(forms.Form):
    """Fields allauth's sign-up form adds to email and password."""

    name = forms.CharField(label=_("Your name"), max_length=150)
    country = CountryField(blank_label=_("(choose your country)")).formfield(
        label=_("Country you live in")
    )

    def signup(self, request, user):
        user.name = self.cleaned_data["name"]
        user.country = self.cleaned_data["country"]
        user.save(update_fields=["name", "country"])


class ProfileForm(forms.ModelForm):
    class Meta:
        model = User
        fields = ["name", "country", "preferred_language", "preferred_currency"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # The deployment's currencies (settings.CURRENCIES), a subset of the model's choices.
        self.fields["preferred_currency"].choices = [(c, c) for c in settings.CURRENCIES]


class PostalAddressFormMixin:
    """Per-country address rules (marketplace.core.addresses) on a model form: required
    fields, postcode pattern, the region by its code, the phone where the destination's
    carriers need it (parsed in the address's country), and the Latin-letters line."""

    # Our formatter's field names -> this form's field names.
    address_fields = {"line1": "line1", "line2": "line2", "city": "city", "region": "region",
                      "postcode": "postcode", "name": "name", "company": "company"}  # fmt: skip
    latin_field = "latin"
    phone_always_required = False
    ADDRESS_ERRORS = {
        "required": _("This field is required for an address in %(country)s."),
        "invalid": _("This does not look like a %(what)s in %(country)s, e.g. %(example)s."),
    }

    def _postal(self, data: dict) -> PostalAddress:
        f = self.address_fields
        get = lambda key: (data.get(f[key]) or "").strip() if key in f else ""  # noqa: E731
        return PostalAddress(
            country=str(data.get("country") or ""),
            name=get("name"),
            company=get("company"),
            lines=tuple(x for x in (get("line1"), get("line2")) if x),
            city=get("city"),
            region=get("region"),
            postcode=get("postcode"),
        )

    def clean(self):
        data = super().clean()
        country = str(data.get("country") or "")
        if not country:
            return data
        address = self._postal(data)
        rules = rules_for(country)
        errors, cleaned = validate(address)
        country_name = dict(countries).get(country, country)
        for field, problem in errors.items():
            name = self.address_fields.get(field)
            if name is None or name not in self.fields or name in self.errors:
                continue
            if problem == "required":
                message = self.ADDRESS_ERRORS["required"] % {"country": country_name}
            elif field == "region" and rules.region_choices:
                message = _("Choose one of: %(choices)s.") % {
                    "choices": ", ".join(code for code, _name in rules.region_choices[:70])
                }
            else:
                example = (rules.postcode_examples or ("",))[0]
                message = self.ADDRESS_ERRORS["invalid"] % {
                    "what": str(self.fields[name].label).lower(),
                    "country": country_name,
                    "example": example,
                }
            self.add_error(name, message)
        for field, value in cleaned.items():
            data[self.address_fields[field]] = value
        if "phone" not in self.errors:
            required = rules.phone_required or self.phone_always_required
            self._clean_phone(data, country, required, country_name)
        if "tax_reference" in self.fields and "tax_reference" not in self.errors:
            self._clean_tax_reference(data, country, country_name)
        if not self.errors:
            self._clean_latin(data, address)
        return data

    def _clean_tax_reference(self, data: dict, country: str, country_name: str):
        label = TAX_REFERENCE.get(country)
        value = data.get("tax_reference") or ""
        if label and not value.strip():
            self.add_error(
                "tax_reference",
                _("Customs in %(country)s ask for your %(what)s on every parcel.")
                % {"country": country_name, "what": label},
            )
            return
        try:
            data["tax_reference"] = clean_tax_reference(country, value)
        except ValueError as exc:
            self.add_error("tax_reference", f"{label or _('Tax number')}: {exc}.")

    def _clean_phone(self, data: dict, country: str, required: bool, country_name: str):
        raw = (self.data.get(self.add_prefix("phone")) or "").strip()
        if not raw:
            if required:
                self.add_error(
                    "phone",
                    _("Carriers delivering to %(country)s need a phone number.")
                    % {"country": country_name}
                    if not self.phone_always_required
                    else _("Customs declarations carry the sender's phone number."),
                )
            return
        try:
            number = phonenumbers.parse(raw, country)
        except phonenumbers.NumberParseException:
            number = None
        if number is None or not phonenumbers.is_valid_number(number):
            self.add_error(
                "phone",
                _("Enter a phone number valid in %(country)s, or with its + country code.")
                % {"country": country_name},
            )
            return
        data["phone"] = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)

    def _clean_latin(self, data: dict, address: PostalAddress):
        if (data.get(self.latin_field) or "").strip() or not needs_latin(address):
            return
        # Propose a transliteration and let the person check it before it is printed on
        # their parcels: the form comes back once with the line filled in.
        self.data = self.data.copy()
        self.data[self.add_prefix(self.latin_field)] = suggested_latin(address)
        self.add_error(
            self.latin_field,
            _("Posts outside your country read Latin letters: check this version, then save."),
        )


class AddressForm(PostalAddressFormMixin, forms.ModelForm):
    make_default = forms.BooleanField(label=_("Use as my default shipping address"), required=False)
    # Parsed in the address's country by the mixin (national numbers are fine).
    phone = forms.CharField(label=capfirst(_("phone")), max_length=40, required=False)

    class Meta:
        model = Address
        fields = [
            "label",
            "name",
            "company",
            "line1",
            "line2",
            "city",
            "region",
            "postcode",
            "country",
            "phone",
            "latin",
            "tax_reference",
        ]


class ShopApplicationForm(PostalAddressFormMixin, forms.ModelForm):
    address_fields = {"line1": "address_line1", "line2": "address_line2", "city": "city",
                      "region": "region", "postcode": "postcode", "name": "legal_name"}  # fmt: skip
    latin_field = "latin_address"
    # The sender's phone is a CN23 field and part of the advance data, whatever the route.
    phone_always_required = True
    phone = forms.CharField(label=capfirst(_("phone")), max_length=40, required=False)

    class Meta:
        model = Shop
        fields = [
            "display_name",
            "slug",
            "legal_name",
            "business_type",
            "description",
            "country",
            "address_line1",
            "address_line2",
            "city",
            "region",
            "postcode",
            "phone",
            "latin_address",
            "email",
            "time_zone",
            "currency",
        ]
        help_texts = {
            "slug": _("Letters, digits and hyphens; your shop will live at /shops/<address>/."),
            "legal_name": _("As registered; it is printed on customs paperwork."),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["time_zone"].initial = "UTC"
        self.fields["currency"].initial = settings.DEFAULT_CURRENCY
        self.fields["currency"].choices = [(c, c) for c in settings.CURRENCIES]

    def clean_slug(self):
        slug = self.cleaned_data["slug"].lower()
        if slug in RESERVED_SLUGS:
            raise forms.ValidationError(_("This shop address is reserved. Choose another."))
        if Shop.objects.filter(slug=slug).exclude(pk=self.instance.pk).exists():
            raise forms.ValidationError(_("This shop address is taken. Choose another."))
        return slug


class ExportProfileForm(forms.ModelForm):
    # Typed with spaces or dots is fine: the clean methods compact them to the stored form.
    eori = forms.CharField(
        label=_("EORI number"),
        max_length=40,
        required=False,
        help_text=_("Needed by exporters in the EU and the UK, e.g. DE123456789012345."),
    )
    vat_number = forms.CharField(
        label=_("VAT number"),
        max_length=40,
        required=False,
        help_text=_("Checked against the format and check digits of your country."),
    )

    class Meta:
        model = Shop
        fields = [
            "eori",
            "vat_number",
            "exporter_reference",
            "origin_statement_on_file",
            "default_incoterm",
            "non_delivery",
            "signatory_name",
        ]
        help_texts = {
            "signatory_name": _("The person who certifies customs declarations for the shop."),
        }

    def clean_vat_number(self):
        return clean_vat_number(self.cleaned_data["vat_number"], self.instance.country.code)

    def clean_eori(self):
        return clean_eori(self.cleaned_data["eori"], self.instance.country.code)


class InviteMemberForm(forms.Form):
    email = forms.EmailField(label=_("Email address"))
    role = forms.ChoiceField(label=_("Role"), choices=ShopMembership.Role.choices)


class ShopReviewReasonForm(forms.Form):
    """The admin's reject/suspend intermediate page."""

    reason = forms.CharField(label=_("Reason (sent to the seller)"), widget=forms.Textarea)
