# Two commands on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app app
PORT ?= 5000
CATALOGS := $(shell find support -path '*/translations/*/LC_MESSAGES/*.po' 2>/dev/null)

.PHONY: run test install translations system-deps system-test-deps clean

$(BIN)/activate:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: $(BIN)/activate pyproject.toml
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

install: $(VENV)/.installed

# Catalogs are compiled by the build, never committed as binaries.
translations: install
	@for po in $(CATALOGS); do $(BIN)/pybabel compile --use-fuzzy -i $$po -o $${po%.po}.mo -l $$(basename $$(dirname $$(dirname $$po))) >/dev/null || exit 1; done

# The web server and a job worker, one command (support/jobs/together.py).
# Emailed links point where `make run` serves unless PUBLIC_URL says otherwise.
run: export PUBLIC_URL ?= http://127.0.0.1:$(PORT)
run: install translations system-deps
	$(FLASK) init-db
	$(FLASK) seed-demo --if-empty
	@echo "Serving Recovery Desk on http://127.0.0.1:$(PORT), with a background worker (Ctrl-C stops both)"
	$(BIN)/python -m support.jobs.together --host 127.0.0.1 --port $(PORT) --no-reload

# Debian's Tesseract with English, Russian and Italian data (receipt text), for `make run` and the tests.
system-deps:
	@missing=""; \
	langs="$$(tesseract --list-langs 2>/dev/null)"; \
	for lang in eng rus ita; do echo "$$langs" | grep -qx $$lang || missing="$$missing tesseract-ocr-$$lang"; done; \
	command -v tesseract >/dev/null || missing="$$missing tesseract-ocr"; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	  else echo "Not root: install$$missing yourself; receipts will not be read (and their tests skipped) without them."; fi; \
	fi

# Debian's chromium (browser tests), poppler-utils (PDF read-back) and nginx-light (the
# deploy site run for real, tests/load), when root can install them; the nginx service the
# package starts is stopped again (the tests run their own).
system-test-deps: system-deps
	@missing=""; \
	command -v chromium >/dev/null || missing="$$missing chromium"; \
	command -v pdftotext >/dev/null || missing="$$missing poppler-utils"; \
	{ command -v nginx || test -x /usr/sbin/nginx; } >/dev/null || missing="$$missing nginx-light"; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing fonts-dejavu-core >/dev/null; \
	    case "$$missing" in *nginx*) service nginx stop >/dev/null 2>&1 || true;; esac; \
	  else echo "Not root: install$$missing yourself; the tests that need them will be skipped."; fi; \
	fi

# One test worker per core, at most 4, one process on one core (pytest-xdist; TEST_WORKERS=0 to debug).
# worksteal: an idle worker takes tests queued for a busy one, so slow tests balance out.
TEST_WORKERS ?= $(shell n=$$(nproc 2>/dev/null || echo 1); [ $$n -gt 4 ] && n=4; [ $$n -le 1 ] && n=0; echo $$n)

test: install translations system-test-deps
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --dist worksteal $(PYTEST_ARGS)

clean:
	rm -rf $(VENV) instance
