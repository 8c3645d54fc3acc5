"""Full-text search storage.

Both databases get `search_names` (kept by Python, see articles/search/engine.py) and a
`search_vector` column. Only PostgreSQL gets what makes the vector useful: a trigger that
rebuilds it from title (A), summary (B), body (C) and the names (D) whenever one of those
columns is written, and a GIN index on it. They are created by vendor-guarded operations and
are not part of any model's Meta, so `makemigrations --check` is clean on both databases.

The text search configuration ('english') must match `SEARCH_CONFIG` in articles/search/engine.py.
Bodies longer than 200,000 characters are indexed up to that length: a tsvector is capped at
1 MB and the first 200,000 characters of an article are more than enough to find it.
"""

import django.contrib.postgres.search
from django.db import migrations, models

CREATE_TRIGGER = """
CREATE OR REPLACE FUNCTION articles_article_search_vector_update() RETURNS trigger AS $$
BEGIN
    NEW.search_vector :=
        setweight(to_tsvector('english', coalesce(NEW.title, '')), 'A') ||
        setweight(to_tsvector('english', coalesce(NEW.dek, '')), 'B') ||
        setweight(to_tsvector('english', left(coalesce(NEW.body, ''), 200000)), 'C') ||
        setweight(to_tsvector('english', coalesce(NEW.search_names, '')), 'D');
    RETURN NEW;
END
$$ LANGUAGE plpgsql;

CREATE TRIGGER articles_article_search_vector
    BEFORE INSERT OR UPDATE OF title, dek, body, search_names ON articles_article
    FOR EACH ROW EXECUTE FUNCTION articles_article_search_vector_update();

CREATE INDEX articles_article_search_vector_gin ON articles_article USING gin (search_vector);

UPDATE articles_article SET title = title;
"""

DROP_TRIGGER = """
DROP INDEX IF EXISTS articles_article_search_vector_gin;
DROP TRIGGER IF EXISTS articles_article_search_vector ON articles_article;
DROP FUNCTION IF EXISTS articles_article_search_vector_update();
"""


def on_postgresql(sql):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(sql, params=None)

    return run


def fill_search_names(apps, schema_editor):
    """Names for articles that existed before search did (the trigger then indexes them)."""
    Article = apps.get_model("articles", "Article")
    Byline = apps.get_model("articles", "Byline")
    TaggedItem = apps.get_model("taggit", "TaggedItem")
    ContentType = apps.get_model("contenttypes", "ContentType")
    content_type = ContentType.objects.filter(app_label="articles", model="article").first()
    changed = []
    for article in Article.objects.select_related("source").only("pk", "source__name"):
        names = [article.source.name]
        names += Byline.objects.filter(article=article).values_list("author__name", flat=True)
        names += article.regions.values_list("name", flat=True)
        names += article.themes.values_list("name", flat=True)
        names += article.reports.values_list("title", flat=True)
        if content_type is not None:
            names += TaggedItem.objects.filter(
                content_type=content_type, object_id=article.pk
            ).values_list("tag__name", flat=True)
        article.search_names = " · ".join(names)
        changed.append(article)
    Article.objects.bulk_update(changed, ["search_names"], batch_size=500)


class Migration(migrations.Migration):
    dependencies = [
        ("articles", "0002_editorial_roles"),
        ("taggit", "0001_initial"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [
        migrations.AddField(
            model_name="article",
            name="search_names",
            field=models.TextField(
                blank=True,
                default="",
                editable=False,
                help_text="Names of the source, authors, regions, themes, reports and tags, for search.",
            ),
        ),
        migrations.AddField(
            model_name="article",
            name="search_vector",
            field=django.contrib.postgres.search.SearchVectorField(editable=False, null=True),
        ),
        migrations.RunPython(on_postgresql(CREATE_TRIGGER), on_postgresql(DROP_TRIGGER)),
        migrations.RunPython(fill_search_names, migrations.RunPython.noop),
    ]
