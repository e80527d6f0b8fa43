package sigma

import (
	"context"
	"database/sql"
	"encoding/json"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/forensic-dev/forensic/store" // registers sigma_regexp and sigma_cidr, opens cases
)

// events are the records the compiler tests match; their ids are their
// positions from 1.
var events = []string{
	/*1*/ `{"eventName":"StopLogging","eventSource":"cloudtrail.amazonaws.com","sourceIPAddress":"203.0.113.7","userIdentity":{"type":"IAMUser","arn":"arn:aws:iam::111122223333:user/alice","userName":"alice"},"requestParameters":{"name":"trail-1"},"readOnly":false,"errorCode":null}`,
	/*2*/ `{"eventName":"stoplogging","eventSource":"cloudtrail.amazonaws.com","sourceIPAddress":"198.51.100.1","userIdentity":{"type":"Root","arn":"arn:aws:iam::111122223333:root"},"readOnly":true}`,
	/*3*/ `{"eventName":"GetObject","eventSource":"s3.amazonaws.com","sourceIPAddress":"10.1.2.3","userIdentity":{"type":"AssumedRole","arn":"arn:aws:sts::111122223333:assumed-role/r/s"},"requestParameters":{"bucketName":"50%_off","key":"a*b"},"additionalEventData":{"bytesTransferredOut":2048}}`,
	/*4*/ `{"eventName":"PutBucketPolicy","eventSource":"s3.amazonaws.com","sourceIPAddress":"AWS Internal","userIdentity":{"type":"IAMUser","arn":"arn:aws:iam::111122223333:user/bob","userName":"bob"},"requestParameters":{"bucketName":"logs","policy":{"Statement":[{"Principal":"*"}]}},"additionalEventData":{"bytesTransferredOut":10}}`,
	/*5*/ `{"eventName":"ConsoleLogin","eventSource":"signin.amazonaws.com","sourceIPAddress":"2001:db8::5","userIdentity":{"type":"IAMUser","userName":"alice"},"additionalEventData":{"MFAUsed":"No"},"responseElements":{"ConsoleLogin":"Failure"}}`,
}

// testCase is a ct_events table holding events.
func testCase(t testing.TB) *sql.DB {
	t.Helper()
	p := filepath.Join(t.TempDir(), "case.db")
	c, err := store.Open(context.Background(), p)
	require.NoError(t, err)
	c.Close()
	db, err := sql.Open("sqlite", p)
	require.NoError(t, err)
	t.Cleanup(func() { db.Close() })
	_, err = db.Exec(`INSERT INTO evidence(id, source, path, kind, ingested_at) VALUES (1, '/e', '/e/x', 'cloudtrail_log', '2024')`)
	require.NoError(t, err)
	for i, raw := range events {
		var m struct {
			EventName *string `json:"eventName"`
		}
		require.NoError(t, json.Unmarshal([]byte(raw), &m))
		_, err := db.Exec("INSERT INTO ct_events(id, evidence_id, record_index, event_name, verifiable, raw) VALUES (?, 1, ?, ?, 1, ?)",
			i+1, i, m.EventName, raw)
		require.NoError(t, err)
	}
	return db
}

func match(t *testing.T, db *sql.DB, detection string) []int {
	t.Helper()
	rule := "title: t\nlogsource: {product: aws, service: cloudtrail}\ndetection:\n" + detection
	rs, err := Parse("test.yml", []byte(rule))
	require.NoError(t, err, rule)
	require.Len(t, rs, 1)
	require.Empty(t, rs[0].Unsupported, rule)
	q, err := Compile(rs[0])
	require.NoError(t, err)
	rows, err := db.Query(q.SQL()+" ORDER BY e.id", q.Args...)
	require.NoError(t, err, q.SQL())
	defer rows.Close()
	out := []int{}
	for rows.Next() {
		var id int
		require.NoError(t, rows.Scan(&id))
		out = append(out, id)
	}
	require.NoError(t, rows.Err())
	return out
}

