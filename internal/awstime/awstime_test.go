package awstime

import (
	"testing"
	"time"
)

func TestParse(t *testing.T) {
	want := time.Date(2015, 7, 8, 1, 4, 1, 0, time.UTC)
	for _, in := range []string{
		"2015-07-08T01:04:01Z",
		"2015-07-08T01:04:01.000Z",
		"2015-07-08T01:04:01+00:00",
		"2015-07-08T03:04:01+02:00",
		"Wed, 08 Jul 2015 01:04:01 GMT",
		"1436317441",
		"1436317441.0",
		"1436317441000",
	} {
		got, err := Parse(in)
		if err != nil || !got.Equal(want) {
			t.Errorf("Parse(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"", "yesterday", "2015-13-45T00:00:00Z", "12:00"} {
		if got, err := Parse(in); err == nil {
			t.Errorf("Parse(%q) = %v, want error", in, got)
		}
	}
}
