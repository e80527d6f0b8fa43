package verify

import (
	"fmt"
	"path"
	"strings"
	"time"

	"github.com/forensic-dev/forensic/ingest/cloudtrail"
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
	d *digestItem
	e *store.DigestLog
}

func (l listing) describe() map[string]any {
	return map[string]any{"digest": l.d.key, "digest_path": displayPath(l.d.ev), "digest_status": l.d.status,
		"digest_authentic": l.d.authentic, "hash_value": l.e.HashValue, "hash_algorithm": l.e.HashAlgorithm}
}

// maxListedBy bounds the listings a log file's detail names: real log
// files are listed by one digest (two with a backfill), and evidence built
// to list one key by thousands of digests must not make a detail of
// hundreds of MB. listed_by_count says how many there were.
const maxListedBy = 20

// describeListings describes the first maxListedBy listings.
func describeListings(ls []listing) []map[string]any {
	out := make([]map[string]any, 0, min(len(ls), maxListedBy))
	for _, x := range ls[:min(len(ls), maxListedBy)] {
		out = append(out, x.describe())
	}
	return out
}

// logs matches every logFiles entry of every parsed digest to the log
// files in the evidence — by the AWSLogs/... suffix of the key, or by file
// name for flattened copies — and decides each log file's status.
func (r *run) logs() {
	bySuffix := map[string][]*logItem{}
	byName := map[string][]*logItem{}
	for _, e := range r.in.logs {
		l := &logItem{ev: e}
		name := localName(e)
		if e.S3Key != "" {
			l.ki, l.kiOK = cloudtrail.ParseKey(e.S3Key)
			bySuffix[e.S3Key] = append(bySuffix[e.S3Key], l)
		} else {
			l.ki, l.kiOK = cloudtrail.ParseKey(name)
			byName[path.Base(name)] = append(byName[path.Base(name)], l)
		}
		r.logItems = append(r.logItems, l)
	}
	type missingLog struct {
		bucket, key string
		listed      []listing
	}
	missing := map[string]*missingLog{}
	var missingOrder []string
	for _, d := range r.dig {
		if d.d == nil {
			continue
		}
		listed := map[string]bool{} // a digest that lists a key twice is format_invalid; its repeats count once
		for i := range d.d.LogFiles {
			e := &d.d.LogFiles[i]
			if listed[e.S3Bucket+"/"+e.S3Object] {
				continue
			}
			listed[e.S3Bucket+"/"+e.S3Object] = true
			cands := bySuffix[awsLogsSuffix(e.S3Object)]
			if len(cands) == 0 {
				cands = byName[path.Base(e.S3Object)]
			}
			if len(cands) == 0 {
				loc := e.S3Bucket + "/" + e.S3Object
				m := missing[loc]
				if m == nil {
					m = &missingLog{bucket: e.S3Bucket, key: e.S3Object}
					missing[loc] = m
					missingOrder = append(missingOrder, loc)
				}
				m.listed = append(m.listed, listing{d, e})
				continue
			}
			for _, l := range cands {
				l.listings = append(l.listings, listing{d, e})
			}
		}
	}
	for _, loc := range missingOrder {
		m := missing[loc]
		c := m.listed[0].d.chain
		r.missingLogs = append(r.missingLogs, Item{Kind: KindLog, S3Bucket: m.bucket, S3Key: m.key, Status: StatusMissing,
			Account: c.Account, Region: c.Region, Trail: c.Trail,
			Detail: map[string]any{"reason": fmt.Sprintf("listed by %s, not in the evidence", m.listed[0].d.key),
				"expected_sha256": m.listed[0].e.HashValue, "listed_by": describeListings(m.listed), "listed_by_count": len(m.listed)}})
	}
	home := r.logHomes()
	for _, l := range r.logItems {
		r.evaluateLog(l, home)
	}
}

