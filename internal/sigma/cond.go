package sigma

import (
	"fmt"
	"path"
	"sort"
	"strings"
)

// cond is a parsed detection condition.
type cond struct {
	op   string // "and", "or", "not", "ref", "of"
	kids []*cond
	name string // ref: the search identifier; of: the pattern ("them" for every one)
	all  bool   // of: all of, else 1 of
}

// maxCondTokens bounds a condition's length.
const maxCondTokens = 4096

// parseCondition parses one Sigma condition: search identifiers joined
// by and, or and not, parentheses, and "1 of X", "all of X" (X a name, a
// name with * wildcards, or them).
func parseCondition(s string) (*cond, error) {
	var toks []string
	cur := ""
	flush := func() {
		if cur != "" {
			toks = append(toks, cur)
			cur = ""
		}
	}
	for _, r := range s {
		switch {
		case r == '(' || r == ')':
			flush()
			toks = append(toks, string(r))
		case r == ' ' || r == '\t' || r == '\n' || r == '\r':
			flush()
		case r == '|':
			return nil, &UnsupportedError{"an aggregation in the condition (| count(), the deprecated Sigma 1 form)"}
		default:
			cur += string(r)
		}
		if len(toks) > maxCondTokens {
			return nil, fmt.Errorf("condition longer than %d tokens", maxCondTokens)
		}
	}
	flush()
	for _, t := range toks {
		if strings.EqualFold(t, "near") {
			return nil, &UnsupportedError{"the near condition"}
		}
	}
	p := &condParser{toks: toks}
	c, err := p.or(0)
	if err != nil {
		return nil, err
	}
	if p.i < len(p.toks) {
		return nil, fmt.Errorf("condition %q: unexpected %q", s, p.toks[p.i])
	}
	return c, nil
}

type condParser struct {
	toks []string
	i    int
}

func (p *condParser) peek() string {
	if p.i < len(p.toks) {
		return strings.ToLower(p.toks[p.i])
	}
	return ""
}

// maxCondDepth bounds the nesting of parentheses and nots.
const maxCondDepth = 64

func (p *condParser) or(depth int) (*cond, error) {
	a, err := p.and(depth)
	if err != nil {
		return nil, err
	}
	for p.peek() == "or" {
		p.i++
		b, err := p.and(depth)
		if err != nil {
			return nil, err
		}
		a = &cond{op: "or", kids: []*cond{a, b}}
	}
	return a, nil
}

func (p *condParser) and(depth int) (*cond, error) {
	a, err := p.not(depth)
	if err != nil {
		return nil, err
	}
	for p.peek() == "and" {
		p.i++
		b, err := p.not(depth)
		if err != nil {
			return nil, err
		}
		a = &cond{op: "and", kids: []*cond{a, b}}
	}
	return a, nil
}

func (p *condParser) not(depth int) (*cond, error) {
	if depth > maxCondDepth {
		return nil, fmt.Errorf("condition nested deeper than %d", maxCondDepth)
	}
	if p.peek() == "not" {
		p.i++
		a, err := p.not(depth + 1)
		if err != nil {
			return nil, err
		}
		return &cond{op: "not", kids: []*cond{a}}, nil
	}
	return p.primary(depth)
}

func (p *condParser) primary(depth int) (*cond, error) {
	t := p.peek()
	switch t {
	case "":
		return nil, fmt.Errorf("condition ends too soon")
	case "(":
		p.i++
		c, err := p.or(depth + 1)
		if err != nil {
			return nil, err
		}
		if p.peek() != ")" {
			return nil, fmt.Errorf("condition: missing )")
		}
		p.i++
		return c, nil
	case ")", "and", "or":
		return nil, fmt.Errorf("condition: unexpected %q", t)
	case "1", "all", "any":
		if p.i+1 < len(p.toks) && strings.ToLower(p.toks[p.i+1]) == "of" {
			if t == "any" {
				return nil, &UnsupportedError{"\"any of\" (Sigma writes 1 of)"}
			}
			if p.i+2 >= len(p.toks) {
				return nil, fmt.Errorf("condition: %s of what?", t)
			}
			name := p.toks[p.i+2]
			p.i += 3
			return &cond{op: "of", all: t == "all", name: name}, nil
		}
	}
	if strings.ContainsAny(t, "*?") {
		return nil, fmt.Errorf("condition: the pattern %q must follow 1 of or all of", p.toks[p.i])
	}
	name := p.toks[p.i]
	p.i++
	return &cond{op: "ref", name: name}, nil
}

// expand resolves "of" patterns against the search identifiers: it
// returns the names a pattern matches, sorted, or an error when none does.
func expandOf(pattern string, names []string) ([]string, error) {
	var out []string
	for _, n := range names {
		if strings.EqualFold(pattern, "them") {
			if !strings.HasPrefix(n, "_") { // Sigma: them leaves out identifiers starting with _
				out = append(out, n)
			}
			continue
		}
		if ok, err := path.Match(pattern, n); err != nil {
			return nil, fmt.Errorf("condition: bad pattern %q", pattern)
		} else if ok {
			out = append(out, n)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("condition: %q matches no search identifier", pattern)
	}
	sort.Strings(out)
	return out, nil
}
