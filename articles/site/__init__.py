"""The public reader site: views, URLs, presentation helpers, page caching and redirects."""
