"""CSV export and import: by SKU, every row checked first, all-or-nothing or valid rows only."""

import csv
import io
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from marketplace.core.errors import DomainError
from marketplace.listings.csv_io import columns, export, jobs, parse
from marketplace.listings.models import ImportJob, Listing, ListingEvent, Variant
from tests.listings.factories import make_category, make_listing, make_profile

pytestmark = pytest.mark.usefixtures("customs_tables")

HEADER = ",".join(columns.COLUMNS)


@pytest.fixture
def tees():
    return make_category("T-shirts", parent=make_category("Clothing"))


def _file(text: str, name: str = "catalog.csv") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, text.encode("utf-8"), content_type="text/csv")


def _import(shop, seller, text, mode=ImportJob.Mode.ALL_OR_NOTHING, run_on_commit=None):
    with run_on_commit():
        job = jobs.start_import(
            shop=shop, actor=seller, upload=_file(text), mode=mode, now=timezone.now()
        )
    job.refresh_from_db()
    return job


def test_export_writes_one_row_per_variant_and_neutralises_formulas(shop, tees):
    profile = make_profile(shop, name="Parcels")
    listing = make_listing(
        shop,
        title='=HYPERLINK("http://evil")',
        category=tees,
        profile=profile,
        variants=[
            {"sku": "TEE-M", "price": "25.00", "options": {"size": "M"}},
            {"sku": "TEE-L", "price": "27.50", "options": {"size": "L"}, "stock": 3},
        ],
    )
    text = "".join(export.export_rows(shop))
    assert text.startswith("\ufeff")
    rows = list(csv.DictReader(io.StringIO(text.lstrip("\ufeff"))))
    assert [r["sku"] for r in rows] == ["TEE-M", "TEE-L"]
    assert rows[0]["listing"] == str(listing.pk)
    assert rows[0]["title"] == '\'=HYPERLINK("http://evil")'
    assert rows[0]["category"] == "clothing/t-shirts"
    assert rows[0]["shipping_profile"] == "Parcels"
    assert (rows[1]["options"], rows[1]["price"], rows[1]["stock"]) == ("size=L", "27.50", "3")


def test_export_then_import_round_trips_without_changes(shop, seller, tees, run_on_commit):
    profile = make_profile(shop, name="Parcels")
    make_listing(shop, category=tees, profile=profile, variants=[{"sku": "A"}, {"sku": "B"}])
    text = "".join(export.export_rows(shop))
    job = _import(shop, seller, text, run_on_commit=run_on_commit)
    assert job.status == ImportJob.Status.DONE, job.errors
    assert (job.updated_listings, job.updated_variants, job.created_variants) == (1, 2, 0)
    assert Listing.objects.get().status == Listing.Status.ACTIVE


def test_import_creates_listings_grouped_by_handle_and_updates_by_sku(
    shop, seller, tees, run_on_commit
):
    make_profile(shop, name="Parcels")
    existing = make_listing(
        shop,
        category=tees,
        status=Listing.Status.DRAFT,
        variants=[{"sku": "OLD-1", "price": "9.00"}],
    )
    linen = 'Linen shirt,Breezy.,clothing/t-shirts,,6205.90,"Men\'s linen shirt, woven",PT,linen'
    tee = 'clothing/t-shirts,,610910,"Men\'s cotton T-shirt, knitted",US,cotton'
    text = "\n".join(
        [
            HEADER,
            f"new-tee,{linen},Parcels,LIN-S,size=S,45.00,4,0.300",
            f"new-tee,{linen},Parcels,LIN-M,size=M,47.00,6,0.320",
            f"{existing.pk},{existing.title},{existing.description},{tee},Parcels,OLD-1,,11.00,7,0.200",
        ]
    )
    job = _import(shop, seller, text, run_on_commit=run_on_commit)
    assert job.status == ImportJob.Status.DONE, job.errors
    assert (job.created_listings, job.updated_listings) == (1, 1)
    assert (job.created_variants, job.updated_variants) == (2, 1)
    linen = Listing.objects.get(title="Linen shirt")
    assert linen.status == Listing.Status.DRAFT
    assert linen.hs_code == "620590"
    assert linen.export_ready is True
    assert (linen.price_min, linen.price_max) == (Decimal("45.00"), Decimal("47.00"))
    assert list(linen.variants.values_list("sku", "options")) == [
        ("LIN-S", {"size": "S"}),
        ("LIN-M", {"size": "M"}),
    ]
    old = Variant.objects.get(sku="OLD-1")
    assert (old.price, old.stock) == (Decimal("11.00"), 7)
    assert linen.events.filter(kind=ListingEvent.Kind.IMPORTED).exists()


