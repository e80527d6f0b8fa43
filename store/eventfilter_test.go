package store

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func tm(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

// TestEventFilterMatch: From is inclusive, To exclusive; the account is
// recipientAccountId, else userIdentity.accountId; a record without a
// parseable eventTime matches no clause with a time bound.
func TestEventFilterMatch(t *testing.T) {
	f := EventFilter{Restricted: true, Clauses: []EventClause{{
		From: tm("2024-03-04T00:00:00Z"), To: tm("2024-03-05T00:00:00Z"),
		Accounts: []string{"111122223333"}, Regions: []string{"us-east-1"}}}}
	ev := func(tt, recipient, acct, region string) *Event {
		return &Event{EventTime: tt, RecipientAccountID: recipient, AccountID: acct, AWSRegion: region}
	}
	for _, c := range []struct {
		name string
		e    *Event
		want bool
	}{
		{"at from", ev("2024-03-04T00:00:00Z", "111122223333", "", "us-east-1"), true},
		{"before from", ev("2024-03-03T23:59:59Z", "111122223333", "", "us-east-1"), false},
		{"just before to", ev("2024-03-04T23:59:59Z", "111122223333", "", "us-east-1"), true},
		{"at to", ev("2024-03-05T00:00:00Z", "111122223333", "", "us-east-1"), false},
		{"fraction before to", ev("2024-03-04T23:59:59.999Z", "111122223333", "", "us-east-1"), true},
		{"other zone at from", ev("2024-03-04T01:00:00+01:00", "111122223333", "", "us-east-1"), true},
		{"account from userIdentity", ev("2024-03-04T10:00:00Z", "", "111122223333", "us-east-1"), true},
		{"recipient wins over userIdentity", ev("2024-03-04T10:00:00Z", "444455556666", "111122223333", "us-east-1"), false},
		{"other region", ev("2024-03-04T10:00:00Z", "111122223333", "", "eu-west-1"), false},
		{"no time", ev("", "111122223333", "", "us-east-1"), false},
		{"bad time", ev("yesterday", "111122223333", "", "us-east-1"), false},
	} {
		assert.Equal(t, c.want, f.Match(c.e), c.name)
	}
	assert.True(t, AllEvents.Match(ev("", "", "", "")))
	assert.False(t, NoEvents.Match(ev("2024-03-04T10:00:00Z", "111122223333", "", "us-east-1")))
	// A clause without time bounds does not look at the time.
	g := EventFilter{Restricted: true, Clauses: []EventClause{{Regions: []string{"us-east-1"}}}}
	assert.True(t, g.Match(ev("not a time", "", "", "us-east-1")))
}

// TestEventFilterNormalize: the normal form selects the same records and
// is what Encode writes; unions merge what they can and Covers tells a
// narrower filter from a wider one.
func TestEventFilterNormalize(t *testing.T) {
	a := EventClause{Accounts: []string{"222", "111", "111"}}
	b := EventClause{Accounts: []string{"333"}}
	jan := EventClause{From: tm("2024-01-01T00:00:00Z"), To: tm("2024-02-01T00:00:00Z")}
	feb := EventClause{From: tm("2024-02-01T00:00:00Z"), To: tm("2024-03-01T00:00:00Z")}
	mid := EventClause{From: tm("2024-01-10T00:00:00Z"), To: tm("2024-01-20T00:00:00Z")}
	r := func(cs ...EventClause) EventFilter { return EventFilter{Restricted: true, Clauses: cs} }

	assert.Equal(t, `[{"accounts":["111","222"]}]`, r(a).Encode())
	assert.Equal(t, `[{"accounts":["111","222","333"]}]`, r(a).Union(r(b)).Encode(), "accounts merge")
	assert.Equal(t, `[{"from":"2024-01-01T00:00:00Z","to":"2024-03-01T00:00:00Z"}]`, r(jan).Union(r(feb)).Encode(), "adjacent spans merge")
	assert.Equal(t, r(jan).Encode(), r(jan).Union(r(mid)).Encode(), "a contained clause goes")
	assert.Equal(t, "", r(a).Union(AllEvents).Encode(), "anything or all is all")
	assert.Equal(t, "[]", NoEvents.Encode())
	assert.Equal(t, r(a).Encode(), NoEvents.Union(r(a)).Encode())
	assert.Equal(t, "[]", r(EventClause{From: feb.To, To: feb.From}).Encode(), "an empty span selects nothing")
	assert.Equal(t, "", r(EventClause{}).Encode(), "a clause that restricts nothing is all")

	assert.True(t, r(jan).Covers(r(mid)))
	assert.False(t, r(mid).Covers(r(jan)))
	assert.True(t, r(jan).Covers(NoEvents))
	assert.False(t, r(jan).Covers(AllEvents))
	assert.True(t, AllEvents.Covers(r(jan)))
	assert.False(t, r(a).Covers(r(b)))
	assert.True(t, r(EventClause{}).Covers(r(a)))

	// Account and time together: not merged, kept as two clauses.
	ab := r(EventClause{Accounts: []string{"111"}}, EventClause{From: jan.From, Regions: []string{"eu-west-1"}})
	dec, err := DecodeEventFilter(ab.Encode())
	require.NoError(t, err)
	assert.Equal(t, ab.Encode(), dec.Encode())
	assert.Len(t, dec.Clauses, 2)
	assert.Equal(t, "accounts 111 or from 2024-01-01T00:00:00Z, regions eu-west-1", dec.String())

	for _, bad := range []string{"{}", "null", `[{}]`, `[{"from":"x"}]`, "[", `[{"to":3}]`} {
		_, err := DecodeEventFilter(bad)
		assert.Error(t, err, bad)
	}
	all, err := DecodeEventFilter("")
	require.NoError(t, err)
	assert.True(t, all.All())
}

// FuzzDecodeEventFilter: a filter read from a case or a report (outside
// data) never panics, and what it decodes to encodes to a filter that
// decodes to the same.
func FuzzDecodeEventFilter(f *testing.F) {
	for _, s := range []string{"", "[]", `[{"accounts":["111122223333"],"from":"2024-03-04T00:00:00Z","regions":["us-east-1"],"to":"2024-03-05T00:00:00Z"}]`,
		`[{"accounts":["1"]},{"accounts":["2"]}]`, `[{"from":"2024-01-01T00:00:00Z"},{"to":"2023-01-01T00:00:00+02:00"}]`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		ef, err := DecodeEventFilter(s)
		if err != nil {
			return
		}
		enc := ef.Encode()
		again, err := DecodeEventFilter(enc)
		if err != nil {
			t.Fatalf("DecodeEventFilter(%q) = %v; its encoding %q does not decode: %v", s, ef, enc, err)
		}
		if again.Encode() != enc {
			t.Fatalf("DecodeEventFilter(%q) encodes to %q, which re-encodes to %q", s, enc, again.Encode())
		}
		_ = ef.String()
	})
}
