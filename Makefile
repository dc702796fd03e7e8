# Newcomers: `make run` starts the assistant, `make test` runs the whole suite. Both install what they need.
PYTHON ?= $(shell command -v python3.11 2>/dev/null || echo python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
LOCALE := responses/locale
CATALOGS := $(patsubst %.po,%.mo,$(wildcard $(LOCALE)/*/LC_MESSAGES/messages.po))

.PHONY: install train run cluster chat test check lint typecheck unit rasa bench system-packages screenshots clean messages

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[test]'
	touch $(STAMP)

install: $(STAMP) $(CATALOGS)

# The Azerbaijani and Russian reply catalogs, compiled from the .po files kept in the repository.
$(LOCALE)/%/LC_MESSAGES/messages.mo: $(LOCALE)/%/LC_MESSAGES/messages.po $(STAMP)
	$(BIN)/pybabel compile -d $(LOCALE) -D messages -l $*

# After editing templates: re-extract the sentences and merge them into the .po files to translate.
messages: $(STAMP)
	$(BIN)/pybabel extract -F responses/babel.cfg -o $(LOCALE)/messages.pot --no-location --omit-header \
		--sort-output --project=privacybot -w 110 responses/chat responses/email responses/telegram responses/officer \
		responses/web
	$(BIN)/pybabel update -i $(LOCALE)/messages.pot -d $(LOCALE) -D messages --ignore-obsolete --no-fuzzy-matching -w 110

train: install
	$(BIN)/privacybot nlu train

run: install
	$(BIN)/privacybot run

# Three workers on the local PostgreSQL and Redis behind HAProxy (loopback only); prints the URL.
cluster: install system-packages
	$(BIN)/privacybot cluster

chat: install
	$(BIN)/privacybot chat

system-packages:
	bash tests/support/ensure_packages.sh

lint: install
	$(BIN)/ruff check bot nlu actions responses policy tests bench
	$(BIN)/ruff format --check bot nlu actions responses policy tests bench

typecheck: install
	$(BIN)/mypy bot nlu actions responses policy

unit: install system-packages
	$(BIN)/pytest -q

test: lint typecheck rasa unit

# The fast tier while editing: lint, types and every test that needs neither Rasa nor a browser.
check: lint typecheck system-packages
	$(BIN)/pytest -q -m "not rasa and not browser"

rasa:
	bash nlu/engines/build_rasa_env.sh

screenshots: install system-packages
	$(BIN)/python -m tests.support.screenshots

bench: install rasa
	$(BIN)/python -m bench.startup
	$(BIN)/python -m bench.core
	$(BIN)/python -m bench.sweeper
	$(BIN)/python -m bench.web_chat
	$(BIN)/python -m bench.engines
	$(BIN)/python -m bench.cluster
	$(BIN)/python -m bench.chaos

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache $(CATALOGS)
