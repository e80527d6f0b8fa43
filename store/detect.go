package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"net/netip"
	"regexp"
	"strings"
	"sync"
	"time"

	"modernc.org/sqlite"
)

// The SQL functions compiled Sigma rules call (internal/sigma), on every
// connection the driver opens:
//
//	sigma_regexp(value, pattern)  1 when the RE2 pattern matches value, 0
//	                              when not, NULL when value is NULL
//	sigma_cidr(value, prefix)     1 when value is an IP address inside the
//	                              prefix, 0 when not (or not an address),
//	                              NULL when value is NULL
func init() {
	sqlite.MustRegisterDeterministicScalarFunction("sigma_regexp", 2, func(_ *sqlite.FunctionContext, args []driver.Value) (driver.Value, error) {
		v, ok := textArg(args[0])
		if !ok {
			return nil, nil
		}
		p, _ := textArg(args[1])
		re, err := cachedRegexp(p)
		if err != nil {
			return nil, err
		}
		return int64(b2i(re.MatchString(v))), nil
	})
	sqlite.MustRegisterDeterministicScalarFunction("sigma_cidr", 2, func(_ *sqlite.FunctionContext, args []driver.Value) (driver.Value, error) {
		v, ok := textArg(args[0])
		if !ok {
			return nil, nil
		}
		p, _ := textArg(args[1])
		pre, err := netip.ParsePrefix(p)
		if err != nil {
			return nil, fmt.Errorf("sigma_cidr: %v", err)
		}
		a, err := netip.ParseAddr(strings.TrimSpace(v))
		if err != nil {
			return int64(0), nil
		}
		return int64(b2i(pre.Contains(a.Unmap()))), nil
	})
}

func textArg(v driver.Value) (string, bool) {
	switch v := v.(type) {
	case string:
		return v, true
	case []byte:
		return string(v), true
	case int64:
		return fmt.Sprint(v), true
	case float64:
		return fmt.Sprint(v), true
	}
	return "", false
}

// regexps caches compiled patterns; it is emptied when it holds
// maxRegexps (the patterns come from the rules, a few hundred at most).
var (
	regexpMu sync.Mutex
	regexps  = map[string]*regexp.Regexp{}
)

const maxRegexps = 1024

func cachedRegexp(p string) (*regexp.Regexp, error) {
	regexpMu.Lock()
	defer regexpMu.Unlock()
	if re, ok := regexps[p]; ok {
		return re, nil
	}
	re, err := regexp.Compile(p)
	if err != nil {
		return nil, fmt.Errorf("sigma_regexp: %v", err)
	}
	if len(regexps) >= maxRegexps {
		regexps = map[string]*regexp.Regexp{}
	}
	regexps[p] = re
	return re, nil
}

// Verification buckets of a detection: the status of the log file the
// event came from when detect ran.
const (
	DetectVerified    = "verified"      // the log file is valid
	DetectNotVerified = "not_verified"  // no verification has judged it
	DetectLogNotValid = "log_not_valid" // it has another status (log_status)
)

// detectionBucketSQL is the one classification of a hit, over
// ct_events_status (the view that defines verified).
const detectionBucketSQL = `CASE WHEN e.verified = 1 THEN 'verified' WHEN e.log_status IS NULL THEN 'not_verified' ELSE 'log_not_valid' END`

// DetectRule is one compiled rule to run (internal/sigma.Query, with the
// rule's identity).
type DetectRule struct {
	ID, Title, Level, Author, Source, SHA256 string
	// Where (with Args) selects the matching rows of ct_events_status e;
	// Cond (with CondArgs) is the rule's condition alone, and Names (with
	// NamesArgs), when set, a condition on event_name every match meets.
	Where     string
	Args      []any
	Cond      string
	CondArgs  []any
	Names     string
	NamesArgs []any
	// A threshold rule: Count matching events of one group within Within.
	Count     int
	Within    time.Duration
	GroupBy   []string // SQL expressions over e
	GroupArgs []any
}

// DetectResult is how many hits one rule had, by verification bucket,
// and how long it ran (a rule of the shared pass: its share of the pass).
type DetectResult struct {
	RuleID  string
	Hits    map[string]int64
	Seconds float64
	Shared  bool // it ran in the shared pass over the raw records
}

// maxNameList is the most event names a rule's condition on event_name is
// resolved to before its query runs (beyond it the query scans the index
// with the condition itself).
const maxNameList = 1000

