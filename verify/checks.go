package verify

import (
	"fmt"

	"github.com/forensic-dev/forensic/internal/verdict"
	"github.com/forensic-dev/forensic/verify/s3check"
)

// Check is one test verify ran on an item: {name, status, want, got},
// and why it failed or did not run. Check names are a public contract:
// add, never rename.
type Check = verdict.Check

// Check names. Each kind's are listed, most severe first, in its Order.
const (
	CheckPresent = "present" // every kind: the item is in the evidence

	// Digests.
	CheckFormat             = "format"
	CheckMetadataConsistent = "metadata_consistent"
	CheckSignatureAlgorithm = "signature_algorithm"
	CheckKeyTime            = "key_time"
	CheckKeyKnown           = "key_known"
	CheckKeyValidAtTime     = "key_valid_at_time"
	CheckSignatureAvailable = "signature_available"
	CheckSig                = "signature" // (CheckSignature is the function that verifies one)
	CheckPrevHashLink       = "prev_hash_link"
	CheckPrevSignatureLink  = "prev_signature_link"
	CheckLocation           = "location"

	// Log files (and CheckFormat).
	CheckUnchanged           = "unchanged_since_ingest"
	CheckContentHash         = "content_hash"
	CheckGzipSingleMember    = "gzip_single_member"
	CheckListed              = "listed"
	CheckDigestCoverage      = "digest_coverage"
	CheckListedByValidDigest = "listed_by_valid_digest"

	// Objects (and CheckUnchanged, then s3check's checks).
	CheckMetadata           = "metadata"
	CheckMetadataCompatible = "metadata_compatible"
)

// DigestOrder is the severity order of a digest's checks: its status is
// that of the first check here that failed.
var DigestOrder = verdict.Order{Valid: StatusValid, Rules: []verdict.Rule{
	{Check: CheckPresent, Status: StatusMissing},
	{Check: CheckFormat, Status: StatusFormatInvalid},
	{Check: CheckMetadataConsistent, Status: StatusSignatureInvalid},
	{Check: CheckSignatureAlgorithm, Status: StatusSignatureInvalid},
	{Check: CheckKeyTime, Status: StatusFormatInvalid},
	{Check: CheckKeyKnown, Status: StatusKeyUnknown},
	{Check: CheckKeyValidAtTime, Status: StatusKeyNotValidAtTime},
	{Check: CheckSignatureAvailable, Status: StatusSignatureUnavailable},
	{Check: CheckSig, Status: StatusSignatureInvalid},
	{Check: CheckPrevHashLink, Status: StatusChainMismatch},
	{Check: CheckPrevSignatureLink, Status: StatusChainMismatch},
	{Check: CheckLocation, Status: StatusMoved},
}}

// LogOrder is the severity order of a log file's checks.
var LogOrder = verdict.Order{Valid: StatusValid, Rules: []verdict.Rule{
	{Check: CheckPresent, Status: StatusMissing},
	{Check: CheckUnchanged, Status: StatusChangedSinceIngest},
	{Check: CheckFormat, Status: StatusFormatInvalid},
	{Check: CheckContentHash, Status: StatusHashMismatch},
	{Check: CheckGzipSingleMember, Status: StatusTrailingData},
	{Check: CheckDigestCoverage, Status: StatusNotCovered},
	{Check: CheckListed, Status: StatusUnreferenced},
	{Check: CheckListedByValidDigest, Status: StatusUnverified},
}}

// ObjectOrder is the severity order of an object copy's checks: present,
// metadata, metadata_compatible, readable, unchanged_since_ingest, then
// s3check's (size, one per algorithm and ETag, verifiable).
var ObjectOrder = func() verdict.Order {
	o := verdict.Order{Valid: StatusValid, Rules: []verdict.Rule{
		{Check: CheckPresent, Status: StatusObjectMissing},
		{Check: CheckMetadata, Status: StatusMetadataMissing},
		{Check: CheckMetadataCompatible, Status: StatusUnverifiable},
		s3check.Order.Rules[0], // readable
		{Check: CheckUnchanged, Status: StatusChangedSinceIngest},
	}}
	o.Rules = append(o.Rules, s3check.Order.Rules[1:]...)
	return o
}()

// checkList is the checks of one item as they are run.
type checkList []Check

func (l *checkList) pass(name, want, got string) {
	*l = append(*l, Check{Name: name, Status: verdict.Pass, Want: want, Got: got})
}

func (l *checkList) fail(name, want, got, reason string) {
	*l = append(*l, Check{Name: name, Status: verdict.Fail, Want: want, Got: got, Reason: reason})
}

func (l *checkList) notRun(name, reason string) {
	*l = append(*l, Check{Name: name, Status: verdict.NotRun, Reason: reason})
}

// has reports whether a check of that name was recorded.
func (l checkList) has(name string) bool {
	for _, c := range l {
		if c.Name == name {
			return true
		}
	}
	return false
}

// decide derives the status from the checks by o, records every check of
// o that was not reached as not run, and puts the deciding check's
// reason in detail["reason"].
func (l *checkList) decide(o verdict.Order, detail verdict.Detail) string {
	status, decided, unknown := o.Status(*l)
	if unknown != "" {
		panic(fmt.Sprintf("verify: check %q failed but has no place in its kind's order", unknown))
	}
	for _, name := range o.Required() {
		if !l.has(name) {
			why := "not reached"
			if decided != nil {
				why = fmt.Sprintf("not reached: check %s failed first", decided.Name)
			}
			l.notRun(name, why)
		}
	}
	if decided != nil && detail != nil {
		detail.Shared().Reason = decided.Reason
	}
	return status
}

// Orders are the severity orders by item kind.
var Orders = map[string]verdict.Order{KindDigest: DigestOrder, KindLog: LogOrder, KindObject: ObjectOrder,
	KindLakeSign: LakeSignOrder, KindLakeResult: LakeResultOrder}

// checkDerived is the invariant every item verify records keeps: its
// status is the one its checks give by its kind's order.
func checkDerived(it *Item) error {
	o, ok := Orders[it.Kind]
	if !ok {
		return fmt.Errorf("verify: item %s (%s) of unknown kind %q (a bug; please report it)", it.S3Key, it.Path, it.Kind)
	}
	if len(it.Checks) == 0 {
		return fmt.Errorf("verify: item %s (%s) records no checks (a bug; please report it)", it.S3Key, it.Path)
	}
	status, _, unknown := o.Status(it.Checks)
	if unknown != "" || status != it.Status {
		return fmt.Errorf("verify: item %s (%s) has status %s but its checks give %s (a bug; please report it)", it.S3Key, it.Path, it.Status, status)
	}
	return nil
}

// missingChecks are the checks of an item the evidence lacks: present
// fails (want names what is expected, and why), every other check of o
// cannot run. detail["reason"] stays as the caller wrote it.
func missingChecks(o verdict.Order, want string, detail verdict.Detail) (string, []Check) {
	reason := detail.Shared().Reason
	var cl checkList
	cl.fail(CheckPresent, want, "not in the evidence", reason)
	for _, name := range o.Required()[1:] {
		cl.notRun(name, "not in the evidence")
	}
	return cl.decide(o, detail), cl
}
