"""`Article.filed_under`: what pages print of an article's bylines, regions, themes, reports
and tags, and which of its block overrides, corrections and other outlets' credits it has, kept
on its row (articles/filing.py), filled in for the articles stored before it.

One query per relation for a thousand articles at a time; the order of each list is worked out
by `filing.snapshot`, as the app does when it refreshes an article.
"""

from django.db import migrations, models

BATCH_SIZE = 1000


def fill(apps, schema_editor):
    from articles.filing import FiledRow, snapshot

    db = schema_editor.connection.alias
    Article = apps.get_model("articles", "Article")
    Byline = apps.get_model("articles", "Byline")
    ContentType = apps.get_model("contenttypes", "ContentType")
    TaggedItem = apps.get_model("taggit", "TaggedItem")
    article_type = ContentType.objects.using(db).filter(app_label="articles", model="article")
    article_type_id = article_type.values_list("pk", flat=True).first()

    def relation(through, subject, name="name"):
        return through.objects.using(db).values_list(
            "article_id", f"{subject}_id", f"{subject}__{name}", f"{subject}__slug"
        )

    articles = Article.objects.using(db).order_by("pk").values_list("pk", flat=True)
    last_pk = 0
    while batch := list(articles.filter(pk__gt=last_pk)[:BATCH_SIZE]):
        rows = {pk: [] for pk in batch}
        bylines = Byline.objects.using(db).filter(article_id__in=batch)
        for article_id, position, pk, name, slug in bylines.values_list(
            "article_id", "position", "author_id", "author__name", "author__slug"
        ):
            rows[article_id].append(FiledRow("authors", position, pk, name, slug))
        for relation_name, subject, name in (
            ("regions", "region", "name"),
            ("themes", "theme", "name"),
            ("reports", "indepthreport", "title"),
        ):
            through = Article._meta.get_field(relation_name).remote_field.through
            for article_id, pk, subject_name, slug in relation(through, subject, name).filter(
                article_id__in=batch
            ):
                rows[article_id].append(FiledRow(relation_name, 0, pk, subject_name, slug))
        for relation_name, model_name in (
            ("block_overrides", "ArticleBlockOverride"),
            ("corrections", "Correction"),
            ("also_reported_by", "AlsoReportedBy"),
        ):
            model = apps.get_model("articles", model_name)
            for article_id, pk in (
                model.objects.using(db).filter(article_id__in=batch).values_list("article_id", "pk")
            ):
                rows[article_id].append(FiledRow(relation_name, 0, pk, "", ""))
        if article_type_id is not None:
            tagged = TaggedItem.objects.using(db).filter(
                content_type_id=article_type_id, object_id__in=batch
            )
            for article_id, order, pk, name, slug in tagged.values_list(
                "object_id", "pk", "tag_id", "tag__name", "tag__slug"
            ):
                rows[article_id].append(FiledRow("tags", order, pk, name, slug))
        Article.objects.using(db).bulk_update(
            [Article(pk=pk, filed_under=snapshot(filed)) for pk, filed in rows.items()],
            ["filed_under"],
        )
        last_pk = batch[-1]


class Migration(migrations.Migration):
    dependencies = [
        ("articles", "0011_similarity_keys_of_32_bands"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("taggit", "0006_rename_taggeditem_content_type_object_id_taggit_tagg_content_8fc721_idx"),
    ]

    operations = [
        migrations.AddField(
            model_name="article",
            name="filed_under",
            field=models.JSONField(blank=True, default=dict, editable=False),
        ),
        migrations.RunPython(fill, migrations.RunPython.noop, elidable=True),
    ]
