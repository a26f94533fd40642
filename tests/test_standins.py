"""--stand-in-missing: extensions the server lacks get stand-ins, every substitution listed; without it, refused."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

import datagen
import dbserver
from common.errors import BadInput
from datagen.profile.model import Column, Profile, Rates, Source, Table
from datagen.twin import summary
from datagen.twin.standins import stand_in
from rehearse.analysis.summary import summary as run_summary
from rehearse.measure.config import RehearsalConfig
from rehearse.measure.runner import run
from rehearse.present import report

# postgis and uuid-ossp are not in the embedded server (pg_trgm is: it stays).
SCHEMA = """
CREATE EXTENSION IF NOT EXISTS postgis WITH SCHEMA public;
COMMENT ON EXTENSION postgis IS 'PostGIS geometry and geography spatial types and functions';
CREATE EXTENSION IF NOT EXISTS "uuid-ossp" WITH SCHEMA public;
CREATE EXTENSION IF NOT EXISTS pg_trgm WITH SCHEMA public;
CREATE TABLE public.places (
    id uuid DEFAULT public.uuid_generate_v4() NOT NULL,
    name text NOT NULL,
    geom public.geometry(Point,4326),
    area public.geography
);
CREATE FUNCTION public.new_id() RETURNS uuid LANGUAGE sql AS $$ SELECT uuid_generate_v4() $$;
CREATE FUNCTION public.stamp() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN NEW.id := new_id(); RETURN NEW; END $$;
ALTER TABLE ONLY public.places ADD CONSTRAINT places_pkey PRIMARY KEY (id);
CREATE INDEX places_geom ON public.places USING gist (geom);
COMMENT ON INDEX public.places_geom IS 'spatial';
CREATE INDEX places_name_trgm ON public.places USING gin (name public.gin_trgm_ops);
CREATE TRIGGER places_stamp BEFORE INSERT ON public.places FOR EACH ROW EXECUTE FUNCTION public.stamp();
"""
COLUMNS = (
    Column("id", "uuid", 0.0, 16, -1.0),
    Column("name", "text", 0.0, 12, -0.5),
    Column("geom", "public.geometry(Point,4326)", 0.2, 32, -1.0),
    Column("area", "public.geography", 0.5, 60, -1.0),
)
RATES = Rates(3600.0, 0.0, 40.0, 5.0, 5.0, 0.0, 5.0)  # per second: index scans, inserts, updates, HOT updates
PROFILE = Profile(
    Source("files", "test"),
    SCHEMA,
    (Table("public", "places", reltuples=2000, relpages=40, heap_bytes=327680, rates=RATES, columns=COLUMNS),),
)


def test_stand_in_rewrites_the_parsed_schema():
    text, done = stand_in(SCHEMA, ["postgis", "uuid-ossp"])
    assert "geometry" not in text and "uuid_generate_v4" not in text and "places_geom" not in text
    assert "geom bytea" in text and "area bytea)" in text and "gin_trgm_ops" in text and "pg_trgm" in text
    found = {(s.extension, s.kind, s.name) for s in done}
    assert found >= {
        ("postgis", "extension", "postgis"),
        ("uuid-ossp", "extension", "uuid-ossp"),
        ("postgis", "type", "public.places.geom"),
        ("postgis", "type", "public.places.area"),
        ("uuid-ossp", "default", "public.places.id"),
        ("uuid-ossp", "function", "public.new_id"),
        ("postgis", "index", "public.places_geom"),
    }
    assert any(s.kind == "statement" and "left out" in s.done for s in done)  # the trigger on new_id's caller…
    assert "places_stamp" not in text and "COMMENT ON INDEX" not in text


def test_without_the_flag_refused_in_one_line(tmp_path):
    path = PROFILE.write(tmp_path / "profile.json")
    done = subprocess.run(
        [sys.executable, "-m", "rehearse.cli", "datagen", "--profile", str(path), "--scale", "1"],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 2 and done.stderr.count("\n") == 1
    assert "postgis" in done.stderr and "--stand-in-missing" in done.stderr


@pytest.fixture(scope="module")
def twin(server):
    dataset = datagen.build_twin(
        PROFILE, 1.0, seed=3, server=server, rebuild=True, progress=False, stand_in_missing=True
    )
    yield dataset
    dbserver.drop(server, dataset.name)


def test_the_twin_builds_with_stand_ins_listed(server, twin):
    with server.connect(twin.name) as conn:
        types = dict(
            conn.execute(
                "SELECT attname, format_type(atttypid, atttypmod) FROM pg_attribute WHERE attrelid = 'places'::regclass AND attnum > 0"
            ).fetchall()
        )
        indexes = {r[0] for r in conn.execute("SELECT indexname FROM pg_indexes WHERE tablename = 'places'").fetchall()}
        rows, sized = conn.execute("SELECT count(*), avg(octet_length(geom)) FROM places").fetchone()
    assert types["geom"] == "bytea" and types["area"] == "bytea"
    assert indexes == {"places_pkey", "places_name_trgm"} and rows == 2000 and sized > 16
    listed = summary.stand_ins_frame(twin.manifest)
    assert set(listed["extension"]) == {"postgis", "uuid-ossp"} and "public.places_geom" in set(listed["name"])
    assert "stand-in (postgis): index public.places_geom" in summary.text(twin.manifest)
    plain = datagen.twin_info(PROFILE, 1.0, 3, server, stand_in_missing=True)
    assert plain is not None and plain["name"] == twin.name


def test_info_prints_a_readable_summary(twin, tmp_path):
    path = PROFILE.write(tmp_path / "profile.json")
    manifest = tmp_path / "manifest.json"
    command = [sys.executable, "-m", "rehearse.cli", "datagen", "--profile", str(path), "--scale", "1", "--seed", "3"]
    done = subprocess.run(
        [*command, "--stand-in-missing", "--info", "--json", str(manifest)], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(f"twin {twin.name}: scale 1, seed 3")
    assert "bytes per row, twin vs profile" in done.stdout and "public.places" in done.stdout
    assert "columns: " in done.stdout and "stand-in (uuid-ossp): default public.places.id" in done.stdout
    assert json.loads(manifest.read_text())["name"] == twin.name
    missing = subprocess.run([*command, "--info"], capture_output=True, text=True)  # without stand-ins: refused
    assert missing.returncode == 2 and "--stand-in-missing" in missing.stderr


def test_rehearsed_on_the_twin_with_its_generic_application_and_the_stand_ins_reported(tmp_path):
    migration = tmp_path / "up.sql"
    migration.write_text(
        "ALTER TABLE places ADD COLUMN seen boolean NOT NULL DEFAULT false;\nCREATE INDEX places_name ON places (name);\n"
    )
    path = PROFILE.write(tmp_path / "profile.json")
    options = dict(scale=1.0, seed=3, workload="tables", rate=100, warmup=1, cooldown=1, stand_in_missing=True)
    result = run(str(migration), profile=str(path), **options)
    assert [st["status"] for st in run_summary(result)["statements"]] == ["ok", "ok"]
    kinds = set(result.workload["kind"])
    assert {"point read places", "update places (hot)"} <= kinds and result.workload["ok"].mean() > 0.95
    assert "insert places" not in kinds  # its uuid key lost its default (uuid-ossp): no new keys to make
    warned = report.warnings_text(result)
    assert "Not rehearsed (stand-ins for missing extensions)" in warned and "public.places_geom" in warned
    with pytest.raises(BadInput, match="--stand-in-missing .*--profile"):
        RehearsalConfig(stand_in_missing=True)
