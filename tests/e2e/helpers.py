"""Steps the browser journeys share."""

from __future__ import annotations

import re

from tests.factories import PASSWORD


def sign_in(page, email: str, password: str = PASSWORD) -> None:
    page.goto("/accounts/login/")
    page.locator("#id_login").fill(email)
    page.locator("#id_password").fill(password)
    page.get_by_role("button", name="Sign In").click()
    page.wait_for_url(re.compile(r".*/account/.*|.*/$"))
