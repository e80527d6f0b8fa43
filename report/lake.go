package report

import (
	"context"
	"encoding/json"
	"sort"

	"github.com/forensic-dev/forensic/internal/verdict"
	"github.com/forensic-dev/forensic/store"
)

// LakeSection is what verify found of the CloudTrail Lake query results in
// the case: one row per sign file (a query's), with its result files by
// status, and the result files no sign file lists. Every file's own status
// is in "statuses" when it is not valid.
type LakeSection struct {
	Queries      []LakeQuery      `json:"queries"`
	Unreferenced int64            `json:"unreferenced_results"` // result files no sign file lists
	Results      map[string]int64 `json:"results"`              // every result file (and listed one missing), by status
}

// LakeQuery is one sign file and the result files judged against it.
type LakeQuery struct {
	Folder         string           `json:"folder"`
	Path           string           `json:"path"`
	QueryComplete  *string          `json:"query_complete_time"`
	Reason         *string          `json:"reason"`
	ResultStatuses map[string]int64 `json:"result_statuses"`
	S3Key          string           `json:"s3_key"`
	Status         string           `json:"status"`
}

// lakeSection reads the Lake statuses verify recorded (nil when the case
// has none).
func lakeSection(ctx context.Context, c *store.Case) (*LakeSection, error) {
	rows, err := c.LakeStatuses(ctx)
	if err != nil || len(rows) == 0 {
		return nil, err
	}
	s := &LakeSection{Queries: []LakeQuery{}, Results: map[string]int64{}}
	bySign := map[string]int{}
	for _, r := range rows {
		if r.Kind == verdict.KindLakeSign {
			var d verdict.LakeSignDetail
			_ = json.Unmarshal([]byte(r.Detail), &d)
			q := LakeQuery{Folder: d.Folder, Path: r.Path, S3Key: r.S3Key, Status: r.Status, ResultStatuses: map[string]int64{}}
			if d.QueryCompleteTime != "" {
				q.QueryComplete = &d.QueryCompleteTime
			}
			if d.Reason != "" {
				q.Reason = &d.Reason
			}
			bySign[r.Path] = len(s.Queries)
			s.Queries = append(s.Queries, q)
			continue
		}
		var d verdict.LakeResultDetail
		_ = json.Unmarshal([]byte(r.Detail), &d)
		s.Results[r.Status]++
		if i, ok := bySign[d.SignFile]; ok && d.SignFile != "" {
			s.Queries[i].ResultStatuses[r.Status]++
		} else {
			s.Unreferenced++
		}
	}
	sort.SliceStable(s.Queries, func(i, j int) bool { return s.Queries[i].Path < s.Queries[j].Path })
	return s, nil
}
