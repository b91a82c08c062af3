"""The catalog CSV's columns, shared by the export and the import."""

COLUMNS = [
    "listing",
    "title",
    "description",
    "category",
    "status",
    "hs_code",
    "customs_description",
    "origin_country",
    "material",
    "shipping_profile",
    "sku",
    "options",
    "price",
    "stock",
    "net_weight_kg",
]
LISTING_COLUMNS = [
    "title",
    "description",
    "category",
    "status",
    "hs_code",
    "customs_description",
    "origin_country",
    "material",
    "shipping_profile",
]
REQUIRED_COLUMNS = {"sku"}
# Spreadsheet programs run cells that start with these as formulas ("CSV injection").
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
