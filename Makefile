# nodowntime.k8s — everything a fresh machine needs is installed from here.
SHELL := /bin/bash
PY := $(CURDIR)/.venv/bin/python
VENV_STAMP := .venv/.installed
COLLECTIONS := $(CURDIR)/build/collections
export PYTHONPATH := $(CURDIR)/tests/cluster:$(COLLECTIONS)
export ANSIBLE_COLLECTIONS_PATH := $(COLLECTIONS)
# Pytest workers for the cluster tests: they mostly wait on Kubernetes, so more than the cores.
WORKERS ?= 4

.PHONY: help venv controlplane collection cluster-up cluster-down test test-unit test-integration demo clean

help:
	@echo "make demo          start the local cluster and show each release strategy under live traffic"
	@echo "make test          unit and integration tests (starts and stops the local cluster)"
	@echo "make cluster-up    start the local cluster (state and kubeconfig under .cluster/)"
	@echo "make cluster-down  stop it"

$(VENV_STAMP): requirements-dev.txt constraints.txt
	python3 -m venv .venv
	.venv/bin/pip install -q --upgrade pip
	.venv/bin/pip install -q -r requirements-dev.txt -c constraints.txt
	touch $@

venv: $(VENV_STAMP)

controlplane: venv
	$(PY) -m localcluster build

# The collection is the repo root; Ansible finds it as ansible_collections/nodowntime/k8s.
collection:
	@mkdir -p $(COLLECTIONS)/ansible_collections/nodowntime
	@ln -sfn $(CURDIR) $(COLLECTIONS)/ansible_collections/nodowntime/k8s

cluster-up: venv
	$(PY) -m localcluster up

cluster-down: venv
	$(PY) -m localcluster down

test-unit: venv collection
	$(PY) -m pytest tests/unit -q

test-integration: venv collection controlplane
	$(PY) -m localcluster with -- $(PY) -m pytest tests/integration -q -n $(WORKERS) --dist loadgroup

test: test-unit test-integration

demo: venv collection controlplane
	$(PY) -m localcluster with -- $(PY) -m localcluster.demo

clean:
	-$(PY) -m localcluster down
	rm -rf build .cluster
