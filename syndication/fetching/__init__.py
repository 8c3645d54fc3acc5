"""The safe fetcher: every address vetted, redirects re-checked, sizes and times capped."""
