"""Load demo data, idempotently, and print the logins.

Each app contributes a ``seed(*, now) -> list[tuple[role, email, password]]`` function listed
in ``SEEDERS``, run in order (customs rules before listings, listings before orders).
"""

from __future__ import annotations

from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone
from django.utils.module_loading import import_string

SEEDERS = [
    "accounts.demo.seed",
    "customs.demo.seed",
    "marketplace.listings.demo.seed",
    "marketplace.orders.demo.seed",
]


class Command(BaseCommand):
    help = "Create (or refresh) the demo marketplace: admin, sellers, shops, buyers."

    def handle(self, *args, **options):
        now = timezone.now()
        logins: list[tuple[str, str, str]] = []
        for path in SEEDERS:
            with transaction.atomic():
                logins += import_string(path)(now=now) or []
            self.stdout.write(f"  seeded {path.rsplit('.', 2)[0]}")
        width = max(len(role) for role, _, _ in logins)
        self.stdout.write(self.style.SUCCESS("\nDemo logins (password after the address):"))
        for role, email, password in logins:
            self.stdout.write(f"  {role.ljust(width)}  {email}  {password}")
