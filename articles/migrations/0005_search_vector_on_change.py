"""The search vector is rebuilt only when what it is made of changes.

Migration 0003's trigger ran on every UPDATE that named title, summary, body or names, and
Django's `save()` names every column: saving an article to change its status, its dates or
its lead image re-parsed its whole body. Three triggers replace it: one on INSERT; one on
UPDATE guarded by a WHEN clause that compares the four columns, so the vector is rebuilt only
when one of them really changed; and, when none did, one that keeps the stored vector, since
`save()` also writes `search_vector` back with whatever value the Python object holds (NULL
for an article created in the same process). The vector belongs to the text: a write of it
alone is ignored. PostgreSQL only, like 0003.
"""

from django.db import migrations

INDEXED_COLUMNS = ("title", "dek", "body", "search_names")

CHANGED = " OR ".join(f"OLD.{name} IS DISTINCT FROM NEW.{name}" for name in INDEXED_COLUMNS)
UNCHANGED = " AND ".join(f"OLD.{name} IS NOT DISTINCT FROM NEW.{name}" for name in INDEXED_COLUMNS)

ON_CHANGE = f"""
DROP TRIGGER IF EXISTS articles_article_search_vector ON articles_article;

CREATE TRIGGER articles_article_search_vector_insert
    BEFORE INSERT ON articles_article
    FOR EACH ROW EXECUTE FUNCTION articles_article_search_vector_update();

CREATE TRIGGER articles_article_search_vector_change
    BEFORE UPDATE OF {", ".join(INDEXED_COLUMNS)} ON articles_article
    FOR EACH ROW WHEN ({CHANGED})
    EXECUTE FUNCTION articles_article_search_vector_update();

CREATE OR REPLACE FUNCTION articles_article_search_vector_keep() RETURNS trigger AS $$
BEGIN
    NEW.search_vector := OLD.search_vector;
    RETURN NEW;
END
$$ LANGUAGE plpgsql;

CREATE TRIGGER articles_article_search_vector_keep
    BEFORE UPDATE ON articles_article
    FOR EACH ROW WHEN (({UNCHANGED}) AND OLD.search_vector IS DISTINCT FROM NEW.search_vector)
    EXECUTE FUNCTION articles_article_search_vector_keep();
"""

ON_EVERY_WRITE = f"""
DROP TRIGGER IF EXISTS articles_article_search_vector_keep ON articles_article;
DROP FUNCTION IF EXISTS articles_article_search_vector_keep();
DROP TRIGGER IF EXISTS articles_article_search_vector_insert ON articles_article;
DROP TRIGGER IF EXISTS articles_article_search_vector_change ON articles_article;

CREATE TRIGGER articles_article_search_vector
    BEFORE INSERT OR UPDATE OF {", ".join(INDEXED_COLUMNS)} ON articles_article
    FOR EACH ROW EXECUTE FUNCTION articles_article_search_vector_update();
"""


def on_postgresql(sql):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(sql, params=None)

    return run


class Migration(migrations.Migration):
    dependencies = [
        ("articles", "0004_listing_order_index"),
    ]

    operations = [
        migrations.RunPython(on_postgresql(ON_CHANGE), on_postgresql(ON_EVERY_WRITE)),
    ]
