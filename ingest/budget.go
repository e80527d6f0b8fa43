package ingest

// grow takes more of the budget for a buffer that held held bytes and now
// needs n, and returns n. It never waits while holding part of the budget:
// when the rest is not free at once, it gives back what it holds and
// waits for all n, so that two holders growing at once cannot each wait
// for the other.
func (b *byteBudget) grow(held, n int64) int64 {
	if n <= held {
		return held
	}
	b.mu.Lock()
	if d := min(n, b.max) - min(held, b.max); b.avail >= d {
		b.avail -= d
		b.mu.Unlock()
		return n
	}
	b.mu.Unlock()
	b.release(held)
	b.acquire(n)
	return n
}
