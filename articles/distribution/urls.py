"""How readers and machines find articles: search, feeds out, sitemaps and robots.txt."""

from django.urls import path

from articles.distribution import feeds, sitemaps
from articles.search.views import SearchView

app_name = "discovery"

urlpatterns = [
    path("search/", SearchView.as_view(), name="search"),
    path("feeds/rss/", feeds.LatestArticlesFeed(), name="feed_rss"),
    path("feeds/atom/", feeds.LatestArticlesAtomFeed(), name="feed_atom"),
    path("feeds/json/", feeds.json_feed, name="feed_json"),
    path("feeds/<str:kind>/<str:slug>/rss/", feeds.SubjectArticlesFeed(), name="subject_feed_rss"),
    path(
        "feeds/<str:kind>/<str:slug>/atom/",
        feeds.SubjectArticlesAtomFeed(),
        name="subject_feed_atom",
    ),
    path("sitemap.xml", sitemaps.sitemap_index, name="sitemap_index"),
    path("sitemap-news.xml", sitemaps.news_sitemap, name="news_sitemap"),
    path("sitemap-<slug:section>.xml", sitemaps.sitemap_section, name="sitemap_section"),
    path("robots.txt", sitemaps.RobotsTxtView.as_view(), name="robots_txt"),
]
