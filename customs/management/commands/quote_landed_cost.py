"""``python manage.py quote_landed_cost``: one JSON consignment on stdin, one JSON quote out.

Bad input exits with status 2 and ``{"error": {"field": ..., "message": ...}}`` on stdout.
"""

from __future__ import annotations

import json
import sys

from django.core.management.base import BaseCommand

from customs.fx import RateUnavailable
from customs.landed_cost import Consignment, ConsignmentError
from customs.services import quote_consignment


class Command(BaseCommand):
    help = "Quote the landed cost of one consignment (JSON on stdin, JSON on stdout)."
    stealth_options = ("stdin",)

    def add_arguments(self, parser):
        parser.add_argument("--save", action="store_true", help="Keep the quote as a Quote row.")

    def handle(self, *args, save=False, **options):
        stdin = options.get("stdin") or sys.stdin
        try:
            data = json.loads(stdin.read())
        except json.JSONDecodeError as exc:
            return self._fail("$", f"not valid JSON: {exc.msg} (line {exc.lineno})")
        try:
            consignment = Consignment.from_dict(data)
            result = quote_consignment(consignment=consignment, save=save)
        except ConsignmentError as exc:
            return self._fail(exc.field, exc.message)
        except RateUnavailable as exc:
            return self._fail("currency", exc.message)
        self.stdout.write(json.dumps(result.to_dict(), indent=2, ensure_ascii=False))

    def _fail(self, field: str, message: str):
        self.stdout.write(json.dumps({"error": {"field": field, "message": str(message)}}))
        sys.exit(2)