def test_a_bad_row_stops_everything_and_errors_name_row_and_column(
    shop, seller, tees, run_on_commit
):
    text = "\n".join(
        [
            "sku,title,category,price,stock,hs_code,customs_description",
            'GOOD-1,Wool scarf,clothing,30.00,5,611710,"Women\'s wool scarf, knitted"',
            "BAD-1,Wool hat,no/such/category,abc,-2,12,Gift",
        ]
    )
    job = _import(shop, seller, text, run_on_commit=run_on_commit)
    assert job.status == ImportJob.Status.REJECTED
    errors = {(e["row"], e["column"]) for e in job.errors}
    assert errors == {
        (3, "category"),
        (3, "price"),
        (3, "stock"),
        (3, "hs_code"),
        (3, "customs_description"),
    }
    assert not Listing.objects.exists()  # the good row was not applied either
    assert job.skipped_rows == 2


def test_a_status_change_the_listing_cannot_make_names_both_statuses(
    shop, seller, tees, run_on_commit
):
    draft = make_listing(
        shop, category=tees, status=Listing.Status.DRAFT, variants=[{"sku": "D-1"}]
    )
    text = "\n".join(["listing,sku,status", f"{draft.pk},D-1,paused"])
    job = _import(shop, seller, text, run_on_commit=run_on_commit)
    assert job.errors == [
        {
            "row": 2,
            "column": "status",
            "message": "A listing that is “Draft” cannot become “Paused”.",
        }
    ]


def test_valid_rows_only_applies_the_good_rows(shop, seller, tees, run_on_commit, client_for):
    text = "\n".join(
        [
            "sku,title,category,price,stock",
            "GOOD-1,Wool scarf,clothing,30.00,5",
            "BAD-1,Wool hat,clothing,abc,1",
            "GOOD-2,Wool mittens,clothing/t-shirts,19.99,2",
        ]
    )
    job = _import(shop, seller, text, mode=ImportJob.Mode.VALID_ONLY, run_on_commit=run_on_commit)
    assert job.status == ImportJob.Status.DONE
    assert job.errors == [
        {"row": 3, "column": "price", "message": "'abc' is not a number (use a dot for decimals)."}
    ]
    assert set(Variant.objects.values_list("sku", flat=True)) == {"GOOD-1", "GOOD-2"}
    assert (job.created_listings, job.skipped_rows) == (2, 1)
    html = (
        client_for(seller)
        .get(reverse("listings:seller-import-detail", kwargs={"slug": shop.slug, "pk": job.pk}))
        .content.decode()
    )
    assert "2 listings saved (2 new, 0 updated)." in html
    assert "2 variants saved (2 new, 0 updated)." in html
    assert "1 row with errors was skipped." in html


def test_rows_across_the_file_are_checked(shop, other_shop, seller, tees, run_on_commit):
    theirs = make_listing(
        other_shop, category=tees, status=Listing.Status.DRAFT, variants=[{"sku": "X"}]
    )
    mine = make_listing(
        shop, category=tees, status=Listing.Status.DRAFT, variants=[{"sku": "MINE"}]
    )
    text = "\n".join(
        [
            "listing,sku,title,category,price",
            ",DUP,Scarf,clothing,10.00",
            ",DUP,Scarf,clothing,10.00",
            f"{theirs.pk},NEW,Scarf,clothing,10.00",
            "grp,MINE,Scarf,clothing,10.00",
            "grp2,A1,Hat,clothing,10.00",
            "grp2,A2,Cap,clothing,10.00",
        ]
    )
    job = _import(shop, seller, text, run_on_commit=run_on_commit)
    messages = {(e["row"], e["column"]): e["message"] for e in job.errors}
    assert messages[(3, "sku")] == "SKU DUP is also on row 2."
    assert messages[(4, "listing")] == f"Your shop has no listing number {theirs.pk}."
    assert messages[(5, "listing")] == (
        f"SKU MINE already exists (listing {mine.pk}); put {mine.pk} in this column."
    )
    assert messages[(7, "title")] == "Differs from row 6 of the same listing."


def test_unreadable_files_are_refused_at_upload(shop, seller):
    for content, message in [
        (b"", "empty"),
        (b"sku;colour\nA;blue", "Unknown columns: colour"),
        (b"title\nA", "needs a sku column"),
        (b"sku\n", "no rows"),
        ("sku\nA".encode("utf-16"), "not UTF-8"),
    ]:
        with pytest.raises(DomainError, match=message):
            jobs.start_import(
                shop=shop,
                actor=seller,
                upload=SimpleUploadedFile("x.csv", content),
                mode="all",
                now=timezone.now(),
            )
    assert not ImportJob.objects.exists()


