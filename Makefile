# shoprec — continuous training of a clickstream recommender. `make demo`, `make test`.
SHELL := /bin/bash
.DEFAULT_GOAL := help
RUNTIMES := lambda glue ml airflow localstack infra sdk
PY := .venvs/lambda/bin/python
export PYTHONPATH := $(CURDIR)
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 20
API_PORT ?= 8000
export API_PORT
DATASET ?=

.PHONY: help setup venvs jars cdk-cli up down status demo cycle deliver sql api-fallback rollback replay erase test \
	bench bench-scale lint clean synth openapi

help:
	@echo "make demo    set up, start the local cloud and Airflow, a cycle per shop day, serve the API"
	@echo "make test    every test (unit, Spark, TensorFlow, Airflow, integration)"
	@echo "make bench   benchmarks (JSON), on ../shared/data where it exists"
	@echo "make bench-scale [SCALE=1000000] [ITEMS=100000]   every stage at a real shop's volume (JSON)"
	@echo "make synth   every stack's template in cdk.out/ (offline; ENV=dev|prod|local)"
	@echo "make cycle   the shop's next day arrives and a cycle runs now (on the scheduler)"
	@echo "make deliver FILE=<log> HOST=<host>   ship a log file into the local lake"
	@echo "make sql Q=\"<SQL>\"   Spark SQL on the local catalogue (the Athena stand-in)"
	@echo "make replay FROM=<date> TO=<date>   publish the landing zone's events of those days again"
	@echo "make erase SESSION=<id> | CLIENT=<client id>   erase one person's events from every zone"
	@echo "make api-fallback   package the champion's popular items with the API (served on a cold start)"
	@echo "make setup | up | down | status | rollback | lint | clean"

setup: venvs jars cdk-cli ## idempotent: a second run takes seconds

venvs: $(RUNTIMES:%=.venvs/%/.shoprec-stamp)

.venvs/%/.shoprec-stamp: envs/%.txt envs/%.lock tools/make-venv
	@tools/make-venv $*

.venvs/infra/.shoprec-stamp: requirements.txt

jars:
	@tools/fetch-jars

cdk-cli: cdk-cli/node_modules/.package-lock.json

cdk-cli/node_modules/.package-lock.json: cdk-cli/package.json cdk-cli/package-lock.json
	@echo "[setup] npm ci (CDK CLI)" >&2; cd cdk-cli && npm ci --silent --no-audit --no-fund

up: venvs jars ## LocalStack, Kafka, Solr, OpenSearch and the Airflow console (a shop day every $$SHOPREC_CYCLE_SECONDS)
	@$(PY) -m shoprec.local.services up --airflow

down:
	@$(PY) -m shoprec.local.services down

status:
	@$(PY) -m shoprec.local.services status

demo: setup up
	@$(PY) -m shoprec.local.demo $(if $(DATASET),--dataset $(DATASET))

cycle: setup up ## one DAG run now, on whatever has arrived
	@$(PY) -m shoprec.local.cycle $(if $(EPOCHS),--epochs $(EPOCHS))

deliver: ## ship FILE as host HOST would (incoming/source=weblog/<HOST>/)
	@test -n "$(FILE)" || { echo "usage: make deliver FILE=<log file> [HOST=web-03]"; exit 2; }
	@source .run/env && $(PY) -m shoprec.local.deliver_logs --file $(FILE) --host $(or $(HOST),web-03)

sql: ## e.g. make sql Q="select source, count(*) from shoprec.events group by source"
	@test -n "$(Q)" || { echo 'usage: make sql Q="<SQL>"'; exit 2; }
	@mkdir -p .run && .venvs/glue/bin/python -m shoprec.local.sql "$(Q)" 2> .run/sql.log \
		|| { tail -n 20 .run/sql.log; exit 1; }

api-fallback: ## package the champion's popular items with the API: a cold start serves them
	@source .run/env && cd api && PYTHONPATH=$(CURDIR):. ../$(PY) -m chalicelib.fallback

rollback: ## the previous champion serves again (local cloud)
	@source .run/env && $(PY) -m shoprec.rollback

replay: ## e.g. make replay FROM=2026-11-01 TO=2026-11-03 (ingest dates; staging drops repeats)
	@test -n "$(FROM)" -a -n "$(TO)" || { echo "usage: make replay FROM=<date> TO=<date>"; exit 2; }
	@source .run/env && $(PY) -m shoprec.replay --from $(FROM) --to $(TO)

erase: ## a person's events out of every zone, audited; the next cycle retrains (local cloud)
	@test -n "$(SESSION)$(CLIENT)" || { echo "usage: make erase SESSION=<id> | CLIENT=<client id>"; exit 2; }
	@source .run/env && $(PY) -m shoprec.erase $(if $(SESSION),--session $(SESSION),--client $(CLIENT))

test: setup
	@tools/run-tests

BENCH_CLOUD := SHOPREC_RUN_DIR=$(CURDIR)/.run/bench LOCALSTACK_PORT=4620 KAFKA_PORT=9120 \
	KAFKA_CONTROLLER_PORT=9121 API_PORT=8120 SOLR_PORT=8920 OPENSEARCH_PORT=9220 \
	OPENSEARCH_TRANSPORT_PORT=9320

bench: setup ## JSON on stdout (progress on stderr); the model benchmarks skip without ../shared/data
	@$(BENCH_CLOUD) .venvs/lambda/bin/python bench/collector.py
	@$(BENCH_CLOUD) .venvs/lambda/bin/python bench/search_collectors.py
	@$(BENCH_CLOUD) .venvs/glue/bin/python bench/dedupe.py
	@for script in bench/baselines.py bench/next_day.py bench/serving.py bench/search_gain.py; do \
		$(BENCH_CLOUD) .venvs/ml/bin/python $$script || exit 1; done
	@.venvs/infra/bin/python bench/api_bundle.py

bench-scale: setup ## the scale generator's events through every stage, each beside its anchor
	@.venvs/lambda/bin/python bench/scale.py --events $(or $(SCALE),1000000) \
		--items $(or $(ITEMS),100000) --work $(CURDIR)/.run/bench-scale

synth: venvs cdk-cli ## offline: no credentials, no AWS calls
	@rm -rf cdk.out && AWS_DEFAULT_REGION=$${AWS_DEFAULT_REGION:-us-east-1} cdk-cli/node_modules/.bin/cdk synth \
		--no-notices --quiet -c env=$(or $(ENV),dev) -o cdk.out
	@ls cdk.out/*.template.json

openapi: ## docs/openapi.json, generated from the API's routes (a test keeps it current)
	@cd api && PYTHONPATH=$(CURDIR):. ../.venvs/lambda/bin/python -m chalicelib.openapi > ../docs/openapi.json

lint: setup
	@.venvs/infra/bin/ruff check . && .venvs/infra/bin/ruff format --check .

clean: down
	rm -rf .run
