"""Finding articles by their words: query syntax, backends and the search page."""
