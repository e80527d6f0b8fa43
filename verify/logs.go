package verify

import (
	"fmt"
	"path"
	"strings"

	"github.com/forensic-dev/forensic/internal/cloudtrail"
	"github.com/forensic-dev/forensic/internal/display"
	"github.com/forensic-dev/forensic/internal/verdict"
	"github.com/forensic-dev/forensic/store"
)

// logItem is one CloudTrail log file in the evidence.
type logItem struct {
	ev       *store.Evidence
	ki       cloudtrail.KeyInfo
	kiOK     bool
	listings []listing
	item     Item
}

// listing is one logFiles entry of a digest.
type listing struct {
	d *store.DigestResult // what verify concluded about the digest that lists it
	e *store.DigestLog
}

func (l listing) describe() verdict.ListedBy {
	return verdict.ListedBy{Digest: l.d.Key, DigestPath: l.d.Path, DigestStatus: l.d.Status,
		DigestAuthentic: l.d.Authentic, HashValue: l.e.HashValue, HashAlgorithm: l.e.HashAlgorithm}
}

// maxListedBy bounds the listings a log file's detail names: real log
// files are listed by one digest (two with a backfill), and evidence built
// to list one key by thousands of digests must not make a detail of
// hundreds of MB. listed_by_count says how many there were.
const maxListedBy = 20

// describeListings describes the first maxListedBy listings.
func describeListings(ls []listing) []verdict.ListedBy {
	out := make([]verdict.ListedBy, 0, min(len(ls), maxListedBy))
	for _, x := range ls[:min(len(ls), maxListedBy)] {
		out = append(out, x.describe())
	}
	return out
}

// content returns what is known of a log file's content: the SHA-256 a
// digest's hashValue must match (first gzip member's content; the bytes
// themselves for an uncompressed copy), trailing bytes, and why the
// content could not be read.
func (r *run) content(e *store.Evidence) (sha string, trailing bool, problem string, uncompressed bool) {
	if f := r.fresh[e.ID]; f != nil {
		return f.contentSHA, f.trailing, f.err, f.compression == ""
	}
	switch e.Compression {
	case "":
		if e.SHA256 == "" {
			return "", false, nonEmpty(e.Error, "the file could not be read"), true
		}
		return e.SHA256, false, "", true
	default:
		if e.ContentSHA256 == "" {
			return "", e.GzipTrailing, nonEmpty(e.Error, e.Compression+" content could not be read"), false
		}
		return e.ContentSHA256, e.GzipTrailing, "", false
	}
}

