"""Demo content for `manage.py load_demo`: fictional outlets, people and stories written for
this project. Every name and every sentence here is invented."""

SITE_BLOCKS = {
    "note_to_readers": (
        "<p><strong>Note to readers:</strong> if this article was useful, pass it on. Use the "
        "share links on this page, send it to a mailing list you run, or quote it on your own "
        "site with a link back here and to the original.</p>"
    ),
    "disclaimer": (
        "<p><strong>Disclaimer:</strong> each article is the responsibility of its author(s) "
        "and of the outlet that first published it. The Syndicate Review republishes it with "
        "permission or under the licence named above and does not vouch for every statement "
        "in it. Other sites may republish our own articles if they name the source, keep the "
        "copyright line and link to the original.</p>"
    ),
    "fair_use": (
        "<p>Some pages quote material whose owners have not been asked individually. We use it "
        "under the fair-use and fair-dealing provisions of copyright law, for commentary, "
        "criticism and research, and take it down promptly when an owner objects. To use such "
        "material beyond fair use, ask the copyright owner.</p>"
    ),
    "media_inquiries": (
        '<p>For media inquiries: <a href="mailto:press@syndicate-review.example">'
        "press@syndicate-review.example</a></p>"
    ),
    "community_links": (
        '<ul><li><a href="https://forum.syndicate-review.example/">Discuss our articles in the '
        'reader forum</a></li><li><a href="https://syndicate-review.example/membership/">Become '
        "a member of The Syndicate Review</a></li></ul>"
    ),
}

REGIONS = [
    # (name, parent name)
    ("Africa", None),
    ("Sahel", "Africa"),
    ("Asia-Pacific", None),
    ("Europe", None),
    ("Latin America", None),
    ("Middle East & North Africa", None),
    ("North America", None),
]

THEMES = ["Energy", "Environment", "Economy", "Health", "Media Freedom", "Science", "Water"]

REPORTS = [
    # (title, featured, description)
    (
        "Rivers Under Strain",
        True,
        "How dams, droughts and floods are redrawing the map of who gets water.",
    ),
    (
        "The Energy Transition",
        True,
        "Grids, mines and money behind the move away from coal and gas.",
    ),
    ("Press Under Pressure", False, "Reporting on the people who report, and those who stop them."),
]

SOURCES = [
    {
        "slug": "delta-dispatch",
        "name": "Delta Dispatch",
        "homepage": "https://delta-dispatch.example/",
        "description": "An independent video newsroom covering rivers, ports and the people "
        "who live from them.",
        "canonical_policy": "original",
        "support_appeal": (
            "<p><strong>Support Delta Dispatch.</strong> We film where few crews go, and we "
            "do it without advertisers. If our reporting matters to you, a small monthly "
            'contribution keeps the boats running: <a href="https://delta-dispatch.example/'
            'support/">delta-dispatch.example/support</a>.</p>'
        ),
        "rights": {
            "basis": "permission",
            "copyright_holder": "Delta Dispatch",
            "attribution_wording": "Republished with the written permission of Delta Dispatch.",
            "evidence": "Email from the managing editor granting republication of all video "
            "reports, kept in the rights folder.",
            "granted_on": "2024-01-15",
        },
    },
    {
        "slug": "open-grid-journal",
        "name": "Open Grid Journal",
        "homepage": "https://opengrid.example/",
        "description": "A non-profit publication on energy systems, licensed under CC BY 4.0.",
        "canonical_policy": "original",
        "support_appeal": "",
        "rights": {
            "basis": "cc-by",
            "copyright_holder": "Open Grid Journal contributors",
            "attribution_wording": "Licensed under Creative Commons Attribution 4.0.",
            "evidence": "Licence statement in the footer of every article.",
            "evidence_url": "https://opengrid.example/licence/",
            "granted_on": "2023-06-01",
        },
    },
    {
        "slug": "coastal-ledger",
        "name": "The Coastal Ledger",
        "homepage": "https://coastal-ledger.example/",
        "description": "A regional daily; we run its environment desk's stories with permission.",
        "canonical_policy": "site",
        "noindex": False,
        "support_appeal": (
            "<p>The Coastal Ledger is reader-funded. "
            '<a href="https://coastal-ledger.example/subscribe/">Subscribe</a> to keep local '
            "reporting alive.</p>"
        ),
        "rights": {
            "basis": "permission",
            "copyright_holder": "Coastal Ledger Media Ltd",
            "attribution_wording": "",
            "evidence": "Syndication agreement signed 2 March 2025, two-year term.",
            "granted_on": "2025-03-02",
            "expires_on": "2027-03-01",
        },
    },
    {
        "slug": "free-press-monitor",
        "name": "Free Press Monitor",
        "homepage": "https://fpmonitor.example/",
        "description": "A watchdog that documents attacks on journalists; CC BY-ND.",
        "canonical_policy": "original",
        "noindex": True,
        "support_appeal": "",
        "rights": {
            "basis": "cc-by-nd",
            "copyright_holder": "Free Press Monitor",
            "attribution_wording": "Published unaltered under CC BY-ND 4.0.",
            "evidence": "Licence page on the monitor's website.",
            "evidence_url": "https://fpmonitor.example/licence/",
            "granted_on": "2022-09-01",
        },
    },
    # The two sample imports of `make demo` (demo/feeds, demo/wxr): their sources and rights are
    # recorded here, once, so running the demo again never rewrites what an editor changed.
    {
        "slug": "tidewater-notes",
        "name": "Tidewater Notes",
        "homepage": "https://tidewater-notes.example/",
        "description": "Short reports from estuaries, harbours and the people who work them.",
        "canonical_policy": "original",
        "support_appeal": "",
        "rights": {
            "basis": "permission",
            "copyright_holder": "Tidewater Notes",
            "attribution_wording": "",
            "evidence": "Demo: written permission on file.",
            "granted_on": "2025-05-03",
        },
    },
]

