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

# Each target for $(FUZZTIME); a found input fails the run. .ci/fuzz-smoke
# explains how it tells a finding from the Go coordinator's deadline race.
fuzz-smoke:
	GO=$(GO) FUZZTIME=$(FUZZTIME) bash .ci/fuzz-smoke

# Builds, writes the demo evidence archive (with a few tamperings) and,
# apart from it, the public keys an analyst fetches from AWS, and analyses
# it: ingest, verify, and a signed report.
demo: build
	rm -rf $(DEMO)
	$(BIN)/fixturegen --demo --out $(DEMO)/evidence --keys-out $(DEMO)/keys --tar $(DEMO)/evidence.tar.zst
	$(BIN)/forensic keygen --out $(DEMO)/analyst --identity demo-analyst@example.org
	$(BIN)/forensic analyze $(DEMO)/evidence.tar.zst --public-keys $(DEMO)/keys \
	  --key $(DEMO)/analyst.key --out $(DEMO)/report --case $(DEMO)/case.db --operator demo-analyst || test $$? -eq 1
	$(BIN)/forensic report verify $(DEMO)/report --signer $(DEMO)/analyst.pub.pem
	@echo
	@echo "demo evidence:  $(DEMO)/evidence.tar.zst (tampered on purpose: the report shows what was found)"
	@echo "trust anchors:  $(DEMO)/keys (list-public-keys output, kept outside the evidence)"
	@echo "case file:      $(DEMO)/case.db"
	@echo "signed report:  $(DEMO)/report/report.html"
	@echo "verify it:      $(BIN)/forensic report verify $(DEMO)/report --signer $(DEMO)/analyst.pub.pem --evidence $(DEMO)/evidence.tar.zst"
	@echo "     or, with standard tools only: see $(DEMO)/report/VERIFY.txt"
	@echo "query events:   $(BIN)/forensic query --case $(DEMO)/case.db \"SELECT event_name, count(*) FROM ct_events_status WHERE verified = 1 GROUP BY 1 ORDER BY 2 DESC\""

bench: build
	$(GO) run ./fixtures/cmd/bench

clean:
	rm -rf $(BIN) $(DEMO) bench-out