def test_semicolon_files_from_european_spreadsheets_work(shop, seller, tees, run_on_commit):
    job = _import(
        shop,
        seller,
        "sku;title;category;price\nS-1;Scarf;clothing;12.50",
        run_on_commit=run_on_commit,
    )
    assert job.status == ImportJob.Status.DONE
    assert Variant.objects.get().price == Decimal("12.50")


def test_running_an_import_twice_changes_nothing(shop, seller, tees, run_on_commit):
    job = _import(
        shop,
        seller,
        "sku,title,category,price\nS-1,Scarf,clothing,12.50",
        run_on_commit=run_on_commit,
    )
    assert jobs.run_import(job_id=job.pk, now=timezone.now()) == "skipped"
    assert Variant.objects.count() == 1


def test_progress_is_recorded_while_rows_are_checked(shop, seller, tees, monkeypatch):
    monkeypatch.setattr(parse, "PROGRESS_EVERY", 2)
    seen = []
    original = parse.check_rows

    def spy(shop_, header, body, *, progress=None):
        def record(n):
            progress(n)
            seen.append(ImportJob.objects.get().processed_rows)

        return original(shop_, header, body, progress=record)

    monkeypatch.setattr(jobs, "check_rows", spy)
    rows = "\n".join(f"S-{n},Scarf {n},clothing,12.50" for n in range(5))
    job = jobs.start_import(
        shop=shop,
        actor=seller,
        upload=_file("sku,title,category,price\n" + rows),
        mode="all",
        now=timezone.now(),
    )
    assert jobs.run_import(job_id=job.pk, now=timezone.now()) == "done"
    assert seen == [2, 4, 5]
    job.refresh_from_db()
    assert (job.processed_rows, job.total_rows, job.progress_percent) == (5, 5, 100)


def test_publishing_through_the_import_follows_the_same_rules(shop, seller, tees, run_on_commit):
    make_profile(shop, name="Parcels")
    text = "\n".join(
        [
            "listing,sku,title,category,price,status,shipping_profile",
            "a,P-1,Scarf,clothing,12.50,active,Parcels",
            "b,P-2,Hat,clothing,12.50,active,",
        ]
    )
    job = _import(shop, seller, text, run_on_commit=run_on_commit)
    assert job.status == ImportJob.Status.DONE
    statuses = dict(Listing.objects.values_list("title", "status"))
    assert statuses == {"Scarf": "active", "Hat": "draft"}  # no shipping profile: stays draft


def test_import_pages_show_progress_and_errors(client_for, seller, shop, tees, run_on_commit):
    client = client_for(seller)
    with run_on_commit():
        response = client.post(
            reverse("listings:seller-import", kwargs={"slug": shop.slug}),
            {"file": _file("sku,title,category,price\nA,Scarf,clothing,abc"), "mode": "all"},
        )
    job = ImportJob.objects.get()
    assert response["Location"] == reverse(
        "listings:seller-import-detail", kwargs={"slug": shop.slug, "pk": job.pk}
    )
    html = client.get(response["Location"]).content.decode()
    assert "Nothing was saved" in html
    assert '<td class="num">2</td><td><code>price</code></td>' in html
    status = client.get(
        reverse("listings:seller-import-status", kwargs={"slug": shop.slug, "pk": job.pk})
    ).json()
    assert status == {
        "status": "rejected",
        "status_label": "Not applied: errors found",
        "processed": 1,
        "total": 1,
        "percent": 100,
        "finished": True,
        "errors": 1,
    }
    export = client.get(reverse("listings:seller-export", kwargs={"slug": shop.slug}))
    assert export["Content-Type"] == "text/csv"
    assert b"".join(export.streaming_content).decode().lstrip("\ufeff").startswith("listing,title")


def test_a_stalled_import_is_picked_up_again(shop, seller, tees):
    job = jobs.start_import(
        shop=shop,
        actor=seller,
        upload=_file("sku,title,category,price\nA,Scarf,clothing,1.00"),
        mode="all",
        now=timezone.now() - timezone.timedelta(hours=2),
    )
    ImportJob.objects.filter(pk=job.pk).update(
        status=ImportJob.Status.VALIDATING,
        started_at=timezone.now() - timezone.timedelta(hours=1),
        created_at=timezone.now() - timezone.timedelta(hours=2),
    )
    assert jobs.stalled_imports(now=timezone.now()) == [job.pk]
    assert jobs.run_import(job_id=job.pk, now=timezone.now()) == "done"
