# ScratchContainer: every entry point. `make help` lists them.
SHELL := /bin/bash
GO ?= go
BUILD := build
ROOTFS := $(BUILD)/rootfs
DEBIAN_ROOTFS := $(BUILD)/rootfs-debian
BIN := ./scratchcontainer
# Debian packages the tests and the demo need; ruby and shellcheck lint the
# lab and the scripts (make lint-lab); uidmap (newuidmap) and passt (pasta)
# serve the runs without root. make vm-test adds VM_DEBS.
DEBS := busybox-static iptables iproute2 kmod ruby shellcheck uidmap passt
VM_DEBS := qemu-system-x86 cpio
N ?= 01

LAB_DIR := /home/vagrant/scratchcontainer

.PHONY: conformance bench stress fuzz help build rootfs lessons trace rootfs-host rootfs-debian demo test chapter progress verify-exercises deps clean lab lint-lab vm-test

help: ## list the entry points
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-16s %s\n", $$1, $$2}'

# Without cgo the binary is static: no dynamic loader and libc to start, about
# 1 ms less at each start, and a run starts it twice (the runtime, then its
# re-executed child). Nothing in it needs cgo (see tools/bench/README.md).
build: ## build ./scratchcontainer, the full runtime
	CGO_ENABLED=0 $(GO) build -o $(BIN) .

deps: ## install the Debian packages the tests need, if missing (root)
	@missing=""; for p in $(DEBS); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" != 0 ]; then echo "make: missing Debian packages:$$missing; run make as root (sudo make test)"; exit 1; fi; \
	  echo "installing$$missing"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	fi

rootfs: deps $(ROOTFS)/usr/local/bin/memhog ## build/rootfs: busybox, and the test helpers (memhog, cpuburn, tcpsink, ...) in /usr/local/bin
	@[ -x $(ROOTFS)/bin/busybox ] || $(GO) run ./tools/mkrootfs $(ROOTFS)

