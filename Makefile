PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin

.PHONY: install up demo test unit integration chaos rules-check bench clean

$(BIN)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[test]'
	touch $@

install: $(BIN)/.installed

## Run the whole system locally (broker check, all services, demo users) until Ctrl-C.
up: install
	$(BIN)/paht up

## Drive 50 generated reports through the running system.
demo: install
	$(BIN)/paht demo

## The whole suite: rule packs, unit, contract and integration tests (real RabbitMQ).
test: install
	scripts/ensure-rabbitmq
	$(BIN)/paht rules check
	$(BIN)/paht rules test
	$(BIN)/pytest -q

unit: install
	$(BIN)/pytest -q tests/unit tests/contract

integration: install
	scripts/ensure-rabbitmq
	$(BIN)/pytest -q tests/integration

## Chaos (not part of `make test`): 1,000 submissions to `paht up` while routing is SIGKILLed and RabbitMQ
## restarts (it restarts the shared broker and needs ports 8000–8006). Knobs: PAHT_CHAOS_REPORTS, …_BROKER_RESTART=0.
chaos: install
	scripts/ensure-rabbitmq
	PAHT_CHAOS=1 $(BIN)/pytest -q -s tests/chaos

bench: install
	for b in bench/*.py; do echo "== $$b"; $(BIN)/python $$b || exit 1; done

clean:
	rm -rf var .pytest_cache
