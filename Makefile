# ScratchContainer: every entry point. `make help` lists them.
SHELL := /bin/bash
GO ?= go
BUILD := build
ROOTFS := $(BUILD)/rootfs
BIN := ./scratchcontainer
# Debian packages the tests and the demo need; ruby and shellcheck lint the
# lab (make lint-lab), qemu and cpio run make vm-test.
DEBS := busybox-static iptables iproute2 kmod ruby shellcheck qemu-system-x86 cpio
N ?= 01

LAB_DIR := /home/vagrant/scratchcontainer

.PHONY: help build rootfs rootfs-host demo test chapter deps clean lab lint-lab vm-test

help: ## list the entry points
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-16s %s\n", $$1, $$2}'

build: ## build ./scratchcontainer, the full runtime
	$(GO) build -o $(BIN) .

deps: ## install the Debian packages the tests need, if missing (root)
	@missing=""; for p in $(DEBS); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" != 0 ]; then echo "make: missing Debian packages:$$missing; run make as root (sudo make test)"; exit 1; fi; \
	  echo "installing$$missing"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	fi

rootfs: deps ## build a busybox rootfs in build/rootfs
	@[ -x $(ROOTFS)/bin/busybox ] || $(GO) run ./runtime/rootfs/mkrootfs $(ROOTFS)

demo: build rootfs ## a short narrated tour of the chapters
	@bash demo.sh $(BIN) $(ROOTFS)

test: deps lint-lab ## gofmt, go vet, unit tests and every chapter's scripts, as root
	@[ "$$(id -u)" = 0 ] || { echo "make test: the scripts need root: sudo make test"; exit 1; }
	@bad=$$(gofmt -l $$(git ls-files '*.go')); [ -z "$$bad" ] || { echo "gofmt would change: $$bad"; exit 1; }
	$(GO) vet ./...
	@mkdir -p $(BUILD)
	@set -o pipefail; $(GO) test -count=1 -timeout 15m ./... 2>&1 | tee $(BUILD)/test.log; status=$$?; \
	echo; echo "Per chapter (chapters/NN: chapters 1..NN; the root package: every suite on the full runtime):"; \
	awk '$$1=="ok"||$$1=="FAIL"||$$1=="?" { if ($$2 ~ /scratchcontainer/) printf "  %-4s %s\n", ($$1=="?"?"-":$$1), $$2 }' $(BUILD)/test.log; \
	exit $$status

chapter: deps ## run one chapter's suite: make chapter N=03
	@d=$$(ls -d chapters/$(N)-* 2>/dev/null) || { echo "make chapter: no chapter $(N); try N=01 to N=07"; exit 1; }; \
	$(GO) test -count=1 -timeout 10m -v ./$$d | grep -E '^\s*(---|ok|FAIL|PASS)'

lab: ## the workshop VM (vagrant/Vagrantfile): bring it up, open a shell in the project
	cd vagrant && vagrant up && vagrant ssh -c 'cd $(LAB_DIR) && exec bash -l'

lint-lab: ## check the lab's Vagrantfile (ruby -c) and scripts (shellcheck)
	@ruby -c vagrant/Vagrantfile >/dev/null
	shellcheck vagrant/*.sh

vm-test: deps ## every chapter's suite, as root, in a QEMU VM on Debian's kernel with cgroup v2 only
	bash vagrant/vm-test.sh

clean: ## remove build/ and the binary
	rm -rf $(BUILD) $(BIN)
