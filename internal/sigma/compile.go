package sigma

// Compilation of a rule's detection into SQL over ct_events (aliased e).
//
// Supported:
//   - search identifiers that are a map of fields (all must match), a list
//     of such maps (one must), or a list of keywords / one keyword (matched
//     anywhere in the raw record, as contains);
//   - field names as in the CloudTrail record, nested with dots
//     (userIdentity.arn); a field's list of values matches when one does
//     (all of them with the all modifier);
//   - values with * and ? wildcards (\*, \? and \\ for the characters
//     themselves), null, and the modifiers contains, startswith, endswith,
//     all, re (with i, m, s), cidr, exists, fieldref, cased, gt, gte, lt,
//     lte;
//   - conditions with and, or, not, parentheses, 1 of X*, all of X*,
//     1 of them, all of them; a list of conditions (any of them).
//
// Semantics (Sigma's, where SQL would differ):
//   - strings match case-insensitively (ASCII, as SQLite's LIKE folds),
//     but for re and cased;
//   - every leaf is 0 or 1, never NULL: a missing field is "not matched",
//     under not as well (not a missing field's match is true);
//   - JSON true and false are the strings true and false, numbers their
//     decimal text, an object or array its JSON text;
//   - null matches a missing field or a JSON null; exists: true holds for
//     a field present, even with a null value;
//   - % and _ in values are plain characters (escaped in LIKE).
//
// Fields come from the raw record (json_extract over the signed bytes),
// but eventName, which is read from the indexed event_name column (as
// ingest indexed it: the same text, or the last of repeated keys), so
// that a rule that names event names scans the index, not the records.
// Every field path and value is a bound parameter.

