# The README's two commands: `make demo` and `make test`. Both start with `install`, which is
# shared and idempotent: it creates .venv, installs requirements.txt and Detectron2 v0.6, and
# builds goss._C; each step is redone only when its inputs change.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip
CSRC := $(shell find goss/csrc -name '*.cpp' -o -name '*.cu' -o -name '*.h' -o -name '*.cuh')
# pytest workers (the machines have 2 cores)
JOBS ?= 2

.PHONY: install test demo clean

install: $(VENV)/.goss-built

$(PY):
	$(PYTHON) -m venv $(VENV)

# requirements*.txt hold every pin; Detectron2 v0.6 comes from its sdist (dev/install_detectron2.py)
$(VENV)/.deps-installed: requirements.txt requirements-nodeps.txt dev/install_detectron2.py | $(PY)
	$(PIP) install --quiet pip==26.3
	$(PIP) install -r requirements.txt
	$(PIP) install --no-deps -r requirements-nodeps.txt
	$(PY) dev/install_detectron2.py
	touch $@

# goss._C, rebuilt when a C++/CUDA source changes
$(VENV)/.goss-built: $(VENV)/.deps-installed setup.py $(CSRC)
	$(PIP) install --no-build-isolation --no-deps -e .
	touch $@

test: install
	GOSS_EXPECT_OPS=1 $(PY) -m pytest -n $(JOBS) tests

clean:
	rm -rf build *.egg-info goss/_C*.so output
