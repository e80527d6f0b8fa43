package display

import (
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestQuote(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		// Values that print as themselves are unchanged.
		{"", ""},
		{"AWSLogs/111122223333/CloudTrail/us-east-1/2024/03/04/x.json.gz", "AWSLogs/111122223333/CloudTrail/us-east-1/2024/03/04/x.json.gz"},
		{"arn:aws:iam::111122223333:user/alice", "arn:aws:iam::111122223333:user/alice"},
		{`C:\evidence\a b.json`, `C:\evidence\a b.json`},
		{"say \"hi\"", "say \"hi\""},
		{"rapports/été/Ünïcödé.txt", "rapports/été/Ünïcödé.txt"},
		{"日本語/ノート.txt", "日本語/ノート.txt"},
		{"\u05e9\u05dc\u05d5\u05dd.txt", "\u05e9\u05dc\u05d5\u05dd.txt"}, // Hebrew letters: strong RTL, but graphic
		{"valid \uFFFD char", "valid \uFFFD char"},
		// Controls.
		{"a\rb", `"a\rb"`},
		{"a\nb\tc", `"a\nb\tc"`},
		{"\x1b[2K\x1b[8mhidden", `"\x1b[2K\x1b[8mhidden"`},
		{"del\x7f", `"del\x7f"`},
		{"c1\u0085\u009b", `"c1\u0085\u009b"`},
		{"nul\x00", `"nul\x00"`},
		// Combining marks: one or two on a character (decomposed accents)
		// print as they are; one at the start, a stack of more than two,
		// or an enclosing mark could draw outside the value.
		{"Cafe\u0301/re\u0301sume\u0301.txt", "Cafe\u0301/re\u0301sume\u0301.txt"},
		{"a\u0308\u0301", "a\u0308\u0301"},
		{"\u0336struck", `"\u0336struck"`},
		{"z\u0336\u0336\u0336", "\"z\u0336\u0336\\u0336\""},
		{"ok\u20dd", `"ok\u20dd"`},
		// Bytes that are not UTF-8.
		{"bad\xff\xfe", `"bad\xff\xfe"`},
		{"cut\xe2\x80", `"cut\xe2\x80"`},
		// Format characters: bidi controls, zero-width, tags.
		{"invoice\u202Egpj.exe", `"invoice\u202egpj.exe"`},
		{"a\u2066b\u2067c\u2068d\u2069", `"a\u2066b\u2067c\u2068d\u2069"`},
		{"\u202a\u202b\u202c\u202d", `"\u202a\u202b\u202c\u202d"`},
		{"lrm\u200e rlm\u200f alm\u061c", `"lrm\u200e rlm\u200f alm\u061c"`},
		{"zw\u200b\u200c\u200d\u2060\ufeff", `"zw\u200b\u200c\u200d\u2060\ufeff"`},
		{"tag\U000E0041", `"tag\U000e0041"`},
		{"soft\u00adhyphen", `"soft\u00adhyphen"`},
		// Invisible and blank characters that are not Cf.
		{"nbsp\u00a0x", `"nbsp\u00a0x"`},
		{"ls\u2028ps\u2029", `"ls\u2028ps\u2029"`},
		{"hangul\u3164filler", `"hangul\u3164filler"`},
		{"cgj\u034f", `"cgj\u034f"`},
		{"vs\ufe0f", `"vs\ufe0f"`},
		{"braille\u2800", `"braille\u2800"`},
		{"pua\ue000", `"pua\ue000"`},
		// Lookalike slashes and backslashes.
		{"AWSLogs\u2215111122223333", `"AWSLogs\u2215111122223333"`},
		{"a\u2044b\uff0fc\u29f8d", `"a\u2044b\uff0fc\u29f8d"`},
		{"a\u2216b\uff3cc", `"a\u2216b\uff3cc"`},
		{"x\u0338y", `"x\u0338y"`},
		// Quotes and backslashes inside a quoted value; a leading quote.
		{"\"q\"\x1b\\", `"\"q\"\x1b\\"`},
		{`"looks quoted"`, `"\"looks quoted\""`},
	} {
		got := Quote(tt.in)
		if got != tt.want {
			t.Errorf("Quote(%q) = %s, want %s", tt.in, got, tt.want)
		}
		if Safe(tt.in) != (got == tt.in) {
			t.Errorf("Safe(%q) = %v, but Quote gives %s", tt.in, Safe(tt.in), got)
		}
		if got != tt.in {
			back, err := strconv.Unquote(got)
			if err != nil || back != tt.in {
				t.Errorf("strconv.Unquote(%s) = %q, %v; want %q", got, back, err, tt.in)
			}
		}
	}
}

func TestToken(t *testing.T) {
	for _, tt := range []struct {
		r       rune
		invalid bool
		want    string
	}{
		{0x202E, false, "[U+202E]"},
		{0x1b, false, "[U+001B]"},
		{0xE0041, false, "[U+0E0041]"},
		{0xff, true, "[0xFF]"},
	} {
		if got := Token(tt.r, tt.invalid); got != tt.want {
			t.Errorf("Token(%U, %v) = %s, want %s", tt.r, tt.invalid, got, tt.want)
		}
	}
}

func TestScan(t *testing.T) {
	var parts []string
	Scan("a\u202Eb\xffc", func(s string) { parts = append(parts, "text:"+s) },
		func(r rune, invalid bool) { parts = append(parts, Token(r, invalid)) })
	want := []string{"text:a", "[U+202E]", "text:b", "[0xFF]", "text:c"}
	if strings.Join(parts, "|") != strings.Join(want, "|") {
		t.Errorf("Scan = %q, want %q", parts, want)
	}
}

// FuzzQuote: a quoted value holds only printable ASCII and safe
// characters, reads back exactly with strconv.Unquote, and Safe agrees
// with Quote.
func FuzzQuote(f *testing.F) {
	for _, s := range []string{"", "plain/key", "a\rb\x1b[2K", "invoice\u202Egpj.exe", "\xff\"\\", "AWSLogs\u2215x", `"x"`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		q := Quote(s)
		if Safe(s) {
			if q != s {
				t.Fatalf("Safe(%q) but Quote = %q", s, q)
			}
			return
		}
		if !utf8.ValidString(q) || !Safe(q[1:]) {
			t.Fatalf("Quote(%q) = %q holds unsafe characters", s, q)
		}
		back, err := strconv.Unquote(q)
		if err != nil || back != s {
			t.Fatalf("strconv.Unquote(Quote(%q)) = %q, %v", s, back, err)
		}
	})
}