// Detect runs the rules and records their hits in detections, replacing
// the last run's, in one transaction; it returns each rule's counts, in
// the order of rules.
//
// A rule whose matches all have event names that meet a condition (Names)
// starts from the case's distinct event names: the condition picks those
// it holds, and the rule reads only their events through the event_name
// index. The rules that cannot (and have no threshold) run together in
// one pass over the raw records, which marks each event with the rules it
// matches in a working table on disk; each rule then records its marks.
func (c *Case) Detect(ctx context.Context, rules []DetectRule) ([]DetectResult, error) {
	tx, err := c.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	for _, q := range []string{"DELETE FROM detections",
		"CREATE TEMP TABLE IF NOT EXISTS detect_names (event_name TEXT PRIMARY KEY)", "DELETE FROM temp.detect_names",
		"INSERT INTO temp.detect_names SELECT DISTINCT event_name FROM ct_events WHERE event_name IS NOT NULL"} {
		if _, err := tx.ExecContext(ctx, q); err != nil {
			return nil, fmt.Errorf("detect: %w", err)
		}
	}
	out := make([]DetectResult, len(rules))
	var shared []int
	for i, r := range rules {
		out[i] = DetectResult{RuleID: r.ID, Hits: map[string]int64{}}
		if r.Names == "" && r.Count == 0 && r.Cond != "" {
			shared = append(shared, i)
			continue
		}
		start := time.Now()
		q, args, skip, err := c.resolveNames(ctx, tx, r)
		if err != nil {
			return nil, fmt.Errorf("rule %s (%s): %w", r.ID, r.Source, err)
		}
		if !skip {
			if _, err := tx.ExecContext(ctx, q, args...); err != nil {
				return nil, fmt.Errorf("rule %s (%s): %w", r.ID, r.Source, err)
			}
		}
		out[i].Seconds = time.Since(start).Seconds()
	}
	if len(shared) > 0 {
		start := time.Now()
		if err := sharedPass(ctx, tx, rules, shared); err != nil {
			return nil, err
		}
		each := time.Since(start).Seconds() / float64(len(shared))
		for _, i := range shared {
			out[i].Seconds, out[i].Shared = each, true
		}
	}
	rows, err := tx.QueryContext(ctx, "SELECT rule_source, rule_id, verification, count(*) FROM detections GROUP BY 1, 2, 3")
	if err != nil {
		return nil, err
	}
	counts := map[[2]string]map[string]int64{}
	for rows.Next() {
		var src, id, b string
		var n int64
		if err := rows.Scan(&src, &id, &b, &n); err != nil {
			rows.Close()
			return nil, err
		}
		k := [2]string{src, id}
		if counts[k] == nil {
			counts[k] = map[string]int64{}
		}
		counts[k][b] = n
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	for i, r := range rules {
		if m := counts[[2]string{r.Source, r.ID}]; m != nil {
			out[i].Hits = m
		}
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("record detections: %w", err)
	}
	return out, nil
}

// resolveNames is the statement that records rule r's hits, with its
// condition on event_name turned into the list of the case's event names
// that meet it; skip when the case holds none.
func (c *Case) resolveNames(ctx context.Context, tx *sql.Tx, r DetectRule) (string, []any, bool, error) {
	if r.Names == "" {
		q, args := detectInsert(r)
		return q, args, false, nil
	}
	rows, err := tx.QueryContext(ctx, "SELECT event_name FROM temp.detect_names WHERE "+r.Names, r.NamesArgs...)
	if err != nil {
		return "", nil, false, err
	}
	var names []any
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			rows.Close()
			return "", nil, false, err
		}
		names = append(names, n)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return "", nil, false, err
	}
	if len(names) == 0 {
		return "", nil, true, nil
	}
	if len(names) <= maxNameList {
		marks := strings.TrimSuffix(strings.Repeat("?, ", len(names)), ", ")
		r.Where = "e.id IN (SELECT id FROM ct_events INDEXED BY ct_events_name WHERE event_name IN (" + marks + ")) AND " + r.Cond
		r.Args = append(names, r.CondArgs...)
	}
	q, args := detectInsert(r)
	return q, args, false, nil
}

