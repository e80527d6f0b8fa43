// Package sigma reads Sigma detection rules for AWS CloudTrail and
// compiles each into one SQL query over a case's ct_events (compile.go).
//
// A rule is outside data: every field name and value reaches SQLite as a
// bound parameter, never as SQL text, and a rule that uses anything this
// package does not implement is Unsupported, with the construct named —
// it is never run in part. What is supported is listed in compile.go.
package sigma

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// MaxRuleFile bounds a rule file read into memory: SigmaHQ's largest
// rule files are a few KiB.
const MaxRuleFile = 1 << 20

// Rule is one Sigma rule as read from its file.
type Rule struct {
	ID          string   `json:"id"`
	Title       string   `json:"title"`
	Status      string   `json:"status,omitempty"`
	Level       string   `json:"level,omitempty"`
	Author      string   `json:"author,omitempty"`
	Description string   `json:"description,omitempty"`
	References  []string `json:"references,omitempty"`
	Tags        []string `json:"tags,omitempty"`
	// Source is where the rule came from: its file (path as given, or
	// "builtin:NAME" for a rule of the built-in pack) and the file's
	// SHA-256; Doc is its position among the file's YAML documents.
	Source string `json:"source"`
	SHA256 string `json:"sha256"`
	Doc    int    `json:"doc,omitempty"`
	// Unsupported says why the rule cannot be run ("" when it can): the
	// construct it uses that this package lacks.
	Unsupported string `json:"unsupported,omitempty"`
	// Tests are the events (JSON records) the rule must match and must
	// not match: forensic_tests in the built-in rules, run by their tests.
	TestsMatch   []string `json:"-"`
	TestsNoMatch []string `json:"-"`

	logsource map[string]any
	detection map[string]any
	condition []string
	threshold *Threshold
}

// Threshold is forensic's own extension of Sigma (not part of the Sigma
// specification), for rules that need a count over a time window: the
// rule fires for every group_by value with at least Count matching events
// within Within of each other.
type Threshold struct {
	Count   int           `json:"count"`
	Within  time.Duration `json:"within"`
	GroupBy []string      `json:"group_by"`
}

// ParseError is a rule file that could not be read as Sigma YAML.
type ParseError struct {
	Source string
	Err    error
}

func (e *ParseError) Error() string { return fmt.Sprintf("rule file %s: %v", e.Source, e.Err) }
func (e *ParseError) Unwrap() error { return e.Err }

// Parse reads the rules of one file (one rule per YAML document). A
// document that is not a Sigma rule at all (no title or no detection) is
// a *ParseError; a rule this package cannot run is returned with
// Unsupported set.
func Parse(source string, data []byte) ([]*Rule, error) {
	if len(data) > MaxRuleFile {
		return nil, &ParseError{source, fmt.Errorf("larger than %d bytes", MaxRuleFile)}
	}
	sum := sha256.Sum256(data)
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var out []*Rule
	for doc := 0; ; doc++ {
		var node yaml.Node
		err := dec.Decode(&node)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, &ParseError{source, err}
		}
		if err := checkNode(&node, 0); err != nil {
			return nil, &ParseError{source, err}
		}
		var m map[string]any
		if err := node.Decode(&m); err != nil {
			return nil, &ParseError{source, fmt.Errorf("document %d: %w", doc+1, err)}
		}
		if m == nil {
			continue
		}
		r, err := fromMap(m)
		if err != nil {
			return nil, &ParseError{source, fmt.Errorf("document %d: %w", doc+1, err)}
		}
		r.Source, r.SHA256, r.Doc = source, hex.EncodeToString(sum[:]), doc
		if r.Unsupported == "" {
			// Compiled once here, so that a rule is known to run before
			// it is listed as supported.
			if _, err := Compile(r); err != nil {
				var u *UnsupportedError
				if !errors.As(err, &u) {
					return nil, &ParseError{source, err}
				}
				r.Unsupported = u.Construct
			}
		}
		out = append(out, r)
	}
	if len(out) == 0 {
		return nil, &ParseError{source, errors.New("no rule in the file")}
	}
	return out, nil
}

// maxDepth bounds the nesting of a rule's YAML, and maxNodes its size,
// before it is decoded: an alias bomb or a deep nest costs nothing.
const (
	maxDepth = 32
	maxNodes = 100000
)

func checkNode(n *yaml.Node, depth int) error {
	count := 0
	var walk func(n *yaml.Node, depth int) error
	walk = func(n *yaml.Node, depth int) error {
		count++
		switch {
		case depth > maxDepth:
			return fmt.Errorf("nested deeper than %d levels", maxDepth)
		case count > maxNodes:
			return fmt.Errorf("more than %d YAML nodes", maxNodes)
		case n.Kind == yaml.AliasNode:
			return errors.New("YAML aliases are not accepted in rules")
		}
		for _, c := range n.Content {
			if err := walk(c, depth+1); err != nil {
				return err
			}
		}
		return nil
	}
	return walk(n, depth)
}

