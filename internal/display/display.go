// Package display makes values from the evidence safe to show to a
// person. Object keys, paths, principals and error texts come from the
// evidence, which an attacker may control: a carriage return or an ANSI
// sequence (ESC[2K erases the line, ESC[8m hides what follows) rewrites
// what a terminal shows, a bidi control (U+202E, U+2066–U+2069) reorders
// it, a zero-width character hides in it, and a lookalike slash (U+2215,
// U+2044, U+FF0F, ...) makes one key read as another.
//
// Quote is what every human-readable output of the command prints
// evidence values through: a value whose every character shows as itself
// is printed unchanged; any other is printed as a Go string literal, in
// double quotes with each unsafe character escaped, so strconv.Unquote
// gives back its exact bytes. Scan splits a value the same way for other
// renderings (report.html marks each unsafe character as a [U+XXXX]
// token).
//
// Unsafe characters: C0 and C1 controls (tab and newline included), DEL,
// bytes that are not UTF-8, Unicode format characters (category Cf: bidi
// embeddings, overrides, isolates and marks, zero-width characters, soft
// hyphen, tag characters), every other character Go does not count as
// graphic (unicode.IsPrint: spaces other than U+0020, line and paragraph
// separators, private-use, surrogate and unassigned code points), the
// other default-ignorable and variation-selector code points (U+034F,
// U+115F, U+3164, U+FE00–U+FE0F, ...), U+2800 (blank braille), the
// characters that look like a slash or a backslash (Lookalike), and
// combining marks that could draw outside the value: one at its start,
// more than two in a row, and enclosing marks.
package display

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// lookalikes are characters that pass for '/' or '\' in a key or path.
var lookalikes = map[rune]bool{
	// '/'
	0x0337:  true, // COMBINING SHORT SOLIDUS OVERLAY
	0x0338:  true, // COMBINING LONG SOLIDUS OVERLAY
	0x1735:  true, // PHILIPPINE SINGLE PUNCTUATION
	0x2041:  true, // CARET INSERTION POINT
	0x2044:  true, // FRACTION SLASH
	0x2215:  true, // DIVISION SLASH
	0x2571:  true, // BOX DRAWINGS LIGHT DIAGONAL UPPER RIGHT TO LOWER LEFT
	0x27CB:  true, // MATHEMATICAL RISING DIAGONAL
	0x29F8:  true, // BIG SOLIDUS
	0x3033:  true, // VERTICAL KANA REPEAT MARK UPPER HALF
	0xFF0F:  true, // FULLWIDTH SOLIDUS
	0x1D23A: true, // GREEK INSTRUMENTAL NOTATION SYMBOL-47
	// '\'
	0x20E5: true, // COMBINING REVERSE SOLIDUS OVERLAY
	0x2216: true, // SET MINUS
	0x2572: true, // BOX DRAWINGS LIGHT DIAGONAL UPPER LEFT TO LOWER RIGHT
	0x27CD: true, // MATHEMATICAL FALLING DIAGONAL
	0x29F5: true, // REVERSE SOLIDUS OPERATOR
	0x29F9: true, // BIG REVERSE SOLIDUS
	0xFE68: true, // SMALL REVERSE SOLIDUS
	0xFF3C: true, // FULLWIDTH REVERSE SOLIDUS
}

// Lookalike reports whether r is a character that passes for a slash or
// a backslash.
func Lookalike(r rune) bool { return lookalikes[r] }

// Unsafe reports whether r must not reach a reader as itself (see the
// package comment). utf8.RuneError is safe here: Scan tells a byte that
// is not UTF-8 from an encoded U+FFFD.
func Unsafe(r rune) bool {
	if r >= 0x20 && r < 0x7f {
		return false
	}
	return !unicode.IsPrint(r) || unicode.Is(unicode.Other_Default_Ignorable_Code_Point, r) ||
		unicode.Is(unicode.Variation_Selector, r) || r == 0x2800 || lookalikes[r]
}

// maxMarks is how many combining marks in a row may follow a character:
// accented letters take one or two (decomposed names do), and a stack of
// marks draws over the lines above and below it.
const maxMarks = 2

// combining reports whether r is a combining mark: drawn on the character
// before it, so one at the start of a value draws on whatever the output
// put before the value.
func combining(r rune) bool { return unicode.In(r, unicode.Mn, unicode.Mc) }

