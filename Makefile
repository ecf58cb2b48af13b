# sohoa: `make demo` sets up everything and runs the demo; `make test` runs the tests.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
SOHOA := $(VENV)/bin/sohoa
APT_PACKAGES := fonts-dejavu-core tesseract-ocr tesseract-ocr-vie tesseract-ocr-eng tesseract-ocr-fra tesseract-ocr-chi-tra libgl1 libgomp1 libglib2.0-0 libusb-1.0-0 chromium
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: setup system-packages services services-stop services-status demo test lint bench bench-setup bench-quick fuzz clean

setup: system-packages $(VENV)/.installed

system-packages:
	@missing=""; for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages:$$missing"; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends $$missing; \
	fi

$(VENV)/.installed: pyproject.toml
	@command -v python3.11 >/dev/null || { echo "Python 3.11 is required (python3.11 not on PATH)"; exit 1; }
	[ -x $(PY) ] || python3.11 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev]'
	touch $@

demo: setup
	SOHOA_DATA_DIR=$${SOHOA_DATA_DIR:-var/demo} $(SOHOA) demo --fresh

# PostgreSQL, Redis, RabbitMQ, OpenSearch and S3Proxy on 127.0.0.1, data under var/services/,
# URLs in var/services.env (tests/services/services.py: installs what is missing, reuses what runs).
services:
	python3 tests/services/services.py start

services-stop:
	python3 tests/services/services.py stop

services-status:
	python3 tests/services/services.py status

test: setup services
	OMP_THREAD_LIMIT=1 $(VENV)/bin/pytest -q

lint: setup
	$(VENV)/bin/ruff check . && $(VENV)/bin/ruff format --check .

# Every parser we own under atheris (coverage-guided), SECONDS each; crashes land in
# tests/fuzz/regressions/<target>/, which the test suite replays.
SECONDS ?= 600
fuzz: setup
	$(VENV)/bin/python tests/fuzz/run.py --seconds $(SECONDS) --jobs 2

# Peers the benches compare against (OCRmyPDF in its own venv under var/bench/; ogr2ogr from
# Debian's gdal-bin; Tesseract's best_int Vietnamese model in var/tessdata): not in `demo`.
bench-setup: setup
	$(PY) bench/bench_text_pipeline.py --setup
	$(PY) bench/bench_import.py --setup
	$(PY) bench/bench_ocr.py --setup

# One table: every figure beside its baseline, ratio and aim; bench-quick within 5 minutes.
bench: setup bench-setup
	$(PY) bench/report.py

bench-quick: setup bench-setup
	$(PY) bench/report.py --quick

clean:
	rm -rf var .pytest_cache .ruff_cache
