"""Admin forms: who may choose which status, rich text limited to what the sanitizer keeps."""

from django import forms
from django.contrib.admin.widgets import AutocompleteSelectMultiple
from django.utils import timezone
from django_prose_editor.fields import ProseEditorFormField
from taggit.models import Tag
from taggit.utils import parse_tags

from articles.images import clean_image
from articles.models import (
    Article,
    ArticleBlockOverride,
    ArticleStatus,
    CorrectionKind,
    Image,
    ImageLicence,
    InDepthReport,
    Redirect,
    Region,
    SiteBlock,
    Source,
    Theme,
)
from articles.sanitize import clean_html, is_http_url
from articles.typography import differs_beyond_typography
from articles.validators import validate_uploaded_image

PUBLISH_PERMISSION = "articles.publish_article"
# taggit's Tag.name is 100 characters.
MAX_TAG_LENGTH = 100

# The editor offers only markup that articles.sanitize keeps, so what an editor sees while
# typing is what readers get. Images, figures and tables are there so that imported bodies
# carrying them survive being opened and saved; the toolbar itself stays small.
RICH_TEXT_EXTENSIONS = {
    "Paragraph": True,
    "HardBreak": True,
    "Heading": {"levels": [2, 3, 4]},
    "Bold": True,
    "Italic": True,
    "Link": {"enableTarget": False, "protocols": ["http", "https", "mailto"]},
    "BulletList": True,
    "OrderedList": True,
    "ListItem": True,
    "Blockquote": True,
    "Image": True,
    "Figure": True,
    "Caption": True,
    "Table": True,
    "TableRow": True,
    "TableHeader": True,
    "TableCell": True,
    "History": True,
}

# Short site-wide and per-source texts need even less.
SHORT_TEXT_EXTENSIONS = {
    "Paragraph": True,
    "HardBreak": True,
    "Bold": True,
    "Italic": True,
    "Link": {"enableTarget": False, "protocols": ["http", "https", "mailto"]},
    "BulletList": True,
    "ListItem": True,
    "History": True,
}


def rich_text_field(*, extensions=RICH_TEXT_EXTENSIONS, **kwargs) -> ProseEditorFormField:
    """A prose editor for an HTML field; the model sanitizes again with nh3 when it saves."""
    kwargs.setdefault("required", False)
    return ProseEditorFormField(extensions=dict(extensions), **kwargs)


EDITORIAL_STATUSES = (ArticleStatus.PUBLISHED, ArticleStatus.WITHDRAWN)


