"""Constants of the USDA FoodData Central source (each can be overridden in
`.dlt/config.toml` under `[sources.fooddata]` or by `SOURCES__FOODDATA__<NAME>`)."""

SOURCE = "fooddata"
API_URL = "https://api.nal.usda.gov/fdc/v1"
# Where a key comes from (api.data.gov keys are free); the API refuses requests without one.
KEY_SIGNUP_URL = "https://fdc.nal.usda.gov/api-key-signup"
# What the API search follows: every food (`*`) of these data types, newest first.
SEARCH_QUERY = "*"
DATA_TYPES = "Foundation,SR Legacy,Survey (FNDDS),Branded"
PAGE_SIZE = 200  # the API's maximum
OVERLAP_DAYS = 1  # re-ask the last published day: foods published later that day are not missed
# A first API run with no earlier landing (API or bulk) asks for the foods published in
# the last INITIAL_DAYS days: the whole of FoodData Central comes from the downloads.
INITIAL_DAYS = 31
# A bulk download is committed every this many foods (the branded file holds ~2M).
BULK_FOODS_PER_WINDOW = 20_000
# A JSON file that is not a download (`{"BrandedFoods": [...]}`) is parsed whole when it is
# at most this big (a saved API answer); bigger ones are rejected.
WHOLE_DOCUMENT_BYTES = 64 << 20
