"""The dataset's distributions as data: one frozen dataclass per table, plus the calendar they share."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date


@dataclass(frozen=True)
class Calendar:
    """Order intensity per hour: yearly growth × weekday × hour of day × seasonal peaks × daily noise."""

    start: date = date(2023, 1, 1)
    end: date = date(2026, 1, 1)  # fixed, so a seed gives the same timestamps whenever it runs
    growth_per_year: float = 0.6  # the shop grows: today's day has ~4x the orders of 3 years ago
    weekday: tuple[float, ...] = (1.0, 0.97, 0.98, 1.0, 1.08, 1.22, 1.12)  # Monday … Sunday
    hourly: tuple[float, ...] = (
        0.25,
        0.15,
        0.1,
        0.08,
        0.08,
        0.12,
        0.3,
        0.55,
        0.8,
        0.95,
        1.0,
        1.05,
        1.1,
        1.05,
        1.0,
        1.0,
        1.05,
        1.1,
        1.25,
        1.4,
        1.5,
        1.35,
        0.95,
        0.55,
    )
    # (month, first day, last day, factor): Black Week, Christmas shopping, the holidays themselves
    peaks: tuple[tuple[int, int, int, float], ...] = ((11, 24, 30, 2.2), (12, 1, 20, 1.35), (12, 24, 26, 0.6))
    day_noise_sigma: float = 0.08  # day-to-day variation (weather, campaigns), log-normal


@dataclass(frozen=True)
class Country:
    code: str
    locale: str  # Faker locale for names, streets, cities, phones
    currency: str
    weight: float


@dataclass(frozen=True)
class CustomerParams:
    per_scale: int = 1_000_000
    signup_start: date = date(2021, 1, 1)  # two years of customers exist before the order history starts
    countries: tuple[Country, ...] = (
        Country("US", "en_US", "USD", 0.36),
        Country("GB", "en_GB", "GBP", 0.14),
        Country("DE", "de_DE", "EUR", 0.2),
        Country("FR", "fr_FR", "EUR", 0.13),
        Country("NL", "nl_NL", "EUR", 0.07),
        Country("ES", "es_ES", "EUR", 0.1),
    )
    # How much each customer buys is log-normal: together with tenure this gives the heavy tail of
    # orders per customer (a few buy a lot).
    propensity_sigma: float = 1.2
    phone_missing: float = 0.15
    domains: tuple[tuple[str, float], ...] = (
        ("gmail.com", 0.34),
        ("yahoo.com", 0.1),
        ("outlook.com", 0.12),
        ("hotmail.com", 0.08),
        ("icloud.com", 0.09),
        ("gmx.de", 0.07),
        ("web.de", 0.05),
        ("orange.fr", 0.05),
        ("proton.me", 0.03),
        ("example.org", 0.07),
    )


@dataclass(frozen=True)
class Category:
    name: str
    median_price: float
    nouns: tuple[str, ...]
    weight: float


@dataclass(frozen=True)
class ProductParams:
    per_scale: int = 100_000
    launch_start: date = date(2019, 1, 1)
    launch_end: date = date(2025, 12, 1)
    price_sigma: float = 0.6
    popularity_sigma: float = 1.6  # log-normal: bestsellers sell orders of magnitude more
    adjectives: tuple[str, ...] = (
        "Compact",
        "Classic",
        "Deluxe",
        "Eco",
        "Ergonomic",
        "Handmade",
        "Lightweight",
        "Modern",
        "Portable",
        "Premium",
        "Rustic",
        "Smart",
        "Sturdy",
        "Vintage",
        "Waterproof",
        "Wireless",
    )
    materials: tuple[str, ...] = (
        "Aluminium",
        "Bamboo",
        "Cotton",
        "Glass",
        "Leather",
        "Linen",
        "Oak",
        "Plastic",
        "Rubber",
        "Steel",
        "Walnut",
        "Wool",
    )
    categories: tuple[Category, ...] = (
        Category("electronics", 79.0, ("Headphones", "Speaker", "Charger", "Keyboard", "Lamp"), 0.18),
        Category("home", 35.0, ("Chair", "Table", "Shelf", "Vase", "Blanket", "Mug"), 0.22),
        Category("fashion", 45.0, ("Jacket", "Scarf", "Backpack", "Wallet", "Belt", "Sneakers"), 0.24),
        Category("sports", 55.0, ("Bottle", "Mat", "Racket", "Helmet", "Gloves"), 0.12),
        Category("toys", 25.0, ("Puzzle", "Robot", "Kite", "Blocks", "Doll"), 0.1),
        Category("garden", 40.0, ("Planter", "Hose", "Shovel", "Bench", "Lantern"), 0.14),
    )


@dataclass(frozen=True)
class OrderParams:
    per_scale: int = 10_000_000
    amount_median: float = 48.0  # log-normal order totals, in the order's currency
    amount_sigma: float = 0.85
    cancelled: float = 0.04  # cancelled within hours, never paid
    refunded: float = 0.03  # delivered, then refunded
    abandoned: float = 0.01  # pending forever: old pending orders exist in production
    pay_hours: float = 0.5  # mean delays (exponential) between the lifecycle steps
    ship_days: float = 1.5
    deliver_days: float = 3.0
    refund_days: float = 12.0
    cancel_hours: float = 6.0


@dataclass(frozen=True)
class ItemParams:
    extra_items_mean: float = 1.5  # items per order = 1 + Poisson(1.5), capped: mean ~2.5
    max_items: int = 12
    quantity_weights: tuple[float, ...] = (0.78, 0.14, 0.05, 0.02, 0.01)  # quantity 1, 2, 3, 4, 5


@dataclass(frozen=True)
class PaymentParams:
    methods: tuple[tuple[str, float], ...] = (
        ("card", 0.62),
        ("paypal", 0.2),
        ("bank_transfer", 0.1),
        ("apple_pay", 0.08),
    )
    retry: float = 0.04  # a failed attempt before the captured one


@dataclass(frozen=True)
class BillingParams:
    invoice: float = 0.5  # share of paid orders with an invoice event
    reminder: float = 0.03  # share of invoices followed by a reminder fee
    reminder_fee_cents: int = 500
    invoice_days: float = 1.0
    reminder_days: float = 14.0


@dataclass(frozen=True)
class Params:
    """Everything that shapes the data; part of what a generator version pins."""

    calendar: Calendar = field(default_factory=Calendar)
    customers: CustomerParams = field(default_factory=CustomerParams)
    products: ProductParams = field(default_factory=ProductParams)
    orders: OrderParams = field(default_factory=OrderParams)
    items: ItemParams = field(default_factory=ItemParams)
    payments: PaymentParams = field(default_factory=PaymentParams)
    billing: BillingParams = field(default_factory=BillingParams)


DEFAULT = Params()
