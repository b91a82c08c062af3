"""``python manage.py customs_coverage``: count destinations whose quotes are complete."""

from __future__ import annotations

from datetime import date

from django.core.management.base import BaseCommand
from django.utils import timezone

from customs.coverage import measure


class Command(BaseCommand):
    help = "Count the destinations for which the bundled rules give complete quotes."

    def add_arguments(self, parser):
        parser.add_argument("--date", help="Quote date, YYYY-MM-DD (default: today).")
        parser.add_argument("--list", action="store_true", help="List every destination.")

    def handle(self, *args, date=None, list=False, **options):
        on = _parse(date) if date else timezone.localdate()
        cov = measure(on=on)
        if list:
            for code in cov.complete:
                self.stdout.write(f"  {code} complete")
            for code, why in sorted(cov.incomplete.items()):
                self.stdout.write(f"  {code} incomplete: {why}")
        self.stdout.write(
            f"{len(cov.complete)} of {cov.checked} destinations complete on {on} "
            f"({len(cov.goods)} reference goods): {' '.join(cov.complete)}"
        )


def _parse(value: str) -> date:
    from datetime import date as _date

    return _date.fromisoformat(value)
