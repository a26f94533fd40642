"""What common extensions add to a schema, as data: the types (with a stand-in of the same width), the
functions and operator classes that a schema can name. `--stand-in-missing` reads it.

A stand-in keeps the column's storage: a varlena text-like type becomes `text`, a binary one `bytea`, so
heap and TOAST sizes stay those of production. Functions and operator classes have no stand-in:
the objects that use them are dropped, and listed. Operators are not
listed: most of their names (`%`, `@>`, `<->`) are also core operators. Names are lower-case, without schema.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Extension:
    types: tuple[tuple[str, str], ...] = ()  # (type, stand-in)
    functions: frozenset[str] = frozenset()
    opclasses: frozenset[str] = frozenset()
    scalar_index_methods: tuple[str, ...] = ()  # btree_gin/btree_gist: gin/gist over plain scalar columns

    def stand_in(self, type_name: str) -> str | None:
        return dict(self.types).get(type_name)


def _f(*names: str) -> frozenset[str]:
    return frozenset(names)


EXTENSIONS: dict[str, Extension] = {
    "citext": Extension(types=(("citext", "text"),), opclasses=_f("citext_ops", "citext_pattern_ops")),
    "hstore": Extension(
        types=(("hstore", "text"),),
        functions=_f("hstore", "akeys", "avals", "skeys", "svals", "hstore_to_json", "hstore_to_jsonb", "each"),
        opclasses=_f("gin_hstore_ops", "gist_hstore_ops", "btree_hstore_ops", "hash_hstore_ops"),
    ),
    "ltree": Extension(
        types=(("ltree", "text"), ("lquery", "text"), ("ltxtquery", "text")),
        functions=_f("subltree", "subpath", "nlevel", "index", "text2ltree", "ltree2text", "lca"),
        opclasses=_f("gist_ltree_ops", "gist__ltree_ops"),
    ),
    "postgis": Extension(
        types=(("geometry", "bytea"), ("geography", "bytea"), ("box2d", "bytea"), ("box3d", "bytea")),
        opclasses=_f(
            "gist_geometry_ops_2d", "gist_geometry_ops_nd", "gist_geography_ops", "brin_geometry_inclusion_ops_2d"
        ),
    ),
    "vector": Extension(
        types=(("vector", "bytea"), ("halfvec", "bytea"), ("sparsevec", "bytea")),
        opclasses=_f("vector_l2_ops", "vector_ip_ops", "vector_cosine_ops", "halfvec_l2_ops", "halfvec_cosine_ops"),
    ),
    "pg_trgm": Extension(
        functions=_f("similarity", "word_similarity", "strict_word_similarity", "show_trgm", "show_limit"),
        opclasses=_f("gin_trgm_ops", "gist_trgm_ops"),
    ),
    "pgcrypto": Extension(
        functions=_f(
            "digest",
            "hmac",
            "crypt",
            "gen_salt",
            "gen_random_bytes",
            "encrypt",
            "decrypt",
            "encrypt_iv",
            "decrypt_iv",
            "pgp_sym_encrypt",
            "pgp_sym_decrypt",
            "pgp_pub_encrypt",
            "pgp_pub_decrypt",
            "armor",
            "dearmor",
        ),  # gen_random_uuid() is in core since PostgreSQL 13
    ),
    "uuid-ossp": Extension(
        functions=_f(
            "uuid_generate_v1",
            "uuid_generate_v1mc",
            "uuid_generate_v3",
            "uuid_generate_v4",
            "uuid_generate_v5",
            "uuid_nil",
            "uuid_ns_url",
        ),
    ),
    "fuzzystrmatch": Extension(
        functions=_f(
            "levenshtein",
            "levenshtein_less_equal",
            "soundex",
            "difference",
            "metaphone",
            "dmetaphone",
            "dmetaphone_alt",
            "daitch_mokotoff",
        ),
    ),
    "unaccent": Extension(functions=_f("unaccent")),
    "intarray": Extension(
        functions=_f("icount", "sort", "sort_asc", "sort_desc", "uniq", "idx", "subarray", "intset"),
        opclasses=_f("gin__int_ops", "gist__int_ops", "gist__intbig_ops"),
    ),
    "pgstattuple": Extension(functions=_f("pgstattuple", "pgstatindex", "pgstattuple_approx", "pg_relpages")),
    "btree_gin": Extension(scalar_index_methods=("gin",)),
    "btree_gist": Extension(scalar_index_methods=("gist",)),
}

# Types that GIN (without btree_gin) and GiST (without btree_gist) cannot index as a plain column.
SCALAR_TYPES = _f(
    "int2",
    "int4",
    "int8",
    "smallint",
    "integer",
    "bigint",
    "numeric",
    "float4",
    "float8",
    "real",
    "text",
    "varchar",
    "bpchar",
    "char",
    "uuid",
    "bool",
    "date",
    "timestamp",
    "timestamptz",
    "time",
    "timetz",
    "interval",
    "bytea",
    "money",
    "oid",
    "bit",
    "varbit",
    "macaddr",
    "cidr",
    "inet",
)
