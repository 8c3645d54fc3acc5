"""What the API answers, as typed schemas: django-ninja builds the OpenAPI document from them
and checks every answer against them before it is sent."""

import datetime

from ninja import Field, Schema


class Error(Schema):
    detail: str = Field(description="What went wrong, for a person to read.")


class Gone(Schema):
    detail: str
    title: str = Field(description="The withdrawn article's title, as plain text.")
    withdrawn_at: datetime.datetime | None
    reason: str = Field(description="Why it was withdrawn; empty when no reason was given.")


class Subject(Schema):
    """A region, theme, report, author or tag an article is filed under."""

    name: str
    slug: str
    url: str = Field(description="Its page on this site.")


class Licence(Schema):
    """On what terms this site republishes a source's articles."""

    kind: str = Field(
        description="permission (written permission from the holder), cc-by, cc-by-sa, "
        "cc-by-nd or public-domain."
    )
    label: str = Field(description="The kind, in words.")
    licence_url: str | None = Field(description="The licence's deed; null for a permission.")
    copyright_holder: str
    attribution_wording: str = Field(description="Wording the holder asked for, or empty.")
    scope: str = Field(
        description="full (the whole article may be republished) or excerpt (only the "
        "summary and the first paragraph)."
    )


class Source(Schema):
    name: str
    slug: str
    homepage: str | None
    url: str = Field(description="The source's page on this site.")
    licence: Licence | None = Field(description="Null while the source has no rights record.")


class SourceDetail(Source):
    description: str


class LeadImage(Schema):
    src: str = Field(description="The largest rendition, absolute.")
    width: int | None
    height: int | None
    alt: str
    caption: str
    credit: str


class ArticleSummary(Schema):
    id: int
    slug: str
    url: str = Field(description="The article's page on this site.")
    api_url: str
    title: str = Field(description="Plain text, never markup.")
    kicker: str
    summary: str = Field(description="Plain text.")
    language: str
    published_at: datetime.datetime = Field(description="When it went live on this site.")
    updated_at: datetime.datetime = Field(
        description="When readers last saw it change (never before `published_at`)."
    )
    authors: list[Subject]
    regions: list[Subject]
    themes: list[Subject]
    reports: list[Subject]
    tags: list[Subject]
    lead_image: LeadImage | None
    video_url: str | None
    # Provenance: where the article comes from and on what terms it is republished.
    original_url: str | None = Field(description="The article where it first appeared.")
    original_title: str | None = Field(description="Its title there.")
    original_published_at: datetime.datetime | None = Field(description="Its date there.")
    source: Source
    attribution: str = Field(description="The attribution line the article page prints.")
    copyright: str = Field(description="The copyright line the article page prints.")
    excerpt_only: bool = Field(
        description="The source allows only an excerpt: `body` is then the first paragraph; "
        "read the rest at `original_url`."
    )


class Article(ArticleSummary):
    body: str = Field(
        description="HTML, sanitized to the site's allow-list; the first paragraph only when "
        "`excerpt_only` is true."
    )


class ArticlePage(Schema):
    items: list[ArticleSummary]
    next_cursor: str | None = Field(
        description="Pass as `cursor` for the next page; null at the end."
    )
    next: str | None = Field(description="The next page's full address; null at the end.")


class Author(Subject):
    link: str | None = Field(description="The author's own page elsewhere.")
    source: str | None = Field(description="The slug of the source the author writes for.")


class Region(Subject):
    parent: str | None = Field(description="The slug of the region it sits in.")


class Theme(Subject):
    description: str


class Report(Subject):
    description: str
    is_featured: bool


class SourcePage(Schema):
    items: list[SourceDetail]
    next_cursor: str | None
    next: str | None


class AuthorPage(Schema):
    items: list[Author]
    next_cursor: str | None
    next: str | None


class RegionPage(Schema):
    items: list[Region]
    next_cursor: str | None
    next: str | None


class ThemePage(Schema):
    items: list[Theme]
    next_cursor: str | None
    next: str | None


class ReportPage(Schema):
    items: list[Report]
    next_cursor: str | None
    next: str | None


class TagPage(Schema):
    items: list[Subject]
    next_cursor: str | None
    next: str | None


class ArticleFilters(Schema):
    """The article list's query parameters; subjects are named by slug."""

    region: str | None = Field(None, description="Includes the regions nested inside it.")
    theme: str | None = None
    report: str | None = None
    tag: str | None = None
    source: str | None = None
    author: str | None = None
    language: str | None = Field(None, description="A language code, e.g. en.")
    published_from: datetime.date | None = Field(
        None, description="Published on or after this day (site time zone)."
    )
    published_to: datetime.date | None = Field(
        None, description="Published on or before this day (site time zone)."
    )
    cursor: str | None = Field(None, description="From the previous page's `next_cursor`.")
    limit: int = Field(20, ge=1, le=100)


class SubjectFilters(Schema):
    cursor: str | None = None
    limit: int = Field(100, ge=1, le=500)
