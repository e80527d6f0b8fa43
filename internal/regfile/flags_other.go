//go:build !unix

package regfile

// Elsewhere the stat before opening is the guard; there are no FIFOs to
// block on in the same way.
const (
	nonBlock     = 0
	noFollowFlag = 0
)
