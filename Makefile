# Developer entry points. PY selects the virtualenv's interpreter; tools come from its bin/.
# With the default PY, the first target that needs it creates .venv and installs the
# project with its dev extras (again whenever pyproject.toml changes).
PY ?= .venv/bin/python
BOOTSTRAP_PYTHON ?= python3
ifeq ($(PY),.venv/bin/python)
ENV := .venv/.installed
else
ENV :=
endif
VENV_BIN := $(abspath $(dir $(PY)))
SPEC := openapi/intralinks-api-openapi.yml
GEN_DIR := intralinks_async/_generated
RUFF_VERSION := 0.12.12
OPC_VERSION := 0.29.1
# Render the spec with our templates and config into $(1)/_generated (post-hooks: pinned ruff).
define render
	@"$(VENV_BIN)/ruff" --version | grep -qx "ruff $(RUFF_VERSION)" || { echo "make: ruff $(RUFF_VERSION) required in $(VENV_BIN)" >&2; exit 1; }
	@"$(VENV_BIN)/openapi-python-client" --version | grep -q "$(OPC_VERSION)" || { echo "make: openapi-python-client $(OPC_VERSION) required in $(VENV_BIN)" >&2; exit 1; }
	PATH="$(VENV_BIN):$$PATH" "$(VENV_BIN)/openapi-python-client" generate --path $(SPEC) \
		--meta none --config codegen-config.yml --custom-template-path generator-templates \
		--output-path "$(1)/_generated" --fail-on-warning
endef

.PHONY: api-diff install generate check-generated lint typecheck test demo docs bench bench-transport bench-codegen bench-transfers bench-emulator bench-tree bench-throttle

install: $(ENV)

.venv/.installed: pyproject.toml
	$(BOOTSTRAP_PYTHON) -m venv .venv
	.venv/bin/python -m pip install --quiet --upgrade pip
	.venv/bin/python -m pip install --quiet -e ".[dev]"
	touch $@

generate: $(ENV)
	@tmp=$$(mktemp -d) && trap 'rm -rf "$$tmp"' EXIT && \
	$(MAKE) --no-print-directory _render OUT="$$tmp" && \
	rm -rf $(GEN_DIR) && cp -r "$$tmp/_generated" $(GEN_DIR)

check-generated: $(ENV)
	@tmp=$$(mktemp -d) && trap 'rm -rf "$$tmp"' EXIT && \
	$(MAKE) --no-print-directory _render OUT="$$tmp" && \
	diff -r -x __pycache__ "$$tmp/_generated" $(GEN_DIR) && echo "generated code is up to date"

# What regeneration changes in the public Python API (resources, methods, parameters,
# models, fields, enums; breaking ones flagged): the current spec rendered fresh, compared
# with $(GEN_DIR) as committed at REF. API_DIFF_FLAGS: e.g. --json, --fail-on-breaking.
REF ?= HEAD
api-diff: $(ENV)
	@git rev-parse --verify -q "$(REF)^{commit}" >/dev/null || { echo "make: unknown git ref '$(REF)'" >&2; exit 2; }
	@tmp=$$(mktemp -d) && trap 'rm -rf "$$tmp"' EXIT && \
	{ $(MAKE) --no-print-directory _render OUT="$$tmp/new" >"$$tmp/render.log" 2>&1 || { cat "$$tmp/render.log" >&2; exit 1; }; } && \
	mkdir "$$tmp/old" && git archive "$(REF)" $(GEN_DIR) | tar -x -C "$$tmp/old" && \
	$(PY) tools/api_diff.py "$$tmp/old/$(GEN_DIR)" "$$tmp/new/_generated" \
		--old-label "$(GEN_DIR) at $(REF)" --new-label "$(SPEC) rendered now" $(API_DIFF_FLAGS)

.PHONY: _render
_render:
	$(call render,$(OUT))

lint: $(ENV)
	"$(VENV_BIN)/ruff" check .
	"$(VENV_BIN)/ruff" format --check .
	"$(VENV_BIN)/mypy" intralinks_async tools

typecheck: $(ENV)
	"$(VENV_BIN)/mypy" intralinks_async tools

test: $(ENV)
	$(PY) -m pytest -q

# The main job: a verified bulk migration to and from the embedded emulator.
demo: $(ENV)
	"$(VENV_BIN)/intralinks-async" demo

# The documentation site (mkdocs + mkdocstrings), strict: a broken link or reference fails.
docs: $(ENV)
	"$(VENV_BIN)/mkdocs" build --strict --clean --site-dir build/site

# Benchmarks print tables of medians and ratios measured in one run (never run by tests).
bench: bench-transport bench-codegen bench-transfers bench-emulator bench-tree bench-throttle

bench-transport: $(ENV)
	$(PY) bench/transport_bench.py

bench-codegen: $(ENV)
	$(PY) bench/codegen_hotpath.py

bench-transfers: $(ENV)
	$(PY) bench/transfer_bench.py

bench-emulator: $(ENV)
	$(PY) bench/emulator_rss.py
	$(PY) bench/emulator_throughput.py

# Tree transfers against raw aiohttp clients (2,000 / 10,000 / 40,000 files; ~25 min).
bench-tree: $(ENV)
	$(PY) bench/tree_bench.py

# Migrations under the emulator's 100 req/s limit.
bench-throttle: $(ENV)
	$(PY) bench/throttle_bench.py
