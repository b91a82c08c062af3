"""``manage.py generate_catalog --listings 100000``: a synthetic catalog for load tests."""

from __future__ import annotations

import time

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from marketplace.listings.generator import clear_generated, generate_catalog


class Command(BaseCommand):
    help = "Generate N active listings with variants across many shops (for benchmarks)."

    def add_arguments(self, parser):
        parser.add_argument("--listings", type=int, default=1000, help="how many (<= 100000)")
        parser.add_argument("--shops", type=int, default=None, help="default: listings / 500")
        parser.add_argument(
            "--seed", type=int, default=1, help="random seed (same seed, same data)"
        )
        parser.add_argument(
            "--clear", action="store_true", help="first delete what an earlier run generated"
        )

    def handle(self, *args, listings: int, shops: int | None, seed: int, clear: bool, **options):
        if not 0 < listings <= 100_000:
            raise CommandError("--listings must be between 1 and 100000.")
        if clear:
            removed = clear_generated()
            self.stdout.write(f"removed {removed} generated listings")
        started = time.monotonic()

        def progress(done: int) -> None:
            rate = done / max(0.001, time.monotonic() - started)
            self.stdout.write(f"  {done:>7} listings ({rate:,.0f}/s)")

        result = generate_catalog(
            listings=listings, shops=shops, seed=seed, now=timezone.now(), progress=progress
        )
        self.stdout.write(
            self.style.SUCCESS(
                f"{result.listings} listings, {result.variants} variants, {result.shops} shops "
                f"in {time.monotonic() - started:.0f} s"
            )
        )
