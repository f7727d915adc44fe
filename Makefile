# Accrue — the two commands a newcomer needs are `make run` and `make test` (see README.md).
SHELL := bash
# The Go release every entry point builds with (go1.26.8's standard library has reachable
# vulnerabilities, see `make vulncheck`); the go command fetches it from the module proxy.
export GOTOOLCHAIN := go1.27.3
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

BIN        := $(CURDIR)/bin
BUF        := $(CURDIR)/tools/buf/node_modules/.bin/buf
MODULES    := gen/go internal/platform services/customer services/project services/resource services/timeexpense services/billing gateway e2e
PROTO_OUT  := gen/go/accrue gateway/internal/openapi/spec docs/generated
GO_TEST_FLAGS ?= -race -count=1 -timeout 20m
# Checks of deploy/ (Dockerfiles, compose, kustomize): a module of its own, out of MODULES so its
# build tools stay out of vulncheck and the race-detector run.
DEPLOY_CHECKS := deploy/checks
IMAGES     := customer project resource timeexpense billing gateway dispatcher accruectl
VERSION    ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
REVISION   ?= $(shell git rev-parse HEAD 2>/dev/null || echo unknown)

.PHONY: help
help: ## list targets
	@grep -hE '^[a-z][a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-16s %s\n", $$1, $$2}'

# ---------------------------------------------------------------------------------------------
# Tools (pinned): protoc plugins from tools/protoc/go.mod, buf from tools/buf/package.json.

$(BIN)/protoc-gen-go $(BIN)/protoc-gen-go-grpc $(BIN)/protoc-gen-grpc-gateway $(BIN)/protoc-gen-openapiv2: tools/protoc/go.mod
	GOWORK=off GOBIN=$(BIN) go -C tools/protoc install tool

