# nodowntime.k8s — everything a fresh machine needs is installed from here.
SHELL := /bin/bash
PY := $(CURDIR)/.venv/bin/python
VENV_STAMP := .venv/.installed
COLLECTIONS := $(CURDIR)/build/collections
export PYTHONPATH := $(CURDIR)/tests/cluster:$(COLLECTIONS)
export ANSIBLE_COLLECTIONS_PATH := $(COLLECTIONS)
# Pytest workers for the cluster tests: they mostly wait on Kubernetes, so more than the cores. Three, not
# four, on the real node: at four the 2-core machine ran at a load average of 10 and a rare request failed.
WORKERS ?= 3

.PHONY: help venv host-packages controlplane collection cluster-up cluster-down test test-unit test-integration demo clean bench \
	lint lint-python lint-yaml lint-ansible sanity sanity-tree changelog ee-context

help:
	@echo "make demo          start the local cluster and show each release strategy under live traffic"
	@echo "make test          unit and integration tests (starts and stops the local cluster)"
	@echo "make cluster-up    start the local cluster (state and kubeconfig under .cluster/)"
	@echo "make cluster-down  stop it"
	@echo "make lint          ruff, yamllint, ansible-lint (production) and ansible-test sanity"

$(VENV_STAMP): requirements-dev.txt constraints.txt
	python3 -m venv .venv
	.venv/bin/pip install -q --upgrade pip
	.venv/bin/pip install -q -r requirements-dev.txt -c constraints.txt
	touch $@

venv: $(VENV_STAMP)

# The Debian packages tests/cluster/bindep.txt lists (runc's cgo needs libseccomp-dev; the node needs
# nft, iptables, conntrack). Before the unit tests too: one of them checks this machine can run a real node.
host-packages: venv
	$(PY) -m localcluster.hostpackages

# The cluster's binaries: Kubernetes (control plane, kubelet, kube-proxy), containerd, runc, the CNI
# plugins and the test images, each built once from pinned Go modules into ~/.cache/nodowntime.
controlplane: venv host-packages
	$(PY) -m localcluster build

# The collection is the repo root; Ansible finds it as ansible_collections/nodowntime/k8s.
collection:
	@mkdir -p $(COLLECTIONS)/ansible_collections/nodowntime
	@ln -sfn $(CURDIR) $(COLLECTIONS)/ansible_collections/nodowntime/k8s

cluster-up: venv
	$(PY) -m localcluster up

cluster-down: venv
	$(PY) -m localcluster down

# The test images' Go tests too (the demo app's behaviour, the registry): tests/cluster/images.
test-unit: venv collection host-packages
	cd tests/cluster/images && go test ./...
	$(PY) -m pytest tests/unit -q

# --dist loadfile keeps each test file on one worker: the fault tests share one private cluster.
# (xdist 3.8's loadgroup ignores xdist_group markers under pytest 9.)
# The collection's tasks run with only docs/rbac.yml's Role (tests/integration/conftest.py says which tests
# stay admin and why); TEST_KUBECONFIG_MODE=admin runs them with the admin kubeconfig instead.
TEST_KUBECONFIG_MODE ?= least-privilege
test-integration: venv collection controlplane
	NODOWNTIME_TEST_KUBECONFIG_MODE=$(TEST_KUBECONFIG_MODE) \
		$(PY) -m localcluster with -- $(PY) -m pytest tests/integration -q -n $(WORKERS) --dist loadfile

# Lint first: it is fast, and it runs on the working tree (committed or not) as CI will on a clone.
lint: lint-python lint-yaml lint-ansible sanity

lint-python: venv
	.venv/bin/ruff format --check --output-format concise .
	.venv/bin/ruff check --output-format concise .

lint-yaml: venv
	.venv/bin/yamllint --strict .

lint-ansible: venv collection
	PATH="$(CURDIR)/.venv/bin:$$PATH" .venv/bin/ansible-lint -q --nocolor

# ansible-test must run from inside ansible_collections/<namespace>/<name>, and it lists files with
# git (skipping what .gitignore hides, and build/ is hidden), so it gets a real copy of the working
# tree that is a git work tree of its own. Each sanity test with requirements gets a virtualenv
# under ~/.ansible/test/venv, filled from PyPI once; tests/sanity/get_pip.py stands in for the pip
# bootstrap script ansible-test would download from a host outside PyPI. The two below are
# expanded when the sanity recipe runs (=, not :=), once the venv that answers them exists: on a
# fresh clone a := read them before it did and copied the script to get_pip_.py.
SANITY_TREE := $(CURDIR)/build/sanity/ansible_collections/nodowntime/k8s
ANSIBLE_TEST_PIP = $(shell $(PY) -c "import types; from ansible_test._internal.python_requirements import get_venv_packages as g; print(g(types.SimpleNamespace(version='3.11'))['pip'].replace('.', '_'))" 2>/dev/null)
GET_PIP_CACHE = $(HOME)/.ansible/test/cache/get_pip_$(ANSIBLE_TEST_PIP).py

