# Developer and CI entry points. `make test` is what .ci/run runs.

GO        ?= go
TIMEOUT   ?= 20m
FUZZTIME  ?= 30s
BENCHCOUNT ?= 5

.PHONY: all test vet build bench fuzz clean

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
