"""The authorization matrix: every URL pattern of the project is classified here.

Each app lists its URL names in ``tests/<app>/url_access.py`` as ``RULES = {name: Rule(...)}``;
``tests/test_url_matrix.py`` fails on any pattern nobody classified and probes every rule as
the personas of ``tests/conftest.py``:

- ``PUBLIC``: anyone gets a page.
- ``SIGNED_IN``: anonymous visitors are sent to the login page.
- ``MEMBER`` / ``OWNER``: a shop's pages. Anonymous -> login; a stranger -> 404; a staff
  member of the shop asking for an owner page -> 403.
- ``STAFF``: the admin. Anonymous and non-staff users are sent to the login page.
- ``TOKEN``: a secret in the URL is the permission (email confirmation, invitations).

``kwargs`` builds the URL arguments from the personas; with ``owner`` it names the persona
the object belongs to, and every other signed-in persona must get a 404 for it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

PUBLIC = "public"
SIGNED_IN = "signed-in"
MEMBER = "shop-member"
OWNER = "shop-owner"
STAFF = "staff"
TOKEN = "token"


@dataclass(frozen=True)
class Rule:
    access: str
    kwargs: Callable[[dict], dict] | None = None
    method: str = "get"
    owner: str | None = None
    # Personas of the owner's side: allowed on MEMBER pages, 403 on OWNER pages.
    also: tuple[str, ...] = field(default_factory=tuple)
    # Skip the live probe (with the reason), e.g. for URLs that only make sense mid-flow.
    no_probe: str = ""
