package verify

import (
	"runtime"
	"strings"
	"sync"
)

// sigChecks verifies the signatures of a chain's digests ahead of
// evaluate, on every core, and keeps each result for evaluate to look up:
// RSA verification is the largest CPU cost of a digest, and evaluate runs
// the chain in order on one goroutine. A result is kept under the key's
// exact bytes, the digest and the signature as evaluate compares them
// (trimmed, lower case: the same bytes once decoded), so a lookup gives
// what CheckSignature would give; what was not verified ahead is verified
// on lookup.
type sigChecks struct {
	mu   sync.Mutex
	done map[sigKey]bool
}

type sigKey struct {
	der string
	d   *digestItem
	sig string
}

func normSig(sig string) string { return strings.ToLower(strings.TrimSpace(sig)) }

// check reports whether sig is d's signature under a's key.
func (c *sigChecks) check(a *Anchor, d *digestItem, sig string) bool {
	k := sigKey{string(a.DER), d, normSig(sig)}
	c.mu.Lock()
	ok, found := c.done[k]
	c.mu.Unlock()
	if found {
		return ok
	}
	ok = CheckSignature(a.Pub, d.d, sig) == nil
	c.mu.Lock()
	if c.done == nil {
		c.done = map[sigKey]bool{}
	}
	c.done[k] = ok
	c.mu.Unlock()
	return ok
}

// reset forgets the results (between chains).
func (c *sigChecks) reset() {
	c.mu.Lock()
	c.done = nil
	c.mu.Unlock()
}

// prefetch verifies, in parallel, every signature evaluate may check for
// ds: each of a digest's signature sources under each supplied key with
// its fingerprint.
func (c *sigChecks) prefetch(t *TrustAnchors, ds []*digestItem) {
	if t == nil {
		return
	}
	type job struct {
		a   *Anchor
		d   *digestItem
		sig string
	}
	var jobs []job
	seen := map[sigKey]bool{}
	for _, d := range ds {
		if d.d == nil || d.d.DigestPublicKeyFingerprint == "" {
			continue
		}
		for _, a := range t.byFP[strings.ToLower(d.d.DigestPublicKeyFingerprint)] {
			for _, s := range d.sigSources() {
				k := sigKey{string(a.DER), d, normSig(s.sig)}
				if !seen[k] {
					seen[k] = true
					jobs = append(jobs, job{a, d, s.sig})
				}
			}
		}
	}
	if len(jobs) == 0 {
		return
	}
	workers := min(runtime.GOMAXPROCS(0), len(jobs))
	ch := make(chan job)
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range ch {
				c.check(j.a, j.d, j.sig)
			}
		}()
	}
	for _, j := range jobs {
		ch <- j
	}
	close(ch)
	wg.Wait()
}