import (
	"fmt"
	"net/netip"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// UnsupportedError names the construct of a rule that this package does
// not implement.
type UnsupportedError struct{ Construct string }

func (e *UnsupportedError) Error() string { return "unsupported: " + e.Construct }

// Query is a compiled rule: SQL selecting the ids of the matching
// ct_events rows (Where, over alias e, with Args), and whether it can
// start from the event_name index (Indexed: Where then begins with the
// index condition).
type Query struct {
	Where   string
	Args    []any
	Indexed bool
	// Cond is the rule's condition alone (over alias e, with CondArgs);
	// Names, when Indexed, the condition on event_name every match meets
	// (over a bare event_name column, with NamesArgs): store.Case.Detect
	// resolves it against the case's distinct event names first.
	Cond      string
	CondArgs  []any
	Names     string
	NamesArgs []any
	// Threshold, when set, is the rule's count over a time window.
	Threshold *Threshold
	// GroupBy are the SQL expressions of the threshold's group_by fields
	// (with GroupArgs).
	GroupBy   []string
	GroupArgs []any
}

// SQL is the query that returns the matching rows' ids.
func (q *Query) SQL() string { return "SELECT e.id FROM ct_events e WHERE " + q.Where }

// Compile compiles the rule. A rule that uses what this package lacks is
// an *UnsupportedError; one that is not well formed another error.
func Compile(r *Rule) (*Query, error) {
	if r.Unsupported != "" {
		return nil, &UnsupportedError{r.Unsupported}
	}
	c := &compiler{det: r.detection}
	for k := range r.detection {
		switch k {
		case "condition":
		case "timeframe":
			if r.threshold == nil {
				return nil, &UnsupportedError{"timeframe (used with the deprecated count() aggregation)"}
			}
		default:
			c.names = append(c.names, k)
		}
	}
	sort.Strings(c.names)
	var parts []string
	var prefilters []string
	var preArgs []any
	allIndexed := true
	for _, s := range r.condition {
		cd, err := parseCondition(s)
		if err != nil {
			return nil, err
		}
		sql, err := c.cond(cd)
		if err != nil {
			return nil, err
		}
		parts = append(parts, sql)
		pre, args, ok, err := c.necessary(cd)
		if err != nil {
			return nil, err
		}
		if !ok {
			allIndexed = false
		} else {
			prefilters = append(prefilters, pre)
			preArgs = append(preArgs, args...)
		}
	}
	q := &Query{Threshold: r.threshold}
	where := "(" + strings.Join(parts, " OR ") + ")"
	if len(where) > maxSQL || len(c.args) > maxArgs {
		return nil, fmt.Errorf("the rule compiles to %d bytes of SQL with %d values, more than a rule may (%d, %d)", len(where), len(c.args), maxSQL, maxArgs)
	}
	q.Cond, q.CondArgs = where, c.args
	if allIndexed && len(prefilters) > 0 {
		q.Indexed = true
		q.Names = strings.Join(prefilters, " OR ")
		q.NamesArgs = preArgs
		q.Where = "e.id IN (SELECT id FROM ct_events INDEXED BY ct_events_name WHERE " + q.Names + ") AND " + where
		q.Args = append(append([]any{}, preArgs...), c.args...)
	} else {
		q.Where, q.Args = where, c.args
	}
	if th := r.threshold; th != nil {
		for _, f := range th.GroupBy {
			var b compiler
			v, err := b.value(f)
			if err != nil {
				return nil, fmt.Errorf("threshold group_by: %w", err)
			}
			q.GroupBy = append(q.GroupBy, v)
			q.GroupArgs = append(q.GroupArgs, b.args...)
		}
	}
	return q, nil
}

type compiler struct {
	det   map[string]any
	names []string
	args  []any
	size  int // bytes of SQL the searches compiled to so far
}

func (c *compiler) cond(cd *cond) (string, error) {
	switch cd.op {
	case "and", "or":
		a, err := c.cond(cd.kids[0])
		if err != nil {
			return "", err
		}
		b, err := c.cond(cd.kids[1])
		if err != nil {
			return "", err
		}
		return "(" + a + " " + strings.ToUpper(cd.op) + " " + b + ")", nil
	case "not":
		a, err := c.cond(cd.kids[0])
		if err != nil {
			return "", err
		}
		return "(NOT " + a + ")", nil
	case "ref":
		v, ok := c.det[cd.name]
		if !ok || cd.name == "condition" {
			return "", fmt.Errorf("condition names %q, which the detection does not define", cd.name)
		}
		return c.search(v)
	case "of":
		names, err := expandOf(cd.name, c.names)
		if err != nil {
			return "", err
		}
		var parts []string
		for _, n := range names {
			s, err := c.search(c.det[n])
			if err != nil {
				return "", err
			}
			parts = append(parts, s)
		}
		op := " OR "
		if cd.all {
			op = " AND "
		}
		return "(" + strings.Join(parts, op) + ")", nil
	}
	return "", fmt.Errorf("condition: %s", cd.op)
}

// errTooLarge stops a rule that compiles to more than a rule may, before
// it is built whole.
var errTooLarge = fmt.Errorf("the rule compiles to more than %d bytes of SQL or %d values", maxSQL, maxArgs)

// search compiles a search identifier's value.
func (c *compiler) search(v any) (string, error) {
	if len(c.args) > maxArgs || c.size > maxSQL {
		return "", errTooLarge
	}
	s, err := c.searchValue(v)
	c.size += len(s)
	return s, err
}

func (c *compiler) searchValue(v any) (string, error) {
	switch v := v.(type) {
	case map[string]any:
		return c.fields(v)
	case []any:
		if len(v) == 0 {
			return "0", nil
		}
		var parts []string
		maps := 0
		for _, x := range v {
			if m, ok := x.(map[string]any); ok {
				maps++
				s, err := c.fields(m)
				if err != nil {
					return "", err
				}
				parts = append(parts, s)
			}
		}
		if maps == 0 {
			return c.keywords(v)
		}
		if maps != len(v) {
			return "", &UnsupportedError{"a search list mixing maps and keywords"}
		}
		return "(" + strings.Join(parts, " OR ") + ")", nil
	case nil:
		return "", fmt.Errorf("an empty search identifier")
	default:
		return c.keywords([]any{v})
	}
}

// keywords match anywhere in the raw record, case-insensitively.
func (c *compiler) keywords(vs []any) (string, error) {
	var parts []string
	for _, v := range vs {
		s, ok := scalar(v)
		if !ok || v == nil {
			return "", &UnsupportedError{fmt.Sprintf("a keyword that is not text (%v)", v)}
		}
		c.args = append(c.args, "%"+likePattern(s)+"%")
		parts = append(parts, `coalesce(e.raw LIKE ? ESCAPE '\', 0)`)
	}
	return "(" + strings.Join(parts, " OR ") + ")", nil
}

// fields compiles a map of field|modifiers to values: all must match.
func (c *compiler) fields(m map[string]any) (string, error) {
	if len(m) == 0 {
		return "", fmt.Errorf("an empty search map")
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var parts []string
	for _, k := range keys {
		s, err := c.field(k, m[k])
		if err != nil {
			return "", err
		}
		parts = append(parts, s)
	}
	return "(" + strings.Join(parts, " AND ") + ")", nil
}

// modifiers this package implements.
var knownModifiers = map[string]bool{"contains": true, "startswith": true, "endswith": true, "all": true, "re": true,
	"i": true, "m": true, "s": true, "cidr": true, "exists": true, "fieldref": true, "cased": true,
	"gt": true, "gte": true, "lt": true, "lte": true}

func (c *compiler) field(key string, val any) (string, error) {
	parts := strings.Split(key, "|")
	name, mods := parts[0], parts[1:]
	if name == "" {
		return "", &UnsupportedError{fmt.Sprintf("a field name that is empty (%q)", key)}
	}
	if err := checkField(name); err != nil {
		return "", err
	}
	set := map[string]bool{}
	for _, m := range mods {
		if !knownModifiers[m] {
			return "", &UnsupportedError{fmt.Sprintf("the modifier %s (field %s)", m, name)}
		}
		set[m] = true
	}
	if (set["i"] || set["m"] || set["s"]) && !set["re"] {
		return "", &UnsupportedError{fmt.Sprintf("the modifiers i, m and s without re (field %s)", name)}
	}
	kind := ""
	for _, k := range []string{"contains", "startswith", "endswith", "re", "cidr", "exists", "fieldref", "gt", "gte", "lt", "lte"} {
		if set[k] {
			if kind != "" {
				return "", &UnsupportedError{fmt.Sprintf("the modifiers %s and %s together (field %s)", kind, k, name)}
			}
			kind = k
		}
	}
	if set["cased"] && kind != "" && kind != "contains" && kind != "startswith" && kind != "endswith" {
		return "", &UnsupportedError{fmt.Sprintf("the modifiers cased and %s together (field %s)", kind, name)}
	}
	vals, isList := val.([]any)
	if !isList {
		vals = []any{val}
	}
	if len(vals) == 0 {
		return "0", nil
	}
	var leaves []string
	for _, v := range vals {
		l, err := c.leaf(name, kind, set, v)
		if err != nil {
			return "", err
		}
		leaves = append(leaves, l)
	}
	op := " OR "
	if set["all"] {
		op = " AND "
	}
	return "(" + strings.Join(leaves, op) + ")", nil
}

// checkField refuses a field name that cannot be a JSON path here.
func checkField(name string) error {
	if len(name) > 256 {
		return &UnsupportedError{"a field name longer than 256 bytes"}
	}
	for _, seg := range strings.Split(name, ".") {
		if seg == "" {
			return &UnsupportedError{fmt.Sprintf("the field name %q (an empty part between dots)", name)}
		}
		for _, r := range seg {
			if r < 0x20 || r == '"' || r == '\\' || r == 0x7f {
				return &UnsupportedError{fmt.Sprintf("the field name %q (a quote, backslash or control character)", name)}
			}
		}
	}
	return nil
}

// jsonPath is the SQLite JSON path of a dotted field name, each part
// quoted (checkField has refused quotes).
func jsonPath(name string) string {
	var b strings.Builder
	b.WriteString("$")
	for _, seg := range strings.Split(name, ".") {
		b.WriteString(`."`)
		b.WriteString(seg)
		b.WriteString(`"`)
	}
	return b.String()
}

// value is the SQL expression of a field's value as Sigma compares it
// (text; NULL when the field is missing or JSON null).
func (c *compiler) value(name string) (string, error) {
	if err := checkField(name); err != nil {
		return "", err
	}
	if name == "eventName" {
		return "e.event_name", nil
	}
	p := jsonPath(name)
	c.args = append(c.args, p, p)
	return `(CASE json_type(e.raw, ?) WHEN 'true' THEN 'true' WHEN 'false' THEN 'false' ELSE CAST(json_extract(e.raw, ?) AS TEXT) END)`, nil
}

// maxSQL and maxArgs bound what one rule compiles to (SQLite takes at
// most 32766 bound values).
const (
	maxSQL  = 1 << 20
	maxArgs = 30000
)

// maxValue bounds one value of a rule.
const maxValue = 4096

func (c *compiler) leaf(name, kind string, set map[string]bool, v any) (string, error) {
	cased := set["cased"]
	if kind == "exists" {
		b, ok := v.(bool)
		if !ok {
			return "", fmt.Errorf("field %s: exists takes true or false, not %v", name, v)
		}
		c.args = append(c.args, jsonPath(name))
		if b {
			return "(json_type(e.raw, ?) IS NOT NULL)", nil
		}
		return "(json_type(e.raw, ?) IS NULL)", nil
	}
	if v == nil {
		if kind != "" {
			return "", &UnsupportedError{fmt.Sprintf("null with the modifier %s (field %s)", kind, name)}
		}
		p := jsonPath(name)
		c.args = append(c.args, p, p)
		return "(json_type(e.raw, ?) IS NULL OR json_type(e.raw, ?) = 'null')", nil
	}
	s, ok := scalar(v)
	if !ok {
		return "", &UnsupportedError{fmt.Sprintf("a value that is a map or list (field %s)", name)}
	}
	if len(s) > maxValue {
		return "", &UnsupportedError{fmt.Sprintf("a value longer than %d bytes (field %s)", maxValue, name)}
	}
	switch kind {
	case "fieldref":
		if err := checkField(s); err != nil {
			return "", err
		}
		a, err := c.value(name)
		if err != nil {
			return "", err
		}
		b, err := c.value(s)
		if err != nil {
			return "", err
		}
		return "coalesce(" + a + " = " + b + " COLLATE NOCASE, 0)", nil
	case "re":
		flags := ""
		for _, f := range []string{"i", "m", "s"} {
			if set[f] {
				flags += f
			}
		}
		if flags != "" {
			s = "(?" + flags + ")" + s
		}
		if _, err := regexp.Compile(s); err != nil {
			return "", &UnsupportedError{fmt.Sprintf("the regular expression %q (field %s): %v (RE2 syntax: no lookaround or backreferences)", s, name, err)}
		}
		x, err := c.value(name)
		if err != nil {
			return "", err
		}
		c.args = append(c.args, s)
		return "coalesce(sigma_regexp(" + x + ", ?), 0)", nil
	case "cidr":
		if _, err := netip.ParsePrefix(s); err != nil {
			return "", fmt.Errorf("field %s: cidr %q: %v", name, s, err)
		}
		x, err := c.value(name)
		if err != nil {
			return "", err
		}
		c.args = append(c.args, s)
		return "coalesce(sigma_cidr(" + x + ", ?), 0)", nil
	case "gt", "gte", "lt", "lte":
		n, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return "", fmt.Errorf("field %s: %s takes a number, not %q", name, kind, s)
		}
		p := jsonPath(name)
		op := map[string]string{"gt": ">", "gte": ">=", "lt": "<", "lte": "<="}[kind]
		c.args = append(c.args, p, p, n)
		return "coalesce(json_type(e.raw, ?) IN ('integer', 'real') AND json_extract(e.raw, ?) " + op + " ?, 0)", nil
	}
	x, err := c.value(name)
	if err != nil {
		return "", err
	}
	if cased {
		c.args = append(c.args, affix(kind, globPattern(s), "*"))
		return "coalesce(" + x + " GLOB ?, 0)", nil
	}
	c.args = append(c.args, affix(kind, likePattern(s), "%"))
	return "coalesce(" + x + ` LIKE ? ESCAPE '\', 0)`, nil
}

// affix puts the any-text wildcard of a pattern where the modifier kind
// (contains, startswith, endswith) leaves text free.
func affix(kind, p, wild string) string {
	switch kind {
	case "contains":
		return wild + p + wild
	case "startswith":
		return p + wild
	case "endswith":
		return wild + p
	}
	return p
}

// scalar is a YAML scalar as Sigma compares it: text as is, true and
// false, numbers in their decimal text.
func scalar(v any) (string, bool) {
	switch v := v.(type) {
	case string:
		return v, true
	case bool:
		return strconv.FormatBool(v), true
	case int:
		return strconv.Itoa(v), true
	case int64:
		return strconv.FormatInt(v, 10), true
	case uint64:
		return strconv.FormatUint(v, 10), true
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64), true
	case nil:
		return "", true
	}
	return "", false
}

