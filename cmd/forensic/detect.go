package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/forensic-dev/forensic/internal/display"
	"github.com/forensic-dev/forensic/internal/sigma"
	"github.com/forensic-dev/forensic/store"
)

const detectUsage = `Usage:
  forensic detect --case CASE.db [--rules PATH]... [--verified-only] [--json] [--operator NAME]
  forensic detect --list-rules [--rules PATH]... [--json]
  forensic detect --explain RULE [--rules PATH]...

forensic detect runs Sigma rules for AWS CloudTrail over the events of a
case, each rule compiled to one SQL query (json_extract over the raw
record; the event_name index when a rule names event names), and records
every hit in the case's detections table with the verification status of
the log file the event came from:
  verified       the log file's status is valid: the event is proven authentic
  not_verified   no verify has judged the log file
  log_not_valid  the log file has another status (log_status says which)

--rules takes a rule file or a folder (its .yml and .yaml files, walked
recursively); without --rules the built-in pack runs, and '--rules builtin'
names it beside others. A rule that uses what forensic does not implement
(count() and near conditions, correlation rules, a modifier it lacks) is
listed as unsupported with the construct named, and not run. The run is a
custody entry naming every rule file with its SHA-256.

--list-rules prints every rule's id, level, title, source and status
(supported, or why not). --explain RULE prints the SQL of the rule whose
id or title is RULE, with its bound values. --json prints one hit per
line. --verified-only keeps the events of valid log files only.

detect says on stderr when its coverage is partial: CloudTrail records
not indexed (ingest --events), or evidence the last verify did not cover.

Examples:
  forensic detect --case case.db
  forensic detect --case case.db --rules sigma/rules/cloud/aws/cloudtrail/ --rules my-rules.yml
  forensic detect --case case.db --json > detections.jsonl
  forensic detect --list-rules --rules sigma/rules/cloud/aws/

Exit status: 0 the supported rules ran (hits or none), 1 a rule file could
not be read or parsed (named; the other rules ran), 2 usage error.
`

type detectOptions struct {
	casePath     string
	rules        []string
	verifiedOnly bool
	json         bool
	list         bool
	explain      string
	operator     string
}

func cmdDetect(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var o detectOptions
	fs := newFlagSet("detect", detectUsage, stderr)
	fs.StringVar(&o.casePath, "case", "", "case file")
	fs.StringArrayVar(&o.rules, "rules", nil, "Sigma rule file or folder, or builtin (repeatable; default: the built-in pack)")
	fs.BoolVar(&o.verifiedOnly, "verified-only", false, "only events of log files whose status is valid")
	fs.BoolVar(&o.json, "json", false, "one hit per line as JSON (with --list-rules: the rules as JSON)")
	fs.BoolVar(&o.list, "list-rules", false, "list the rules and whether each is supported")
	fs.StringVar(&o.explain, "explain", "", "print the SQL of the rule with this id or title")
	fs.StringVar(&o.operator, "operator", "", "who runs the command, for the custody log (default: the OS user)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	switch {
	case fs.NArg() > 0:
		return usagef("detect: unexpected argument %q", fs.Arg(0))
	case o.list && o.explain != "":
		return usagef("detect: choose one of --list-rules and --explain")
	case !o.list && o.explain == "" && o.casePath == "":
		return usagef("detect: --case is required")
	}
	if len(o.rules) == 0 {
		o.rules = []string{sigma.BuiltinName}
	}
	set, err := sigma.Load(o.rules)
	if err != nil {
		return usagef("detect: %v", err)
	}
	for _, e := range set.Errors {
		fmt.Fprintf(stderr, "forensic: error: %s\n", display.Quote(e.Error()))
	}
	switch {
	case o.list:
		if err := listRules(stdout, set, o.json); err != nil {
			return err
		}
	case o.explain != "":
		if err := explainRule(stdout, set, o.explain); err != nil {
			return err
		}
	default:
		if err := runDetect(ctx, o, set, stdout, stderr); err != nil {
			return err
		}
	}
	if len(set.Errors) > 0 {
		return failedError{fmt.Sprintf("%d rule files could not be read or parsed (listed above); the other rules ran", len(set.Errors))}
	}
	return nil
}

func listRules(w io.Writer, set *sigma.Set, asJSON bool) error {
	if asJSON {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(map[string]any{"rules": set.Rules, "files": set.Files})
	}
	q := display.Quote
	for _, r := range set.Rules {
		st := "supported"
		if r.Unsupported != "" {
			st = "unsupported: " + r.Unsupported
		}
		fmt.Fprintf(w, "%s  %-8s %s  (%s)  %s\n", q(r.ID), q(r.Level), q(r.Title), q(r.Source), q(st))
	}
	return nil
}

