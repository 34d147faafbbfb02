# Two commands for a newcomer: `make demo` and `make test`.
# Both set up first; set-up is idempotent and quick once done.

VENV    := .venv
PY      := $(VENV)/bin/python
DSLPPL  := $(VENV)/bin/dslppl
STAMP   := $(VENV)/.installed
EXAMPLE := examples/eight_schools

.PHONY: setup demo test bench clean graphviz fuzz

setup: $(STAMP) graphviz

# torch==2.13.0 first: it is a CPU build on these machines' disk, whereas an
# unpinned torch would pull a multi-GB CUDA build.
$(STAMP): pyproject.toml setup.py
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -c "import torch" 2>/dev/null || $(PY) -m pip install -qq torch==2.13.0
	$(PY) -m pip install -qq -e '.[dev]'
	touch $(STAMP)

# The `dot` binary renders SVG/PNG; without it dslppl still writes DOT text.
graphviz:
	@command -v dot >/dev/null || { \
	  if [ "$$(id -u)" = 0 ]; then \
	    (apt-get update -qq && apt-get install -y -qq graphviz) >/dev/null; \
	  else \
	    echo "note: graphviz 'dot' is missing; install it with: sudo apt-get install graphviz"; \
	  fi; }

demo: setup
	mkdir -p out
	$(DSLPPL) check $(EXAMPLE).ppl
	$(DSLPPL) fit $(EXAMPLE).ppl --data $(EXAMPLE).json --guide mvn --steps 5000 --seed 0 --out out/eight_schools.fit.json
	$(DSLPPL) render $(EXAMPLE).ppl --data $(EXAMPLE).json -o out/eight_schools.svg
	@echo "wrote out/eight_schools.svg and out/eight_schools.fit.json"

test: setup
	$(PY) -m pytest -q

bench: setup
	$(PY) benchmarks/compile_speed.py
	$(PY) benchmarks/svi_speed.py
	$(PY) benchmarks/svi_speed.py --compile
	$(PY) benchmarks/time_to_result.py
	$(PY) benchmarks/handler_overhead.py
	$(PY) benchmarks/render_speed.py
	$(PY) benchmarks/check_speed.py
	$(PY) benchmarks/nuts_speed.py
	$(PY) benchmarks/nuts_posteriordb.py
	$(PY) benchmarks/readme_tables.py

# The long fuzz run (the test suite runs a short one): FUZZ_CASES cases, then counts.
FUZZ_CASES ?= 100000
fuzz: setup
	$(PY) tests/fuzz/run_fuzz.py $(FUZZ_CASES) --seed 1

clean:
	rm -rf $(VENV) out build dist *.egg-info

# The wheel works outside the checkout: build it, install it into a throwaway
# venv (torch==2.13.0 first, the CPU build on this disk), and check a model from
# a directory outside the repository, so the grammar is read from the installed
# package. `rm -rf build` first: a stale build/lib would put deleted modules in
# the wheel.
.PHONY: wheel-check
wheel-check: setup
	rm -rf build
	@set -e; tmp=$$(mktemp -d); trap 'rm -rf "$$tmp"' EXIT; \
	$(PY) -m build --wheel --outdir "$$tmp/dist" . >"$$tmp/build.log" 2>&1 || { tail -n 40 "$$tmp/build.log"; exit 1; }; \
	rm -rf build; \
	python3 -m venv "$$tmp/venv"; \
	"$$tmp/venv/bin/python" -m pip install -qq torch==2.13.0; \
	"$$tmp/venv/bin/python" -m pip install -qq "$$tmp"/dist/dslppl-*.whl; \
	cd "$$tmp"; \
	"$$tmp/venv/bin/python" -c "import dslppl.grammar, sys; sys.exit(not dslppl.grammar.__file__.startswith('$$tmp/venv/'))" \
	  || { echo "wheel-check: dslppl was not imported from the fresh venv"; exit 1; }; \
	"$$tmp/venv/bin/dslppl" check "$(CURDIR)/$(EXAMPLE).ppl"; \
	echo "wheel-check: ok ($$(basename "$$tmp"/dist/*.whl))"