// likePattern turns a Sigma value into a LIKE pattern (ESCAPE '\'): *
// and ? are wildcards, \*, \? and \\ the characters themselves, % and _
// plain characters.
func likePattern(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		ch := s[i]
		if ch == '\\' && i+1 < len(s) && (s[i+1] == '*' || s[i+1] == '?' || s[i+1] == '\\') {
			i++
			lit := s[i]
			if lit == '\\' {
				b.WriteString(`\\`)
			} else {
				b.WriteByte(lit)
			}
			continue
		}
		switch ch {
		case '*':
			b.WriteByte('%')
		case '?':
			b.WriteByte('_')
		case '%', '_', '\\':
			b.WriteByte('\\')
			b.WriteByte(ch)
		default:
			b.WriteByte(ch)
		}
	}
	return b.String()
}

// globPattern is likePattern for GLOB (case-sensitive): * and ? stay
// wildcards; the characters themselves, and [, go in brackets.
func globPattern(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		ch := s[i]
		if ch == '\\' && i+1 < len(s) && (s[i+1] == '*' || s[i+1] == '?' || s[i+1] == '\\') {
			i++
			switch s[i] {
			case '*':
				b.WriteString("[*]")
			case '?':
				b.WriteString("[?]")
			default:
				b.WriteByte('\\')
			}
			continue
		}
		if ch == '[' {
			b.WriteString("[[]")
			continue
		}
		b.WriteByte(ch)
	}
	return b.String()
}

