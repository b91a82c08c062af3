"""Every URL of the project is classified, and each class is enforced (tests/url_matrix.py)."""

from __future__ import annotations

import importlib
import pkgutil

import pytest
from django.urls import URLResolver, get_resolver, reverse

import tests
from tests.url_matrix import MEMBER, OWNER, PUBLIC, SIGNED_IN, STAFF, TOKEN, Rule

PERSONAS = ("buyer", "seller", "seller_staff", "other_seller", "staff", "stranger")


def _all_rules() -> dict[str, Rule]:
    rules: dict[str, Rule] = {}
    for module in pkgutil.iter_modules(tests.__path__):
        try:
            access = importlib.import_module(f"tests.{module.name}.url_access")
        except ModuleNotFoundError:
            continue
        duplicated = rules.keys() & access.RULES.keys()
        assert not duplicated, f"classified twice: {duplicated}"
        rules.update(access.RULES)
    return rules


RULES = _all_rules()


def _walk(patterns, namespace=None):
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            ns = namespace
            if pattern.namespace:
                ns = f"{namespace}:{pattern.namespace}" if namespace else pattern.namespace
            yield from _walk(pattern.url_patterns, ns)
        else:
            name = pattern.name
            yield (f"{namespace}:{name}" if namespace and name else name), str(pattern.pattern)


def test_every_url_pattern_is_classified():
    unclassified = []
    for name, route in _walk(get_resolver().url_patterns):
        if name is None:
            # Unnamed patterns: the admin's catch-all/object redirects and DEBUG media serving.
            assert route.startswith(("admin", "<path:object_id>", "(?P<url>", "^media")), route
            continue
        if name.startswith("admin:"):
            continue  # the whole admin namespace is STAFF, probed below
        if name not in RULES:
            unclassified.append(f"{name} ({route})")
    assert not unclassified, "classify these in tests/<app>/url_access.py:\n" + "\n".join(
        unclassified
    )


def test_no_rule_names_a_url_that_does_not_exist():
    names = {name for name, _ in _walk(get_resolver().url_patterns) if name}
    assert set(RULES) <= names, set(RULES) - names


@pytest.fixture
def personas(buyer, seller, seller_staff, other_seller, staff, stranger, shop, other_shop):
    return {
        "buyer": buyer,
        "seller": seller,
        "seller_staff": seller_staff,
        "other_seller": other_seller,
        "staff": staff,
        "stranger": stranger,
        "shop": shop,
        "other_shop": other_shop,
    }


def _request(client, rule: Rule, url: str):
    return getattr(client, rule.method)(url)


def _is_login_redirect(response) -> bool:
    return response.status_code == 302 and "/login/" in response["Location"]


@pytest.mark.parametrize("name", sorted(n for n, r in RULES.items() if not r.no_probe))
@pytest.mark.django_db
def test_access_rule_is_enforced(name, personas, client):
    rule = RULES[name]
    url = reverse(name, kwargs=rule.kwargs(personas) if rule.kwargs else None)

    anonymous = _request(client, rule, url)
    if rule.access in (SIGNED_IN, MEMBER, OWNER, STAFF):
        assert _is_login_redirect(anonymous), (name, anonymous.status_code)
    else:
        assert anonymous.status_code < 500, (name, anonymous.status_code)

    if rule.access in (PUBLIC, TOKEN) or rule.owner is None:
        client.force_login(personas["stranger"])
        response = _request(client, rule, url)
        assert response.status_code < 500 and response.status_code != 403, (name, response)
        return

    allowed = {rule.owner, *rule.also}
    # The owner goes last: a POST probe may delete the object it is allowed to delete.
    for persona in sorted(PERSONAS, key=lambda p: (p == rule.owner, p in allowed)):
        client.force_login(personas[persona])
        response = _request(client, rule, url)
        if persona in allowed:
            if rule.access == OWNER and persona != rule.owner:
                # A member of the shop who is not an owner knows the shop exists: 403.
                assert response.status_code == 403, (name, persona, response.status_code)
            else:
                assert response.status_code in (200, 302), (name, persona, response.status_code)
        else:
            assert response.status_code == 404, (name, persona, response.status_code)
        client.logout()


@pytest.mark.django_db
def test_member_of_a_shop_who_is_not_owner_gets_403_on_owner_pages(personas, client):
    client.force_login(personas["seller_staff"])
    for name, rule in RULES.items():
        if rule.access == OWNER and rule.kwargs and not rule.no_probe:
            url = reverse(name, kwargs=rule.kwargs(personas))
            assert _request(client, rule, url).status_code == 403, name


@pytest.mark.django_db
def test_admin_is_staff_only(personas, client):
    admin_names = [n for n, _ in _walk(get_resolver().url_patterns) if n and n.startswith("admin:")]
    changelists = [n for n in admin_names if n.endswith("_changelist")]
    assert changelists
    for name in ["admin:index", *changelists]:
        url = reverse(name)
        assert _is_login_redirect(client.get(url)), name
        client.force_login(personas["stranger"])
        # Non-staff: the admin sends them to its login, which allauth's wrapper refuses.
        assert client.get(url).status_code in (302, 403), name
        client.force_login(personas["staff"])
        assert client.get(url).status_code == 200, name
        client.logout()
