"""Forms of the cart, checkout and seller pages: they validate input and name the field."""

from __future__ import annotations

import re
from datetime import date

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext, pgettext_lazy
from django_countries import countries

from marketplace.orders.models import ShopOrder

_EXPIRY_RE = re.compile(r"^\s*(\d{1,2})\s*/\s*(\d{2}|\d{4})\s*$")


class AddToCartForm(forms.Form):
    variant = forms.IntegerField(min_value=1, widget=forms.HiddenInput)
    quantity = forms.IntegerField(label=_("Quantity"), min_value=1, max_value=99, initial=1)


class QuantityForm(forms.Form):
    quantity = forms.IntegerField(
        label=_("Quantity"),
        min_value=0,
        max_value=99,
        error_messages={"min_value": _("Quantity: enter 0 or more.")},
    )


class DestinationForm(forms.Form):
    country = forms.ChoiceField(label=_("Ship to"), choices=[])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["country"].choices = [("", _("Choose a country")), *list(countries)]


class AddressChoiceForm(forms.Form):
    address = forms.ModelChoiceField(
        label=_("Ship to"), queryset=None, widget=forms.RadioSelect, empty_label=None
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["address"].queryset = user.addresses.all()


class PlaceOrderForm(forms.Form):
    METHODS = [("card", _("Card")), ("bank_transfer", _("Bank transfer"))]

    checkout_token = forms.UUIDField(widget=forms.HiddenInput)
    expected_total = forms.DecimalField(widget=forms.HiddenInput, max_digits=14, decimal_places=3)
    method = forms.ChoiceField(
        label=pgettext_lazy("payment method", "Pay by"),
        choices=METHODS,
        widget=forms.RadioSelect,
        initial="card",
    )
    card_number = forms.CharField(
        label=_("Card number"),
        required=False,
        max_length=23,
        widget=forms.TextInput(attrs={"autocomplete": "cc-number", "inputmode": "numeric"}),
    )
    expiry = forms.CharField(
        label=_("Expiry (MM/YY)"),
        required=False,
        max_length=7,
        widget=forms.TextInput(attrs={"autocomplete": "cc-exp", "placeholder": _("MM/YY")}),
    )
    cvc = forms.CharField(
        label=_("Security code"),
        required=False,
        max_length=4,
        widget=forms.TextInput(attrs={"autocomplete": "cc-csc", "inputmode": "numeric"}),
    )

    def __init__(self, *args, **kwargs):
        from marketplace.orders.payments import banktransfer

        super().__init__(*args, **kwargs)
        # Only what this deployment takes: no card without a card provider (a deploy check
        # error in production), no bank transfer without the platform's account.
        offered = [
            (value, label)
            for value, label in self.METHODS
            if (value != "card" or settings.ORDERS_CARD_PROVIDER)
            and (value != "bank_transfer" or banktransfer.enabled())
        ]
        self.fields["method"].choices = offered
        if offered and self.fields["method"].initial not in dict(offered):
            self.fields["method"].initial = offered[0][0]

    @property
    def collects_card(self) -> bool:
        """Only the test provider takes card numbers in our form; with Stripe the card is
        typed into Stripe.js on the next page and never reaches our server."""
        return settings.ORDERS_CARD_PROVIDER == "test"

    def clean(self):
        data = super().clean()
        if data.get("method") != "card" or not self.collects_card:
            return data
        number = "".join(ch for ch in data.get("card_number", "") if ch.isdigit())
        if not 12 <= len(number) <= 19:
            self.add_error("card_number", _("Enter the 12 to 19 digits on the card."))
        data["card_number"] = number
        match = _EXPIRY_RE.match(data.get("expiry") or "")
        if not match:
            self.add_error("expiry", _("Enter the expiry date as MM/YY."))
        else:
            month, year = int(match.group(1)), int(match.group(2)) % 100 + 2000
            today = date.today()
            if not 1 <= month <= 12:
                self.add_error("expiry", _("The month is between 01 and 12."))
            elif (year, month) < (today.year, today.month):
                self.add_error("expiry", _("This card has expired."))
        cvc = data.get("cvc") or ""
        if not (cvc.isdigit() and len(cvc) in (3, 4)):
            self.add_error("cvc", _("Enter the 3 or 4 digits on the back of the card."))
        return data

    def payment_details(self) -> dict:
        # The CVC is checked for shape only and never stored or sent anywhere.
        return {
            "card_number": self.cleaned_data.get("card_number", ""),
            "expiry": self.cleaned_data.get("expiry", ""),
        }


class ReasonForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason"),
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={"required": _("Reason: say why, the buyer reads it.")},
    )


class CategoryForm(forms.Form):
    """CN22/CN23 box 10, chosen by the seller per parcel (a sale by default)."""

    category = forms.ChoiceField(label=_("Category of item"))
    explanation = forms.CharField(
        label=_("Explanation"),
        max_length=200,
        required=False,
        help_text=_("Needed for “Other”, e.g. “repair and return, no change of owner”."),
    )

    def __init__(self, *args, **kwargs):
        from marketplace.orders.customs_bridge import CATEGORY_CHOICES

        super().__init__(*args, **kwargs)
        self.fields["category"].choices = CATEGORY_CHOICES


class ShipForm(forms.Form):
    carrier = forms.ChoiceField(label=_("Carrier"), choices=ShopOrder.Carrier.choices)
    tracking_number = forms.CharField(
        label=_("Tracking number"),
        max_length=40,
        help_text=_("Postal items: the UPU id on the receipt, e.g. RR123456785GB."),
    )

    def clean(self):
        from marketplace.orders.customs_bridge import s10_problem

        data = super().clean()
        number = "".join((data.get("tracking_number") or "").split()).upper()
        data["tracking_number"] = number
        if data.get("carrier") == ShopOrder.Carrier.POST and number:
            problem = s10_problem(number)
            if problem:
                self.add_error("tracking_number", problem)
        elif number and not number.isalnum():
            self.add_error("tracking_number", _("Letters and digits only."))
        return data


class RefundForm(forms.Form):
    """One quantity field per open line, shipping, and the reason."""

    include_shipping = forms.BooleanField(label=_("Refund the shipping too"), required=False)
    reason = forms.CharField(
        label=_("Reason"), max_length=1000, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(self, *args, lines, **kwargs):
        super().__init__(*args, **kwargs)
        self.lines = lines
        for line in lines:
            self.fields[f"line_{line.pk}"] = forms.IntegerField(
                label=f"{line.title} ({line.sku})",
                min_value=0,
                max_value=line.quantity_open,
                initial=0,
                required=False,
                help_text=ngettext(
                    "%(n)d can be refunded", "%(n)d can be refunded", line.quantity_open
                )
                % {"n": line.quantity_open},
            )

    def line_fields(self):
        return [self[f"line_{line.pk}"] for line in self.lines]

    def quantities(self) -> dict[int, int]:
        return {
            line.pk: self.cleaned_data.get(f"line_{line.pk}") or 0
            for line in self.lines
            if self.cleaned_data.get(f"line_{line.pk}")
        }
