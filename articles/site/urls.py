from django.urls import path

from articles.site import views

app_name = "articles"

urlpatterns = [
    path("", views.HomeView.as_view(), name="home"),
    path("articles/<slug:slug>/", views.ArticleDetailView.as_view(), name="article"),
    path("preview/<int:pk>/", views.ArticlePreviewView.as_view(), name="preview"),
    path("regions/<slug:slug>/", views.RegionView.as_view(), name="region"),
    path("themes/<slug:slug>/", views.ThemeView.as_view(), name="theme"),
    path("reports/<slug:slug>/", views.ReportView.as_view(), name="report"),
    path("authors/<slug:slug>/", views.AuthorView.as_view(), name="author"),
    path("sources/<slug:slug>/", views.SourceView.as_view(), name="source"),
    path("tags/<str:slug>/", views.TagView.as_view(), name="tag"),
    path("archive/<int:year>/", views.ArchiveYearView.as_view(), name="archive_year"),
    path("archive/<int:year>/<int:month>/", views.ArchiveMonthView.as_view(), name="archive_month"),
]
