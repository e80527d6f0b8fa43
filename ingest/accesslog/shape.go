package accesslog

import "strings"

// Shape rules for the fixed-position fields after the Request-URI. They
// are deliberately loose about values AWS may add (a new signature or TLS
// version) but strict about kind, so that a split shifted by one field —
// what a quote injected into a Referer or User-Agent produces — fails them.

// Character classes, looked up in a table: the shape checks run on every
// field of every line.
const (
	cDigit = 1 << iota
	cLower
	cUpper
	cBase64Extra // + / =
	cDash
	cUnder
	cHexLetter // a-f A-F
	cDot

	cAlpha  = cLower | cUpper
	cAlnum  = cAlpha | cDigit
	cBase64 = cAlnum | cBase64Extra
	cHex    = cDigit | cHexLetter
)

var class = func() (t [256]uint8) {
	for c := '0'; c <= '9'; c++ {
		t[c] |= cDigit
	}
	for c := 'a'; c <= 'z'; c++ {
		t[c] |= cLower
		t[c-'a'+'A'] |= cUpper
	}
	for _, c := range "abcdefABCDEF" {
		t[c] |= cHexLetter
	}
	for _, c := range "+/=" {
		t[c] |= cBase64Extra
	}
	t['-'] |= cDash
	t['_'] |= cUnder
	t['.'] |= cDot
	return t
}()

// allOf reports whether every byte of v is in one of the classes in mask.
func allOf(v string, mask uint8) bool {
	for i := 0; i < len(v); i++ {
		if class[v[i]]&mask == 0 {
			return false
		}
	}
	return true
}

func shapeOK(i int, v string) bool {
	if v == "-" {
		return true
	}
	if v == "" {
		return false
	}
	// The class sets below exclude '"'; the other fields check for it.
	switch i {
	case fHostID:
		return allOf(v, cBase64)
	case fSigVer:
		return len(v) > 4 && v[:4] == "SigV" && allOf(v, cAlnum)
	case fCipher:
		return allOf(v, cAlnum|cDash|cUnder)
	case fAuthType, fACLRequired:
		return allOf(v, cAlpha)
	case fTLS:
		return len(v) > 4 && strings.EqualFold(v[:4], "TLSv") && allOf(v[4:], cDigit|cDot)
	case fSourceRegion:
		return allOf(v, cLower|cDigit|cDash)
	case fAccessPoint:
		if !strings.HasPrefix(v, "arn:") {
			return false
		}
	}
	return strings.IndexByte(v, '"') < 0 // Version Id, Host Header, Access Point ARN
}

func isStatus(v string) bool {
	return v == "-" || (len(v) == 3 && allOf(v, cDigit))
}

func isDigitsOrDash(v string) bool {
	return v == "-" || (v != "" && allOf(v, cDigit))
}

func isAlnumOrDash(v string) bool {
	return v == "-" || (v != "" && allOf(v, cAlnum))
}

func isDigit(c byte) bool { return class[c]&cDigit != 0 }
func isLower(c byte) bool { return class[c]&cLower != 0 }
