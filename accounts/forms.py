from __future__ import annotations

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _
from django_countries.fields import CountryField

from accounts.models import Address, Shop, ShopMembership, User
from accounts.validators import clean_eori, clean_vat_number

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


class AddressForm(forms.ModelForm):
    make_default = forms.BooleanField(label=_("Use as my default shipping address"), required=False)

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
        ]


class ShopApplicationForm(forms.ModelForm):
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