// logHomes maps (org, account, region) to the chain whose digests cover
// those log files, so that an unreferenced file gets a bucket and full key.
func (r *run) logHomes() map[string][]chainID {
	out := map[string][]chainID{}
	seen := map[chainID]bool{}
	for _, d := range r.dig {
		if d.d == nil || d.chain.Backfill || d.chain.Account == "" || seen[d.chain] {
			continue
		}
		seen[d.chain] = true
		k := d.chain.OrgID + "/" + d.chain.Account + "/" + d.chain.Region
		out[k] = append(out[k], d.chain)
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
func (r *run) evaluateLog(l *logItem, home map[string][]chainID) {
	e := l.ev
	sha, trailing, problem, uncompressed := r.content(e)
	detail := map[string]any{"actual_sha256": sha, "gzip_trailing": trailing, "sha256": e.SHA256}
	if f := r.fresh[e.ID]; f != nil {
		detail["rehashed"] = true
		detail["sha256"] = f.sha
		if f.sha != e.SHA256 {
			detail["ingest_sha256"] = e.SHA256
		}
	}
	if uncompressed {
		detail["uncompressed_copy"] = true
	}
	if e.Error != "" {
		detail["error"] = e.Error
	}
	it := Item{Kind: KindLog, Path: displayPath(e), Detail: detail, EvidenceID: e.ID}
	// Bucket, key and chain: from the digests listing it, else guessed.
	if len(l.listings) > 0 {
		best := l.listings[0]
		for _, x := range l.listings {
			if x.d.authentic && !best.d.authentic {
				best = x
			}
		}
		it.S3Bucket, it.S3Key = best.e.S3Bucket, best.e.S3Object
		it.Account, it.Region, it.Trail = best.d.chain.Account, best.d.chain.Region, best.d.chain.Trail
		detail["listed_by"] = describeListings(l.listings)
		detail["listed_by_count"] = len(l.listings)
		detail["expected_sha256"] = best.e.HashValue
	} else {
		r.guessLocation(l, &it, home)
	}
	status, reason := "", ""
	matchAny, matchAuth, anyAuth := false, false, false
	for _, x := range l.listings {
		m := sha != "" && strings.EqualFold(x.e.HashValue, sha) && x.e.HashAlgorithm == "SHA-256"
		matchAny = matchAny || m
		if x.d.authentic {
			anyAuth = true
			matchAuth = matchAuth || m
			if m {
				detail["expected_sha256"] = x.e.HashValue
			}
		}
	}
	changed := r.changedSinceIngest(e, detail)
	switch {
	case changed != "":
		// The events in the case were indexed from the ingested bytes;
		// these are others. Whatever they prove, it is not about them.
		status, reason = StatusChangedSinceIngest, changed
	case problem != "":
		status, reason = StatusFormatInvalid, problem
	case len(l.listings) > 0 && (!matchAny || anyAuth && !matchAuth):
		status = StatusHashMismatch
		reason = fmt.Sprintf("SHA-256 of the content %s differs from hashValue %s in %s", sha, detail["expected_sha256"], it.S3Key)
		if anyAuth {
			reason = fmt.Sprintf("SHA-256 of the content %s differs from the hashValue in the valid digest(s) listing it (%s)", sha, detail["expected_sha256"])
		}
	case trailing:
		status, reason = StatusTrailingData, "bytes follow the first gzip member; CloudTrail writes one member, and its hash covers only the first"
	case len(l.listings) == 0:
		status, reason = StatusUnreferenced, "no digest in the evidence lists this log file"
		if d := r.coveringDigest(l); d != "" {
			detail["covering_digest"] = d
		}
	case !matchAuth:
		status, reason = StatusUnverified, "only digests whose signature could not be verified list this log file"
	default:
		status = StatusValid
	}
	if reason != "" {
		detail["reason"] = reason
	}
	it.Status = status
	l.item = it
}

// changedSinceIngest compares a log file's bytes as re-read (--rehash)
// with what ingest recorded for the bytes its events were indexed from;
// it returns why they differ, or "" (also when the file was not re-read).
func (r *run) changedSinceIngest(e *store.Evidence, detail map[string]any) string {
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
	detail["ingest_sha256"] = e.SHA256
	detail["ingest_content_sha256"] = recorded
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
func (r *run) coveringDigest(l *logItem) string {
	if !l.kiOK || l.ki.Time.IsZero() {
		return ""
	}
	t := l.ki.Time
	var best string
	for _, d := range r.dig {
		if d.timesOK && d.chain.Account == l.ki.Account && d.chain.Region == l.ki.Region && !d.chain.Backfill &&
			!t.Before(d.start.Truncate(time.Minute)) && t.Before(d.end) {
			best = d.key + " (" + d.status + ")"
		}
	}
	if best != "" {
		return best
	}
	for _, m := range r.missingDigests {
		st, _ := m.Detail["expected_end_time"].(string)
		if m.Account != l.ki.Account || m.Region != l.ki.Region || st == "" {
			continue
		}
		end, err := time.Parse(time.RFC3339, st)
		if err == nil && t.Before(end) && !t.Before(end.Add(-time.Hour).Truncate(time.Minute)) {
			return m.S3Key + " (missing)"
		}
	}
	return ""
}
