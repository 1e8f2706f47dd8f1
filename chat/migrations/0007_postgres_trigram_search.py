"""On PostgreSQL: a trigram index for the admin's search of message text.

The admin's search (``search_fields`` ``"text"``) is ``UPPER(text) LIKE
UPPER('%term%')``, which no B-tree can serve; a GIN index with ``pg_trgm``'s
``gin_trgm_ops`` over the same expression can. SQLite has no such index and
gets nothing: the operations below do nothing on another database.
"""

from django.db import migrations

INDEX = "chat_item_text_trgm"


def create_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        # pg_trgm is a trusted extension (PostgreSQL 13+): the database's owner may create it.
        schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        schema_editor.execute(
            f'CREATE INDEX IF NOT EXISTS {INDEX} ON chat_item USING gin ((UPPER("text"::text)) gin_trgm_ops)'
        )


def drop_index(apps, schema_editor):
    # The extension stays: other tables may use it.
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP INDEX IF EXISTS {INDEX}")


class Migration(migrations.Migration):

    dependencies = [
        ("chat", "0006_shipped_widget_templates"),
    ]

    operations = [
        migrations.RunPython(create_index, drop_index, elidable=False),
    ]
