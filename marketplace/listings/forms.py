from __future__ import annotations

from decimal import Decimal

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.forms import BaseInlineFormSet, inlineformset_factory
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from django_countries import countries
from django_countries.fields import LazyTypedChoiceField

from marketplace.core.money import minor_units
from marketplace.listings.csv_io.parse import parse_options
from marketplace.listings.models import (
    Category,
    ImportJob,
    Listing,
    ShippingProfile,
    ShippingRate,
    ShippingZone,
    Variant,
)


class CategoryChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Category) -> str:
        return "— " * obj.depth + obj.label


class ListingForm(forms.ModelForm):
    category = CategoryChoiceField(queryset=Category.objects.order_by("path"), label=_("Category"))

    class Meta:
        model = Listing
        fields = [
            "title",
            "description",
            "category",
            "shipping_profile",
            "hs_code",
            "customs_description",
            "origin_country",
            "material",
        ]
        help_texts = {
            "hs_code": _("6 to 10 digits; dots are fine (6109.10). Use the HS finder below."),
            "origin_country": _("Where the goods were made, not where they ship from."),
            "material": _("e.g. 100% cotton, stainless steel, glazed stoneware."),
        }
        widgets = {"description": forms.Textarea(attrs={"rows": 6})}

    def __init__(self, *args, shop, **kwargs):
        super().__init__(*args, **kwargs)
        self.shop = shop
        self.fields["shipping_profile"].queryset = ShippingProfile.objects.filter(shop=shop)
        self.fields["shipping_profile"].help_text = _(
            "Where and how this listing ships. Manage profiles under Shipping."
        )
        self.fields["hs_code"].widget.attrs.update(
            {"inputmode": "numeric", "autocomplete": "off", "data-hs-input": ""}
        )
        self.fields["customs_description"].widget.attrs["data-ics2-input"] = ""
        self.customs_warnings: list[str] = []

    def clean_hs_code(self) -> str:
        from customs.hs import normalize_hs_code, validate_hs_code

        code = normalize_hs_code(self.cleaned_data.get("hs_code", ""))
        if code:
            validate_hs_code(code)
        return code

    def clean_customs_description(self) -> str:
        from customs.ics2 import validate_description

        text = " ".join(self.cleaned_data.get("customs_description", "").split())
        if text:
            check = validate_description(text)
            if check.errors:
                raise ValidationError(check.errors)
            self.customs_warnings = list(check.warnings)
        return text


class VariantForm(forms.ModelForm):
    options_text = forms.CharField(
        label=_("Options"),
        required=False,
        max_length=300,
        help_text=_("e.g. size=M; colour=Blue"),
    )

    class Meta:
        model = Variant
        fields = ["sku", "price", "stock", "net_weight_kg", "low_stock_threshold"]

    def __init__(self, *args, shop, **kwargs):
        super().__init__(*args, **kwargs)
        self.shop = shop
        if self.instance.pk and self.instance.options:
            self.fields["options_text"].initial = "; ".join(
                f"{k}={v}" for k, v in self.instance.options.items()
            )
        self.fields["price"].label = _("Price (%(currency)s)") % {"currency": shop.currency}
        self.fields["price"].widget.attrs["step"] = str(
            Decimal(1).scaleb(-minor_units(shop.currency))
        )
        self.order_fields(["sku", "options_text", "price", "stock", "net_weight_kg"])

    def clean_sku(self) -> str:
        sku = self.cleaned_data["sku"].strip()
        clash = Variant.objects.filter(shop=self.shop, sku=sku).exclude(pk=self.instance.pk)
        if clash.exists():
            raise ValidationError(
                _("Another listing of your shop already uses SKU %(sku)s.") % {"sku": sku}
            )
        return sku

    def clean_price(self) -> Decimal:
        price = self.cleaned_data["price"]
        places = minor_units(self.shop.currency)
        if price is not None and -price.as_tuple().exponent > places:
            raise ValidationError(
                _("%(currency)s prices have %(n)d decimal places.")
                % {"currency": self.shop.currency, "n": places}
            )
        return price

    def clean_options_text(self) -> str:
        text = self.cleaned_data.get("options_text", "")
        try:
            self.cleaned_options = parse_options(text)
        except ValueError as exc:
            raise ValidationError(str(exc)) from None
        return text

    def save(self, commit: bool = True) -> Variant:
        self.instance.options = getattr(self, "cleaned_options", {})
        return super().save(commit=commit)


class BaseVariantFormSet(BaseInlineFormSet):
    def __init__(self, *args, shop, **kwargs):
        self.shop = shop
        super().__init__(*args, **kwargs)

    def get_form_kwargs(self, index):
        return {**super().get_form_kwargs(index), "shop": self.shop}

    @property
    def empty_form(self):
        form = self.form(
            auto_id=self.auto_id,
            prefix=self.add_prefix("__prefix__"),
            empty_permitted=True,
            use_required_attribute=False,
            shop=self.shop,
            renderer=self.renderer,
        )
        self.add_fields(form, None)
        return form

    def clean(self) -> None:
        super().clean()
        skus = []
        for form in self.forms:
            if not form.has_changed() and not form.instance.pk:
                continue
            if self.can_delete and self._should_delete_form(form):
                continue
            sku = form.cleaned_data.get("sku")
            if sku:
                if sku in skus:
                    form.add_error("sku", _("Each variant needs its own SKU."))
                skus.append(sku)