AUTHORS = [
    # (name, source slug, bio)
    ("Delta Dispatch", "delta-dispatch", "The newsroom's collective byline for video reports."),
    ("Amara Osei", "delta-dispatch", "Field producer based on the lower river."),
    ("Tomás Ferreira", "open-grid-journal", "Writes about power grids and storage."),
    ("Lin Yue", "open-grid-journal", "Energy economist and occasional contributor."),
    ("Hannah Kraus", "coastal-ledger", "Environment reporter at The Coastal Ledger."),
    ("Rafael Medina", "coastal-ledger", "Photographer and data reporter."),
    ("Nadia Haddad", "free-press-monitor", "Researcher who tracks cases against reporters."),
]

# The demo's pictures, drawn by `articles/demo_media/make_images.py` and loaded into the media
# library: file name (without .jpg) -> alt text, caption, credit. "river-delta" leads two
# articles; "river-fish" waits in the library for an editor to pick it.
DEMO_IMAGE_CREDIT = "Illustration: The Syndicate Review"
IMAGES = {
    "river-delta": (
        "A long barrage across a river at dusk, water pouring through its open gates.",
        "The lower delta's barrage at dusk, its gates open.",
    ),
    "battery-park": (
        "Rows of white battery containers under power lines, an old chimney behind them.",
        "A container battery park beside a former coal-fired station.",
    ),
    "dry-well": (
        "A stone well with an empty bucket in a sandy plain under a hot sun.",
        "A dry well on the seasonal route south.",
    ),
    "border-crossing": (
        "A border post: a fence, a guard booth and a lowered red and white barrier.",
        "The crossing where the two reporters were stopped.",
    ),
    "andes-solar": (
        "A village school with solar panels on its roof, mountains behind it.",
        "Panels on the roof of a village school.",
    ),
    "harbour": (
        "Two orange cranes on a quay and a red dredger in the harbour channel.",
        "The dredger at work in the old channel.",
    ),
    "heat-city": (
        "A purple city skyline under a huge pale sun, a hospital with a red cross on the right.",
        "A city hospital on the third day of the heatwave.",
    ),
    "radio-mast": (
        "A radio mast at night sending signal arcs, struck through by a red line.",
        "The station's mast, silent since the licence was revoked.",
    ),
    "river-fish": (
        "Orange and yellow fish swimming among river weeds.",
        "Fish returning to the restored stretch of river.",
    ),
    "typhoon-lines": (
        "Wooden power poles and sagging lines in driving rain under dark clouds.",
        "Repair crews work through the rain to restore the lines.",
    ),
    "desalination": (
        "A desalination plant on the shore, a pipe leading to rings of brine in the sea.",
        "The plant's outfall and the brine plume the study measured.",
    ),
    "coal-town": (
        "An old pithead wheel beside a new workshop and a wind turbine.",
        "The old pithead and the new training workshop.",
    ),
    "newsroom-screens": (
        "A wall of newsroom screens showing lines of red and green text, a warning sign "
        "in the middle.",
        "Screens in the newsroom on the morning of the attack.",
    ),
}

