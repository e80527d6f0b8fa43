package store

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestWriterStreamDuplicateRemovesEveryRow: a streamed item found at End to
// be in the case already leaves no row behind, whatever rows it streamed:
// events, access-log lines, object metadata and their parts.
func TestWriterStreamDuplicateRemovesEveryRow(t *testing.T) {
	c := openTemp(t)
	ev := Evidence{Source: "/s", Path: "/s/x", Kind: KindObjectMetadata}
	one := int64(1)
	run := func() WriterStats {
		w := c.NewWriter(WriterOptions{})
		s := w.Begin(ev)
		s.Add(&Item{Events: []Event{{RecordIndex: 0, Raw: []byte(`{}`)}}})
		s.Add(&Item{Access: []AccessRecord{{LineNo: 1, Raw: "x"}}})
		s.Add(&Item{Metas: []ObjectMeta{{Source: "inventory-csv", Bucket: "b", Key: "k", Size: &one,
			Parts: []ObjectPart{{PartNumber: 1, Size: &one}}}}})
		fin := ev
		fin.SHA256, fin.Size = "dd", 4
		s.End(&Item{Evidence: fin, RecordCount: 1})
		st, err := w.Close()
		require.NoError(t, err)
		return st
	}
	first := run()
	assert.Equal(t, 1, first.Items)
	before := map[string]int{}
	for _, tbl := range []string{"evidence", "ct_events", "s3_access_lines", "s3_object_meta", "s3_object_parts"} {
		before[tbl] = count(t, c, tbl)
		assert.Equal(t, 1, before[tbl], tbl)
	}
	second := run()
	assert.Equal(t, 0, second.Items)
	assert.Equal(t, 1, second.Duplicates)
	for tbl, n := range before {
		assert.Equal(t, n, count(t, c, tbl), tbl)
	}
}
