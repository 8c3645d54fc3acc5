from django.views.generic import TemplateView


class _Placeholder(TemplateView):
    template_name = "base.html"


HomeView = ArticleDetailView = RegionView = ThemeView = ReportView = AuthorView = SourceView = (
    TagView
) = _Placeholder
