"""Tax and customs identifiers, validated with python-stdnum where it knows the country."""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from stdnum import get_cc_module
from stdnum.eu import vat as eu_vat
from stdnum.exceptions import ValidationError as StdnumError

EU_VAT_COUNTRIES = set(eu_vat.MEMBER_STATES) - {"el"}  # stdnum lists Greece as "el"
EORI_FORMAT = re.compile(r"^[A-Z]{2}[0-9A-Z]{5,15}$")


def _compact(value: str) -> str:
    return re.sub(r"[\s.\-/]", "", value).upper()


def clean_vat_number(value: str, country: str) -> str:
    """Return the number in compact form, or raise a ValidationError that says why.

    EU numbers carry their member-state prefix (added when the seller left it out); other
    countries use their national business tax number, checked where python-stdnum has a
    validator for that country.
    """
    country = country.upper()
    number = _compact(value)
    if not number:
        return ""
    if country.lower() in EU_VAT_COUNTRIES or country == "GR":
        prefix = "EL" if country == "GR" else country
        if not number[:2].isalpha():
            number = prefix + number
        if number[:2] != prefix:
            raise ValidationError(
                _("A VAT number registered in %(country)s starts with %(prefix)s.")
                % {"country": country, "prefix": prefix}
            )
        try:
            return eu_vat.validate(number)
        except StdnumError:
            raise ValidationError(
                _("%(number)s is not a valid VAT number (the check digits do not match).")
                % {"number": number}
            ) from None
    module = get_cc_module(country.lower(), "vat")
    if module is None:
        return number  # no national validator: keep what the seller typed, compacted
    if number.startswith(country) and country != "CH":
        number = number[2:]
    try:
        return module.validate(number)
    except StdnumError:
        raise ValidationError(
            _("%(number)s is not a valid tax number for %(country)s.")
            % {"number": number, "country": country}
        ) from None


def clean_eori(value: str, country: str) -> str:
    """EORI: the issuing country's code and up to 15 characters (GB: GB + 12 digits)."""
    number = _compact(value)
    if not number:
        return ""
    if not EORI_FORMAT.match(number):
        raise ValidationError(
            _("An EORI number is a country code followed by 5 to 15 letters or digits.")
        )
    if number.startswith(("GB", "XI")):
        if not re.fullmatch(r"(GB|XI)\d{12}", number):
            raise ValidationError(_("A UK EORI number is GB followed by 12 digits."))
        try:
            get_cc_module("gb", "vat").validate(number[2:11])
        except StdnumError:
            raise ValidationError(
                _("%(number)s is not a valid UK EORI number (its VAT part does not check).")
                % {"number": number}
            ) from None
    elif country.upper() not in {number[:2], "GB"} and not (
        country.upper() == "GR" and number[:2] == "GR"
    ):
        raise ValidationError(
            _("An EORI number for a business in %(country)s starts with %(country)s.")
            % {"country": country.upper()}
        )
    return number