// sharedPass runs the rules rules[i] (i in idx) in one scan of the raw
// records: temp.detect_marks holds, for every event one of them matches,
// a 0/1 column per rule; each rule's hits are then recorded from it.
func sharedPass(ctx context.Context, tx *sql.Tx, rules []DetectRule, idx []int) error {
	cols := make([]string, len(idx))
	exprs := make([]string, len(idx))
	var args []any
	for k, i := range idx {
		cols[k] = fmt.Sprintf("m%d", k)
		exprs[k] = "(" + rules[i].Cond + ")"
		args = append(args, rules[i].CondArgs...)
	}
	for _, q := range []string{"DROP TABLE IF EXISTS temp.detect_marks",
		"CREATE TEMP TABLE detect_marks (id INTEGER PRIMARY KEY, " + strings.Join(cols, " INTEGER, ") + " INTEGER)"} {
		if _, err := tx.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("detect: %w", err)
		}
	}
	inner := make([]string, len(idx))
	for k := range idx {
		inner[k] = exprs[k] + " AS " + cols[k]
	}
	q := "INSERT INTO temp.detect_marks SELECT * FROM (SELECT e.id AS id, " + strings.Join(inner, ", ") +
		" FROM ct_events_status e) WHERE " + strings.Join(cols, " OR ")
	if _, err := tx.ExecContext(ctx, q, args...); err != nil {
		return fmt.Errorf("detect: the shared pass: %w", err)
	}
	for k, i := range idx {
		r := rules[i]
		r.Where, r.Args = "e.id IN (SELECT id FROM temp.detect_marks WHERE "+cols[k]+")", nil
		q, args := detectInsert(r)
		if _, err := tx.ExecContext(ctx, q, args...); err != nil {
			return fmt.Errorf("rule %s (%s): %w", r.ID, r.Source, err)
		}
	}
	_, err := tx.ExecContext(ctx, "DROP TABLE temp.detect_marks")
	return err
}

// detectInsert is the statement that records rule r's hits (the rows of
// ct_events_status e that r.Where selects).
func detectInsert(r DetectRule) (string, []any) {
	head := `INSERT INTO detections(rule_id, rule_title, rule_level, rule_author, rule_source, rule_sha256,
		event_row, event_id, event_time, event_name, principal, source_ip, log_status, verification)
		SELECT ?, ?, ?, ?, ?, ?, e.id, e.event_id, e.event_time, e.event_name, e.principal, e.source_ip, e.log_status, ` +
		detectionBucketSQL + ` FROM ct_events_status e WHERE `
	args := []any{r.ID, r.Title, nullStr(r.Level), nullStr(r.Author), r.Source, r.SHA256}
	if r.Count == 0 {
		return head + r.Where + " ORDER BY e.event_time, e.id", append(args, r.Args...)
	}
	// A hit is every matching event at which Count matching events of its
	// group fall within the Within before it (itself included).
	group := "''"
	if len(r.GroupBy) > 0 {
		group = "json_array(" + strings.Join(r.GroupBy, ", ") + ")"
	}
	q := head + `e.id IN (SELECT id FROM (SELECT id, count(*) OVER (PARTITION BY g ORDER BY t RANGE BETWEEN ? PRECEDING AND CURRENT ROW) AS n
		FROM (SELECT e.id AS id, unixepoch(e.event_time) AS t, ` + group + ` AS g FROM ct_events_status e WHERE ` + r.Where + `) WHERE t IS NOT NULL)
		WHERE n >= ?) ORDER BY e.event_time, e.id`
	args = append(args, int64(r.Within/time.Second))
	args = append(args, r.GroupArgs...)
	args = append(args, r.Args...)
	return q, append(args, int64(r.Count))
}

// Detection is one row of detections.
type Detection struct {
	RuleID, RuleTitle, RuleLevel, RuleAuthor, RuleSource string
	EventRow                                             int64
	EventID, EventTime, EventName, Principal, SourceIP   string
	LogStatus, Verification                              string
	Path, Member                                         string // the log file the event came from
}

