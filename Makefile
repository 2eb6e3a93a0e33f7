# The front door. `make report` and `make test` are all a new user needs.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
CONFIG ?= config/aumi.yml
JOBS   ?= 2
# the tests on 2 processes; the tests on one shared run (the AUMI pipeline, the papermill runs,
# the two languages' reports) each stay on one (conftest.py, xdist_group; --dist loadgroup)
PYTEST_JOBS ?= 2

.PHONY: install demo report test quick test-browser bench lint clean-reports

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e ".[dev]"
	$(BIN)/python -m ipykernel install --sys-prefix --name python3 >/dev/null
	touch $(STAMP)

install: $(STAMP)

demo: install
	$(BIN)/ungeanalyse demo --config $(CONFIG)

report: demo
	$(BIN)/ungeanalyse run --config $(CONFIG) --jobs $(JOBS)
	@echo "Open reports/index.html in a browser."

# what CI runs; the 15 slowest tests are listed at the end, to keep an eye on the time
test: install
	$(BIN)/python -m pytest -q -n $(PYTEST_JOBS) --dist loadgroup --durations=15

# the inner loop: everything but the `slow` tests (notebooks, the pipeline, simulations, audits
# of whole demo projects) and the browser
quick: install
	$(BIN)/python -m pytest -q -n $(PYTEST_JOBS) --dist loadgroup -m "not slow and not browser"

test-browser: install
	$(BIN)/python -m pytest -q -m browser tests/test_browser.py

bench: install
	$(BIN)/python bench/run_bench.py

lint: install
	$(BIN)/ruff check .

clean-reports:
	rm -rf reports/*/ reports/index.html