VariantFormSet = inlineformset_factory(
    Listing,
    Variant,
    form=VariantForm,
    formset=BaseVariantFormSet,
    extra=1,
    min_num=1,
    validate_min=True,
    max_num=100,
    can_delete=True,
)


class ImageUploadForm(forms.Form):
    image = forms.FileField(
        label=_("Photo"),
        help_text=_("JPEG, PNG or WebP, up to 10 MB. Location data is removed."),
        widget=forms.ClearableFileInput(attrs={"accept": "image/jpeg,image/png,image/webp"}),
    )
    alt_text = forms.CharField(
        label=_("Alt text"),
        max_length=200,
        required=False,
        help_text=_("What the photo shows, for people who cannot see it."),
    )


class ImageEditForm(forms.Form):
    alt_text = forms.CharField(label=_("Alt text"), max_length=200, required=False)


class ShippingProfileForm(forms.ModelForm):
    class Meta:
        model = ShippingProfile
        fields = ["name", "handling_days"]


class ShippingZoneForm(forms.ModelForm):
    class Meta:
        model = ShippingZone
        fields = ["name", "rest_of_world", "countries"]
        help_texts = {
            "countries": _("Hold Ctrl (Cmd on a Mac) to choose several countries."),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["countries"].widget.attrs["size"] = 12


class ShippingRateForm(forms.ModelForm):
    class Meta:
        model = ShippingRate
        fields = ["service_level", "first_item", "additional_item", "min_days", "max_days"]

    def clean(self):
        data = super().clean()
        low, high = data.get("min_days"), data.get("max_days")
        if low is not None and high is not None and low > high:
            self.add_error("max_days", _("Must be at least the shortest delivery time."))
        return data


ShippingRateFormSet = inlineformset_factory(
    ShippingZone,
    ShippingRate,
    form=ShippingRateForm,
    extra=2,
    max_num=2,
    can_delete=True,
)


class ImportForm(forms.Form):
    file = forms.FileField(label=_("CSV file"), help_text=_("UTF-8, comma or semicolon separated."))
    mode = forms.ChoiceField(
        label=_("If some rows have errors"),
        choices=ImportJob.Mode.choices,
        initial=ImportJob.Mode.ALL_OR_NOTHING,
        widget=forms.RadioSelect,
    )


def _currency_choices():
    return [(code, code) for code in settings.CURRENCIES]


class PreferencesForm(forms.Form):
    currency = forms.ChoiceField(label=_("Currency"), choices=_currency_choices, required=False)
    country = LazyTypedChoiceField(
        label=_("Ship to"), choices=[("", _("(any country)")), *countries], required=False
    )
    next = forms.CharField(required=False, widget=forms.HiddenInput)


SORT_CHOICES = [
    ("relevance", _("Best match")),
    ("newest", _("Newest")),
    ("price", _("Price: low to high")),
    ("-price", _("Price: high to low")),
]


class BrowseForm(forms.Form):
    """Search and facet parameters from the query string; bad values are dropped."""

    q = forms.CharField(required=False, max_length=200)
    category = forms.CharField(required=False, max_length=255)
    min_price = forms.DecimalField(required=False, min_value=0, max_digits=12, decimal_places=2)
    max_price = forms.DecimalField(required=False, min_value=0, max_digits=12, decimal_places=2)
    origin = forms.CharField(required=False, max_length=2)
    shop = forms.SlugField(required=False, max_length=60)
    ships = forms.BooleanField(required=False)
    sort = forms.ChoiceField(required=False, choices=SORT_CHOICES)
    page = forms.IntegerField(required=False, min_value=1, max_value=10_000)

    def clean_origin(self) -> str:
        code = self.cleaned_data.get("origin", "").upper()
        return code if code in dict(countries) else ""

    def clean(self):
        data = super().clean()
        low, high = data.get("min_price"), data.get("max_price")
        if low is not None and high is not None and low > high:
            self.add_error("max_price", _("The maximum is below the minimum."))
        return data

    def value(self, name, default=None):
        if self.is_bound and self.is_valid():
            return self.cleaned_data.get(name) or default
        if not hasattr(self, "cleaned_data"):
            return default
        return self.cleaned_data.get(name) or default


class SellerListingFilterForm(forms.Form):
    q = forms.CharField(label=_("Search"), required=False, max_length=100)
    status = forms.ChoiceField(
        label=_("Status"), required=False, choices=[("", _("Any status")), *Listing.Status.choices]
    )
    readiness = forms.ChoiceField(
        label=pgettext_lazy("readiness to ship abroad", "Export"),
        required=False,
        choices=[
            ("", _("Any")),
            ("ready", _("Ready to ship abroad")),
            ("missing", _("Customs data missing")),
        ],
    )
    stock = forms.ChoiceField(
        label=_("Stock"),
        required=False,
        choices=[("", _("Any")), ("low", _("Low stock")), ("out", _("Sold out"))],
    )
