// Command forensic is an offline evidence analyzer for AWS CloudTrail and
// S3: it ingests exported evidence from folders and archives into one
// SQLite case file, verifies it, and reports on it.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"runtime/pprof"
	"strings"
	"sync"
	"syscall"

	"github.com/spf13/pflag"

	"github.com/forensic-dev/forensic/internal/display"
)

// Exit codes, mapped in one place (exitCode).
const (
	exitOK     = 0
	exitFailed = 1 // a check failed or could not be completed
	exitUsage  = 2 // bad flags or arguments, unusable input
)

// usageError marks errors that exit with status 2.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func usagef(format string, a ...any) error { return usageError{fmt.Sprintf(format, a...)} }

// failedError marks a run that completed but found problems (exit 1),
// after its results were printed.
type failedError struct{ msg string }

func (e failedError) Error() string { return e.msg }

const mainUsage = `forensic — offline evidence analyzer for AWS CloudTrail and S3

Usage:
  forensic ingest --case CASE.db [--json] PATH...     read evidence into a case file
  forensic verify --case CASE.db --public-keys PATH... [--json] [--rehash]
                                                       verify digest chains and log files offline
  forensic query  --case CASE.db [--json|--csv] SQL    run read-only SQL on a case
  forensic timeline --case CASE.db [--from T] [--to T] [filters] [--json|--csv]
                                                       CloudTrail events and S3 access-log records in time order
  forensic keygen --out PREFIX                         make an Ed25519 signing key for reports
  forensic report --case CASE.db --key KEY --out DIR   write a signed chain-of-custody report
  forensic report verify DIR [--signer PUB] [--evidence PATH]... [--rerun --public-keys PATH]
                                                       check a report, its evidence, and re-run it
  forensic analyze PATH... --public-keys PATH --key KEY --out DIR
                                                       ingest + verify + report in one go
  forensic export --case CASE.db --out DIR            write the case as a Parquet dataset (Athena, Trino, Spark, DuckDB)
  forensic plan PATH...                                list the shards an export splits into (ingest --shard)
  forensic detect --case CASE.db [--rules PATH]...     run Sigma rules; every hit says whether its event is proven authentic
  forensic custody verify --case CASE.db               check the case's custody log
  forensic info --case CASE.db                         what a case holds, in one screen
  forensic --version

Run 'forensic COMMAND --help' for a command's flags and examples.
`

// memoryLimit is a soft limit for the Go heap: the garbage collector works
// harder as it nears it, which keeps peak RSS flat on large inputs.
const memoryLimit = 160 << 20

// gcPercent lets the heap grow to three times what is live before a
// collection (Go's default is twice), up to memoryLimit: the live heap of
// an ingest is small (30-55 MB, bounded by the ingest budgets), and the
// collector's work fell by a tenth of the CPU time (1M-event set: 11.5-
// 12.8 s against 12.8-13.7 s, peak RSS 220-320 MB against 180-210 MB).
const gcPercent = 200

func main() {
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(memoryLimit)
	}
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(gcPercent)
	}
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	stopProfile := startProfile(os.Getenv("FORENSIC_CPUPROFILE"))
	stopMem := startMemProfile(os.Getenv("FORENSIC_MEMPROFILE"))
	ctx, stop := handleSignals(context.Background(), sigs, os.Stderr, func(code int) {
		stopProfile()
		stopMem()
		os.Exit(code)
	})
	code := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	signal.Stop(sigs)
	stop()
	stopProfile()
	stopMem()
	os.Exit(code)
}

// handleSignals returns a context that the first signal on sigs cancels,
// so the command stops at its next check and cleans up; it then says on
// stderr that a second signal stops at once, and at the second it calls
// exit with 128 + the signal number (130 for SIGINT, 143 for SIGTERM), for
// a command stuck where no check is made. stop ends the watch and returns
// once it has ended; signals after it are not acted on.
func handleSignals(parent context.Context, sigs <-chan os.Signal, stderr io.Writer, exit func(code int)) (ctx context.Context, stop func()) {
	ctx, cancel := context.WithCancel(parent)
	done, ended := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(ended)
		n := 0
		for {
			select {
			case <-done:
				return
			case sig := <-sigs:
				select {
				case <-done:
					return // stop and a signal at the same time: stopping wins
				default:
				}
				n++
				if n == 1 {
					fmt.Fprintf(stderr, "forensic: %s: stopping; send it again to stop at once\n", signalName(sig))
					cancel()
					continue
				}
				fmt.Fprintf(stderr, "forensic: %s again: stopping at once\n", signalName(sig))
				exit(signalExitCode(sig))
				return
			}
		}
	}()
	var once sync.Once
	return ctx, func() {
		once.Do(func() { close(done); cancel() })
		<-ended
	}
}