// TestCompile: every supported construct, against SQLite, with Sigma's
// semantics where SQL's differ.
func TestCompile(t *testing.T) {
	db := testCase(t)
	for _, tc := range []struct {
		name, det string
		want      []int
	}{
		{"exact, case-insensitive", "  sel: {eventName: StopLogging}\n  condition: sel", []int{1, 2}},
		{"value list is OR", "  sel: {eventName: [StopLogging, GetObject]}\n  condition: sel", []int{1, 2, 3}},
		{"map is AND", "  sel: {eventName: StopLogging, userIdentity.type: Root}\n  condition: sel", []int{2}},
		{"list of maps is OR", "  sel:\n    - {eventName: GetObject}\n    - {userIdentity.type: Root}\n  condition: sel", []int{2, 3}},
		{"nested field", "  sel: {userIdentity.arn: 'arn:aws:iam::111122223333:user/bob'}\n  condition: sel", []int{4}},
		{"wildcard *", "  sel: {eventName: 'Put*Policy'}\n  condition: sel", []int{4}},
		{"wildcard ?", "  sel: {eventName: 'GetObjec?'}\n  condition: sel", []int{3}},
		{"escaped star is literal", "  sel: {requestParameters.key: 'a\\*b'}\n  condition: sel", []int{3}},
		{"escaped star needs the star", "  sel: {requestParameters.key: 'aX\\*b'}\n  condition: sel", []int{}},
		{"% and _ are plain", "  sel: {requestParameters.bucketName: '50%_off'}\n  condition: sel", []int{3}},
		{"% does not match anything", "  sel: {requestParameters.bucketName: '5%'}\n  condition: sel", []int{}},
		{"contains", "  sel: {userIdentity.arn|contains: ':user/'}\n  condition: sel", []int{1, 4}},
		{"startswith", "  sel: {eventSource|startswith: 'S3.'}\n  condition: sel", []int{3, 4}},
		{"endswith", "  sel: {userIdentity.arn|endswith: ':ROOT'}\n  condition: sel", []int{2}},
		{"contains all", "  sel: {userIdentity.arn|contains|all: ['iam', 'bob']}\n  condition: sel", []int{4}},
		{"cased", "  sel: {eventName|cased: StopLogging}\n  condition: sel", []int{1}},
		{"cased contains", "  sel: {eventName|cased|contains: logging}\n  condition: sel", []int{2}},
		{"re is case-sensitive", "  sel: {eventName|re: '^Stop'}\n  condition: sel", []int{1}},
		{"re with i", "  sel: {eventName|re|i: '^stop'}\n  condition: sel", []int{1, 2}},
		{"cidr v4", "  sel: {sourceIPAddress|cidr: 10.0.0.0/8}\n  condition: sel", []int{3}},
		{"cidr v6", "  sel: {sourceIPAddress|cidr: '2001:db8::/32'}\n  condition: sel", []int{5}},
		{"cidr skips what is not an address", "  sel: {sourceIPAddress|cidr: 0.0.0.0/0}\n  condition: sel", []int{1, 2, 3}},
		{"true is the string true", "  sel: {readOnly: 'true'}\n  condition: sel", []int{2}},
		{"false as a YAML boolean", "  sel: {readOnly: false}\n  condition: sel", []int{1}},
		{"null: missing or JSON null", "  sel: {errorCode: null}\n  condition: sel", []int{1, 2, 3, 4, 5}},
		{"null: missing", "  sel: {requestParameters: null}\n  condition: sel", []int{2, 5}},
		{"exists true holds for a null value", "  sel: {errorCode|exists: true}\n  condition: sel", []int{1}},
		{"exists false", "  sel: {requestParameters|exists: false}\n  condition: sel", []int{2, 5}},
		{"not of a missing field is true", "  sel: {requestParameters.name: trail-1}\n  condition: not sel", []int{2, 3, 4, 5}},
		{"and not", "  sel: {eventName: StopLogging}\n  root: {userIdentity.type: Root}\n  condition: sel and not root", []int{1}},
		{"parentheses", "  a: {eventName: GetObject}\n  b: {eventName: PutBucketPolicy}\n  c: {userIdentity.type: IAMUser}\n  condition: (a or b) and c", []int{4}},
		{"1 of pattern", "  sel_a: {eventName: GetObject}\n  sel_b: {eventName: ConsoleLogin}\n  other: {eventName: StopLogging}\n  condition: 1 of sel_*", []int{3, 5}},
		{"all of pattern", "  sel_a: {eventSource: s3.amazonaws.com}\n  sel_b: {userIdentity.type: IAMUser}\n  condition: all of sel_*", []int{4}},
		{"1 of them", "  a: {eventName: GetObject}\n  b: {eventName: ConsoleLogin}\n  condition: 1 of them", []int{3, 5}},
		{"all of them", "  a: {eventSource: s3.amazonaws.com}\n  b: {eventName: GetObject}\n  condition: all of them", []int{3}},
		{"keywords anywhere", "  kw: ['trail-1', 'MFAUSED']\n  condition: kw", []int{1, 5}},
		{"an object compares its JSON text", "  sel: {requestParameters.policy|contains: '\"Principal\":\"*\"'}\n  condition: sel", []int{4}},
		{"fieldref", "  sel: {userIdentity.userName|fieldref: userIdentity.userName}\n  condition: sel", []int{1, 4, 5}},
		{"gt", "  sel: {additionalEventData.bytesTransferredOut|gt: 1024}\n  condition: sel", []int{3}},
		{"lte", "  sel: {additionalEventData.bytesTransferredOut|lte: 10}\n  condition: sel", []int{4}},
		{"a number as text", "  sel: {additionalEventData.bytesTransferredOut: 2048}\n  condition: sel", []int{3}},
		{"list of conditions is OR", "  a: {eventName: GetObject}\n  b: {eventName: ConsoleLogin}\n  condition: [a, b]", []int{3, 5}},
		{"empty list matches nothing", "  sel: {eventName: []}\n  condition: sel", []int{}},
		{"not not", "  sel: {eventName: GetObject}\n  condition: not not sel", []int{3}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, match(t, db, tc.det))
		})
	}
}