func nonEmpty(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// evaluateLog decides a log file's status. Precedence: format_invalid;
// hash_mismatch (its content matches no listing, or a valid digest lists
// it with another hash); trailing_data; unreferenced (no digest lists
// it); unverified (only digests whose signature did not verify list it
// with this hash); valid.
func (r *run) evaluateLog(l *logItem, home map[string][]chainID) error {
	e := l.ev
	sha, trailing, problem, uncompressed := r.content(e)
	detail := &verdict.LogDetail{ActualSHA256: verdict.Ptr(sha), GzipTrailing: verdict.Ptr(trailing), SHA256: verdict.Ptr(e.SHA256)}
	if f := r.fresh[e.ID]; f != nil {
		detail.Rehashed = true
		detail.SHA256 = verdict.Ptr(f.sha)
		if f.sha != e.SHA256 {
			detail.IngestSHA256 = verdict.Ptr(e.SHA256)
		}
	}
	detail.UncompressedCopy = uncompressed
	detail.Error = e.Error
	it := Item{Kind: KindLog, Path: displayPath(e), Detail: detail, EvidenceID: e.ID}
	// Bucket, key and chain: from the digests listing it, else guessed.
	if len(l.listings) > 0 {
		best := l.listings[0]
		for _, x := range l.listings {
			if x.d.Authentic && !best.d.Authentic {
				best = x
			}
		}
		it.S3Bucket, it.S3Key = best.e.S3Bucket, best.e.S3Object
		it.Account, it.Region, it.Trail = best.d.Account, best.d.Region, best.d.Trail
		detail.ListedBy = describeListings(l.listings)
		detail.ListedByCount = len(l.listings)
		detail.ExpectedSHA256 = verdict.Ptr(best.e.HashValue)
	} else {
		r.guessLocation(l, &it, home)
	}
	matchAny, matchAuth, anyAuth := false, false, false
	for _, x := range l.listings {
		m := sha != "" && strings.EqualFold(x.e.HashValue, sha) && x.e.HashAlgorithm == "SHA-256"
		matchAny = matchAny || m
		if x.d.Authentic {
			anyAuth = true
			matchAuth = matchAuth || m
			if m {
				detail.ExpectedSHA256 = verdict.Ptr(x.e.HashValue)
			}
		}
	}
	var cl checkList
	cl.pass(CheckPresent, "the log file in the evidence", displayPath(e))
	changed := r.changedSinceIngest(e, detail)
	const wantSame = "re-read from the evidence (--rehash), the bytes and content ingest recorded"
	switch f := r.fresh[e.ID]; {
	case f == nil:
		cl.notRun(CheckUnchanged, "not re-read: verify --rehash re-reads every log file")
	case changed != "":
		// The events in the case were indexed from the ingested bytes;
		// these are others. Whatever they prove, it is not about them.
		cl.fail(CheckUnchanged, wantSame, "SHA-256 "+f.sha+", content SHA-256 "+f.contentSHA, changed)
	default:
		cl.pass(CheckUnchanged, wantSame, "SHA-256 "+f.sha)
	}
	const wantReadable = "readable content: the first gzip member decompresses (or the file is an uncompressed copy)"
	if problem != "" {
		cl.fail(CheckFormat, wantReadable, problem, problem)
	} else {
		cl.pass(CheckFormat, wantReadable, "content SHA-256 "+sha)
	}
	switch {
	case len(l.listings) == 0:
		cl.notRun(CheckContentHash, "no digest lists it: no hashValue to compare with")
	case problem != "":
		cl.notRun(CheckContentHash, "its content could not be read")
	default:
		want := fmt.Sprintf("SHA-256 of the content equal to a listing's hashValue (SHA-256), and to that of every listing digest whose signature verified: %s", *detail.ExpectedSHA256)
		if !matchAny || anyAuth && !matchAuth {
			reason := fmt.Sprintf("SHA-256 of the content %s differs from hashValue %s in %s", sha, *detail.ExpectedSHA256, it.S3Key)
			if anyAuth {
				reason = fmt.Sprintf("SHA-256 of the content %s differs from the hashValue in the valid digest(s) listing it (%s)", sha, *detail.ExpectedSHA256)
			}
			cl.fail(CheckContentHash, want, sha, reason)
		} else {
			cl.pass(CheckContentHash, want, sha)
		}
	}
	const wantOneMember = "one gzip member (CloudTrail writes one, and its hash covers only the first)"
	switch {
	case trailing:
		cl.fail(CheckGzipSingleMember, wantOneMember, "bytes after the first gzip member",
			"bytes follow the first gzip member; CloudTrail writes one member, and its hash covers only the first")
	case uncompressed:
		cl.pass(CheckGzipSingleMember, wantOneMember, "an uncompressed copy")
	case problem != "":
		cl.notRun(CheckGzipSingleMember, "its content could not be read")
	default:
		cl.pass(CheckGzipSingleMember, wantOneMember, "one gzip member")
	}
	const wantListed = "listed in the logFiles of a digest in the evidence"
	const wantCovered = "a file digests cover: a log file of CloudTrail/ as delivered, or one a digest lists"
	uncovered := uncoveredBy(e)
	switch {
	case len(l.listings) > 0:
		cl.pass(CheckDigestCoverage, wantCovered, "listed by a digest")
	case uncovered == "":
		cl.pass(CheckDigestCoverage, wantCovered, "a log file of CloudTrail/ (or named so): digests list them")
	default:
		cl.fail(CheckDigestCoverage, wantCovered, uncovered+", listed by no digest",
			"no digest lists this file, "+uncovered+": not covered by any digest by design, which is not a sign of tampering; its events are not proven authentic")
	}
	switch {
	case len(l.listings) == 0 && uncovered != "":
		cl.notRun(CheckListed, "not covered by digests by design (digest_coverage)")
	case len(l.listings) == 0:
		cl.fail(CheckListed, wantListed, "no digest lists it", "no digest in the evidence lists this log file")
	default:
		cl.pass(CheckListed, wantListed, display.Plural(len(l.listings), "digest lists it", "digests list it"))
	}
	const wantAuth = "listed with its content's SHA-256 by a digest whose signature verified under a supplied key"
	switch {
	case len(l.listings) == 0:
		cl.notRun(CheckListedByValidDigest, "no digest lists it")
	case problem != "":
		cl.notRun(CheckListedByValidDigest, "its content could not be read")
	case !matchAuth:
		got, why := "no listing digest's signature verified", "only digests whose signature could not be verified list this log file"
		if anyAuth {
			got = "the digests whose signature verified list another hash"
			why = "the digests whose signature verified list it with another hash"
		}
		cl.fail(CheckListedByValidDigest, wantAuth, got, why)
	default:
		cl.pass(CheckListedByValidDigest, wantAuth, "listed so")
	}
	it.Status = cl.decide(LogOrder, detail)
	it.Checks = cl
	if it.Status == StatusUnreferenced {
		d, err := r.coveringDigest(l)
		if err != nil {
			return err
		}
		if d != "" {
			detail.CoveringDigest = d
		}
	}
	l.item = it
	return nil
}

// changedSinceIngest compares a log file's bytes as re-read (--rehash)
// with what ingest recorded for the bytes its events were indexed from;
// it returns why they differ, or "" (also when the file was not re-read).
func (r *run) changedSinceIngest(e *store.Evidence, detail *verdict.LogDetail) string {
	f := r.fresh[e.ID]
	if f == nil {
		return ""
	}
	var diffs []string
	if f.sha != e.SHA256 {
		diffs = append(diffs, fmt.Sprintf("SHA-256 of the bytes %s, recorded at ingest %s", f.sha, e.SHA256))
	}
	recorded := e.ContentSHA256
	if e.Compression == "" {
		recorded = e.SHA256
	}
	if f.contentSHA != recorded && f.sha == e.SHA256 {
		diffs = append(diffs, fmt.Sprintf("SHA-256 of the content %s, recorded in the case %s (the case was edited)", f.contentSHA, recorded))
	}
	if f.trailing != e.GzipTrailing && f.sha == e.SHA256 {
		diffs = append(diffs, fmt.Sprintf("bytes after the first gzip member: %v, recorded in the case %v (the case was edited)", f.trailing, e.GzipTrailing))
	}
	if len(diffs) == 0 {
		return ""
	}
	detail.IngestSHA256 = verdict.Ptr(e.SHA256)
	detail.IngestContentSHA256 = verdict.Ptr(recorded)
	return "re-read from the evidence, this log file is not the one ingested (" + strings.Join(diffs, "; ") +
		"): its events in the case come from the ingested bytes and are not verified; ingest it again to index these bytes"
}

// guessLocation gives an unreferenced log file its bucket and full key
// from the chain covering its account and region.
func (r *run) guessLocation(l *logItem, it *Item, home map[string][]chainID) {
	e := l.ev
	it.S3Key = e.S3Key
	if !l.kiOK {
		if it.S3Key == "" {
			it.S3Key = path.Base(localName(e))
		}
		return
	}
	it.Account, it.Region = l.ki.Account, l.ki.Region
	suffix := e.S3Key
	if suffix == "" {
		suffix = "AWSLogs/" + l.ki.Account + "/" + l.ki.Type + "/" + l.ki.Region + "/" + l.ki.Time.Format("2006/01/02") + "/" + l.ki.FileName()
		if l.ki.OrgID != "" {
			suffix = "AWSLogs/" + l.ki.OrgID + "/" + strings.TrimPrefix(suffix, "AWSLogs/")
		}
	}
	it.S3Key = suffix
	cs := home[l.ki.OrgID+"/"+l.ki.Account+"/"+l.ki.Region]
	if len(cs) == 1 {
		c := cs[0]
		it.S3Bucket, it.Trail = c.Bucket, c.Trail
		if c.Prefix != "" {
			it.S3Key = c.Prefix + "/" + suffix
		}
	}
}

// coveringDigest names the digest (present or missing) whose time span
// holds the log file's delivery time, if one is known.
func (r *run) coveringDigest(l *logItem) (string, error) {
	if !l.kiOK || l.ki.Time.IsZero() {
		return "", nil
	}
	key, status, missing, err := r.x.CoveringDigest(r.ctx, l.ki.Account, l.ki.Region, l.ki.Time)
	switch {
	case err != nil:
		return "", err
	case key == "":
		return "", nil
	case missing:
		return key + " (missing)", nil
	}
	return key + " (" + status + ")", nil
}

// uncoveredBy says why no digest covers a log file by design, or "" when
// digests cover files like it: a file of a folder whose digest coverage
// CloudTrail does not document (CloudTrail-Insight/, -NetworkActivity/,
// -Aggregated/), or an export of events (one per line, as EventBridge and
// CloudWatch Logs carry them, or an array) that CloudTrail never delivered
// as a file.
func uncoveredBy(e *store.Evidence) string {
	switch e.Format {
	case cloudtrail.FormatNDJSON, cloudtrail.FormatArray, cloudtrail.FormatCloudWatchExport:
		return "an export of events (" + e.Format + "), not a file CloudTrail delivered"
	}
	for _, name := range []string{e.S3Key, localName(e)} {
		if ki, ok := cloudtrail.ParseKey(name); ok && cloudtrail.IsRecordsType(ki.Type) {
			if ki.Type == cloudtrail.TypeLog {
				return ""
			}
			return "a file of " + ki.Type + "/, whose digest coverage CloudTrail does not document"
		}
	}
	return ""
}
