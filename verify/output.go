package verify

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"

	gojson "github.com/goccy/go-json"

	"github.com/forensic-dev/forensic/store"
)

// itemJSON is an Item as `forensic verify --json` prints it, read back
// from the case: its detail is the JSON the case holds.
type itemJSON struct {
	Kind     string `json:"kind"`
	S3Bucket string `json:"s3_bucket"`
	S3Key    string `json:"s3_key"`
	Path     string `json:"path"`
	// MemberPath and MemberIndex say which archive member Path is, exactly
	// (a member may be literally named "inner.tar!/x").
	MemberPath  []string        `json:"member_path,omitempty"`
	MemberIndex []int           `json:"member_index,omitempty"`
	Status      string          `json:"status"`
	Detail      json.RawMessage `json:"detail"`
	EvidenceID  int64           `json:"evidence_id,omitempty"`
	Account     string          `json:"account,omitempty"`
	Region      string          `json:"region,omitempty"`
	Trail       string          `json:"trail,omitempty"`
	Checks      json.RawMessage `json:"checks"`
}

// jsonWriter writes indented JSON values (HTML characters kept as they
// are, as the rest of the output) without their encoder's final newline.
type jsonWriter struct {
	w   *bufio.Writer
	buf bytes.Buffer
}

func (j *jsonWriter) value(v any, prefix string) error {
	j.buf.Reset()
	e := gojson.NewEncoder(&j.buf)
	e.SetEscapeHTML(false)
	e.SetIndent(prefix, "  ")
	if err := e.Encode(v); err != nil {
		return err
	}
	_, err := j.w.Write(bytes.TrimRight(j.buf.Bytes(), "\n"))
	return err
}

// findingJSON is a Finding as WriteJSON writes it, its detail as recorded.
type findingJSON struct {
	Type     string          `json:"type"`
	Severity string          `json:"severity"`
	Summary  string          `json:"summary"`
	Chain    string          `json:"chain,omitempty"`
	Account  string          `json:"account,omitempty"`
	Region   string          `json:"region,omitempty"`
	Trail    string          `json:"trail,omitempty"`
	Start    string          `json:"start_time,omitempty"`
	End      string          `json:"end_time,omitempty"`
	Detail   json.RawMessage `json:"detail"`
}

// JSONField is a member WriteJSON adds after "findings".
type JSONField struct {
	Name  string
	Value any
}

// WriteJSON writes the report as `forensic verify --json` prints it —
// {"summary", "items", "findings", extra...} — with the items and
// findings read back from the case c, where Run recorded them, in report
// order: they are never all held in memory, whatever the case's size.
func (rep *Report) WriteJSON(ctx context.Context, c *store.Case, w io.Writer, extra ...JSONField) error {
	j := &jsonWriter{w: bufio.NewWriterSize(w, 256<<10)}
	j.w.WriteString("{\n  \"summary\": ")
	if err := j.value(rep.Summary, "  "); err != nil {
		return err
	}
	j.w.WriteString(",\n  \"items\": [")
	n := 0
	err := c.EachItemStatus(ctx, false, func(it store.ItemStatus) error {
		if n > 0 {
			j.w.WriteString(",")
		}
		n++
		j.w.WriteString("\n    ")
		detail := it.Detail
		if len(detail) == 0 {
			detail = json.RawMessage("null")
		}
		checks := it.Checks
		if len(checks) == 0 {
			checks = json.RawMessage("[]")
		}
		return j.value(itemJSON{Kind: it.Kind, S3Bucket: it.S3Bucket, S3Key: it.S3Key, Path: it.Path,
			MemberPath: it.MemberPath, MemberIndex: it.MemberIndex, Status: it.Status, Detail: detail, EvidenceID: it.EvidenceID, Account: it.Account, Region: it.Region,
			Trail: it.Trail, Checks: checks}, "    ")
	})
	if err != nil {
		return err
	}
	if n > 0 {
		j.w.WriteString("\n  ")
	}
	j.w.WriteString("],\n  \"findings\": [")
	n = 0
	err = c.EachFinding(ctx, func(f store.Finding) error {
		if n > 0 {
			j.w.WriteString(",")
		}
		n++
		j.w.WriteString("\n    ")
		detail := f.Detail
		if len(detail) == 0 {
			detail = json.RawMessage("null")
		}
		return j.value(findingJSON{Type: f.Type, Severity: f.Severity, Summary: f.Summary, Chain: f.Chain,
			Account: f.Account, Region: f.Region, Trail: f.Trail, Start: f.StartTime, End: f.EndTime, Detail: detail}, "    ")
	})
	if err != nil {
		return err
	}
	if n > 0 {
		j.w.WriteString("\n  ")
	}
	j.w.WriteString("]")
	for _, f := range extra {
		name, err := json.Marshal(f.Name)
		if err != nil {
			return err
		}
		j.w.WriteString(",\n  ")
		j.w.Write(name)
		j.w.WriteString(": ")
		if err := j.value(f.Value, "  "); err != nil {
			return err
		}
	}
	j.w.WriteString("\n}\n")
	return j.w.Flush()
}