$(BIN)/protoc-gen-accrue-events: tools/protoc-gen-accrue-events/go.mod $(wildcard tools/protoc-gen-accrue-events/*.go)
	GOWORK=off GOBIN=$(BIN) go -C tools/protoc-gen-accrue-events install .

$(BUF): tools/buf/package.json tools/buf/package-lock.json
	cd tools/buf && npm ci --no-audit --no-fund --loglevel=error
	touch $(BUF)

$(BIN)/govulncheck $(BIN)/indexdb: tools/govulncheck/go.mod
	GOWORK=off GOBIN=$(BIN) go -C tools/govulncheck install tool

$(BIN)/grpcurl: tools/grpcurl/go.mod
	GOWORK=off GOBIN=$(BIN) go -C tools/grpcurl install tool

# `make bin/grpcurl` (the README's spelling) builds the same file as $(BIN)/grpcurl.
bin/grpcurl: $(BIN)/grpcurl

.PHONY: tools
tools: $(BIN)/protoc-gen-accrue-events $(BIN)/protoc-gen-go $(BIN)/protoc-gen-go-grpc $(BIN)/protoc-gen-grpc-gateway $(BIN)/protoc-gen-openapiv2 $(BUF) ## install the pinned code generators

proto/.deps/.staged: proto/deps.sh
	proto/deps.sh
	touch $@

# ---------------------------------------------------------------------------------------------
# Contracts

# docs/errors.md's generator (tools/errdoc; its own tests run first).
$(BIN)/errdoc: tools/errdoc/go.mod $(wildcard tools/errdoc/*.go)
	GOWORK=off go -C tools/errdoc test -count=1 .
	GOWORK=off go -C tools/errdoc build -o $(BIN)/errdoc .

.PHONY: generate
generate: tools proto/.deps/.staged $(BIN)/errdoc ## regenerate Go, gateway and OpenAPI code from proto/, and docs/errors.md
	rm -rf $(PROTO_OUT)
	PATH="$(BIN):$$PATH" $(BUF) generate
	$(BUF) format -w --path proto/accrue
	$(BIN)/errdoc -o docs/errors.md

.PHONY: check-generated
check-generated: generate ## fail when committed generated code differs from the contracts
	@if [ -n "$$(git status --porcelain -- $(PROTO_OUT) proto/accrue docs/errors.md)" ]; then \
		git status --porcelain -- $(PROTO_OUT) proto/accrue docs/errors.md; \
		echo "generated code or proto formatting is stale: run 'make generate' and commit the result" >&2; exit 1; fi

.PHONY: buf-lint
buf-lint: $(BUF) proto/.deps/.staged ## buf lint (STANDARD) and buf format check
	$(BUF) lint
	$(BUF) format --diff --exit-code --path proto/accrue

.PHONY: breaking
breaking: $(BUF) proto/.deps/.staged ## breaking contract changes against BASE (a git ref; default: HEAD~1 on main, else the merge base with main)
	proto/breaking.sh $(BASE)

.PHONY: events-snapshot
events-snapshot: ## at a release: record its event payload contracts, which the next release's consumers must accept
	go test -count=1 -run '^TestConsumersAcceptPreviousReleasePayloads$$' ./internal/platform/catalogue/ -write-events-snapshot

# ---------------------------------------------------------------------------------------------
# Quality gates

.PHONY: fmt
fmt: ## gofmt all Go code
	gofmt -w $(MODULES) $(DEPLOY_CHECKS)

.PHONY: vet
vet: ## gofmt check and go vet on every module
	@bad=$$(gofmt -l $(filter-out gen/go,$(MODULES)) $(DEPLOY_CHECKS)); if [ -n "$$bad" ]; then echo "gofmt needed:"; echo "$$bad"; exit 1; fi
	go vet $(addsuffix /...,$(addprefix ./,$(MODULES)))

.PHONY: vulncheck
vulncheck: $(BIN)/govulncheck $(BIN)/indexdb ## govulncheck every module offline (database from the golang.org/x/vulndb module)
	tools/govulncheck/run.sh $(MODULES)

# House rules the compiler does not enforce (tools/housecheck; its own tests run first).
$(BIN)/housecheck: tools/housecheck/go.mod $(wildcard tools/housecheck/*.go)
	GOWORK=off go -C tools/housecheck test -count=1 .
	GOWORK=off go -C tools/housecheck build -o $(BIN)/housecheck .

.PHONY: check-imports
check-imports: $(BIN)/housecheck ## fail on imports that break the layering rules (docs: ARCHITECTURE §9)
	$(BIN)/housecheck imports

.PHONY: check-hygiene
check-hygiene: $(BIN)/housecheck ## fail on tracked files over 1 MB and on stream/event-type literals in services
	$(BIN)/housecheck hygiene

.PHONY: check-migrations
check-migrations: $(BIN)/housecheck ## fail on a migration that drops, renames or retypes a table or column without a contract marker (docs/deploy.md)
	$(BIN)/housecheck migrations

.PHONY: deps
deps: ## make sure Postgres and Redis run locally (installs them with apt when missing)
	deploy/local/ensure-deps.sh

.PHONY: check-deploy
check-deploy: ## check the Dockerfiles, the compose file and the kustomize overlays (no Docker or cluster needed)
	go vet ./$(DEPLOY_CHECKS)/...
	go test -count=1 ./$(DEPLOY_CHECKS)/...

.PHONY: test
test: deps vet buf-lint breaking check-generated check-imports check-hygiene check-migrations check-deploy ## all checks and all tests on real Postgres and Redis
	@mkdir -p $(dir $(PROPERTY_REPORT)) && rm -f $(PROPERTY_REPORT)
	ACCRUE_PROPERTY_REPORT=$(PROPERTY_REPORT) go test $(GO_TEST_FLAGS) $(addsuffix /...,$(addprefix ./,$(MODULES)))
	@cat $(PROPERTY_REPORT)
	$(MAKE) --no-print-directory fuzz-short

# The REST property test runs with the e2e tests (in parallel with them) and leaves its counts
# here for `make test` to print; `make property` runs it alone, verbosely.
PROPERTY_REPORT := $(CURDIR)/.cache/property-report.txt

.PHONY: property
property: ## the REST property test: generated requests to every route, never a 5xx, nothing written on a 4xx
	@out=$$(go test $(GO_TEST_FLAGS) -run '^TestRESTProperty' -v ./e2e/ 2>&1); st=$$?; \
	if [ $$st -ne 0 ]; then printf '%s\n' "$$out"; else printf '%s\n' "$$out" | grep -E '^(property:|ok)'; fi; exit $$st

# A short run of every fuzz target of the payload parsers, the Idempotency-Key parser, money,
# hours and date parsing (their seed corpora already run in go test); FUZZTIME per target, the
# packages in FUZZ_PKG one by one (go test -fuzz takes one package). -fuzzminimizetime keeps the
# engine from spending a short run minimising multi-kilobyte fixture inputs.
FUZZTIME ?= 5s
FUZZ_PKG := ./gateway/internal/translate/ ./internal/platform/idempotency/ ./internal/platform/money/ \
	./internal/platform/civil/ ./services/timeexpense/internal/wire/

.PHONY: fuzz-short
fuzz-short: ## a short fuzz run of every payload parser and mapping (FUZZTIME each)
	for p in $(FUZZ_PKG); do for f in $$(go test -list '^Fuzz' $$p | grep '^Fuzz'); do \
		go test -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) -fuzzminimizetime 1s -parallel 2 $$p || exit 1; done; done

# The fault harness (e2e/chaos_test.go): its own Postgres and Redis on private ports, a seeded
# load under kills, a Postgres crash, Redis restarts and a wipe, then the correctness gate.
CHAOS_ENTRIES ?= 12000
CHAOS_FAULTS  ?= 12

.PHONY: chaos
chaos: ## fault harness: CHAOS_ENTRIES (12000) entries under CHAOS_FAULTS (12) faults, CHAOS_SEED; then the gate
	ACCRUE_E2E_SHARED=0 CHAOS_ENTRIES=$(CHAOS_ENTRIES) CHAOS_FAULTS=$(CHAOS_FAULTS) CHAOS_CHECK_BOUNDS=1 \
		go test -count=1 -timeout 40m -v -run '^(TestChaos|TestFailedApplyPostedWithin5sOfPostgresReturning)$$' ./e2e/
	# Outbound webhooks: a receiver down for 2 minutes, then back, gets every event once, in order.
	ACCRUE_WEBHOOK_CHAOS_DOWN=2m go test -count=1 -timeout 10m -v -run '^TestReceiverDownThenBackGetsEveryEventOnceInOrderPerSubject$$' \
		./gateway/internal/dispatch/dispatchtest/

.PHONY: test-short
test-short: deps ## tests only, without the race detector
	go test -count=1 $(addsuffix /...,$(addprefix ./,$(MODULES)))

.PHONY: bench
bench: deps ## benchmarks; rewrites the latest results in docs/benchmarks.md
	deploy/local/bench.sh

# ---------------------------------------------------------------------------------------------
# Running locally

.PHONY: build
build: ## build every binary into bin/
	@mkdir -p $(BIN)
	for s in customer project resource timeexpense billing; do go build -o $(BIN)/$$s ./services/$$s/cmd/$$s; done
	go build -o $(BIN)/gateway ./gateway/cmd/gateway
	go build -o $(BIN)/dispatcher ./gateway/cmd/dispatcher
	go build -o $(BIN)/accruectl ./gateway/cmd/accruectl

.PHONY: images
images: ## build every container image with Docker (deploy/docker), tagged accrue/<name>:$(VERSION)
	for i in $(IMAGES); do docker build -f deploy/docker/$$i.Dockerfile --build-arg VERSION=$(VERSION) \
		--build-arg REVISION=$(REVISION) -t accrue/$$i:$(VERSION) .; done

.PHONY: run
run: deps build ## run all services and the gateway locally, then print how to call them
	deploy/local/run.sh

.PHONY: stop
stop: ## stop what make run started
	deploy/local/stop.sh

.PHONY: reset
reset: ## stop make run and delete its data (the accrue_* databases and its Redis keys); keys and secrets stay
	deploy/local/reset.sh

.PHONY: tidy
tidy: ## go mod tidy in every module
	for m in $(MODULES) $(DEPLOY_CHECKS); do (cd $$m && GOWORK=off GOFLAGS=-mod=mod go mod tidy); done
