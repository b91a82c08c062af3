"""The full-text search index, PostgreSQL only.

SQLite keeps the (unused) tsvector column and searches with LIKE instead, so on any other
database this migration does nothing.
"""

from django.db import migrations

CREATE = "CREATE INDEX IF NOT EXISTS listing_search_gin ON listings_listing USING gin (search_vector)"
DROP = "DROP INDEX IF EXISTS listing_search_gin"


def _on_postgres(sql):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(sql)

    return run


class Migration(migrations.Migration):
    dependencies = [("listings", "0001_initial")]

    operations = [
        migrations.RunPython(_on_postgres(CREATE), _on_postgres(DROP), elidable=False),
    ]