// unsafeRunes calls char for every unsafe character of s, in order: at
// byte i, n bytes, as (r, false), or as (rune(b), true) for a byte that
// is not UTF-8. A combining mark is unsafe at the start of s, after more
// than maxMarks marks in a row, and always when it encloses (Me). It
// returns whether there was none.
func unsafeRunes(s string, char func(i, n int, r rune, invalid bool)) bool {
	clean, marks := true, 0
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c < 0x7f {
			i++
			marks = 0
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		bad := r == utf8.RuneError && n == 1
		unsafe := bad || Unsafe(r)
		if !unsafe && combining(r) {
			marks++
			unsafe = i == 0 || marks > maxMarks
		} else {
			marks = 0
		}
		if !unsafe && unicode.Is(unicode.Me, r) {
			unsafe = true
		}
		if unsafe {
			clean = false
			if char == nil {
				return false
			}
			if bad {
				char(i, n, rune(c), true)
			} else {
				char(i, n, r, false)
			}
		}
		i += n
	}
	return clean
}

// Safe reports whether s prints as itself: Quote(s) == s.
func Safe(s string) bool {
	return !strings.HasPrefix(s, `"`) && unsafeRunes(s, nil)
}

// Scan splits s, in order, into runs of safe text, passed to text, and
// single unsafe characters, passed to char: a character as (r, false), a
// byte that is not UTF-8 as (rune(b), true).
func Scan(s string, text func(string), char func(r rune, invalid bool)) {
	start := 0
	unsafeRunes(s, func(i, n int, r rune, invalid bool) {
		if start < i {
			text(s[start:i])
		}
		char(r, invalid)
		start = i + n
	})
	if start < len(s) {
		text(s[start:])
	}
}

// Quote returns s unchanged when it prints as itself (Safe); otherwise s
// as a double-quoted Go string literal: '"' and '\' escaped, and each
// unsafe character escaped as \a \b \f \n \r \t \v, \xNN (other ASCII
// controls, DEL, and bytes that are not UTF-8), \uNNNN or \UNNNNNNNN.
// A value starting with '"' is quoted too, so an unquoted value is never
// mistaken for a quoted one. strconv.Unquote(Quote(s)) == s for every
// quoted s.
func Quote(s string) string {
	if Safe(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 8)
	b.WriteByte('"')
	Scan(s, func(t string) {
		for i := 0; i < len(t); i++ {
			if t[i] == '"' || t[i] == '\\' {
				b.WriteByte('\\')
			}
			b.WriteByte(t[i])
		}
	}, func(r rune, invalid bool) {
		b.WriteString(Escape(r, invalid))
	})
	b.WriteByte('"')
	return b.String()
}

const hexDigits = "0123456789abcdef"

// Escape is the Go escape sequence Quote writes for one unsafe
// character (invalid: r is a byte that is not UTF-8).
func Escape(r rune, invalid bool) string {
	if invalid || r < 0x80 {
		switch r {
		case '\a':
			return `\a`
		case '\b':
			return `\b`
		case '\f':
			return `\f`
		case '\n':
			return `\n`
		case '\r':
			return `\r`
		case '\t':
			return `\t`
		case '\v':
			return `\v`
		}
		return `\x` + hex(uint32(r), 2)
	}
	if r < 0x10000 {
		return `\u` + hex(uint32(r), 4)
	}
	return `\U` + hex(uint32(r), 8)
}

// Token is the visible mark report.html shows for one unsafe character:
// [U+202E], or [0xFF] for a byte that is not UTF-8.
func Token(r rune, invalid bool) string {
	if invalid {
		return "[0x" + strings.ToUpper(hex(uint32(r), 2)) + "]"
	}
	n := 4
	if r > 0xffff {
		n = 6
	}
	return "[U+" + strings.ToUpper(hex(uint32(r), n)) + "]"
}

func hex(v uint32, n int) string {
	b := make([]byte, n)
	for i := n - 1; i >= 0; i-- {
		b[i] = hexDigits[v&0xf]
		v >>= 4
	}
	return string(b)
}

// Plural is n followed by one or many: "1 digest", "3 digests".
func Plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}
