# Developer and CI entry points. `make test` is what .ci/run runs.

GO        ?= go
TIMEOUT   ?= 20m
FUZZTIME  ?= 30s
BENCHCOUNT ?= 5

.PHONY: all test vet build bench fuzz clean sqllogictest difffuzz web

all: build test

vet:
	$(GO) vet ./...

test: vet
	$(GO) test -count=1 -timeout $(TIMEOUT) ./...

build:
	$(GO) build -o bin/streamsql ./cmd/streamsql

# Benchmarks only (no tests), BENCHCOUNT runs each so medians can be reported.
bench:
	$(GO) test -run '^$$' -bench . -benchmem -count $(BENCHCOUNT) -timeout 60m ./...

# Every fuzz target of every package, FUZZTIME each (go test -fuzz takes one target at a time).
fuzz:
	@set -e; for pkg in $$($(GO) list ./...); do \
		list=$$($(GO) test -list '^Fuzz' $$pkg) || { echo "$$list"; exit 1; }; \
		for target in $$(echo "$$list" | grep '^Fuzz' || true); do \
			echo "== $$pkg $$target"; \
			$(GO) test -run '^$$' -fuzz "^$$target$$" -fuzztime $(FUZZTIME) $$pkg; \
		done; \
	done

clean:
	rm -rf bin

# The web console (web/): install its npm packages from package-lock.json and rebuild web/dist,
# which is committed and embedded in the binary (so `go build` needs no Node.js).
web:
	cd web && npm ci --no-audit --no-fund && npm run build

# The kill -9 test of checkpoints and exactly-once sinks at full size (crashtest/doc.go); under
# `make test` the same test runs with a tiny default. Override CRASHTEST_SEEDS (a count or a
# list) and CRASHTEST_EVENTS from the environment or the command line.
CRASHTEST_SEEDS  ?= 3
CRASHTEST_EVENTS ?= 1000000

.PHONY: crash-test
crash-test:
	CRASHTEST_SEEDS=$(CRASHTEST_SEEDS) CRASHTEST_EVENTS=$(CRASHTEST_EVENTS) $(GO) test ./crashtest -run TestCrash -count=1 -timeout 30m -v

# The soak run (crashtest/soak_test.go): serve with 5 continuous queries ingesting, 100 clients
# querying, SIGKILL + restart every few minutes; 0 lost, 0 duplicated, RSS reported. Under
# `make test` the same test runs for 8 s. SOAK_KILL_EVERY and SOAK_CLIENTS override the defaults.
SOAK_DURATION ?= 30m

.PHONY: soak
soak:
	SOAK_DURATION=$(SOAK_DURATION) $(GO) test ./crashtest -run TestSoak -count=1 -timeout 0 -v

# SQLite's whole sqllogictest corpus on streamsql and PostgreSQL (conformance/RESULTS.md says how
# to get it): SQLLOGICTEST_DIR is the corpus' test/ directory, SQLLOGICTEST_FILES an optional glob
# on the relative path (e.g. 'select*' or 'random/expr/*'). Writes the per-file table to
# SQLLOGICTEST_REPORT. Under `make test` only the subset in conformance/testdata/sqllogictest runs.
SQLLOGICTEST_DIR     ?=
SQLLOGICTEST_FILES   ?=
SQLLOGICTEST_TIMEOUT ?= 10s
SQLLOGICTEST_REPORT  ?= sqllogictest-report.md

sqllogictest:
	@test -n "$(SQLLOGICTEST_DIR)" || { echo "set SQLLOGICTEST_DIR to the corpus' test/ directory (see conformance/RESULTS.md)"; exit 2; }
	SQLLOGICTEST_DIR=$(abspath $(SQLLOGICTEST_DIR)) SQLLOGICTEST_FILES='$(SQLLOGICTEST_FILES)' \
	SQLLOGICTEST_TIMEOUT=$(SQLLOGICTEST_TIMEOUT) STREAMSQL_SLT_REPORT=$(abspath $(SQLLOGICTEST_REPORT)) \
	$(GO) test ./conformance -run '^TestSQLLogicTest$$' -count=1 -timeout 24h -v

# The differential fuzzer against PostgreSQL for longer than the 15 s of `make test`.
DIFFFUZZ_DURATION ?= 5m

difffuzz:
	STREAMSQL_DIFFFUZZ_DURATION=$(DIFFFUZZ_DURATION) $(GO) test ./conformance -run '^TestDiffFuzz$$' -count=1 -timeout 2h -v
