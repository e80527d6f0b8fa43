package verify

import (
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/forensic-dev/forensic/fixtures"
	"github.com/forensic-dev/forensic/internal/casetest"
)

// A DELETE of a log file logged on an access-log line longer than 1 MiB
// (a client-chosen User-Agent or Referer) is still correlated: the fields
// around the long one are read.
func TestCorrelationDeleteOnOverLongLine(t *testing.T) {
	big := strings.Repeat("x", 2<<20)
	for _, tc := range []struct{ name, old, new string }{
		{"long User-Agent", `"-" "`, `"-" "` + big},
		{"long Referer", `"-" "`, `"` + big + `" "`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var info fixtures.TamperInfo
			c, m := setWith(t, accessSet(), func(m *fixtures.Manifest) {
				var err error
				info, err = fixtures.Tamper(m, fixtures.LogDeletedViaS3)
				require.NoError(t, err)
				require.Len(t, info.Created, 1)
				b, err := os.ReadFile(info.Created[0])
				require.NoError(t, err)
				require.Equal(t, 1, strings.Count(string(b), tc.old))
				require.NoError(t, os.WriteFile(info.Created[0], []byte(strings.Replace(string(b), tc.old, tc.new, 1)), 0o644))
			})
			var perr string
			require.NoError(t, casetest.DB(t, c).QueryRow("SELECT parse_error FROM s3_access WHERE operation = 'REST.DELETE.OBJECT'").Scan(&perr))
			assert.Contains(t, perr, "line longer than 1 MiB cap")
			rep := runVerify(t, c, Options{Anchors: anchors(t, m)})
			key := info.LogKeys[0]
			it := itemByKey(t, rep, KindLog, key)
			assert.Equal(t, StatusMissing, it.Status)
			assert.Equal(t, []string{info.RequestID}, it.Detail.Shared().ExplainedBy)
			cf := findingsOf(rep, FindingCorrelation)
			require.Len(t, cf, 1)
			checkRequest(t, cf[0].Detail, info, key)
			assert.Equal(t, "delete", det(cf[0].Detail)["class"])
		})
	}
}
