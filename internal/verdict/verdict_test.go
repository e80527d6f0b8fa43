package verdict

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var order = Order{Valid: "valid", Rules: []Rule{
	{Check: "present", Status: "missing"},
	{Check: "format", Status: "format_invalid"},
	{Check: "crc32", Status: "checksum_mismatch", Optional: true},
	{Check: "signature", Status: "signature_invalid"},
}}

func TestStatusIsTheFirstFailingCheckInOrder(t *testing.T) {
	// The order decides, not the order the checks were run in.
	checks := []Check{
		{Name: "signature", Status: Fail, Reason: "does not verify"},
		{Name: "format", Status: Fail, Reason: "not JSON"},
		{Name: "present", Status: Pass},
	}
	status, decided, unknown := order.Status(checks)
	assert.Equal(t, "format_invalid", status)
	require.NotNil(t, decided)
	assert.Equal(t, "not JSON", decided.Reason)
	assert.Empty(t, unknown)

	// Not run and passing checks decide nothing.
	status, decided, _ = order.Status([]Check{{Name: "present", Status: Pass}, {Name: "format", Status: NotRun, Reason: "x"}})
	assert.Equal(t, "valid", status)
	assert.Nil(t, decided)

	// The first failure of a repeated check is the deciding one.
	status, decided, _ = order.Status([]Check{{Name: "crc32", Status: Pass}, {Name: "crc32", Status: Fail, Reason: "a"},
		{Name: "crc32", Status: Fail, Reason: "b"}})
	assert.Equal(t, "checksum_mismatch", status)
	assert.Equal(t, "a", decided.Reason)
}

func TestUnknownFailingCheckIsReported(t *testing.T) {
	status, _, unknown := order.Status([]Check{{Name: "nonsense", Status: Fail}})
	assert.Equal(t, "nonsense", unknown)
	assert.Equal(t, "valid", status, "the caller must treat unknown as a bug: it decides nothing")
	_, _, unknown = order.Status([]Check{{Name: "nonsense", Status: Pass}})
	assert.Empty(t, unknown, "only a failing check must have a place in the order")
}

func TestRequiredLeavesOutOptionalChecks(t *testing.T) {
	assert.Equal(t, []string{"present", "format", "crc32", "signature"}, order.Names())
	assert.Equal(t, []string{"present", "format", "signature"}, order.Required())
}
