package main

import (
	"context"
	"database/sql"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"unicode/utf8"

	"github.com/forensic-dev/forensic/internal/display"
	"github.com/forensic-dev/forensic/store"
)

const queryUsage = `Usage: forensic query --case CASE.db [--json|--csv] SQL

Runs read-only SQL on a case file. The case is opened read-only; a statement
that would change it is refused. The schema is documented in README.md.

Output: an aligned table (a value holding control, bidi or invisible
characters or a lookalike slash is printed quoted, as a Go string literal
with those characters escaped); --csv and --json print the exact values.

Examples:
  forensic query --case case.db "SELECT event_name, count(*) FROM ct_events GROUP BY 1 ORDER BY 2 DESC"
  forensic query --case case.db --csv "SELECT event_time, principal, source_ip FROM ct_events WHERE event_name = 'StopLogging'"
  forensic query --case case.db --json "SELECT kind, count(*) AS n FROM evidence GROUP BY kind"
`

func cmdQuery(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var casePath string
	var asJSON, asCSV bool
	fs := newFlagSet("query", queryUsage, stderr)
	fs.StringVar(&casePath, "case", "", "case file (required)")
	fs.BoolVar(&asJSON, "json", false, "print rows as a JSON array of objects")
	fs.BoolVar(&asCSV, "csv", false, "print rows as CSV with a header line")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if casePath == "" {
		return usagef("query: --case is required")
	}
	if fs.NArg() != 1 {
		return usagef("query: give exactly one SQL statement (quote it)")
	}
	if asJSON && asCSV {
		return usagef("query: choose one of --json and --csv")
	}
	q := fs.Arg(0)
	if store.IsWriteStatement(q) {
		return usagef("query: only read-only statements (SELECT, WITH, EXPLAIN, PRAGMA reads) are allowed; the case is opened read-only")
	}
	c, err := store.OpenReadOnly(ctx, casePath)
	if err != nil {
		return usagef("query: %v", err)
	}
	defer c.Close()
	rows, err := c.QueryReadOnly(ctx, q)
	if err != nil {
		if strings.Contains(err.Error(), "readonly") || strings.Contains(err.Error(), "read-only") {
			return usagef("query: refused: the case is opened read-only (%v)", err)
		}
		return usagef("query: %v", err)
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return err
	}
	switch {
	case asJSON:
		return writeJSONRows(stdout, rows, cols)
	case asCSV:
		return writeCSVRows(stdout, rows, cols)
	}
	return writeTableRows(stdout, rows, cols)
}

func scanRow(rows *sql.Rows, n int) ([]any, error) {
	vals := make([]any, n)
	ptrs := make([]any, n)
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	if err := rows.Scan(ptrs...); err != nil {
		return nil, err
	}
	for i, v := range vals {
		if b, ok := v.([]byte); ok {
			if utf8.Valid(b) {
				vals[i] = string(b)
			} else {
				vals[i] = fmt.Sprintf("x'%x'", b)
			}
		}
	}
	return vals, nil
}

func cell(v any) string {
	if v == nil {
		return "NULL"
	}
	return fmt.Sprint(v)
}

// writeTableRows prints every cell through display.Quote: a value from
// the evidence cannot break the table (tabs, newlines) or rewrite the
// terminal.
func writeTableRows(w io.Writer, rows *sql.Rows, cols []string) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	head := make([]string, len(cols))
	for i, c := range cols {
		head[i] = display.Quote(c)
	}
	fmt.Fprintln(tw, strings.Join(head, "\t"))
	for rows.Next() {
		vals, err := scanRow(rows, len(cols))
		if err != nil {
			return err
		}
		cells := make([]string, len(vals))
		for i, v := range vals {
			cells[i] = display.Quote(cell(v))
		}
		fmt.Fprintln(tw, strings.Join(cells, "\t"))
	}
	if err := rows.Err(); err != nil {
		return err
	}
	return tw.Flush()
}

func writeCSVRows(w io.Writer, rows *sql.Rows, cols []string) error {
	cw := csv.NewWriter(w)
	cw.Write(cols)
	for rows.Next() {
		vals, err := scanRow(rows, len(cols))
		if err != nil {
			return err
		}
		rec := make([]string, len(vals))
		for i, v := range vals {
			if v != nil {
				rec[i] = fmt.Sprint(v)
			}
		}
		cw.Write(rec)
	}
	if err := rows.Err(); err != nil {
		return err
	}
	cw.Flush()
	return cw.Error()
}

func writeJSONRows(w io.Writer, rows *sql.Rows, cols []string) error {
	io.WriteString(w, "[")
	first := true
	for rows.Next() {
		vals, err := scanRow(rows, len(cols))
		if err != nil {
			return err
		}
		var b strings.Builder
		b.WriteString("{")
		for i, c := range cols {
			if i > 0 {
				b.WriteString(",")
			}
			k, _ := json.Marshal(c)
			v, _ := json.Marshal(vals[i])
			b.Write(k)
			b.WriteString(":")
			b.Write(v)
		}
		b.WriteString("}")
		if !first {
			io.WriteString(w, ",")
		}
		io.WriteString(w, "\n")
		io.WriteString(w, b.String())
		first = false
	}
	if err := rows.Err(); err != nil {
		return err
	}
	io.WriteString(w, "\n]\n")
	return nil
}
