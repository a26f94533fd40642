"""Customers and products: who buys (Faker pools by country) and what is sold (declared word lists)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from datagen import pools
from datagen._alias import AliasTable
from datagen._mix import pick
from datagen.dirt import dirty, duplicate_sources
from datagen.params import CustomerParams, ProductParams
from datagen.pools import TextPool, constant, digits
from datagen.timeline import flat_timeline, signups_timeline
from datagen.world import CUSTOMER_TRAITS, PRODUCT_TRAITS, World

# Salts of the per-id hashes: a customer's name and email follow from its id alone, so a duplicate
# email can be recomputed from the id of the customer it copies.
FIRST, LAST, DOMAIN = 11, 12, 13


@dataclass(frozen=True)
class CustomerTraits:
    """Whole-table arrays the orders need: each customer's country and cumulative buying propensity."""

    country: np.ndarray  # index into CustomerParams.countries
    propensity_cum: np.ndarray


@lru_cache(maxsize=4)
def customer_traits(seed: int, rows: int, p: CustomerParams) -> CustomerTraits:
    rng = np.random.default_rng([seed, CUSTOMER_TRAITS])
    country = weighted(rng.random(rows), [c.weight for c in p.countries])
    propensity = rng.lognormal(0.0, p.propensity_sigma, rows)
    return CustomerTraits(country.astype(np.int8), np.cumsum(propensity))


@lru_cache(maxsize=4)
def product_popularity(seed: int, rows: int, p: ProductParams) -> AliasTable:
    return AliasTable(np.random.default_rng([seed, PRODUCT_TRAITS]).lognormal(0.0, p.popularity_sigma, rows))


def weighted(u: np.ndarray, weights) -> np.ndarray:
    cum = np.cumsum(weights) / np.sum(weights)
    return np.minimum(np.searchsorted(cum, u, side="right"), len(cum) - 1)


def customers(rng: np.random.Generator, world: World, first_id: int, n: int) -> dict:
    p, rows = world.params.customers, world.n_customers
    ids = np.arange(first_id, first_id + n, dtype=np.int64)
    traits = customer_traits(world.seed, rows, p)
    people = pools.people(tuple(c.locale for c in p.countries))
    created = signups_timeline(world.params.calendar, p.signup_start, world.seed).stratified(rng, ids, rows)
    local = _by_country(traits.country[ids - 1], rng.integers(0, pools.POOL_SIZE, (3, n)))
    first, last = _name_index(ids, traits)
    codes = TextPool([c.code for c in p.countries])
    return {
        "customer_id": ids,
        "email": pools.Text(_email(_email_ids(ids, world), traits, people, p)),
        "full_name": pools.Text((people.first.part(first), constant(b" ", n), people.last.part(last))),
        "phone": people.phone.text(local[2], null=rng.random(n) < p.phone_missing),
        "street": people.street.text(local[0]),
        "city": people.city.text(local[1]),
        "country": codes.text(traits.country[ids - 1]),
        "created_at": created,
    }


def _by_country(country: np.ndarray, within: np.ndarray) -> np.ndarray:
    """Pool indices: pools hold POOL_SIZE values per locale, in the order of CustomerParams.countries."""
    return country.astype(np.int64) * pools.POOL_SIZE + within


def _name_index(ids: np.ndarray, traits: CustomerTraits) -> tuple[np.ndarray, np.ndarray]:
    country = traits.country[ids - 1]
    return (
        _by_country(country, pick(ids, FIRST, pools.POOL_SIZE)),
        _by_country(country, pick(ids, LAST, pools.POOL_SIZE)),
    )


def _email_ids(ids: np.ndarray, world: World) -> np.ndarray:
    """Whose email each customer has: its own, or, for a duplicate, a clean customer's."""
    rate, rows = world.dirt.duplicate_emails, world.n_customers
    source = ids.copy()
    dup = dirty(ids, "duplicate_emails", rate, rows)
    source[dup] = duplicate_sources(ids[dup], rate, rows)
    return source


def _email(ids: np.ndarray, traits: CustomerTraits, people: pools.People, p: CustomerParams) -> tuple:
    """first.last<id>@domain: the id makes it unique (names are letters only, so no two ids collide)."""
    first, last = _name_index(ids, traits)
    domains = TextPool([d for d, _ in p.domains])
    domain = weighted(pick(ids, DOMAIN, 2**40) / 2**40, [w for _, w in p.domains])
    n = len(ids)
    return (
        people.first_ascii.part(first),
        constant(b".", n),
        people.last_ascii.part(last),
        digits(ids),
        constant(b"@", n),
        domains.part(domain),
    )


def products(rng: np.random.Generator, world: World, first_id: int, n: int) -> dict:
    p, rows = world.params.products, world.n_products
    ids = np.arange(first_id, first_id + n, dtype=np.int64)
    category = weighted(rng.random(n), [c.weight for c in p.categories])
    nouns = TextPool([noun for c in p.categories for noun in c.nouns])
    per_category = np.array([len(c.nouns) for c in p.categories])
    noun = (np.cumsum(per_category) - per_category)[category] + rng.integers(0, 2**30, n) % per_category[category]
    adjectives, materials = TextPool(p.adjectives), TextPool(p.materials)
    name = (
        adjectives.part(rng.integers(0, len(adjectives), n)),
        constant(b" ", n),
        materials.part(rng.integers(0, len(materials), n)),
        constant(b" ", n),
        nouns.part(noun),
    )
    median = np.array([c.median_price for c in p.categories])[category]
    price = np.maximum(99, np.round(rng.lognormal(np.log(median * 100), p.price_sigma)).astype(np.int64))
    return {
        "product_id": ids,
        "sku": pools.Text((constant(b"SKU-", n), digits(ids, 8))),
        "name": pools.Text(name),
        "category": TextPool([c.name for c in p.categories]).text(category),
        "price": price,
        "created_at": flat_timeline(p.launch_start, p.launch_end).stratified(rng, ids, rows),
    }