// TestCompileIndexed: a rule that names event names starts from the
// event_name index; one that does not, or only under not, does not.
func TestCompileIndexed(t *testing.T) {
	for _, tc := range []struct {
		det     string
		indexed bool
	}{
		{"  sel: {eventName: StopLogging}\n  condition: sel", true},
		{"  sel: {eventName: StopLogging}\n  f: {userIdentity.type: Root}\n  condition: sel and not f", true},
		{"  a: {eventName: A}\n  b: {eventName: B}\n  condition: a or b", true},
		{"  a: {eventName: A}\n  b: {userIdentity.type: Root}\n  condition: a or b", false},
		{"  sel: {eventName: StopLogging}\n  condition: not sel", false},
		{"  sel: {eventName: null}\n  condition: sel", false},
		{"  sel: {eventName|re: Stop}\n  condition: sel", false},
	} {
		rs, err := Parse("t.yml", []byte("title: t\nlogsource: {product: aws, service: cloudtrail}\ndetection:\n"+tc.det))
		require.NoError(t, err)
		q, err := Compile(rs[0])
		require.NoError(t, err)
		assert.Equal(t, tc.indexed, q.Indexed, tc.det)
	}
}

// TestUnsupported: a rule using what the compiler lacks is reported with
// the construct named, never run.
func TestUnsupported(t *testing.T) {
	for _, tc := range []struct{ rule, construct string }{
		{"logsource: {product: aws, service: cloudtrail}\ndetection:\n  sel: {eventName: A}\n  condition: sel | count() > 5", "aggregation"},
		{"logsource: {product: aws, service: cloudtrail}\ndetection:\n  sel: {eventName: A}\n  timeframe: 5m\n  condition: sel", "timeframe"},
		{"logsource: {product: aws, service: cloudtrail}\ndetection:\n  sel: {eventName: A}\n  condition: sel near other", "near"},
		{"logsource: {product: aws, service: cloudtrail}\ndetection:\n  sel: {eventName|base64: A}\n  condition: sel", "modifier base64"},
		{"logsource: {product: aws, service: cloudtrail}\ndetection:\n  sel: {eventName|re: '(?<=a)b'}\n  condition: sel", "regular expression"},
		{"logsource: {product: windows, service: security}\ndetection:\n  sel: {EventID: 4624}\n  condition: sel", "not a CloudTrail rule"},
		{"correlation: {type: event_count}\n", "correlation"},
		{"logsource: {product: aws, service: cloudtrail}\ndetection:\n  sel: {'eventName\"x': A}\n  condition: sel", "field name"},
	} {
		rs, err := Parse("t.yml", []byte("title: t\n"+tc.rule))
		require.NoError(t, err, tc.rule)
		require.Len(t, rs, 1)
		assert.Contains(t, rs[0].Unsupported, tc.construct, tc.rule)
		_, err = Compile(rs[0])
		var u *UnsupportedError
		assert.ErrorAs(t, err, &u)
	}
}

