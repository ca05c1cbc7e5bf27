PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin

.PHONY: install venv-python tools up demo test test-instants unit integration chaos rules-check monitoring-check k8s-check lock lock-check api-check bench clean

$(BIN)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[test]'
	touch $@

install: venv-python $(BIN)/.installed

# A .venv made by another Python (or a broken one) is made again with $(PYTHON).
venv-python:
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' || { echo "PAHT needs Python 3.11" \
	  "($(PYTHON) is $$($(PYTHON) -V 2>&1)): pyenv install 3.11, or apt-get install python3.11 on Debian 12," \
	  "then make PYTHON=/path/to/python3.11 …"; exit 1; }
	@if [ -d $(VENV) ] && [ "$$($(BIN)/python -c 'import sys; print(sys.version_info[:2])' 2>/dev/null)" != \
	  "$$($(PYTHON) -c 'import sys; print(sys.version_info[:2])')" ]; then \
	  echo "$(VENV) was made by another Python: making it again with $(PYTHON)"; rm -rf $(VENV); fi

## Run the whole system locally (broker check, all services, demo users) until Ctrl-C.
up: install
	$(BIN)/paht up

## Drive 50 generated reports through the running system.
demo: install
	$(BIN)/paht demo

## The whole suite: rule packs, unit, contract and integration tests (real RabbitMQ), then the date-dependent
## tests again from every start instant of tests/start_instants.py (`PAHT_CLOCK_START=… make test`: all from one).
test: tools install monitoring-check k8s-check lock-check api-check
	scripts/ensure-rabbitmq
	$(BIN)/paht rules check
	$(BIN)/paht rules test
	$(BIN)/pytest -q
	$(MAKE) --no-print-directory test-instants

test-instants: install
	for instant in $$($(BIN)/python -m tests.start_instants values); do \
	  echo "== the date-dependent tests from $$instant"; \
	  PAHT_CLOCK_START=$$instant $(BIN)/pytest -q -m calendar || exit 1; done

## What the suite needs from the machine's package manager (promtool): installed when allowed, else named.
tools:
	scripts/ensure-tools

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

## Alerts and dashboards (deploy/monitoring/): promtool checks the PrometheusRule's rules and every dashboard query,
## then runs the alerts' unit tests (promtool: Debian's `prometheus` package; .ci/run installs it).
MONITORING_OUT := var/monitoring
monitoring-check: install tools
	rm -rf $(MONITORING_OUT) && $(BIN)/python deploy/monitoring/extract_rules.py $(MONITORING_OUT)
	promtool check rules $(MONITORING_OUT)/paht-rules.yaml $(MONITORING_OUT)/dashboard-exprs.yaml
	cd $(MONITORING_OUT) && promtool test rules $(notdir $(wildcard deploy/monitoring/tests/*.yaml))

## Kubernetes (deploy/k8s/): the rules ConfigMaps hold exactly the files of rules/ (scripts/k8s-rules), and both
## overlays render (as `kubectl apply -k` does: nothing read outside deploy/k8s) and validate strictly: built-in kinds
## against Kubernetes' schemas (kubernetes-validate, an unknown kind is an error), the custom resources (operators,
## Gateway API, Prometheus Operator) against their schemas in deploy/k8s/crds/. A few seconds.
KUSTOMIZE := kubectl kustomize
k8s-check: install
	@command -v kubectl >/dev/null || { echo "kubectl not found (it renders deploy/k8s): https://kubernetes.io/docs/tasks/tools/"; exit 1; }
	$(BIN)/python scripts/k8s-rules --check
	mkdir -p var/k8s
	for overlay in dev production; do \
	  $(KUSTOMIZE) deploy/k8s/overlays/$$overlay > var/k8s/$$overlay.yaml || exit 1; \
	  $(BIN)/python deploy/k8s/validate.py var/k8s/$$overlay.yaml || exit 1; \
	done
	$(BIN)/python deploy/k8s/validate.py deploy/k8s/base/secret.template.yaml

## requirements.lock (the image's packages, pinned with hashes) from pyproject.toml and deploy/lock-extras.in, with
## pip-tools in a throwaway venv; `make lock-check` (part of `make test`, about a minute) proves the lock installs.
lock: install
	tmp=$$(mktemp -d) && trap 'rm -rf "$$tmp"' EXIT && \
	$(BIN)/python -m venv "$$tmp/venv" && \
	env -u PIP_FIND_LINKS PIP_CONFIG_FILE=/dev/null "$$tmp/venv/bin/pip" install -q 'pip-tools>=7.4' && \
	env -u PIP_FIND_LINKS PIP_CONFIG_FILE=/dev/null CUSTOM_COMPILE_COMMAND="make lock" "$$tmp/venv/bin/pip-compile" --quiet \
	  --generate-hashes --allow-unsafe --strip-extras --no-emit-index-url \
	  --output-file requirements.lock pyproject.toml deploy/lock-extras.in

lock-check:
	scripts/check-lock

## docs/api/: the gateway's OpenAPI and AsyncAPI and intake's internal AsyncAPI, as the code generates them
## (`python -m services.gateway.apidoc write`, `python -m services.intake.apidoc write`)
api-check: install
	$(BIN)/python -m services.gateway.apidoc check
	$(BIN)/python -m services.intake.apidoc check

## Benchmarks; throughput.py and portal.py start the whole system on the broker (bench/e2e.py needs `make up`: run it
## by hand). portal.py (issue 22's page times, the map, the gateway's memory) seeds 100,000 reports first (2 min on an
## idle machine) and loads the map in Debian's headless Chromium (`tools`); 15–30 min: a page may take up to 5 min to
## answer at all (--patience) and 10 min for its 50 requests (--budget).
bench: install tools
	for b in $(filter-out bench/e2e.py bench/bare_chain.py bench/throughput.py bench/portal.py bench/pairs.py,$(wildcard bench/*.py)); do \
	  echo "== $$b"; $(BIN)/python $$b || exit 1; done
	echo "== bench/throughput.py --n 300"; $(BIN)/python bench/throughput.py --n 300
	echo "== bench/portal.py"; $(BIN)/python bench/portal.py

clean:
	rm -rf var .pytest_cache