# The helpers are rebuilt when their sources change (memhog stands for them all).
$(ROOTFS)/usr/local/bin/memhog: $(wildcard testdata/helpers/*/*.go) | deps
	$(GO) run ./tools/mkrootfs -helpers testdata/helpers $(ROOTFS)

rootfs-host: ## copy host programs with their libraries into build/rootfs-host: make rootfs-host BINARIES="bash ls"
	@[ -n "$(BINARIES)" ] || { echo 'make rootfs-host: name the programs: make rootfs-host BINARIES="bash ls"'; exit 1; }
	$(GO) run ./tools/mkrootfs -host "$(BINARIES)" $(BUILD)/rootfs-host

rootfs-debian: ## a Debian rootfs with python3 in build/rootfs-debian, from Debian's packages (root)
	@[ "$$(id -u)" = 0 ] || { echo "make rootfs-debian: debootstrap needs root: sudo make rootfs-debian"; exit 1; }
	@dpkg -s debootstrap >/dev/null 2>&1 || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >/dev/null; }
	@[ -x $(DEBIAN_ROOTFS)/usr/bin/python3 ] || debootstrap --variant=minbase --include=python3 bookworm $(DEBIAN_ROOTFS)

demo: build rootfs ## a short narrated tour of the chapters
	@bash scripts/demo.sh $(BIN) $(ROOTFS)

test: deps lint-lab ## gofmt, go vet, unit tests, every chapter's scripts, then make lessons, as root
	@[ "$$(id -u)" = 0 ] || { echo "make test: the scripts need root: sudo make test"; exit 1; }
	@bad=$$(gofmt -l $$(git ls-files '*.go')); [ -z "$$bad" ] || { echo "gofmt would change: $$bad"; exit 1; }
	$(GO) vet ./...
	@mkdir -p $(BUILD)
	@set -o pipefail; $(GO) test -count=1 -timeout 15m ./... 2>&1 | tee $(BUILD)/test.log; status=$$?; \
	echo; echo "Per chapter (chapters/NN: chapters 1..NN; the root package: every suite on the full runtime):"; \
	awk '$$1=="ok"||$$1=="FAIL"||$$1=="?" { if ($$2 ~ /scratchcontainer/) printf "  %-4s %s\n", ($$1=="?"?"-":$$1), $$2 }' $(BUILD)/test.log; \
	[ $$status = 0 ] || exit $$status; \
	echo; echo "make demo, as a learner runs it first (60 s at most: a hang fails):"; \
	timeout 60 $(MAKE) --no-print-directory demo >$(BUILD)/demo.log 2>&1; d=$$?; \
	[ $$d = 0 ] || { tail -20 $(BUILD)/demo.log; echo "make demo failed (exit $$d; 124: hung, stopped after 60 s): see $(BUILD)/demo.log"; exit 1; }; \
	echo "  ok   make demo"
	@$(MAKE) --no-print-directory lessons

lessons: build rootfs ## run every console block of README.md and the lessons, compare their output (root)
	@[ "$$(id -u)" = 0 ] || { echo "make lessons: the lessons run containers: sudo make lessons"; exit 1; }
	$(GO) run ./tools/lessons

chapter: deps ## run chapter N's suite on your exercise: make chapter N=03 (REFERENCE=1: on the reference)
	@scripts/workshop.sh chapter $(N) $(if $(REFERENCE),reference)

progress: deps ## the workshop at a glance: each chapter passing, failing or not started
	@scripts/workshop.sh progress

verify-exercises: deps ## every untouched exercise fails its suite, every reference passes
	@scripts/workshop.sh verify

conformance: build ## the OCI runtime-tools validation suite (v0.9.0) on ./scratchcontainer, then on runc as the reference row (root)
	@[ "$$(id -u)" = 0 ] || { echo "make conformance: the suite creates containers: sudo make conformance"; exit 1; }
	tools/oci-validation/run.sh $(BIN)
	@if command -v runc >/dev/null; then echo; echo "runc, the reference:"; WORK=/tmp/oci-validation-runc tools/oci-validation/run.sh $$(command -v runc); else echo "runc is not installed: no reference row (apt-get install runc)"; fi

bench: build rootfs ## latency vs runc and the unshare floor, 20 at once, throughput: build/bench/
	@dpkg -s runc >/dev/null 2>&1 || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq runc >/dev/null
	CGO_ENABLED=0 $(GO) build -o $(BUILD)/scbench ./tools/bench
	$(BUILD)/scbench -runs $(or $(RUNS),30)

trace: build rootfs ## watch a container start, step by step: run -trace build/rootfs /bin/true (a running one: scratchcontainer inspect ID)
	@[ "$$(id -u)" = 0 ] || { echo "make trace: namespaces and cgroups need root: sudo make trace"; exit 1; }
	$(BIN) run -trace $(ROOTFS) /bin/true

stress: build rootfs ## 200 sequential and 20 concurrent networked runs, then an inventory that must be empty
	@bash scripts/stress.sh $(BIN) $(ROOTFS) $(or $(SEQUENTIAL),200) $(or $(CONCURRENT),20)

fuzz: ## fuzz the parsers of -publish, -memory and -cpus, FUZZTIME each (default 10s)
	$(GO) test -run XXX -fuzz FuzzParsePort -fuzztime $(or $(FUZZTIME),10s) ./chapters/07-publish/
	$(GO) test -run XXX -fuzz FuzzParseSize -fuzztime $(or $(FUZZTIME),10s) ./chapters/05-cgroups/
	$(GO) test -run XXX -fuzz FuzzParseCPUs -fuzztime $(or $(FUZZTIME),10s) ./chapters/05-cgroups/

lab: ## the workshop VM (vagrant/Vagrantfile): bring it up, open a shell in the project
	cd vagrant && vagrant up && vagrant ssh -c 'cd $(LAB_DIR) && exec bash -l'

lint-lab: deps ## check the lab's Vagrantfile (ruby -c) and the shell scripts (shellcheck)
	@ruby -c vagrant/Vagrantfile >/dev/null
	shellcheck vagrant/*.sh scripts/*.sh .ci/run

vm-test: ## every chapter's suite, as root, in a QEMU VM on Debian's kernel with cgroup v2 only
	@$(MAKE) --no-print-directory deps DEBS="$(DEBS) $(VM_DEBS)"
	bash vagrant/vm-test.sh

clean: ## remove build/ and the binary
	rm -rf $(BUILD) $(BIN)
