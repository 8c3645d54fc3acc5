"""How machines read the site: outbound feeds (RSS, Atom, JSON Feed), sitemaps and robots.txt."""
