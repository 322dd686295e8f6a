# Developer entry points. PY selects the virtualenv's interpreter; tools come from its bin/.
PY ?= .venv/bin/python
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

.PHONY: generate check-generated lint typecheck test

generate:
	@tmp=$$(mktemp -d) && trap 'rm -rf "$$tmp"' EXIT && \
	$(MAKE) --no-print-directory _render OUT="$$tmp" && \
	rm -rf $(GEN_DIR) && cp -r "$$tmp/_generated" $(GEN_DIR)

check-generated:
	@tmp=$$(mktemp -d) && trap 'rm -rf "$$tmp"' EXIT && \
	$(MAKE) --no-print-directory _render OUT="$$tmp" && \
	diff -r -x __pycache__ "$$tmp/_generated" $(GEN_DIR) && echo "generated code is up to date"

.PHONY: _render
_render:
	$(call render,$(OUT))

lint:
	"$(VENV_BIN)/ruff" check .
	"$(VENV_BIN)/ruff" format --check .
	"$(VENV_BIN)/mypy" intralinks_async

typecheck:
	"$(VENV_BIN)/mypy" intralinks_async

test:
	$(PY) -m pytest -q
