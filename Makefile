# frontdesk — run `make help` for the targets.
SHELL := /bin/bash
GO ?= go
BIN := bin/frontdesk
PKGS := ./...
# Go's race detector and the benchmarks want a little time; keep CI under 15 min.
TEST_TIMEOUT ?= 12m

.PHONY: help run build web web-test web-e2e test test-cluster test-short bench lint gen fuzz clean cluster

help: ## list the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-12s %s\n", $$1, $$2}'

build: ## build bin/frontdesk (rebuilds the web app first when npm is installed; dist/ is committed)
	@if command -v npm >/dev/null && [ -d dashboard/web ]; then $(MAKE) --no-print-directory web; fi
	$(GO) build -o $(BIN) ./cmd/frontdesk

web: ## build the dashboard web app into dashboard/web/dist (needs Node.js; dist is committed)
	cd dashboard/web && npm ci --no-audit --no-fund && npm run build

web-test: ## dashboard unit tests (Vitest)
	cd dashboard/web && npm ci --no-audit --no-fund && npm test

web-e2e: build ## browser test of the dashboard against bin/frontdesk (needs /usr/bin/chromium)
	cd dashboard/web && FD_BIN=$(CURDIR)/$(BIN) E2E_REQUIRE_EMBEDDED=1 npm run test:e2e

run: build ## run frontdesk on its embedded defaults (SQLite + embedded log in ./data, :8080; demo mode unless WhatsApp is configured)
	@if [ -z "$$FRONTDESK_WHATSAPP_PHONE_NUMBER_ID" ]; then export FRONTDESK_DEMO=$${FRONTDESK_DEMO:-1}; fi; ./$(BIN) serve

test: ## go vet + all tests with -race (PostgreSQL tests run when FRONTDESK_TEST_DATABASE_URL is set)
	$(GO) vet $(PKGS)
	$(GO) test -race -count=1 -timeout $(TEST_TIMEOUT) $(PKGS)

test-cluster: ## three-member cluster tests: separate processes, kfake broker, PostgreSQL (needs FRONTDESK_TEST_DATABASE_URL)
	$(GO) test -tags cluster -run '^TestCluster' -count=1 -timeout 25m -v ./cmd/frontdesk/ 2>&1 | grep -E '^(=== RUN|--- |PASS|FAIL|ok|cluster recovery|\s+cluster_test)' ; exit $${PIPESTATUS[0]}

test-short: ## quick tests without -race
	$(GO) test -count=1 $(PKGS)

bench: ## run the benchmarks and write bench/RESULTS.md
	./bench/run.sh

lint: ## go vet and gofmt check
	$(GO) vet $(PKGS)
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { gofmt -l $$(git ls-files '*.go'); exit 1; }

gen: ## regenerate protobuf code (needs protoc and protoc-gen-go)
	PATH="$$PATH:$$($(GO) env GOPATH)/bin" protoc --go_out=. --go_opt=paths=source_relative actors/grainpb/grain.proto

fuzz: ## run each fuzz target for 30 s
	@for t in $$(git grep -l '^func Fuzz' -- '*_test.go' | xargs -n1 dirname | sort -u); do \
	  for f in $$(grep -ho '^func Fuzz[A-Za-z0-9_]*' $$t/*_test.go | sed 's/func //'); do \
	    $(GO) test -run XXX -fuzz "^$$f$$" -fuzztime 30s ./$$t || exit 1; done; done

cluster: ## three members + a development Kafka broker on this machine (needs PostgreSQL; see README)
	./deploy/local-cluster.sh

clean: ## remove build outputs
	rm -rf bin