// necessary returns a condition on e.event_name that every row matching
// cd meets (for the index), when there is one.
func (c *compiler) necessary(cd *cond) (string, []any, bool, error) {
	switch cd.op {
	case "and":
		for _, k := range cd.kids {
			if s, a, ok, err := c.necessary(k); err != nil || ok {
				return s, a, ok, err
			}
		}
		return "", nil, false, nil
	case "or":
		var parts []string
		var args []any
		for _, k := range cd.kids {
			s, a, ok, err := c.necessary(k)
			if err != nil || !ok {
				return "", nil, false, err
			}
			parts = append(parts, s)
			args = append(args, a...)
		}
		return "(" + strings.Join(parts, " OR ") + ")", args, true, nil
	case "ref":
		return c.necessarySearch(c.det[cd.name])
	case "of":
		names, err := expandOf(cd.name, c.names)
		if err != nil {
			return "", nil, false, err
		}
		if cd.all {
			for _, n := range names {
				if s, a, ok, err := c.necessarySearch(c.det[n]); err != nil || ok {
					return s, a, ok, err
				}
			}
			return "", nil, false, nil
		}
		var parts []string
		var args []any
		for _, n := range names {
			s, a, ok, err := c.necessarySearch(c.det[n])
			if err != nil || !ok {
				return "", nil, false, err
			}
			parts = append(parts, s)
			args = append(args, a...)
		}
		return "(" + strings.Join(parts, " OR ") + ")", args, true, nil
	}
	return "", nil, false, nil // not: nothing is implied
}

