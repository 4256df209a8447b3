# Two commands: `make run` serves the tool, `make test` runs every test. Both set up first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
CHROMIUM := /usr/lib/chromium/chromium
# Python's bytecode cache, kept in the venv: every pytest worker, gunicorn and CLI process the
# tests start imports the same ~200 modules, and compiling them anew costs each one 1-2 s of CPU
# (an environment that sets PYTHONDONTWRITEBYTECODE, as some CI images do, would pay it always).
unexport PYTHONDONTWRITEBYTECODE
export PYTHONPYCACHEPREFIX := $(abspath $(VENV))/pycache

.PHONY: run serve test setup translations fonts browser axe services bench lint clean

$(STAMP): setup.cfg pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

setup: $(STAMP) translations fonts
	$(BIN)/lti-tool keys ensure
	$(BIN)/lti-tool db upgrade

translations: $(STAMP)
	$(BIN)/pybabel -q compile --use-fuzzy -d lti_tool/translations

run: setup
	$(BIN)/lti-tool serve

# Production: gunicorn (config/gunicorn.conf.py); run `lti-tool worker` beside it (README "Operations").
serve: setup
	$(BIN)/gunicorn -c config/gunicorn.conf.py

# PDF exports (portfolio, summaries) embed DejaVu fonts: Kazakh and Russian need Cyrillic glyphs.
FONT := /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf
fonts:
	@test -f $(FONT) || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq fonts-dejavu-core >/dev/null)

# The browser tests need Debian's chromium (never a downloaded browser).
browser:
	@test -x $(CHROMIUM) || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null)

# axe-core (accessibility rules) for the browser tests, pinned, from npm into the venv.
AXE_VERSION := 4.14.1
AXE := $(VENV)/node/node_modules/axe-core/axe.min.js
axe: $(AXE)
$(AXE):
	npm install --silent --no-audit --no-fund --prefix $(VENV)/node axe-core@$(AXE_VERSION)

# The tests start their own PostgreSQL and Redis servers from Debian's packages.
services:
	@ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 && command -v redis-server >/dev/null || \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql redis-server >/dev/null)

# Every test on SQLite, then every test but the browser ones again on PostgreSQL: the browser
# tests run once (they test browsers and frames, not SQL). pytest-xdist runs whole files on
# TEST_WORKERS processes, each with its own tool, PostgreSQL and ports (docs/development.md);
# most tests wait on servers and browsers, so more workers than CPUs pays. The browser tests run
# on BROWSER_WORKERS processes, each with its own chromium, test by test, a worker that is done
# taking tests a busy one has not started (worksteal: the crawl's languages and halves side by
# side, no worker left alone with a long test at the end). The tests that time a server's
# answers (marker `serial`) run last, away from the busy steps: under the load of four workers
# on two cores a deadline of two seconds says nothing. They mostly wait (deadlines, gunicorn
# starting and stopping), so their SQLite and PostgreSQL runs go side by side; the SQLite
# run's report is printed after the PostgreSQL one's.
TEST_WORKERS ?= 4
BROWSER_WORKERS ?= 3
PYTEST_PARALLEL := -n $(TEST_WORKERS) --dist loadfile --no-loadscope-reorder  # tests/conftest.py LONGEST_FILES
# Every run goes to the end, so that one CI run reports every failure; the target fails if any did.
test: $(STAMP) translations fonts browser axe services
	@status=0; \
	$(BIN)/python -m pytest --db=sqlite -m "not browser and not serial" $(PYTEST_PARALLEL) || status=1; \
	$(BIN)/python -m pytest --db=sqlite -m "browser" -n $(BROWSER_WORKERS) --dist worksteal || status=1; \
	$(BIN)/python -m pytest --db=postgresql -m "not browser and not serial" $(PYTEST_PARALLEL) || status=1; \
	$(BIN)/python -m pytest --db=sqlite -m "serial and not browser" -p no:cacheprovider \
	  > $(VENV)/serial-sqlite.log 2>&1 & serial_sqlite=$$!; \
	$(BIN)/python -m pytest --db=postgresql -m "serial and not browser" || status=1; \
	wait $$serial_sqlite || status=1; cat $(VENV)/serial-sqlite.log; \
	exit $$status

# ruff's rules and format (pyproject.toml), and mypy against a baseline that may only shrink.
lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python tools/mypy_baseline.py

bench: setup
	$(BIN)/python bench/launch.py --mode both
	$(BIN)/python bench/sync.py
	$(BIN)/python bench/portfolio.py
	$(BIN)/python bench/teachhub.py
	$(BIN)/python bench/races.py

# Extract new strings into the catalogues (then translate them in lti_tool/translations/*/LC_MESSAGES/messages.po).
messages: $(STAMP)
	$(BIN)/pybabel extract -F babel.cfg -k _l -o lti_tool/translations/messages.pot --width 100 .
	$(BIN)/pybabel update -i lti_tool/translations/messages.pot -d lti_tool/translations --no-fuzzy-matching --width 100

clean:
	rm -rf $(VENV) .pytest_cache