sanity-tree: venv
	rm -rf $(SANITY_TREE)
	mkdir -p $(SANITY_TREE)
	tar -C $(CURDIR) -cf - --exclude=./.git --exclude=./.venv --exclude=./.cluster --exclude=./build \
		--exclude=./tests/output --exclude=__pycache__ --exclude=.pytest_cache --exclude='*.tar.gz' . \
		| tar -C $(SANITY_TREE) -xf -
	git -C $(SANITY_TREE) init -q

sanity: venv sanity-tree
	@mkdir -p $(dir $(GET_PIP_CACHE))
	@if ! [ -f $(GET_PIP_CACHE) ] || grep -q nodowntime $(GET_PIP_CACHE); then \
		cp tests/sanity/get_pip.py $(GET_PIP_CACHE); fi
	cd $(SANITY_TREE) && $(CURDIR)/.venv/bin/ansible-test sanity --python 3.11 --color no 2>&1 \
		| grep -v -e '^WARNING: Using locale' -e docker -e '^>>> Standard' -e '"ClientInfo"'; \
		exit $${PIPESTATUS[0]}

# The slow half of lint (ansible-lint and ansible-test sanity, minutes of CPU) runs beside the cluster
# tests, which mostly wait on Kubernetes: that takes minutes off the run. Its output is printed once the
# cluster tests end, and either failing fails the run. The fast half and the unit tests still run first.
test: lint-python lint-yaml test-unit
	@mkdir -p build
	@$(MAKE) -s lint-ansible sanity > build/lint-slow.log 2>&1 & lint=$$!; \
	$(MAKE) test-integration; tests=$$?; \
	wait $$lint; linted=$$?; \
	echo "=== ansible-lint and ansible-test sanity (ran beside the cluster tests) ==="; cat build/lint-slow.log; \
	[ $$tests -eq 0 ] && [ $$linted -eq 0 ] || { echo "make test: cluster tests exit $$tests, slow lint exit $$linted"; exit 1; }

# The build context of the execution environment (execution-environment.yml); no container
# engine needed. Build the image from build/ee/context with podman or docker.
ee-context: venv
	rm -rf build/ee && mkdir -p build/ee
	.venv/bin/ansible-galaxy collection build . --output-path build/ee
	mv build/ee/nodowntime-k8s-*.tar.gz build/ee/nodowntime-k8s.tar.gz
	.venv/bin/ansible-builder create -f execution-environment.yml -c build/ee/context --output-filename Containerfile

# CHANGELOG.rst and changelogs/changelog.yaml from changelogs/fragments/ (kept) and the plugins'
# version_added, for the version in galaxy.yml; run again before tagging to pick up later fragments.
VERSION = $(shell sed -n 's/^version: *//p' galaxy.yml)
changelog: venv collection
	PATH=$(CURDIR)/.venv/bin:$$PATH .venv/bin/antsibull-changelog release --version $(VERSION) --update-existing --reload-plugins
	PATH=$(CURDIR)/.venv/bin:$$PATH .venv/bin/antsibull-changelog generate --refresh-fragments
	rm -f changelogs/.plugin-cache.yaml

demo: venv collection controlplane
	$(PY) -m localcluster with -- $(PY) -m localcluster.demo

# Benchmarks (not part of make test): build/bench/results.json and results.md. BENCH_ARGS: see tests/bench/run.py.
# A cluster started here gets BENCH_CLUSTER's settings (recorded in the results): beside the real node, 4 of kubemark's
# hollow nodes (not real nodes, named so in the results) take 1600 pause pods each, so a rollout of 5000 pods with its
# 25% surge (6250) and blue/green at 1000 pods (2000) fit, which a real node on 2 cores cannot hold; 4, because each
# kubelet reports its pods' status one request at a time. The controllers' and scheduler's client-side rate limits are
# raised so thousands of pods are not throttled. A cluster already up is used as it is if it has a hollow node.
BENCH_CLUSTER ?= --hollow-nodes 4 --hollow-pods 1600 --controller-qps 400 --controller-burst 800 \
	--scheduler-qps 400 --scheduler-burst 800
bench: venv collection controlplane
	$(PY) -m localcluster with $(BENCH_CLUSTER) -- $(PY) tests/bench/run.py $(BENCH_ARGS)

clean:
	-$(PY) -m localcluster down
	rm -rf build .cluster
