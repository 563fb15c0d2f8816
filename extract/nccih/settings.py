"""Constants of the NCCIH herbs source (each can be overridden in `.dlt/config.toml` under
`[sources.nccih]` or by `SOURCES__NCCIH__<NAME>`)."""

SOURCE = "nccih"
BASE_URL = "https://www.nccih.nih.gov"
# "Herbs at a Glance": the index page linking one fact sheet per herb (/health/<herb>).
INDEX_PATH = "/health/herbsataglance"
# Links of the index that are not herb fact sheets.
NOT_HERBS = ("herbsataglance", "atoz", "espanol", "tips", "providers", "health-topics-a-z")
# Section headings of a fact sheet, by what medmirror calls them. The current layout comes
# first; the earlier one ("What It Is Used For", "What the Science Says") is still read.
SECTIONS = {
    "uses": ("Background", "What It Is Used For", "What Is It Used For?"),
    "how_much_we_know": ("How Much Do We Know?",),
    "science": ("What Have We Learned?", "What the Science Says", "What Do We Know?"),
    "safety": (
        "What Do We Know About Safety?",
        "Side Effects and Cautions",
        "Safety",
    ),
    "keep_in_mind": ("Keep in Mind",),
}
