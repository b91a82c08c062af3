"""SQLite full-text search: an FTS5 virtual table of listings, filled from the existing rows.

On PostgreSQL nothing is created (``Listing.search_vector`` with its GIN index does the job);
the model is unmanaged, so only its state is recorded. The table's columns mirror the weights
of the tsvector: title (A), category, parent category, material and shop (B), description (C).
"""

import django.db.models.deletion
from django.db import migrations, models

import marketplace.listings.models

CREATE = (
    "CREATE VIRTUAL TABLE IF NOT EXISTS listings_listing_fts USING fts5("
    "title, tags, description, tokenize = 'porter unicode61 remove_diacritics 2')"
)
FILL = """
INSERT INTO listings_listing_fts (rowid, title, tags, description)
SELECT l.id, coalesce(l.title, ''),
    coalesce(c.name, '') || ' ' || coalesce(p.name, '') || ' ' || coalesce(l.material, '')
    || ' ' || coalesce(s.display_name, ''),
    substr(coalesce(l.description, ''), 1, 4000)
FROM listings_listing AS l
JOIN listings_category AS c ON c.id = l.category_id
LEFT JOIN listings_category AS p ON p.id = c.parent_id
JOIN accounts_shop AS s ON s.id = l.shop_id
"""
DROP = "DROP TABLE IF EXISTS listings_listing_fts"


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        schema_editor.execute(CREATE)
        schema_editor.execute(FILL)


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        schema_editor.execute(DROP)


class Migration(migrations.Migration):
    dependencies = [
        ("listings", "0007_facet_index_postgres_only"),
    ]

    operations = [
        migrations.CreateModel(
            name="ListingText",
            fields=[
                (
                    "listing",
                    models.OneToOneField(
                        db_column="rowid",
                        db_constraint=False,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        primary_key=True,
                        related_name="fulltext",
                        serialize=False,
                        to="listings.listing",
                    ),
                ),
                (
                    "document",
                    marketplace.listings.models.FullTextField(db_column="listings_listing_fts"),
                ),
            ],
            options={
                "db_table": "listings_listing_fts",
                "managed": False,
            },
        ),
        migrations.RunPython(create, drop, elidable=False),
    ]