// TestParseErrors: what is not a Sigma rule is an error naming the file.
func TestParseErrors(t *testing.T) {
	for _, tc := range []struct{ data, want string }{
		{"", "no rule"},
		{"title: [unclosed", "rule file x.yml"},
		{"detection: {sel: {a: b}, condition: sel}\n", "no title"},
		{"title: t\nlogsource: {product: aws, service: cloudtrail}\n", "no detection"},
		{"title: t\nlogsource: {product: aws, service: cloudtrail}\ndetection:\n  sel: {a: b}\n  condition: other", "does not define"},
		{"title: t\nlogsource: {product: aws, service: cloudtrail}\ndetection:\n  sel: {a: b}\n  condition: sel and", "ends too soon"},
		{"title: t\na: &x [1]\nb: *x\n", "aliases"},
		{"title: t\ntitle: u\n", "already defined"},
	} {
		_, err := Parse("x.yml", []byte(tc.data))
		require.Error(t, err, tc.data)
		assert.Contains(t, err.Error(), tc.want, tc.data)
		assert.Contains(t, err.Error(), "x.yml")
	}
}

// TestValuesAreBound: no value or field of a rule reaches the SQL text.
func TestValuesAreBound(t *testing.T) {
	rs, err := Parse("t.yml", []byte(`title: t
logsource: {product: aws, service: cloudtrail}
detection:
  sel:
    "requestParameters.x');DROP TABLE ct_events;--": "v'); DELETE FROM evidence; --"
    eventName|contains: "' OR 1=1 --"
  condition: sel
`))
	require.NoError(t, err)
	q, err := Compile(rs[0])
	require.NoError(t, err)
	for _, bad := range []string{"DROP", "DELETE", "OR 1=1", "requestParameters"} {
		assert.NotContains(t, q.SQL(), bad)
	}
	db := testCase(t)
	rows, err := db.Query(q.SQL(), q.Args...)
	require.NoError(t, err)
	rows.Close()
	var n int
	require.NoError(t, db.QueryRow("SELECT count(*) FROM ct_events").Scan(&n))
	assert.Equal(t, len(events), n)
}

func TestTechniques(t *testing.T) {
	r := &Rule{Tags: []string{"attack.defense-evasion", "attack.t1562.008", "attack.T1078"}}
	assert.Equal(t, []string{"T1078", "T1562.008"}, r.Techniques())
}