# The first article is shaped like the reference page: a "Video" kicker, one collective author,
# an original date a day before ours, two themes and two in-depth reports, a video file of the
# demo's own (served from this site's media storage), and the source's support appeal.
ARTICLES = [
    {
        "slug": "floodgates-open-on-the-lower-delta",
        "image": "river-delta",
        "kicker": "Video",
        "title": "Floodgates Open on the Lower Delta as Upstream Storms Swell the River",
        "dek": "Engineers released water from two barrages overnight; fishing villages "
        "downstream were given six hours' notice.",
        "source": "delta-dispatch",
        "authors": ["Delta Dispatch"],
        "original_url": "https://delta-dispatch.example/reports/floodgates-lower-delta",
        "original_days_ago": 2,
        "site_days_ago": 1,
        "regions": ["Middle East & North Africa"],
        "themes": ["Water", "Environment"],
        "reports": ["Rivers Under Strain", "The Energy Transition"],
        "tags": ["floods", "dams", "fisheries"],
        "video": "floodgates.mp4",
        "body": [
            "Shortly after midnight, the river authority opened the gates of the two lowest "
            "barrages on the delta, the third release in ten days. Gauges at the northern "
            "bridge had shown the water rising by almost a metre since the weekend.",
            "Residents of the fishing villages below the second barrage said sirens sounded "
            "six hours before the release. Most moved their boats to the higher channel; some "
            "families spent the night on the embankment road with what they could carry.",
            "The authority says the releases are the only way to protect the older upstream "
            "dam, whose spillway was damaged during last year's storms. Its engineers expect "
            "two more weeks of high water.",
            "Downstream, the salt marshes that shelter the shrimp nurseries are already "
            "flooded. Fishers' cooperatives want compensation for lost catches and a warning "
            "system that reaches the boats at sea, not only the villages.",
            "Delta Dispatch filmed the night of the release from the embankment and from a "
            "cooperative's boat; the full report is in the video above.",
        ],
    },
    {
        "slug": "battery-storage-doubles-on-the-northern-grid",
        "image": "battery-park",
        "title": "Battery Storage Doubles on the Northern Grid in a Single Year",
        "dek": "Cheaper cells and a new market for fast reserves changed the economics almost "
        "overnight.",
        "source": "open-grid-journal",
        "authors": ["Tomás Ferreira", "Lin Yue"],
        "original_url": "https://opengrid.example/2026/battery-storage-doubles",
        "original_days_ago": 5,
        "site_days_ago": 4,
        "regions": ["Europe"],
        "themes": ["Energy", "Economy"],
        "reports": ["The Energy Transition"],
        "tags": ["batteries", "grid", "markets"],
        "body": [
            "Grid operators connected more battery capacity in the past twelve months than in "
            "the five years before. Most of it sits beside old power stations, where the grid "
            "connection already exists.",
            "Operators point to two changes: the price of storage cells fell again, and the "
            "new market for fast frequency reserves pays batteries for reacting within a "
            "second.",
            "Critics warn that the reserve market is small and could saturate quickly, leaving "
            "late investors with idle assets.",
        ],
    },
    {
        "slug": "sahel-wells-run-dry-before-the-rains",
        "image": "dry-well",
        "title": "Wells Run Dry Across the Sahel Before the Rains Arrive",
        "dek": "Herders are moving south earlier than ever, and the towns on their route are "
        "struggling to cope.",
        "source": "coastal-ledger",
        "authors": ["Hannah Kraus"],
        "original_url": "https://coastal-ledger.example/environment/sahel-wells",
        "original_days_ago": 8,
        "site_days_ago": 7,
        "regions": ["Sahel"],
        "themes": ["Water", "Environment"],
        "reports": ["Rivers Under Strain"],
        "tags": ["drought", "pastoralism"],
        "body": [
            "Village committees along the seasonal routes report that shallow wells failed "
            "three to four weeks earlier than in an average year.",
            "Herders who would normally wait for the first rains are already on the move, "
            "and market towns are seeing animals arrive before fodder stocks are ready.",
        ],
    },
    {
        "slug": "reporters-detained-at-border-crossing",
        "image": "border-crossing",
        "title": "Two Reporters Detained for Nine Hours at a Border Crossing",
        "dek": "Their phones and cameras were copied before they were released without charge.",
        "source": "free-press-monitor",
        "authors": ["Nadia Haddad"],
        "original_url": "https://fpmonitor.example/cases/border-crossing-detention",
        "original_days_ago": 3,
        "site_days_ago": 3,
        "regions": ["Europe"],
        "themes": ["Media Freedom"],
        "reports": ["Press Under Pressure"],
        "tags": ["press freedom", "borders", "surveillance"],
        "body": [
            "The two freelance reporters were stopped on their way back from a reporting trip "
            "and questioned separately about their sources.",
            "Border officials copied the contents of their devices before releasing them. The "
            "monitor has asked the interior ministry on what legal basis the data was taken "
            "and whether it has been deleted.",
        ],
    },
    {
        "slug": "solar-cooperatives-in-the-andes",
        "image": "andes-solar",
        "title": "Village Solar Cooperatives Spread Through the Andes",
        "dek": "Small grids owned by their users are reaching places the national network "
        "never did.",
        "source": "open-grid-journal",
        "authors": ["Lin Yue"],
        "original_url": "https://opengrid.example/2026/andes-solar-cooperatives",
        "original_days_ago": 12,
        "site_days_ago": 11,
        "regions": ["Latin America"],
        "themes": ["Energy"],
        "reports": ["The Energy Transition"],
        "tags": ["solar", "cooperatives", "mini-grids"],
        "body": [
            "More than forty highland villages now run their own solar mini-grids, most of "
            "them set up by cooperatives that collect a monthly fee from every household.",
            "The model works where the villages agree on who maintains the batteries; where "
            "they do not, systems fail within two years.",
        ],
    },
    {
        "slug": "harbour-dredging-reopens-the-old-channel",
        "image": "harbour",
        "title": "Harbour Dredging Reopens the Old Channel, and an Old Argument",
        "dek": "The port wants deeper water; the oyster beds downstream want it left alone.",
        "source": "coastal-ledger",
        "authors": ["Hannah Kraus", "Rafael Medina"],
        "original_url": "https://coastal-ledger.example/environment/harbour-dredging",
        "original_days_ago": 15,
        "site_days_ago": 14,
        "regions": ["North America"],
        "themes": ["Environment", "Economy"],
        "reports": [],
        "tags": ["ports", "oysters"],
        "body": [
            "Dredgers began work on the old northern channel this week, the first step of a "
            "plan to let larger container ships reach the inner harbour.",
            "Oyster farmers say the silt plumes from the last dredging campaign took three "
            "seasons to clear.",
        ],
    },
    {
        "slug": "heatwave-hospitals-adapt",
        "image": "heat-city",
        "title": "Hospitals Rewrite Their Heatwave Plans After a Record Summer",
        "dek": "Cooling rooms, earlier shifts and text alerts for patients living alone.",
        "source": "coastal-ledger",
        "authors": ["Rafael Medina"],
        "original_url": "https://coastal-ledger.example/health/heatwave-hospitals",
        "original_days_ago": 20,
        "site_days_ago": 19,
        "regions": ["Europe"],
        "themes": ["Health", "Environment"],
        "reports": [],
        "tags": ["heat", "hospitals"],
        "body": [
            "Regional hospitals have agreed a common plan for the next heatwave, after "
            "admissions for heat stroke tripled during the summer.",
            "The plan opens cooled waiting rooms, moves outpatient clinics to the morning and "
            "sends text alerts to older patients who live alone.",
        ],
    },
    {
        "slug": "community-radio-licence-revoked",
        "image": "radio-mast",
        "title": "A Community Radio Station Loses Its Licence Over a Phone-In Show",
        "dek": "The regulator says the station broke impartiality rules; listeners say it gave "
        "them a voice.",
        "source": "free-press-monitor",
        "authors": ["Nadia Haddad"],
        "original_url": "https://fpmonitor.example/cases/community-radio-licence",
        "original_days_ago": 25,
        "site_days_ago": 24,
        "regions": ["Africa"],
        "themes": ["Media Freedom"],
        "reports": ["Press Under Pressure"],
        "tags": ["radio", "regulation"],
        "body": [
            "The broadcasting regulator revoked the licence of a community station after a "
            "phone-in programme about land disputes.",
            "The station has thirty days to appeal and plans to keep broadcasting online in "
            "the meantime.",
        ],
    },
    {
        "slug": "river-fish-counts-recover",
        "image": "river-delta",
        "title": "Fish Counts Recover Upstream of a Removed Weir",
        "dek": "Three years after the weir came out, migratory species are back in numbers.",
        "source": "delta-dispatch",
        "authors": ["Amara Osei"],
        "original_url": "https://delta-dispatch.example/reports/fish-counts-weir",
        "original_days_ago": 30,
        "site_days_ago": 29,
        "regions": ["Europe"],
        "themes": ["Environment", "Science", "Water"],
        "reports": ["Rivers Under Strain"],
        "tags": ["rivers", "biodiversity"],
        "body": [
            "Volunteers counting fish at the old mill site recorded the highest numbers of "
            "migratory species since counts began.",
            "Ecologists caution that one good year is not a trend, but the upstream spawning "
            "grounds are in use again for the first time in decades.",
        ],
    },
    {
        "slug": "typhoon-season-power-restoration",
        "image": "typhoon-lines",
        "title": "How Island Grids Got the Lights Back On After the Typhoon",
        "dek": "Pre-positioned crews and buried lines cut outage times by half.",
        "source": "open-grid-journal",
        "authors": ["Tomás Ferreira"],
        "original_url": "https://opengrid.example/2026/typhoon-power-restoration",
        "original_days_ago": 35,
        "site_days_ago": 34,
        "regions": ["Asia-Pacific"],
        "themes": ["Energy"],
        "reports": [],
        "tags": ["typhoons", "resilience", "grid"],
        "body": [
            "Utilities on the smaller islands restored power twice as fast as after the last "
            "comparable storm.",
            "The difference, engineers say, was crews stationed on the islands before landfall "
            "and a decade of moving feeder lines underground.",
        ],
    },
    {
        "slug": "desalination-plant-brine-study",
        "image": "desalination",
        "title": "What a Desalination Plant's Brine Does to the Seabed",
        "dek": "A two-year study finds damage near the outfall and little beyond a kilometre.",
        "source": "delta-dispatch",
        "authors": ["Amara Osei", "Delta Dispatch"],
        "original_url": "https://delta-dispatch.example/reports/desalination-brine",
        "original_days_ago": 40,
        "site_days_ago": 39,
        "regions": ["Middle East & North Africa"],
        "themes": ["Water", "Science"],
        "reports": ["Rivers Under Strain"],
        "tags": ["desalination", "oceans"],
        "body": [
            "Divers surveyed the seabed around the plant's outfall every quarter for two years.",
            "Seagrass disappeared within a few hundred metres of the pipe, but the survey "
            "found no measurable change beyond a kilometre.",
        ],
    },
    {
        "slug": "coal-town-retraining-programme",
        "image": "coal-town",
        "title": "A Coal Town Bets on Retraining Before the Last Mine Closes",
        "dek": "Half of the miners have signed up; the other half are waiting to see who gets "
        "hired.",
        "source": "open-grid-journal",
        "authors": ["Lin Yue", "Tomás Ferreira"],
        "original_url": "https://opengrid.example/2026/coal-town-retraining",
        "original_days_ago": 45,
        "site_days_ago": 44,
        "regions": ["North America"],
        "themes": ["Energy", "Economy"],
        "reports": ["The Energy Transition"],
        "tags": ["coal", "jobs"],
        "body": [
            "The last underground mine in the valley will close in eighteen months.",
            "A retraining programme run by the community college has enrolled about half of "
            "the remaining miners in courses for turbine maintenance and electrical work.",
        ],
    },
    {
        "slug": "newsroom-cyberattack-recovery",
        "image": "newsroom-screens",
        "title": "A Newsroom Rebuilds After a Cyberattack Wiped Its Archive",
        "dek": "Readers sent back printed copies and old downloads to help restore it.",
        "source": "free-press-monitor",
        "authors": ["Nadia Haddad"],
        "original_url": "https://fpmonitor.example/cases/newsroom-cyberattack",
        "original_days_ago": 50,
        "site_days_ago": 49,
        "regions": ["Latin America"],
        "themes": ["Media Freedom"],
        "reports": ["Press Under Pressure"],
        "tags": ["cybersecurity", "archives"],
        "body": [
            "The attack encrypted the newsroom's servers and deleted its backups.",
            "Within a month, readers had sent in enough saved pages and printed copies to "
            "restore most of the last ten years of reporting.",
        ],
    },
]

DEMO_USERS = [
    # (username, password, group, superuser)
    ("editor", "demo-editor-pass", "Editors", False),
    ("importer", "demo-importer-pass", "Importers", False),
    ("admin", "demo-admin-pass", None, True),
]
