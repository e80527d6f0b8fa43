package report

import (
	"encoding/json"
	"fmt"
	"io"
	"reflect"
)

// Writing and reading report.json as a Document (schema.go) without
// holding its long arrays.

// writeDocument writes d canonically, with the final newline; the members
// named in streams are written by their functions instead of from d.
func writeDocument(w io.Writer, d *Document, streams map[string]func(*canonWriter)) error {
	c := newCanonWriter(w)
	c.structValue(reflect.ValueOf(d).Elem(), streams)
	c.raw("\n")
	return c.flush()
}

// documentItems say what readDocument does with each item of the arrays
// it reads one at a time; a nil function skips the array.
type documentItems struct {
	evidence func(EvidenceItem) error
	statuses func(ItemStatus) error
	digests  func(VerifiedDigest) error
}

// readDocument decodes the report.json object in r into d (nil: skip
// every member but those items reads), handing the items of evidence,
// statuses and verified_digests to the functions of items instead of
// keeping them. Members that Document does not name are skipped.
func readDocument(r io.Reader, d *Document, items documentItems) error {
	dec := json.NewDecoder(r)
	if err := wantDelim(dec, '{'); err != nil {
		return err
	}
	var v reflect.Value
	byName := map[string]int{}
	if d != nil {
		v = reflect.ValueOf(d).Elem()
		for _, f := range jsonFields(v.Type()) {
			byName[f.name] = f.index
		}
	}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return err
		}
		key, _ := tok.(string)
		switch key {
		case memberEvidence:
			err = eachItem(dec, items.evidence)
		case memberStatuses:
			err = eachItem(dec, items.statuses)
		case memberVerifiedDigests:
			err = eachItem(dec, items.digests)
		default:
			if i, ok := byName[key]; ok {
				err = dec.Decode(v.Field(i).Addr().Interface())
			} else {
				err = skipValue(dec)
			}
		}
		if err != nil {
			return fmt.Errorf("%s: %w", key, err)
		}
	}
	return wantDelim(dec, '}')
}

// eachItem decodes the array (or null) that dec is at, calling fn for
// each item.
func eachItem[T any](dec *json.Decoder, fn func(T) error) error {
	if fn == nil {
		return skipValue(dec)
	}
	tok, err := dec.Token()
	if err != nil || tok == nil {
		return err
	}
	if tok != json.Delim('[') {
		return fmt.Errorf("got %v, want an array", tok)
	}
	for dec.More() {
		var x T
		if err := dec.Decode(&x); err != nil {
			return err
		}
		if err := fn(x); err != nil {
			return err
		}
	}
	return wantDelim(dec, ']')
}

func wantDelim(dec *json.Decoder, want json.Delim) error {
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	if tok != want {
		return fmt.Errorf("got %v, want %v", tok, want)
	}
	return nil
}

// skipValue reads past the value dec is at, holding at most one element
// of an array at a time.
func skipValue(dec *json.Decoder) error {
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	switch tok {
	case json.Delim('{'):
		for dec.More() {
			if _, err := dec.Token(); err != nil { // the key
				return err
			}
			if err := skipValue(dec); err != nil {
				return err
			}
		}
		_, err = dec.Token()
	case json.Delim('['):
		for dec.More() {
			var raw json.RawMessage
			if err := dec.Decode(&raw); err != nil {
				return err
			}
		}
		_, err = dec.Token()
	}
	return err
}