// signalExitCode is the shell's status for a process killed by sig.
func signalExitCode(sig os.Signal) int {
	if s, ok := sig.(syscall.Signal); ok {
		return 128 + int(s)
	}
	return 128 + int(syscall.SIGINT)
}

func signalName(sig os.Signal) string {
	switch sig {
	case syscall.SIGINT:
		return "interrupt (SIGINT)"
	case syscall.SIGTERM:
		return "terminated (SIGTERM)"
	}
	return sig.String()
}

// startProfile writes a Go CPU profile of the whole command to path, for
// performance work (FORENSIC_CPUPROFILE); "" does nothing.
func startProfile(path string) (stop func()) {
	if path == "" {
		return func() {}
	}
	f, err := os.Create(path)
	if err != nil {
		fmt.Fprintf(os.Stderr, "forensic: FORENSIC_CPUPROFILE: %v\n", err)
		return func() {}
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		fmt.Fprintf(os.Stderr, "forensic: FORENSIC_CPUPROFILE: %v\n", err)
		f.Close()
		return func() {}
	}
	return func() { pprof.StopCPUProfile(); f.Close() }
}

func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, mainUsage)
		return exitUsage
	}
	var err error
	switch args[0] {
	case "--version", "-version", "version":
		fmt.Fprintln(stdout, versionString())
		return exitOK
	case "-h", "--help", "help":
		fmt.Fprint(stdout, mainUsage)
		return exitOK
	case "ingest":
		err = cmdIngest(ctx, args[1:], stdout, stderr)
	case "query":
		err = cmdQuery(ctx, args[1:], stdout, stderr)
	case "custody":
		err = cmdCustody(ctx, args[1:], stdout, stderr)
	case "verify":
		err = cmdVerify(ctx, args[1:], stdout, stderr)
	case "timeline":
		err = cmdTimeline(ctx, args[1:], stdout, stderr)
	case "report":
		err = cmdReport(ctx, args[1:], stdout, stderr)
	case "keygen":
		err = cmdKeygen(ctx, args[1:], stdout, stderr)
	case "analyze":
		err = cmdAnalyze(ctx, args[1:], stdout, stderr)
	case "export":
		err = cmdExport(ctx, args[1:], stdout, stderr)
	case "plan":
		err = cmdPlan(ctx, args[1:], stdout, stderr)
	case "detect":
		err = cmdDetect(ctx, args[1:], stdout, stderr)
	case "info":
		err = cmdInfo(ctx, args[1:], stdout, stderr)
	default:
		fmt.Fprintf(stderr, "forensic: error: %s\n", display.Quote(fmt.Sprintf("unknown command %q", args[0])))
		fmt.Fprint(stderr, mainUsage)
		return exitUsage
	}
	return exitCode(err, stderr)
}

// exitCode prints err and maps it to the exit status. Messages name
// paths and values from the evidence: they are printed through
// display.Quote.
func exitCode(err error, stderr io.Writer) int {
	if err == nil {
		return exitOK
	}
	if errors.Is(err, pflag.ErrHelp) {
		return exitOK
	}
	var ue usageError
	if errors.As(err, &ue) {
		fmt.Fprintf(stderr, "forensic: error: %s\n", display.Quote(ue.msg))
		return exitUsage
	}
	var fe failedError
	if errors.As(err, &fe) {
		fmt.Fprintf(stderr, "forensic: %s\n", display.Quote(fe.msg))
		return exitFailed
	}
	fmt.Fprintf(stderr, "forensic: error: %s\n", display.Quote(err.Error()))
	return exitFailed
}

// newFlagSet makes a subcommand's flag set; usage text is written by hand.
func newFlagSet(name, usage string, stderr io.Writer) *pflag.FlagSet {
	fs := pflag.NewFlagSet(name, pflag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, usage)
		if !fs.HasFlags() {
			return
		}
		fmt.Fprintln(stderr, "\nFlags:")
		// A boolean flag is given as --flag (pflag writes --flag[=true|false]);
		// spaces in its place keep the columns.
		fmt.Fprint(stderr, strings.ReplaceAll(fs.FlagUsages(), "[=true|false]", "             "))
	}
	return fs
}

// parseFlags parses args, turning flag errors into usage errors.
func parseFlags(fs *pflag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, pflag.ErrHelp) {
			return err
		}
		return usagef("%s: %v", fs.Name(), err)
	}
	if f := fs.Lookup("operator"); f != nil {
		// Every command that records who ran it.
		if err := checkOperator(f.Value.String()); err != nil {
			return usagef("%s: %v", fs.Name(), err)
		}
	}
	return nil
}
