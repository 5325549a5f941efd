# shoprec — continuous training of a clickstream recommender. `make demo`, `make test`.
SHELL := /bin/bash
.DEFAULT_GOAL := help
RUNTIMES := lambda glue ml airflow localstack infra
PY := .venvs/lambda/bin/python
export PYTHONPATH := $(CURDIR)
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 20
API_PORT ?= 8000
export API_PORT
DATASET ?=

.PHONY: help setup venvs jars cdk-cli up down status demo rollback test bench lint clean synth

help:
	@echo "make demo    set up, start the local cloud, run the pipeline DAG once, serve the API"
	@echo "make test    every test (unit, Spark, TensorFlow, Airflow, integration)"
	@echo "make bench   benchmarks (JSON), on ../shared/data where it exists"
	@echo "make synth   every stack's template in cdk.out/ (offline; ENV=dev|prod|local)"
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

up: venvs jars
	@$(PY) -m shoprec.local.services up

down:
	@$(PY) -m shoprec.local.services down

status:
	@$(PY) -m shoprec.local.services status

demo: setup up
	@$(PY) -m shoprec.local.demo $(if $(DATASET),--dataset $(DATASET))

rollback: ## the previous champion serves again (local cloud)
	@source .run/env && $(PY) -m shoprec.rollback

test: setup
	@tools/run-tests

bench: setup ## JSON on stdout (progress on stderr); skips without ../shared/data
	@for script in bench/baselines.py bench/next_day.py bench/serving.py; do .venvs/ml/bin/python $$script || exit 1; done

synth: venvs cdk-cli ## offline: no credentials, no AWS calls
	@rm -rf cdk.out && AWS_DEFAULT_REGION=$${AWS_DEFAULT_REGION:-us-east-1} cdk-cli/node_modules/.bin/cdk synth \
		--no-notices --quiet -c env=$(or $(ENV),dev) -o cdk.out
	@ls cdk.out/*.template.json

lint: setup
	@.venvs/infra/bin/ruff check . && .venvs/infra/bin/ruff format --check .

clean: down
	rm -rf .run