func explainRule(w io.Writer, set *sigma.Set, name string) error {
	for _, r := range set.Rules {
		if r.ID != name && r.Title != name {
			continue
		}
		q, err := sigma.Compile(r)
		if err != nil {
			return failedError{fmt.Sprintf("detect: rule %s: %v", name, err)}
		}
		d := q.DetectRule(r, false)
		fmt.Fprintf(w, "-- %s: %s (%s)\n", display.Quote(r.ID), display.Quote(r.Title), display.Quote(r.Source))
		fmt.Fprintln(w, "SELECT e.id FROM ct_events_status e WHERE "+d.Where+";")
		fmt.Fprintln(w, "-- bound values, in order:")
		for i, a := range d.Args {
			b, _ := json.Marshal(a)
			fmt.Fprintf(w, "--   ?%d = %s\n", i+1, b)
		}
		if d.Count > 0 {
			fmt.Fprintf(w, "-- threshold: %d matching events within %s per group of %s (forensic's extension of Sigma)\n",
				d.Count, d.Within, strings.Join(q.Threshold.GroupBy, ", "))
		}
		return nil
	}
	return usagef("detect: no rule has the id or title %q", name)
}

// detectHit is one line of detect --json.
type detectHit struct {
	RuleID       string `json:"rule_id"`
	RuleTitle    string `json:"rule_title"`
	RuleLevel    string `json:"rule_level"`
	RuleAuthor   string `json:"rule_author"`
	RuleSource   string `json:"rule_source"`
	EventRow     int64  `json:"event_row"`
	EventID      string `json:"event_id"`
	EventTime    string `json:"event_time"`
	EventName    string `json:"event_name"`
	Principal    string `json:"principal"`
	SourceIP     string `json:"source_ip"`
	Verification string `json:"verification"`
	LogStatus    string `json:"log_status"`
	LogPath      string `json:"log_path"`
}

func runDetect(ctx context.Context, o detectOptions, set *sigma.Set, stdout, stderr io.Writer) error {
	c, err := store.Open(ctx, o.casePath)
	if err != nil {
		return err
	}
	defer c.Close()
	q := display.Quote
	var rules []store.DetectRule
	var byKey = map[string]*sigma.Rule{}
	unsupported := 0
	for _, r := range set.Rules {
		if r.Unsupported != "" {
			unsupported++
			fmt.Fprintf(stderr, "forensic: warning: rule %s (%s, %s) is not run: unsupported: %s\n", q(r.ID), q(r.Title), q(r.Source), q(r.Unsupported))
			continue
		}
		cq, err := sigma.Compile(r)
		if err != nil {
			return fmt.Errorf("rule %s (%s): %w", r.ID, r.Source, err) // Parse compiled it already
		}
		d := cq.DetectRule(r, o.verifiedOnly)
		rules = append(rules, d)
		byKey[d.Source+"\x00"+d.ID] = r
	}
	// What the hits cannot cover.
	if ix, err := c.EventIndexing(ctx); err == nil && ix.Partial() {
		fmt.Fprintf(stderr, "forensic: warning: partial coverage: CloudTrail %s; detect sees the indexed records only\n", ix.Text())
	}
	if u, err := c.CheckVerified(ctx, 3); err == nil && u.Any() {
		fmt.Fprintf(stderr, "forensic: warning: partial coverage: the last verify does not cover the case (%s): hits on those events are not_verified\n", u.Reason())
	}
	start := time.Now().UTC()
	res, err := c.Detect(ctx, rules)
	if err != nil {
		return err
	}
	if err := appendDetectCustody(ctx, c, o, set, res, unsupported, start); err != nil {
		return err
	}
	if o.json {
		enc := json.NewEncoder(stdout)
		return c.EachDetection(ctx, func(d store.Detection) error {
			p := d.Path
			if d.Member != "" {
				p += "!/" + d.Member
			}
			return enc.Encode(detectHit{RuleID: d.RuleID, RuleTitle: d.RuleTitle, RuleLevel: d.RuleLevel, RuleAuthor: d.RuleAuthor,
				RuleSource: d.RuleSource, EventRow: d.EventRow, EventID: d.EventID, EventTime: d.EventTime, EventName: d.EventName,
				Principal: d.Principal, SourceIP: d.SourceIP, Verification: d.Verification, LogStatus: d.LogStatus, LogPath: p})
		})
	}
	return printDetect(ctx, c, stdout, res, byKey, rules)
}

