package report

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/forensic-dev/forensic/store"
)

// DetectionsSection is report.json's record of the last forensic detect:
// every rule with hits, its hits by the verification status of their
// events when the report was made, and its first hits (those on events
// not proven authentic first).
type DetectionsSection struct {
	CustodySeq int64           `json:"custody_seq"`
	Current    bool            `json:"current"` // no evidence was ingested after it
	Note       string          `json:"note"`
	RanAt      string          `json:"ran_at"`
	RuleFiles  json.RawMessage `json:"rule_files"` // as its custody entry names them (source, sha256, size, rules)
	Rules      []DetectionRule `json:"rules"`
}

// DetectionRule is one rule's hits.
type DetectionRule struct {
	Author string           `json:"author"`
	Events []DetectionEvent `json:"events"` // the first hits
	Hits   DetectionHits    `json:"hits"`
	Level  string           `json:"level"`
	More   int64            `json:"more"` // hits not listed in events
	RuleID string           `json:"rule_id"`
	Source string           `json:"source"`
	Title  string           `json:"title"`
}

// DetectionHits counts a rule's hits by verification status.
type DetectionHits struct {
	LogNotValid int64 `json:"log_not_valid"`
	NotVerified int64 `json:"not_verified"`
	Total       int64 `json:"total"`
	Verified    int64 `json:"verified"`
}

// DetectionEvent is one hit.
type DetectionEvent struct {
	EventID      string `json:"event_id"`
	EventName    string `json:"event_name"`
	EventRow     int64  `json:"event_row"`
	EventTime    string `json:"event_time"`
	LogStatus    string `json:"log_status"`
	Principal    string `json:"principal"`
	SourceIP     string `json:"source_ip"`
	Verification string `json:"verification"`
}

// levelRank orders rules most severe first.
var levelRank = map[string]int{"critical": 0, "high": 1, "medium": 2, "low": 3, "informational": 4}

// detectionsSection reads the section (nil when detect never ran) and
// says, for the verdict and limitations, how many hits are on events not
// proven authentic.
func detectionsSection(ctx context.Context, c *store.Case) (*DetectionsSection, string, error) {
	s, err := c.DetectionSummary(ctx)
	if err != nil || s == nil {
		return nil, "", err
	}
	var files struct {
		RuleFiles json.RawMessage `json:"rule_files"`
	}
	if err := json.Unmarshal([]byte(s.Inputs), &files); err != nil || len(files.RuleFiles) == 0 {
		files.RuleFiles = json.RawMessage("[]")
	}
	d := &DetectionsSection{CustodySeq: s.Seq, Current: !s.IngestedAt, RanAt: s.Time, RuleFiles: files.RuleFiles, Rules: []DetectionRule{},
		Note: "hits of the last forensic detect (custody entry custody_seq); each hit's verification is the status of its event's log file when this report was made: verified (valid), not_verified (no verify judged it) or log_not_valid (log_status says why); events lists a rule's first hits, those not proven authentic first, the case's detections table every hit"}
	var unproven, total int64
	for _, r := range s.Rules {
		h := DetectionHits{Verified: r.Hits[store.DetectVerified], NotVerified: r.Hits[store.DetectNotVerified],
			LogNotValid: r.Hits[store.DetectLogNotValid]}
		h.Total = h.Verified + h.NotVerified + h.LogNotValid
		unproven += h.NotVerified + h.LogNotValid
		total += h.Total
		dr := DetectionRule{RuleID: r.ID, Title: r.Title, Level: r.Level, Author: r.Author, Source: r.Source, Hits: h,
			Events: []DetectionEvent{}}
		for _, e := range r.First {
			dr.Events = append(dr.Events, DetectionEvent{EventRow: e.EventRow, EventID: e.EventID, EventTime: e.EventTime,
				EventName: e.EventName, Principal: e.Principal, SourceIP: e.SourceIP, Verification: e.Verification, LogStatus: e.LogStatus})
		}
		dr.More = h.Total - int64(len(dr.Events))
		d.Rules = append(d.Rules, dr)
	}
	sort.SliceStable(d.Rules, func(i, j int) bool {
		a, b := levelRank[strings.ToLower(d.Rules[i].Level)], levelRank[strings.ToLower(d.Rules[j].Level)]
		if a != b {
			return a < b
		}
		return d.Rules[i].Source+d.Rules[i].RuleID < d.Rules[j].Source+d.Rules[j].RuleID
	})
	var say []string
	if unproven > 0 {
		say = append(say, fmt.Sprintf("%d of the %d detection hits are on events not proven authentic (their log files are not verified or not valid): they may be forged or altered, and are marked as such.", unproven, total))
	}
	if !d.Current {
		say = append(say, "Evidence was ingested after the last forensic detect: its events were not searched by the rules.")
	}
	return d, strings.Join(say, " "), nil
}
