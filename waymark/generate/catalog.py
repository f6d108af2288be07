"""Static reference data for the synthetic shop: countries, names, products, campaigns.

Kept as plain tuples so the generator's hot loops only index into them. People's names live in
``names.py``.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Country:
    """A market the shop sells to: where people live and how they write their phone numbers."""

    code: str
    weight: float
    timezones: tuple[str, ...]
    locales: tuple[str, ...]
    currency: str
    email_domains: tuple[str, ...]
    ip_prefixes: tuple[int, ...]


COUNTRIES: tuple[Country, ...] = (
    Country(
        "US",
        0.40,
        ("America/New_York", "America/Chicago", "America/Denver", "America/Los_Angeles"),
        ("en-US", "en-US", "en-US", "es-US"),
        "USD",
        ("gmail.com", "yahoo.com", "outlook.com", "icloud.com", "hotmail.com", "aol.com"),
        (24, 50, 67, 73, 98, 174),
    ),
    Country(
        "CA",
        0.08,
        ("America/Toronto", "America/Vancouver", "America/Edmonton"),
        ("en-CA", "en-CA", "fr-CA"),
        "CAD",
        ("gmail.com", "outlook.com", "yahoo.ca", "hotmail.com", "icloud.com"),
        (24, 70, 99, 142),
    ),
    Country(
        "GB",
        0.15,
        ("Europe/London",),
        ("en-GB",),
        "GBP",
        ("gmail.com", "hotmail.co.uk", "outlook.com", "yahoo.co.uk", "btinternet.com"),
        (51, 81, 86, 90),
    ),
    Country(
        "DE",
        0.10,
        ("Europe/Berlin",),
        ("de-DE",),
        "EUR",
        ("gmail.com", "gmx.de", "web.de", "t-online.de", "outlook.de"),
        (46, 79, 84, 91),
    ),
    Country(
        "FR",
        0.08,
        ("Europe/Paris",),
        ("fr-FR",),
        "EUR",
        ("gmail.com", "orange.fr", "free.fr", "laposte.net", "hotmail.fr"),
        (37, 82, 88, 90),
    ),
    Country(
        "AU",
        0.07,
        ("Australia/Sydney", "Australia/Melbourne", "Australia/Brisbane", "Australia/Perth"),
        ("en-AU",),
        "AUD",
        ("gmail.com", "bigpond.com", "outlook.com", "icloud.com", "optusnet.com.au"),
        (1, 49, 101, 120),
    ),
    Country(
        "NL",
        0.05,
        ("Europe/Amsterdam",),
        ("nl-NL", "nl-NL", "en-NL"),
        "EUR",
        ("gmail.com", "ziggo.nl", "kpnmail.nl", "outlook.com", "hotmail.nl"),
        (77, 84, 145),
    ),
    Country(
        "ES",
        0.04,
        ("Europe/Madrid",),
        ("es-ES", "es-ES", "ca-ES"),
        "EUR",
        ("gmail.com", "hotmail.es", "yahoo.es", "telefonica.net", "outlook.es"),
        (80, 83, 88, 95),
    ),
    Country(
        "IE",
        0.03,
        ("Europe/Dublin",),
        ("en-IE",),
        "EUR",
        ("gmail.com", "eircom.net", "hotmail.com", "outlook.ie", "yahoo.ie"),
        (78, 86, 89),
    ),
)

COUNTRY_BY_CODE: dict[str, Country] = {c.code: c for c in COUNTRIES}

COMPANIES: tuple[str, ...] = tuple(
    [
        "acme-logistics",
        "brightpath",
        "northwind",
        "contoso",
        "globex",
        "initech",
        "umbrella-health",
        "stark-industries",
        "wayne-enterprises",
        "hooli",
        "piedmont-labs",
        "bluebird-analytics",
        "evergreen-foods",
        "harbor-freight-co",
        "lumen-energy",
        "redwood-capital",
        "summit-legal",
        "orbit-media",
        "pinecone-design",
        "riverbank-retail",
        "kestrel-systems",
        "marlow-partners",
        "quartz-consulting",
        "silverline-travel",
        "tidewater-bank",
        "vantage-health",
    ]
)

SALES_OWNERS: tuple[str, ...] = (
    "alex.morgan",
    "jordan.lee",
    "sam.patel",
    "casey.nguyen",
    "riley.obrien",
    "taylor.schmidt@shop-waymark.example",
)


@dataclass(frozen=True)
class Product:
    """A catalogue item; prices are in US cents and converted per currency."""

    product_id: str
    name: str
    category: str
    price_cents: int


_PRODUCT_SPECS = (
    (
        "apparel",
        "Merino Crew Sweater|Linen Shirt|Organic Tee|Rain Jacket|Chino Trousers|Wool Scarf",
    ),
    ("footwear", "Trail Runner|Canvas Sneaker|Leather Chelsea Boot|Recovery Slide|Hiking Boot"),
    ("accessories", "Canvas Tote|Leather Belt|Beanie|Sunglasses|Travel Wallet|Daypack 20L"),
    ("home", "Ceramic Mug Set|Linen Duvet Cover|Scented Candle|Throw Blanket|Pour-over Kettle"),
    ("beauty", "Daily Moisturiser|Mineral Sunscreen|Shampoo Bar|Lip Balm Trio|Body Wash"),
)
_BASE_PRICES = (2900, 4900, 8900, 12900, 1900, 6900, 3900, 15900, 2400, 5900)

PRODUCTS: tuple[Product, ...] = tuple(
    Product(
        product_id=f"SKU-{1000 + 10 * ci + pi}",
        name=name,
        category=category,
        price_cents=_BASE_PRICES[(ci * 3 + pi) % len(_BASE_PRICES)],
    )
    for ci, (category, names) in enumerate(_PRODUCT_SPECS)
    for pi, name in enumerate(names.split("|"))
)

# Local price = US price x factor, rounded to .99 by ``localised_price_cents``.
CURRENCY_FACTORS: dict[str, float] = {
    "USD": 1.0,
    "CAD": 1.35,
    "GBP": 0.8,
    "EUR": 0.92,
    "AUD": 1.5,
}

SEARCH_TERMS: tuple[str, ...] = (
    "sweater",
    "rain jacket",
    "boots",
    "gift",
    "linen",
    "sunscreen",
    "mug",
    "wallet",
    "sale",
    "trail runner",
)

PAGES: tuple[tuple[str, str], ...] = (
    ("Home", "/"),
    ("Category", "/c/apparel"),
    ("Category", "/c/footwear"),
    ("Category", "/c/home"),
    ("New Arrivals", "/new"),
    ("Sale", "/sale"),
    ("Help", "/help"),
    ("Account", "/account"),
)

SITE = "https://shop.waymark.example"
# utm_source of links in our own messages, by channel.
UTM_SOURCE: dict[str, str] = {"email": "newsletter", "sms": "sms_offer"}

USER_AGENTS: dict[str, tuple[str, ...]] = {
    "desktop": (
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/124.0 Safari/537.36",
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_4) AppleWebKit/605.1.15 (KHTML, like Gecko) "
        "Version/17.4 Safari/605.1.15",
        "Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0",
    ),
    "mobile": (
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, "
        "like Gecko) Version/17.4 Mobile/15E148 Safari/604.1",
        "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/124.0 Mobile Safari/537.36",
    ),
    "tablet": (
        "Mozilla/5.0 (iPad; CPU OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
        "Version/17.4 Mobile/15E148 Safari/604.1",
    ),
    "ios": ("Waymark Shop/5.2.0 (iPhone; iOS 17.4; Scale/3.00)",),
    "android": ("Waymark Shop/5.2.0 (Linux; Android 14; SM-S918B)",),
}
DEVICE_TYPES: tuple[str, ...] = ("desktop", "mobile", "tablet", "ios", "android")
DEVICE_WEIGHTS: tuple[float, ...] = (0.38, 0.37, 0.07, 0.11, 0.07)
APP_DEVICES: frozenset[str] = frozenset({"ios", "android"})

AD_CAMPAIGNS: tuple[tuple[str, str, str, str], ...] = (
    # platform, campaign_id, campaign_name, utm_medium
    ("google", "g-1001", "brand_search", "cpc"),
    ("google", "g-1002", "generic_outerwear", "cpc"),
    ("google", "g-1003", "shopping_feed", "cpc"),
    ("meta", "m-2001", "prospecting_lookalike", "paid_social"),
    ("meta", "m-2002", "retargeting_cart", "paid_social"),
    ("tiktok", "t-3001", "spring_creators", "paid_social"),
)

SURVEY_COMMENTS: dict[str, tuple[str, ...]] = {
    "promoter": ("Great quality, fast delivery", "Love it, will buy again", "Excellent service"),
    "passive": ("Fine, delivery was a bit slow", "OK product", ""),
    "detractor": ("Arrived late", "Item did not match the photos", "Hard to reach support"),
}

TICKET_REASONS: tuple[str, ...] = ("billing", "delivery", "returns", "product", "account", "other")
