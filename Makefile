# Two commands for people: `make run` and `make test`. Everything lives in .venv/, installed from
# uv.lock, so a fresh machine with Python 3.11+ and make gets exactly the locked versions.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
UV_VERSION := 0.13.8
STAMP  := $(VENV)/.installed

.PHONY: run test lint typecheck imports pytest bench migration catalogs clean

run: $(STAMP)
	$(BIN)/buurtagenda run

test: $(STAMP) lint typecheck imports pytest

lint: $(STAMP)
	$(BIN)/ruff check .

typecheck: $(STAMP)
	$(BIN)/mypy

# The package graph runs one way and has no cycles: contracts in pyproject.toml ([tool.importlinter]).
imports: $(STAMP)
	$(BIN)/lint-imports

pytest: $(STAMP)
	$(BIN)/pytest

bench: $(STAMP)
	$(BIN)/python bench/registrations.py

# New schema revision from the models: make migration m="add reminder preferences"
migration: $(STAMP)
	$(BIN)/python -m models.migrations.new "$(m)"

# Extract user-facing strings into the catalogs (Dutch message ids; en translates, nl polishes).
LOCALES := i18n/locale
catalogs: $(STAMP)
	$(BIN)/pybabel extract -F babel.cfg --no-default-keywords -k t -k N_ -k plural:1,2 \
		-k _:2 -k _n:2,3 --no-location --sort-output \
		--width=100 --project=Buurtagenda -o $(LOCALES)/messages.pot .
	for lang in nl en; do \
		if [ -f $(LOCALES)/$$lang/LC_MESSAGES/messages.po ]; then \
			$(BIN)/pybabel update --width=100 --no-fuzzy-matching --ignore-obsolete -l $$lang -D messages \
				-i $(LOCALES)/messages.pot -d $(LOCALES); \
		else $(BIN)/pybabel init -l $$lang -D messages -i $(LOCALES)/messages.pot -d $(LOCALES); fi; \
	done

$(STAMP): pyproject.toml uv.lock
	test -x $(BIN)/uv || { $(PYTHON) -m venv $(VENV) && $(BIN)/pip install --quiet uv==$(UV_VERSION); }
	$(BIN)/uv sync --locked --quiet
	touch $@

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache .hypothesis
