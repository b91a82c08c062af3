"""UPU S10 item identifiers: ``RR123456785GB`` (service, serial, check digit, country)."""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

S10_RE = re.compile(r"^([A-Z]{2})(\d{8})(\d)([A-Z]{2})$")
WEIGHTS = (8, 6, 4, 2, 3, 5, 9, 7)


def check_digit(serial: str) -> int:
    """UPU S10 check digit of an 8-digit serial: 11 - (sum mod 11), 10 -> 0, 11 -> 5."""
    c = 11 - sum(int(d) * w for d, w in zip(serial, WEIGHTS, strict=True)) % 11
    return {10: 0, 11: 5}.get(c, c)


def is_valid_s10(item_id: str) -> bool:
    match = S10_RE.match((item_id or "").strip().upper().replace(" ", ""))
    return bool(match) and check_digit(match.group(2)) == int(match.group(3))


def validate_s10(item_id: str, *, origin: str = "") -> str:
    """The normalised id, or a ValidationError saying what is wrong with it. With ``origin``
    the last two letters must name that country: the id is issued by the origin's post."""
    normalized = (item_id or "").strip().upper().replace(" ", "")
    match = S10_RE.match(normalized)
    if not match:
        raise ValidationError(
            _("A postal item id has 2 letters, 9 digits and 2 letters, e.g. RR123456785GB."),
            code="s10_format",
        )
    if check_digit(match.group(2)) != int(match.group(3)):
        raise ValidationError(
            _("%(id)s has a wrong check digit: check for a typing mistake.") % {"id": normalized},
            code="s10_check_digit",
        )
    if origin and match.group(4) != origin.upper():
        raise ValidationError(
            _(
                "%(id)s was issued by the post of %(issuer)s, but the parcel leaves from "
                "%(origin)s: use the number of the post you hand it to."
            )
            % {"id": normalized, "issuer": match.group(4), "origin": origin.upper()},
            code="s10_country",
        )
    return normalized
