# The two commands: `make demo` (build the dataset, rehearse the incidents, write reports) and `make test`.
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-stamp
# 0.1 = 1 M orders; `make demo DEMO_SCALE=1` for production-like size (needs ~10 GB of disk)
DEMO_SCALE ?= 0.1

.PHONY: install demo test lint bench browser postgres15 postgres15-extensions clean-data

install: $(STAMP)

$(STAMP): requirements.txt pyproject.toml
	python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	$(PY) -m pip install --quiet --no-deps -e .
	$(PY) -m ipykernel install --sys-prefix --name python3 >/dev/null
	touch $(STAMP)

demo: install
	$(PY) -m rehearse.present.demo --scale $(DEMO_SCALE)

test: install browser postgres15 lint
	$(VENV)/bin/pytest

# The house rules: ruff (lint, format) and the layer order (import-linter, configured in pyproject.toml).
lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports

# The report test renders the HTML page in Debian's headless Chromium; installed once, if apt can.
browser:
	@command -v chromium >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
		apt-get install -y -qq chromium >/dev/null; } || echo "chromium not installed: the browser test will be skipped"

# The version tests (tests/test_versions.py) compare with Debian's PostgreSQL 15; installed once, if apt can.
postgres15:
	@test -x /usr/lib/postgresql/15/bin/initdb || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
		apt-get install -y -qq postgresql-15 >/dev/null; } || echo "postgresql-15 not installed: the version tests will be skipped"

# Extensions real schemas need and the embedded wheel lacks: contrib (pgcrypto, pg_trgm, btree_gist, citext,
# hstore, uuid-ossp) ships in postgresql-15; PostGIS and pg_partman are packages of their own. Then
# rehearse with --postgres-bin /usr/lib/postgresql/15/bin.
postgres15-extensions: postgres15
	@test -f /usr/share/postgresql/15/extension/postgis.control -a -f /usr/share/postgresql/15/extension/pg_partman.control \
		|| { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
		postgresql-15-postgis-3 postgresql-15-partman >/dev/null; } \
		|| echo "postgresql-15-postgis-3 / postgresql-15-partman not installed"

bench: install
	$(PY) bench/datagen.py --quick

clean-data:
	-$(VENV)/bin/rehearse server stop
	rm -rf data/