func fromMap(m map[string]any) (*Rule, error) {
	r := &Rule{}
	str := func(k string) string {
		if v, ok := m[k]; ok && v != nil {
			return fmt.Sprint(v)
		}
		return ""
	}
	r.Title, r.ID, r.Status, r.Level, r.Author, r.Description = str("title"), str("id"), str("status"), str("level"),
		str("author"), str("description")
	r.References, r.Tags = strList(m["references"]), strList(m["tags"])
	if t, ok := m["forensic_tests"].(map[string]any); ok {
		r.TestsMatch, r.TestsNoMatch = strList(t["match"]), strList(t["no_match"])
	}
	if _, ok := m["correlation"]; ok {
		r.Unsupported = "a Sigma correlation rule"
	}
	if a := str("action"); a != "" {
		r.Unsupported = "a rule collection document (action: " + a + ")"
	}
	if r.Unsupported != "" {
		if r.Title == "" {
			r.Title = "(untitled)"
		}
		return r, nil
	}
	if r.Title == "" {
		return nil, errors.New("not a Sigma rule: no title")
	}
	det, ok := m["detection"].(map[string]any)
	if !ok {
		return nil, errors.New("not a Sigma rule: no detection map")
	}
	r.detection = det
	r.logsource, _ = m["logsource"].(map[string]any)
	prod, svc := strings.ToLower(fmt.Sprint(r.logsource["product"])), strings.ToLower(fmt.Sprint(r.logsource["service"]))
	if prod != "aws" || svc != "cloudtrail" {
		r.Unsupported = fmt.Sprintf("not a CloudTrail rule (logsource product %v, service %v)", r.logsource["product"], r.logsource["service"])
		return r, nil
	}
	switch c := det["condition"].(type) {
	case string:
		r.condition = []string{c}
	case []any:
		for _, x := range c {
			s, ok := x.(string)
			if !ok {
				return nil, fmt.Errorf("detection condition: %v is not text", x)
			}
			r.condition = append(r.condition, s)
		}
	case nil:
		return nil, errors.New("detection has no condition")
	default:
		return nil, fmt.Errorf("detection condition: %v is not text", c)
	}
	if t, ok := m["threshold"]; ok {
		th, err := threshold(t)
		if err != nil {
			return nil, fmt.Errorf("threshold: %w", err)
		}
		r.threshold = th
	}
	return r, nil
}

func threshold(v any) (*Threshold, error) {
	m, ok := v.(map[string]any)
	if !ok {
		return nil, errors.New("not a map of count, within and group_by")
	}
	th := &Threshold{}
	for k := range m {
		if k != "count" && k != "within" && k != "group_by" {
			return nil, fmt.Errorf("unknown key %q (count, within, group_by)", k)
		}
	}
	n, ok := m["count"].(int)
	if !ok || n < 1 || n > 1000000 {
		return nil, errors.New("count must be a whole number from 1 to 1000000")
	}
	th.Count = n
	w, ok := m["within"].(string)
	if !ok {
		return nil, errors.New("within must be a duration such as 10m")
	}
	d, err := time.ParseDuration(w)
	if err != nil || d <= 0 || d > 31*24*time.Hour {
		return nil, fmt.Errorf("within %q: a duration from 1s to 744h", w)
	}
	th.Within = d
	th.GroupBy = strList(m["group_by"])
	if len(th.GroupBy) > 4 {
		return nil, errors.New("group_by takes at most 4 fields")
	}
	return th, nil
}

func strList(v any) []string {
	switch v := v.(type) {
	case nil:
		return nil
	case []any:
		var out []string
		for _, x := range v {
			out = append(out, fmt.Sprint(x))
		}
		return out
	default:
		return []string{fmt.Sprint(v)}
	}
}

// Threshold returns the rule's threshold extension, nil when it has none.
func (r *Rule) Threshold() *Threshold { return r.threshold }

// Techniques are the MITRE ATT&CK technique ids the rule's tags name
// (attack.t1562.008 -> T1562.008), sorted.
func (r *Rule) Techniques() []string {
	var out []string
	for _, t := range r.Tags {
		t = strings.ToLower(t)
		if strings.HasPrefix(t, "attack.t") && len(t) > len("attack.t") {
			out = append(out, strings.ToUpper(t[len("attack."):]))
		}
	}
	sort.Strings(out)
	return out
}
