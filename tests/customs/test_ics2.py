import pytest
from django.core.exceptions import ValidationError

from customs.ics2 import description_validator, stop_words, validate_description


@pytest.mark.parametrize(
    "text", ["Gift", "Parts", "gifts", "  CLOTHING. ", "General cargo", "Spare parts", "N/A"]
)
def test_a_stop_word_alone_is_refused(text):
    check = validate_description(text)
    assert not check.ok
    assert "too general" in check.errors[0]


def test_a_precise_description_is_accepted():
    check = validate_description("Men's cotton T-shirt, knitted")
    assert check.ok
    assert check.errors == []
    assert check.warnings == []


def test_a_stop_word_inside_a_longer_text_is_a_warning():
    check = validate_description("Leather bags for laptops, handmade")
    assert check.ok
    assert "“bags”" in check.warnings[0]


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("1004", "only of numbers"),
        ("12 345-6", "only of numbers"),
        ("invoice.pdf", "file name"),
        (".jpg", "file name"),
        ("xxx", "repeated letters"),
        ("Cotton shirt aaaa", "repeated letters"),
        ("...", "blanks, punctuation"),
        ("   ", "blanks, punctuation"),
        ("?!*#", "blanks, punctuation"),
        ("a" * 2 + " b" * 300, "at most 512"),
    ],
)
def test_format_rules_are_errors(text, fragment):
    check = validate_description(text)
    assert not check.ok
    assert any(fragment in e for e in check.errors), check.errors


def test_stop_words_come_from_the_versioned_files():
    words = stop_words()
    assert {"accessories", "general cargo", "gift", "parts", "said to contain"} <= words
    assert len(words) > 100


def test_django_validator_raises_with_the_reasons():
    with pytest.raises(ValidationError) as excinfo:
        description_validator("Parts")
    assert "too general" in excinfo.value.messages[0]
    description_validator("Sterling silver ring, 925")  # no error


@pytest.mark.parametrize("name", ["Private", "unknown", "N/A", " ", "--"])
def test_party_names_that_say_nothing_are_refused(name):
    from customs.ics2 import validate_party_name

    assert not validate_party_name(name).ok


def test_a_real_party_name_is_accepted():
    from customs.ics2 import validate_party_name

    assert validate_party_name("Lena Müller").ok