class ArticleAdminForm(forms.ModelForm):
    """The article form of the admin.

    `can_publish` is set per request by `ArticleAdmin.get_form`: without the publish
    permission the status menu offers only Draft and In review, and a hand-made POST asking
    for anything else is refused here. Whether the source's rights allow publishing is
    checked by `Article.clean()`, which every model form runs, so the rule lives in one place.
    """

    can_publish = False

    body = rich_text_field(help_text="Formatting is limited to what the public page keeps.")
    correction_note = forms.CharField(
        label="Note for readers",
        required=False,
        max_length=300,
        help_text="Required when the title, summary or text of a live article changes "
        "(typographic fixes aside): one line, printed with today's date under “Corrections "
        "and updates” on the article page, e.g. “Corrected the name of the mayor.”",
    )
    correction_kind = forms.ChoiceField(
        label="Kind of note",
        choices=CorrectionKind.choices,
        initial=CorrectionKind.UPDATE,
        required=False,
        help_text="A correction fixes a mistake; an update adds or changes information.",
    )
    new_lead_image = forms.FileField(
        label="or upload a new lead image",
        required=False,
        validators=[validate_uploaded_image],
        help_text="Added to the media library and used as this article's lead image.",
    )
    new_lead_image_alt = forms.CharField(
        label="its alt text",
        max_length=300,
        required=False,
        help_text="What the picture shows; required before the article is published.",
    )
    new_lead_image_caption = forms.CharField(label="its caption", max_length=500, required=False)
    new_lead_image_credit = forms.CharField(label="its credit", max_length=200, required=False)
    new_lead_image_licence = forms.ChoiceField(
        label="its licence", choices=[("", "---------"), *ImageLicence.choices], required=False
    )

    class Meta:
        model = Article
        fields = [
            "kicker", "title", "slug", "dek", "body",
            "source", "original_url", "original_title", "original_published_at",
            "status", "published_at",
            "regions", "themes", "reports", "tags", "language",
            "lead_image", "video_url",
            "withdrawal_reason",
        ]  # fmt: skip
        help_texts = {
            "status": "To schedule an article, choose Published and a site publication date "
            "in the future: it goes live then by itself. Left empty, the date is set to now. "
            "Publishing is refused while the "
            "source's rights record is missing or expired.",
            "slug": "Leave empty to generate it from the title. Changing it later leaves a "
            "redirect from the old address.",
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        status = self.fields.get("status")
        if status is not None and not self.can_publish:
            # Only the menu shrinks: the field still knows every status, so clean_status can
            # say in words why a forged "published" is refused.
            status.widget.choices = [
                choice for choice in status.choices if choice[0] not in EDITORIAL_STATUSES
            ]

    def clean_status(self):
        status = self.cleaned_data["status"]
        unchanged = self.instance.pk and status == self.instance.status
        if status in EDITORIAL_STATUSES and not self.can_publish and not unchanged:
            raise forms.ValidationError(
                "Only editors can publish or withdraw articles; send it to review instead.",
                code="publish_permission",
            )
        return status

    def clean(self):
        cleaned = super().clean()
        publishing_now = (
            cleaned.get("status") == ArticleStatus.PUBLISHED
            and "published_at" in self.fields
            and not cleaned.get("published_at")
        )
        if publishing_now:
            # Published with no date means "now"; the database refuses a published row
            # without one, and the form checks that constraint before the model could fill it.
            cleaned["published_at"] = timezone.now()
        if self.changes_live_text(cleaned) and not cleaned.get("correction_note"):
            self.add_error(
                "correction_note",
                forms.ValidationError(
                    "This article is live and its words change: say in one line what changed, "
                    "for the corrections and updates log readers see.",
                    code="correction_note_required",
                ),
            )
        if cleaned.get("new_lead_image"):
            # The upload replaces whatever was picked; the model's publishing rules then see no
            # lead image yet, so its alt text is checked here.
            cleaned["lead_image"] = None
            if (
                cleaned.get("status") == ArticleStatus.PUBLISHED
                and not (cleaned.get("new_lead_image_alt") or "").strip()
            ):
                self.add_error(
                    "new_lead_image_alt",
                    "Describe the new lead image before publishing: alt text is required.",
                )
        return cleaned

    def changes_live_text(self, cleaned) -> bool:
        """Whether this edit changes the title, summary or text readers see of a live article
        beyond typography. The instance still holds the stored values here: the model form
        copies the form's onto it after `clean()`."""
        article = self.instance
        if article.pk is None or not article.is_live:
            return False
        return any(
            field in cleaned and differs_beyond_typography(old, new)
            for field, old, new in (
                ("title", article.title, cleaned.get("title")),
                ("dek", article.dek, cleaned.get("dek")),
                ("body", article.body, clean_html(cleaned.get("body"))),
            )
        )

    def log_correction(self, article: Article, user) -> None:
        """Save the note given with this edit in the article's corrections and updates log
        (only a live article has one readers can see)."""
        note = self.cleaned_data.get("correction_note")
        if note and article.is_live:
            kind = self.cleaned_data.get("correction_kind") or CorrectionKind.UPDATE
            article.log_change(note, kind=kind, by=user)

    def uploaded_lead_image(self, uploaded_by=None) -> Image | None:
        """The library entry of the lead image uploaded with this form, or None: the picture
        already in the library when it was uploaded before."""
        upload = self.cleaned_data.get("new_lead_image")
        if not upload:
            return None
        upload.seek(0)
        return Image.objects.for_clean_image(
            clean_image(upload.read()),
            folder="images",
            alt=self.cleaned_data.get("new_lead_image_alt", ""),
            caption=self.cleaned_data.get("new_lead_image_caption", ""),
            credit=self.cleaned_data.get("new_lead_image_credit", ""),
            licence=self.cleaned_data.get("new_lead_image_licence", ""),
            source=self.cleaned_data.get("source"),
            uploaded_by=uploaded_by,
        )


class ImageAdminForm(forms.ModelForm):
    """The media library's form: an upload is decoded before anything is saved, and a picture
    already in the library is pointed at rather than stored twice."""

    class Meta:
        model = Image
        fields = ["file", "alt", "caption", "credit", "licence", "source", "original_url"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "file" in self.fields:
            self.fields["file"].validators.append(validate_uploaded_image)

    def clean_file(self):
        upload = self.cleaned_data.get("file")
        if not upload or upload == self.initial.get("file"):
            return upload
        upload.seek(0)
        digest = clean_image(upload.read()).digest
        upload.seek(0)
        twin = Image.objects.filter(content_hash=digest).exclude(pk=self.instance.pk).first()
        if twin is not None:
            raise forms.ValidationError(
                f"This picture is already in the library as image {twin.pk} (“{twin}”): "
                "use that one.",
                code="duplicate_image",
            )
        return upload

    def clean_original_url(self):
        url = self.cleaned_data.get("original_url", "")
        if url and not is_http_url(url):
            raise forms.ValidationError("Only http and https links are allowed.")
        return url


class ArticleBlockOverrideForm(forms.ModelForm):
    content = rich_text_field(extensions=SHORT_TEXT_EXTENSIONS)

    class Meta:
        model = ArticleBlockOverride
        fields = ["key", "hide", "content"]


class SiteBlockForm(forms.ModelForm):
    content = rich_text_field(extensions=SHORT_TEXT_EXTENSIONS)

    class Meta:
        model = SiteBlock
        fields = ["key", "content"]


class SourceAdminForm(forms.ModelForm):
    support_appeal = rich_text_field(
        extensions=SHORT_TEXT_EXTENSIONS,
        help_text="The source's own appeal for support, shown under its articles when set.",
    )

    class Meta:
        model = Source
        fields = [
            "name", "slug", "homepage", "logo", "description", "is_active",
            "canonical_policy", "noindex", "support_appeal", "default_author",
            "on_rights_end", "on_original_gone",
        ]  # fmt: skip

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "logo" in self.fields:
            self.fields["logo"].validators.append(validate_uploaded_image)


class RedirectAdminForm(forms.ModelForm):
    class Meta:
        model = Redirect
        fields = ["old_path", "article", "target_url"]
        help_texts = {
            "old_path": "A path on this site, starting with a slash, e.g. /2019/05/old-post/.",
            "target_url": "Used when no article is chosen: a path on this site or an "
            "http(s) address.",
        }

    def clean_old_path(self):
        old_path = self.cleaned_data["old_path"].strip()
        if not old_path.startswith("/") or old_path.startswith("//"):
            raise forms.ValidationError("Give a path on this site, starting with one slash.")
        return old_path

    def clean_target_url(self):
        target = self.cleaned_data["target_url"].strip()
        if not target:
            return target
        local_path = target.startswith("/") and not target.startswith(("//", "/\\"))
        if not (local_path or is_http_url(target)):
            raise forms.ValidationError("Give a path starting with / or an http(s) address.")
        return target

    def clean(self):
        cleaned = super().clean()
        if not cleaned.get("article") and not cleaned.get("target_url") and not self.errors:
            raise forms.ValidationError("Choose an article or give a target address.")
        return cleaned


class BulkMetadataForm(forms.Form):
    """A metadata file to preview; the preview's confirmation sends its text back."""

    file = forms.FileField(required=False, help_text="A .csv or .json file, at most 2 MB.")
    content = forms.CharField(required=False, widget=forms.HiddenInput, strip=False)
    name = forms.CharField(required=False, widget=forms.HiddenInput, max_length=200)
    confirm = forms.BooleanField(required=False, widget=forms.HiddenInput)

    def clean(self):
        from articles.editorial.bulk import MAX_ADMIN_BYTES

        data = super().clean()
        upload = data.get("file")
        if upload is not None:
            if upload.size > MAX_ADMIN_BYTES:
                raise forms.ValidationError(
                    f"The file is larger than {MAX_ADMIN_BYTES:,} bytes: use "
                    "`manage.py import_metadata` for larger files."
                )
            data["data"], data["name"] = upload.read(), upload.name
        elif data.get("content"):
            data["data"] = data["content"].encode("utf-8")
        else:
            raise forms.ValidationError("Choose a file.")
        return data


# --- Classifying: one article on the review screen, or a selection in bulk ----------------------

TAXONOMY_FIELDS = ("regions", "themes", "reports")


def use_autocomplete(form: forms.BaseForm, admin_site) -> None:
    """Give the form's regions, themes, reports and tags the admin's autocomplete widget."""
    for name in (*TAXONOMY_FIELDS, "tags"):
        field = form.fields[name]
        field.widget = AutocompleteSelectMultiple(Article._meta.get_field(name), admin_site)
        field.widget.choices = field.choices


class TagChoices(forms.Form):
    """Tags chosen among existing ones with autocomplete, plus new ones typed in."""

    tags = forms.ModelMultipleChoiceField(queryset=Tag.objects.all(), required=False)
    new_tags = forms.CharField(
        required=False,
        max_length=1000,
        help_text="Tags that do not exist yet, separated by commas.",
    )

    def clean_new_tags(self):
        names = parse_tags(self.cleaned_data["new_tags"])
        too_long = [name for name in names if len(name) > MAX_TAG_LENGTH]
        if too_long:
            raise forms.ValidationError(
                f"A tag is at most {MAX_TAG_LENGTH} characters: “{too_long[0][:40]}…”."
            )
        return names

    def tag_names(self) -> list[str]:
        names: list[str] = [tag.name for tag in self.cleaned_data.get("tags") or []]
        for name in self.cleaned_data.get("new_tags") or []:
            if name.casefold() not in {known.casefold() for known in names}:
                names.append(name)
        return names


class ClassificationForm(TagChoices, forms.ModelForm):
    """An article's regions, themes, reports and tags, as the review screen sets them."""

    class Meta:
        model = Article
        fields = list(TAXONOMY_FIELDS)

    def __init__(self, *args, admin_site, **kwargs):
        super().__init__(*args, **kwargs)
        use_autocomplete(self, admin_site)
        if self.instance.pk and not self.is_bound:
            self.initial["tags"] = [tag.pk for tag in self.instance.tags.all()]

    def save(self, commit=True):
        article = super().save(commit=commit)
        article.tags.set(self.tag_names())
        return article


class BulkClassificationForm(TagChoices):
    """What to add to every selected article; what they already have stays."""

    regions = forms.ModelMultipleChoiceField(queryset=Region.objects.all(), required=False)
    themes = forms.ModelMultipleChoiceField(queryset=Theme.objects.all(), required=False)
    reports = forms.ModelMultipleChoiceField(queryset=InDepthReport.objects.all(), required=False)
    field_order = [*TAXONOMY_FIELDS, "tags", "new_tags"]

    def __init__(self, *args, admin_site, **kwargs):
        super().__init__(*args, **kwargs)
        use_autocomplete(self, admin_site)

    def clean(self):
        cleaned = super().clean()
        if not self.errors and not any(cleaned.get(name) for name in self.fields):
            raise forms.ValidationError("Choose at least one region, theme, report or tag.")
        return cleaned
