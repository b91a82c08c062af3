"""``python manage.py load_customs_rules``: load every customs rule table from customs/data/.

Idempotent: a second run reports everything unchanged. ``migrate`` followed by this command on
an empty database is all ``quote_landed_cost`` needs.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand

from customs.loaders import load_all


class Command(BaseCommand):
    help = "Load HS codes, exchange rates and customs rules from the bundled data files."

    def add_arguments(self, parser):
        parser.add_argument(
            "--only",
            action="append",
            help="Load only this table (repeatable): hs, fx, regimes, duty, restrictions, "
            "sanctions, screening.",
        )

    def handle(self, *args, only=None, **options):
        for report in load_all(only=set(only) if only else None):
            self.stdout.write(f"  {report}")
        self.stdout.write(self.style.SUCCESS("Customs rules loaded."))