// EachDetection calls fn for every hit of the last detect, by rule
// (source, id), then event time.
func (c *Case) EachDetection(ctx context.Context, fn func(Detection) error) error {
	rows, err := c.query(ctx, `SELECT d.rule_id, d.rule_title, coalesce(d.rule_level, ''), coalesce(d.rule_author, ''), d.rule_source,
		d.event_row, coalesce(d.event_id, ''), coalesce(d.event_time, ''), coalesce(d.event_name, ''), coalesce(d.principal, ''),
		coalesce(d.source_ip, ''), coalesce(d.log_status, ''), d.verification, coalesce(v.path, ''), coalesce(v.member, '')
		FROM detections d LEFT JOIN ct_events e ON e.id = d.event_row LEFT JOIN evidence v ON v.id = e.evidence_id
		ORDER BY d.rule_source, d.rule_id, d.event_time, d.event_row`)
	if err != nil {
		return fmt.Errorf("read detections: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var d Detection
		if err := rows.Scan(&d.RuleID, &d.RuleTitle, &d.RuleLevel, &d.RuleAuthor, &d.RuleSource, &d.EventRow, &d.EventID,
			&d.EventTime, &d.EventName, &d.Principal, &d.SourceIP, &d.LogStatus, &d.Verification, &d.Path, &d.Member); err != nil {
			return fmt.Errorf("read detections: %w", err)
		}
		if err := fn(d); err != nil {
			return err
		}
	}
	return rows.Err()
}

// DetectSummary is what a report says of the last forensic detect: when
// it ran (its custody entry), the rule files it named, whether evidence
// was ingested after it, and per rule its hits by the verification status
// the events have now (the case may have been verified since), with the
// first hits, those on events not proven authentic first.
type DetectSummary struct {
	Seq        int64
	Time       string
	Inputs     string // the entry's inputs (rule files with their SHA-256)
	IngestedAt bool   // an ingest or merge entry follows it
	Rules      []DetectRuleHits
}

// DetectRuleHits is one rule's hits in a DetectSummary.
type DetectRuleHits struct {
	ID, Title, Level, Author, Source string
	Hits                             map[string]int64
	First                            []Detection
}

// detectFirst is how many hits of each rule a DetectSummary lists.
const detectFirst = 25

// DetectionSummary reads the DetectSummary of the case; nil when detect
// never ran.
func (c *Case) DetectionSummary(ctx context.Context) (*DetectSummary, error) {
	if ok, err := c.tableExists(ctx, "detections"); err != nil || !ok {
		return nil, err
	}
	var s DetectSummary
	err := c.queryRow(ctx, "SELECT seq, time, inputs FROM custody WHERE command = 'detect' ORDER BY seq DESC LIMIT 1").Scan(&s.Seq, &s.Time, &s.Inputs)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read custody: %w", err)
	}
	var n int
	if err := c.queryRow(ctx, "SELECT count(*) FROM custody WHERE seq > ? AND command IN ('ingest', ?)", s.Seq, CommandMerge).Scan(&n); err != nil {
		return nil, err
	}
	s.IngestedAt = n > 0
	rows, err := c.query(ctx, `SELECT d.rule_source, d.rule_id, d.rule_title, coalesce(d.rule_level, ''), coalesce(d.rule_author, ''),
		`+detectionBucketSQL+`, count(*) FROM detections d JOIN ct_events_status e ON e.id = d.event_row GROUP BY 1, 2, 6 ORDER BY 1, 2`)
	if err != nil {
		return nil, fmt.Errorf("read detections: %w", err)
	}
	at := map[[2]string]int{}
	for rows.Next() {
		var r DetectRuleHits
		var b string
		var k int64
		if err := rows.Scan(&r.Source, &r.ID, &r.Title, &r.Level, &r.Author, &b, &k); err != nil {
			rows.Close()
			return nil, err
		}
		key := [2]string{r.Source, r.ID}
		i, ok := at[key]
		if !ok {
			r.Hits = map[string]int64{}
			s.Rules = append(s.Rules, r)
			i = len(s.Rules) - 1
			at[key] = i
		}
		s.Rules[i].Hits[b] += k
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	rows, err = c.query(ctx, `SELECT src, rid, row, eid, t, name, principal, ip, status, bucket FROM (
		SELECT d.rule_source AS src, d.rule_id AS rid, d.event_row AS row, coalesce(d.event_id, '') AS eid, coalesce(d.event_time, '') AS t,
			coalesce(d.event_name, '') AS name, coalesce(d.principal, '') AS principal, coalesce(d.source_ip, '') AS ip,
			coalesce(e.log_status, '') AS status, `+detectionBucketSQL+` AS bucket,
			row_number() OVER (PARTITION BY d.rule_source, d.rule_id ORDER BY e.verified, d.event_time, d.event_row) AS n
		FROM detections d JOIN ct_events_status e ON e.id = d.event_row) WHERE n <= ? ORDER BY src, rid, n`, detectFirst)
	if err != nil {
		return nil, fmt.Errorf("read detections: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var src, rid string
		var d Detection
		if err := rows.Scan(&src, &rid, &d.EventRow, &d.EventID, &d.EventTime, &d.EventName, &d.Principal, &d.SourceIP,
			&d.LogStatus, &d.Verification); err != nil {
			return nil, err
		}
		if i, ok := at[[2]string{src, rid}]; ok {
			s.Rules[i].First = append(s.Rules[i].First, d)
		}
	}
	return &s, rows.Err()
}
