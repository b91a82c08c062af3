"""The covering facet index, as PostgreSQL-only SQL.

Declared in ``Meta.indexes`` its INCLUDE columns made every management command on SQLite print
a system-check warning (models.W040) while SQLite ignored them anyway. On PostgreSQL the same
index is created here under its final name; elsewhere only the old declaration is dropped.
"""

from django.db import migrations

CREATE = (
    "CREATE INDEX IF NOT EXISTS listing_facets ON listings_listing (status, category_id) "
    "INCLUDE (id, origin_country, shop_id, published_at, currency, price_min, sort_price, "
    "shipping_profile_id, export_ready)"
)
DROP = "DROP INDEX IF EXISTS listing_facets"


def _on_postgres(sql):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(sql)

    return run


class Migration(migrations.Migration):
    dependencies = [
        ("listings", "0006_facet_index_with_id"),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name="listing",
            name="listing_facets_v3",
        ),
        migrations.RunPython(_on_postgres(CREATE), _on_postgres(DROP), elidable=False),
    ]
