import pytest
from django.core.exceptions import ValidationError

from customs.hs import normalize_hs_code, search_hs, validate_hs_code
from customs.models import HSCode


def test_normalize_strips_dots_spaces_and_dashes():
    assert normalize_hs_code(" 6109.10 00-10 ") == "6109100010"


def test_bundled_nomenclature_has_real_counts_without_comtrade_artefacts(rules):
    assert HSCode.objects.filter(level=2).count() == 96
    assert HSCode.objects.filter(level=4).count() == 1228
    assert HSCode.objects.filter(level=6).count() == 5612
    assert not HSCode.objects.filter(code__startswith="99").exists()
    tee = HSCode.objects.get(code="610910")
    assert tee.parent_code == "6109"
    assert tee.section == "XI"
    assert tee.hs_edition == "HS2022"
    assert tee.dotted == "6109.10"


@pytest.mark.parametrize("code", ["610910", "6109.10", "6109 10 00", "6109100010"])
def test_valid_codes_return_the_subheading(rules, code):
    assert validate_hs_code(code).code == "610910"


@pytest.mark.parametrize(
    ("code", "fragment"),
    [
        ("6109", "6, 8 or 10 digits"),
        ("6109100", "6, 8 or 10 digits"),
        ("61091a", "6, 8 or 10 digits"),
        ("", "6, 8 or 10 digits"),
        ("999999", "reserved for national use"),
        ("980100", "reserved for national use"),
        ("610999", "not an HS 2022 subheading"),
    ],
)
def test_invalid_codes_are_refused_with_a_clear_reason(rules, code, fragment):
    with pytest.raises(ValidationError) as excinfo:
        validate_hs_code(code)
    assert fragment in excinfo.value.messages[0]


def test_finder_puts_cotton_tshirts_first(rules):
    matches = search_hs("cotton t-shirt")
    assert matches[0].code == "610910"
    assert matches[0].heading_code == "6109"
    assert matches[0].chapter_code == "61"
    assert "knitted" in matches[0].chapter_description
    assert matches[0].score > 0


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("wristwatch", "9102"),
        ("printed books", "4901"),
        ("silk scarf", "6214"),
        ("silver jewellery", "7113"),
        ("coffee roasted not decaffeinated", "090121"),
        ("cotten tshirts", "610910"),  # a typo and a plural
        ("6109", "6109"),
    ],
)
def test_finder_ranks_the_expected_code_near_the_top(rules, query, expected):
    codes = [m.code for m in search_hs(query, limit=5)]
    assert any(code.startswith(expected) for code in codes), codes


def test_finder_handles_empty_and_nonsense_queries(rules):
    assert search_hs("") == []
    assert search_hs("   ") == []
    assert search_hs("zzqxv") == []


def test_finder_queries_the_database_once_per_process(rules, django_assert_num_queries):
    with django_assert_num_queries(1):
        for word in ("c", "co", "cot", "cott", "cotton", "cotton shirt"):
            search_hs(word)


def test_finder_respects_limit(rules):
    assert len(search_hs("cotton", limit=3)) == 3
