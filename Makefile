# The README's two commands: `make demo` and `make test`. Both start with `install`, which is
# shared and idempotent: it creates .venv, installs requirements.txt and Detectron2 v0.6, and
# builds goss._C; each step is redone only when its inputs change. `make test-detectron2-main`
# does the same in .venv-d2main with Detectron2's main branch (a checksummed snapshot) instead.
# `make lint` (run by CI before the tests) checks the Python (ruff, pyproject.toml) and C++/CUDA
# (clang-format, .clang-format) style with the tools pinned in requirements-dev.txt.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip
CSRC := $(shell find goss/csrc -name '*.cpp' -o -name '*.cu' -o -name '*.h' -o -name '*.cuh')
# pytest workers (the machines have 2 cores)
JOBS ?= 2
# which Detectron2 `install` puts into $(VENV): v0.6 (the pb1-detectron2 sdist from PyPI) or main
# (D2MAIN_SNAPSHOT, a `git archive` of facebookresearch/detectron2; both without the extension)
DETECTRON2 ?= v0.6
D2MAIN_VENV := .venv-d2main
D2MAIN_SNAPSHOT ?= ../shared/vendor/detectron2-main-02b5c4e2.tar.gz
D2_SNAPSHOT_ARG := $(if $(filter main,$(DETECTRON2)),--snapshot $(D2MAIN_SNAPSHOT))

# `make demo`: the synthetic goss_shapes data, a MobileNetV2 GST trained on the CPU, its GQ
# evaluation, the same model with all unknown pixels as one segment, and drawings.
DEMO_CFG := projects/GOSS/configs/goss_shapes/gst_mobilenet_v2.yaml
DEMO_OUT := output/demo
DEMO_EVAL := inference/goss_shapes_val/gq_results.json

.PHONY: install test test-detectron2-main demo lint clean

install: $(VENV)/.goss-built

$(PY):
	$(PYTHON) -m venv $(VENV)

# requirements*.txt hold every pin; Detectron2 v0.6 comes from its sdist (dev/install_detectron2.py)
$(VENV)/.deps-installed: requirements.txt requirements-nodeps.txt dev/install_detectron2.py | $(PY)
	$(PIP) install --quiet pip==26.3
	$(PIP) install -r requirements.txt
	$(PIP) install --no-deps -r requirements-nodeps.txt
	$(PY) dev/install_detectron2.py --source $(DETECTRON2) $(D2_SNAPSHOT_ARG)
	touch $@

# goss._C, rebuilt when a C++/CUDA source changes
$(VENV)/.goss-built: $(VENV)/.deps-installed setup.py $(CSRC)
	$(PIP) install --no-build-isolation --no-deps -e .
	touch $@

$(VENV)/.lint-installed: requirements-dev.txt | $(PY)
	$(PIP) install -r requirements-dev.txt
	touch $@

lint: $(VENV)/.lint-installed
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/ruff check .
	$(VENV)/bin/clang-format --dry-run --Werror $(CSRC)

test: install
	GOSS_EXPECT_OPS=1 $(PY) -m pytest -n $(JOBS) tests

# the same suite on Detectron2 main, in its own environment (run by .ci/run after `make test`)
test-detectron2-main:
	$(MAKE) test VENV=$(D2MAIN_VENV) DETECTRON2=main

demo: install
	$(PY) datasets/prepare_goss_shapes.py --output datasets
	$(PY) tools/train_net.py --config-file $(DEMO_CFG) OUTPUT_DIR $(DEMO_OUT)/gst
	$(PY) tools/train_net.py --config-file $(DEMO_CFG) --eval-only \
		MODEL.WEIGHTS $(DEMO_OUT)/gst/model_final.pth MODEL.GOSS.UNKNOWN_CLUSTERING none \
		OUTPUT_DIR $(DEMO_OUT)/one_unknown_segment
	$(PY) tools/demo.py --config-file $(DEMO_CFG) --output $(DEMO_OUT)/vis \
		--input "datasets/goss_shapes/val/images/val_0000*.png" \
		--opts MODEL.WEIGHTS $(DEMO_OUT)/gst/model_final.pth
	cp $(DEMO_OUT)/gst/$(DEMO_EVAL) $(DEMO_OUT)/gq_results.json
	$(PY) tools/compare_results.py "GST (Super-BPD clusters)=$(DEMO_OUT)/gq_results.json" \
		"same model, unknown as one segment=$(DEMO_OUT)/one_unknown_segment/$(DEMO_EVAL)" \
		| tee $(DEMO_OUT)/comparison.md

clean:
	rm -rf build *.egg-info goss/_C*.so output
