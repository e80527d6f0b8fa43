package sigma

import (
	"strings"
	"testing"
)

// FuzzCompile: any rule file parses or is refused, and every rule that
// compiles runs in SQLite without an error and leaves the case as it was:
// the SQL text holds no value of the rule.
func FuzzCompile(f *testing.F) {
	f.Add([]byte("title: t\nlogsource: {product: aws, service: cloudtrail}\ndetection:\n  sel: {eventName|contains: x}\n  condition: sel"))
	f.Add([]byte("title: t\nlogsource: {product: aws, service: cloudtrail}\ndetection:\n  a: {x.y|re|i: '^a'}\n  b: [k1, k2]\n  condition: 1 of them and not (a or b)"))
	f.Add([]byte("title: t\nlogsource: {product: aws, service: cloudtrail}\ndetection:\n  a: {sourceIPAddress|cidr: 10.0.0.0/8, n|gt: 3, z: null, q|exists: true}\n  condition: all of a*"))
	f.Add([]byte("title: t\nlogsource: {product: aws, service: cloudtrail}\nthreshold: {count: 3, within: 5m, group_by: [userIdentity.arn]}\ndetection:\n  a: {eventName: x}\n  condition: a"))
	db := testCase(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		rs, err := Parse("fuzz.yml", data)
		if err != nil {
			return
		}
		for _, r := range rs {
			q, err := Compile(r)
			if err != nil {
				continue
			}
			// The only quoted text in the SQL is the compiler's own.
			rest := q.SQL()
			for _, lit := range []string{`'\'`, "'true'", "'false'", "'null'", "'integer'", "'real'", "''"} {
				rest = strings.ReplaceAll(rest, lit, "")
			}
			if strings.ContainsAny(rest, "'\"") {
				t.Fatalf("quoted text from the rule in the SQL: %s", q.SQL())
			}
			rows, err := db.Query(q.SQL(), q.Args...)
			if err != nil {
				t.Fatalf("%s: %v", q.SQL(), err)
			}
			for rows.Next() {
			}
			if err := rows.Err(); err != nil {
				t.Fatalf("%s: %v", q.SQL(), err)
			}
			rows.Close()
		}
		var n int
		if err := db.QueryRow("SELECT count(*) FROM ct_events").Scan(&n); err != nil || n != len(events) {
			t.Fatalf("the case changed: %d events, %v", n, err)
		}
	})
}