func (c *compiler) necessarySearch(v any) (string, []any, bool, error) {
	switch v := v.(type) {
	case map[string]any:
		keys := make([]string, 0, len(v))
		for k := range v {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			val := v[k]
			parts := strings.Split(k, "|")
			if parts[0] != "eventName" {
				continue
			}
			for _, m := range parts[1:] {
				if m == "exists" || m == "fieldref" || m == "re" || m == "cidr" || m == "gt" || m == "gte" || m == "lt" || m == "lte" {
					return "", nil, false, nil
				}
			}
			if val == nil {
				return "", nil, false, nil
			}
			if l, ok := val.([]any); ok {
				for _, x := range l {
					if x == nil {
						return "", nil, false, nil
					}
				}
			}
			var b compiler
			s, err := b.field(k, val)
			if err != nil {
				return "", nil, false, err
			}
			return strings.ReplaceAll(s, "e.event_name", "event_name"), b.args, true, nil
		}
		return "", nil, false, nil
	case []any:
		var parts []string
		var args []any
		for _, x := range v {
			m, ok := x.(map[string]any)
			if !ok {
				return "", nil, false, nil
			}
			s, a, ok, err := c.necessarySearch(m)
			if err != nil || !ok {
				return "", nil, false, err
			}
			parts = append(parts, s)
			args = append(args, a...)
		}
		if len(parts) == 0 {
			return "", nil, false, nil
		}
		return "(" + strings.Join(parts, " OR ") + ")", args, true, nil
	}
	return "", nil, false, nil
}
