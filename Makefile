# forensic — see README.md. Every target works on a fresh machine with Go.
GO      ?= go
BIN     := bin
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -X main.version=$(VERSION)
FUZZTIME ?= 10s
DEMO    ?= demo

.PHONY: build test vet fuzz-smoke demo bench clean

build:
	$(GO) build -ldflags "$(LDFLAGS)" -o $(BIN)/forensic ./cmd/forensic
	$(GO) build -o $(BIN)/fixturegen ./fixtures/cmd/fixturegen

vet:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	  if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...

# All tests, then every fuzz target for $(FUZZTIME) each.
test: vet
	$(GO) test -count=1 ./...
	$(MAKE) --no-print-directory fuzz-smoke

fuzz-smoke:
	@set -e; for pkg in $$($(GO) list ./...); do \
	  for f in $$($(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz' || true); do \
	    echo "fuzz $$pkg $$f ($(FUZZTIME))"; \
	    $(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) $$pkg > /tmp/fuzz-$$f.log 2>&1 || { cat /tmp/fuzz-$$f.log; exit 1; }; \
	  done; \
	done

# Builds, writes the demo evidence archive, and analyses it.
demo: build
	rm -rf $(DEMO)
	$(BIN)/fixturegen --demo --out $(DEMO)/evidence --tar $(DEMO)/evidence.tar.zst
	$(BIN)/forensic ingest --case $(DEMO)/case.db $(DEMO)/evidence.tar.zst || test $$? -eq 1
	$(BIN)/forensic query --case $(DEMO)/case.db "SELECT kind, count(*) AS items, sum(record_count) AS records FROM evidence GROUP BY kind ORDER BY kind"
	$(BIN)/forensic query --case $(DEMO)/case.db "SELECT event_time, event_name, principal, source_ip FROM ct_events WHERE event_name IN ('StopLogging','StartLogging','DeleteTrail') ORDER BY event_time"
	@echo
	@echo "demo evidence: $(DEMO)/evidence.tar.zst   case file: $(DEMO)/case.db"
	@echo "try: $(BIN)/forensic query --case $(DEMO)/case.db \"SELECT event_name, count(*) FROM ct_events GROUP BY 1 ORDER BY 2 DESC\""

bench: build
	$(GO) run ./fixtures/cmd/bench

clean:
	rm -rf $(BIN) $(DEMO) bench-out
