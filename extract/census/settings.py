"""Constants of the Census ACS source (each can be overridden in `.dlt/config.toml` under
`[sources.census]` or by `SOURCES__CENSUS__<NAME>`)."""

SOURCE = "census"
# https://api.census.gov/data/<year>/acs/acs5 : the American Community Survey 5-year
# estimates, one dataset per vintage year.
API_URL = "https://api.census.gov/data"
DATASET = "acs/acs5"
# Vintages to land: by default every vintage of the dataset from FIRST_YEAR on that the
# API's dataset list (`catalog_url`, by default `<api_url>.json`: https://api.census.gov/
# data.json, one entry per dataset and vintage, `c_dataset` ["acs", "acs5"] and
# `c_vintage`) names, so a new vintage lands with no config edit. A configured `years`
# list is landed instead (a year the API does not publish yet is asked again next run).
# Each vintage lands once.
YEARS: tuple[int, ...] = ()
FIRST_YEAR = 2019
# NAME, total population, the population 18 and over and 65 and over (the denominators
# of PLACES' adult prevalences), median household income (inflation-adjusted dollars of
# the vintage), the poverty universe and the people below the poverty level in it.
VARIABLES = (
    "NAME",
    "B01003_001E",
    "B09021_001E",
    "B09021_022E",
    "B19013_001E",
    "B17001_001E",
    "B17001_002E",
)
# "county" (one request per year) and "tract" (one request per state per year: the API
# answers tracts only within a state).
GEOGRAPHIES = ("county", "tract")
# The 50 states, DC and Puerto Rico (FIPS state codes), asked for tracts.
STATES = (
    "01", "02", "04", "05", "06", "08", "09", "10", "11", "12", "13", "15", "16", "17",
    "18", "19", "20", "21", "22", "23", "24", "25", "26", "27", "28", "29", "30", "31",
    "32", "33", "34", "35", "36", "37", "38", "39", "40", "41", "42", "44", "45", "46",
    "47", "48", "49", "50", "51", "53", "54", "55", "56", "72",
)  # fmt: skip
# The FIPS code parts of each geography, in the order they make its GEOID.
GEOID_PARTS = {
    "state": ("state",),
    "county": ("state", "county"),
    "tract": ("state", "county", "tract"),
}
KEY_SIGNUP = "https://api.census.gov/data/key_signup.html"