// printDetect writes the text result: the rules with hits, most severe
// first, each hit with its verification status in capitals when the
// event is not proven authentic; then the totals.
func printDetect(ctx context.Context, c *store.Case, w io.Writer, res []store.DetectResult, byKey map[string]*sigma.Rule, rules []store.DetectRule) error {
	q := display.Quote
	type ruleHits struct {
		key  string
		rule *sigma.Rule
		res  store.DetectResult
	}
	var hit []ruleHits
	total := map[string]int64{}
	for i, r := range res {
		key := rules[i].Source + "\x00" + rules[i].ID
		n := int64(0)
		for b, v := range r.Hits {
			n += v
			total[b] += v
		}
		if n > 0 {
			hit = append(hit, ruleHits{key, byKey[key], r})
		}
	}
	rank := map[string]int{"critical": 0, "high": 1, "medium": 2, "low": 3, "informational": 4}
	sort.SliceStable(hit, func(i, j int) bool {
		a, b := rank[strings.ToLower(hit[i].rule.Level)], rank[strings.ToLower(hit[j].rule.Level)]
		return a < b
	})
	// Each rule's first hits, those not proven authentic first, as the
	// report lists them (not a pass over every hit).
	shown := map[string][]store.Detection{}
	sum, err := c.DetectionSummary(ctx)
	if err != nil {
		return err
	}
	if sum != nil {
		for _, r := range sum.Rules {
			shown[r.Source+"\x00"+r.ID] = r.First
		}
	}
	for _, h := range hit {
		r := h.rule
		fmt.Fprintf(w, "%s %s  %s  (%s; %s)\n", q(strings.ToUpper(r.Level)), q(r.Title), q(r.ID), q(r.Source),
			q(strings.Join(r.Techniques(), ", ")))
		fmt.Fprintf(w, "  %d hits: %d verified, %d not verified, %d on log files not valid\n", h.res.Hits[store.DetectVerified]+
			h.res.Hits[store.DetectNotVerified]+h.res.Hits[store.DetectLogNotValid], h.res.Hits[store.DetectVerified],
			h.res.Hits[store.DetectNotVerified], h.res.Hits[store.DetectLogNotValid])
		for _, d := range shown[h.key] {
			mark := "verified"
			switch d.Verification {
			case store.DetectNotVerified:
				mark = "NOT VERIFIED"
			case store.DetectLogNotValid:
				mark = "LOG NOT VALID (" + d.LogStatus + ")"
			}
			fmt.Fprintf(w, "    %s  %s  %s  %s  [%s]\n", q(d.EventTime), q(d.EventName), q(d.Principal), q(d.SourceIP), q(mark))
		}
		if n := h.res.Hits[store.DetectVerified] + h.res.Hits[store.DetectNotVerified] + h.res.Hits[store.DetectLogNotValid]; n > int64(len(shown[h.key])) {
			fmt.Fprintf(w, "    ... and %d more (forensic query --case CASE.db \"SELECT * FROM detections WHERE rule_id = '%s'\")\n", n-int64(len(shown[h.key])), q(h.rule.ID))
		}
	}
	fmt.Fprintf(w, "%d rules ran, %d with hits: %d hits on verified events, %d on events not verified, %d on log files not valid\n",
		len(res), len(hit), total[store.DetectVerified], total[store.DetectNotVerified], total[store.DetectLogNotValid])
	return nil
}

func appendDetectCustody(ctx context.Context, c *store.Case, o detectOptions, set *sigma.Set, res []store.DetectResult, unsupported int, at time.Time) error {
	in, _ := json.Marshal(map[string]any{"rule_files": set.Files, "verified_only": o.verifiedOnly})
	totals := map[string]int64{}
	perRule := map[string]map[string]int64{}
	seconds := map[string]float64{}
	for _, r := range res {
		for b, n := range r.Hits {
			totals[b] += n
		}
		if len(r.Hits) > 0 {
			perRule[r.RuleID] = r.Hits
		}
		seconds[r.RuleID] = float64(int64(r.Seconds*1000)) / 1000
	}
	var errs []string
	for _, e := range set.Errors {
		var pe *sigma.ParseError
		if errors.As(e, &pe) {
			errs = append(errs, pe.Source)
		}
	}
	out, _ := json.Marshal(map[string]any{"rules_run": len(res), "rules_unsupported": unsupported, "hits": totals,
		"hits_by_rule": perRule, "seconds_by_rule": seconds, "rule_files_not_read": errs})
	args := []string{"detect", "--case", o.casePath}
	for _, r := range o.rules {
		args = append(args, "--rules", r)
	}
	if o.verifiedOnly {
		args = append(args, "--verified-only")
	}
	_, err := c.AppendCustody(ctx, store.CustodyEntry{Time: at.Format(time.RFC3339Nano), Operator: operator(o.operator),
		Host: hostname(), Tool: toolString(), Command: "detect", Args: args, Inputs: in, Outputs: out})
	return err
}
