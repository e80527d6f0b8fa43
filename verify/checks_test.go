package verify

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/forensic-dev/forensic/internal/verdict"
)

// checkVerdicts asserts, on a report as forensic verify --json prints it,
// what every item's checks must give: every required check of its kind
// is there (run or not run), each has a known status, a failing or not
// run check says why, and the item's status is the one its checks give
// by its kind's order; for a digest or log file, the reason in its
// detail begins with that of its deciding check. It also asserts which checks
// fail on the set: none on an untampered set, and the tampering's own on
// a tampered one (failingChecks).
func checkVerdicts(t *testing.T, set string, report []byte) {
	t.Helper()
	var doc struct {
		Items []struct {
			Kind, Status, S3Key, Path string
			Detail                    json.RawMessage
			Checks                    []verdict.Check
		}
	}
	require.NoError(t, json.Unmarshal(report, &doc))
	failing := map[string]bool{}
	for _, it := range doc.Items {
		where := fmt.Sprintf("%s %s (%s)", it.Kind, it.S3Key, it.Path)
		o, ok := Orders[it.Kind]
		require.True(t, ok, where)
		require.NotEmpty(t, it.Checks, where)
		// The typed detail holds every member verify printed, null and
		// absent told apart: decoding and encoding it again gives the
		// same JSON.
		d, err := verdict.DecodeDetail(it.Kind, it.Detail)
		require.NoError(t, err, where)
		again, err := json.Marshal(d)
		require.NoError(t, err, where)
		assert.JSONEq(t, string(it.Detail), string(again), where)
		// DecodeDetail's decoder (goccy/go-json) reads what encoding/json
		// reads.
		std := verdict.NewDetail(it.Kind)
		dec := json.NewDecoder(bytes.NewReader(it.Detail))
		dec.DisallowUnknownFields()
		require.NoError(t, dec.Decode(std), where)
		assert.Equal(t, std, d, where)
		names := map[string]bool{}
		for _, c := range it.Checks {
			names[c.Name] = true
			require.Contains(t, []string{verdict.Pass, verdict.Fail, verdict.NotRun}, c.Status, where)
			if c.Status != verdict.Pass {
				assert.NotEmpty(t, c.Reason, "%s: check %s is %s without a reason", where, c.Name, c.Status)
			}
			if c.Status == verdict.Fail {
				failing[c.Name] = true
				assert.NotEmpty(t, c.Want, "%s: failing check %s says nothing of what was expected", where, c.Name)
			}
		}
		for _, n := range o.Required() {
			assert.True(t, names[n], "%s lacks check %s", where, n)
		}
		status, decided, unknown := o.Status(it.Checks)
		require.Empty(t, unknown, where)
		require.Equal(t, status, it.Status, "%s: status and checks disagree", where)
		if decided != nil && it.Kind != KindObject {
			// Access-log correlation may add what explains it.
			reason, _ := det(it.Detail)["reason"].(string)
			assert.True(t, strings.HasPrefix(reason, decided.Reason), "%s: reason %q is not its deciding check's %q", where, reason, decided.Reason)
		}
	}
	got := make([]string, 0, len(failing))
	for n := range failing {
		got = append(got, n)
	}
	sort.Strings(got)
	if os.Getenv("FORENSIC_PRINT_FAILING") != "" {
		fmt.Printf("%q: %q,\n", set, got)
		return
	}
	want, ok := failingChecks[set]
	require.True(t, ok, "failingChecks has no entry for set %s (it fails %q)", set, got)
	assert.Equal(t, want, got, "checks failing on set %s", set)
}

// failingChecks are the checks that fail on each golden set. The small
// set has objects and access logs only when tampered; each tampering
// changes one thing, and its checks are those that must catch it.
var failingChecks = map[string][]string{
	"demo":                               {"content_hash", "crc32", "etag", "listed", "listed_by_valid_digest", "present"},
	"small":                              {},
	"small-digest-chain-mismatch":        {"prev_hash_link"},
	"small-digest-format-invalid":        {"format", "listed"},
	"small-digest-key-not-valid-at-time": {"key_valid_at_time", "listed_by_valid_digest"},
	"small-digest-key-unknown":           {"key_known", "listed_by_valid_digest"},
	"small-digest-missing":               {"listed", "present"},
	"small-digest-moved":                 {"location"},
	"small-digest-overwritten-via-s3":    {"listed", "listed_by_valid_digest", "prev_hash_link", "signature"},
	"small-digest-signature-invalid":     {"listed_by_valid_digest", "prev_signature_link", "signature"},
	"small-digest-signature-unavailable": {"listed_by_valid_digest", "signature_available"},
	"small-digest-tail-deleted":          {"listed"},
	"small-log-deleted-via-s3":           {"present"},
	"small-log-format-invalid":           {"format"},
	"small-log-hash-mismatch":            {"content_hash", "listed_by_valid_digest"},
	"small-log-missing":                  {"present"},
	"small-log-trailing-data":            {"gzip_single_member"},
	"small-log-unreferenced":             {"listed"},
	"small-log-unverified":               {"listed_by_valid_digest", "signature"},
	"small-object-checksum-mismatch":     {"crc32", "etag"},
	"small-object-metadata-missing":      {"metadata"},
	"small-object-missing":               {"present"},
	"small-object-size-mismatch":         {"crc32", "etag", "size"},
	"wide":                               {},
}

func TestVerdictOrders(t *testing.T) {
	for kind, o := range Orders {
		seen := map[string]bool{}
		for _, r := range o.Rules {
			assert.False(t, seen[r.Check], "%s: check %s twice in the order", kind, r.Check)
			seen[r.Check] = true
			assert.NotEmpty(t, r.Status, kind)
			assert.NotEqual(t, o.Valid, r.Status, "%s: check %s failing leaves the item valid", kind, r.Check)
		}
		assert.Equal(t, CheckPresent, o.Rules[0].Check, "%s: present comes first", kind)
		assert.Equal(t, StatusValid, o.Valid, kind)
		assert.False(t, strings.Contains(strings.Join(o.Names(), ","), " "), kind)
	}
}
