package report

import (
	"fmt"
	"html/template"
	"strings"

	"github.com/forensic-dev/forensic/internal/display"
)

// html/template escapes markup, but passes bidi controls, zero-width and
// other invisible characters through: "invoice\u202Egpj.exe" would show
// as "invoiceexe.jpg". Every value the page shows goes through evHTML (or
// plainText where no markup is allowed): each character display counts
// as unsafe becomes a visible, marked [U+XXXX] token, and the value is
// isolated in <bdi> so that right-to-left text in it cannot reorder the
// text around it.

// valueText is the text of a template value; nil is empty.
func valueText(v any) string {
	switch t := v.(type) {
	case nil:
		return ""
	case string:
		return t
	}
	return fmt.Sprint(v)
}

// evHTML renders a value from the case as HTML: escaped, each unsafe
// character as <span class="ctl">[U+202E]</span>, in <bdi>.
func evHTML(v any) template.HTML {
	s := valueText(v)
	var b strings.Builder
	b.Grow(len(s) + 11)
	b.WriteString("<bdi>")
	display.Scan(s, func(t string) {
		b.WriteString(template.HTMLEscapeString(t))
	}, func(r rune, invalid bool) {
		b.WriteString(`<span class="ctl">`)
		b.WriteString(display.Token(r, invalid))
		b.WriteString("</span>")
	})
	b.WriteString("</bdi>")
	return template.HTML(b.String())
}

// plainText is a value with each unsafe character replaced by its
// [U+XXXX] token, for places that take text only (<title>, SVG text and
// tooltips); the template escapes the rest.
func plainText(v any) string {
	var b strings.Builder
	display.Scan(valueText(v), func(t string) { b.WriteString(t) }, func(r rune, invalid bool) { b.WriteString(display.Token(r, invalid)) })
	return b.String()
}
