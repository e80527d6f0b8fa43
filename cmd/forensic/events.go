package main

import (
	"context"
	"fmt"
	"regexp"
	"time"

	"github.com/spf13/pflag"

	"github.com/forensic-dev/forensic/store"
)

// eventsFlags are the flags of ingest and analyze that choose which
// CloudTrail records are indexed.
type eventsFlags struct {
	mode     string
	from, to string
	accounts []string
	regions  []string
}

const eventsFlagsUsage = `Which CloudTrail records are indexed (every item is still inventoried and
hashed, and every digest parsed, so verification is complete whatever is
indexed):
  --events all|none   all (default) indexes every record; none splits no
                      log file into records, only hashes it
  --from TIME         only records with eventTime >= TIME (inclusive)
  --to TIME           only records with eventTime < TIME (exclusive)
  --account ID        only records of this account (recipientAccountId,
                      else userIdentity.accountId); repeatable, or a,b
  --region R          only records with this awsRegion; repeatable, or a,b
A later ingest of the same evidence with wider filters reads the log files
again, checks their bytes against the recorded SHA-256 and indexes the
records left out before.
`

func (f *eventsFlags) register(fs *pflag.FlagSet) {
	fs.StringVar(&f.mode, "events", "all", "which CloudTrail records to index: all or none")
	fs.StringVar(&f.from, "from", "", "index only records with eventTime at or after this time (RFC 3339, e.g. 2024-03-04T00:00Z)")
	fs.StringVar(&f.to, "to", "", "index only records with eventTime before this time (exclusive)")
	fs.StringSliceVar(&f.accounts, "account", nil, "index only records of this account (repeatable)")
	fs.StringSliceVar(&f.regions, "region", nil, "index only records of this region (repeatable)")
}

var (
	accountRE = regexp.MustCompile(`^[0-9]{12}$`)
	regionRE  = regexp.MustCompile(`^[a-z]{2}(-[a-z]+)+-[0-9]+$`)
)

// filter is the filter the flags give, or a usage error.
func (f *eventsFlags) filter(cmd string) (store.EventFilter, error) {
	restricted := f.from != "" || f.to != "" || len(f.accounts) > 0 || len(f.regions) > 0
	switch f.mode {
	case "all":
	case "none":
		if restricted {
			return store.EventFilter{}, usagef("%s: --events none indexes no record; --from, --to, --account and --region choose among the records of --events all", cmd)
		}
		return store.NoEvents, nil
	default:
		return store.EventFilter{}, usagef("%s: --events %q: want all or none", cmd, f.mode)
	}
	if !restricted {
		return store.AllEvents, nil
	}
	var c store.EventClause
	var err error
	if f.from != "" {
		if c.From, err = parseTimeFlag(f.from); err != nil {
			return store.EventFilter{}, usagef("%s: --from: %v", cmd, err)
		}
	}
	if f.to != "" {
		if c.To, err = parseTimeFlag(f.to); err != nil {
			return store.EventFilter{}, usagef("%s: --to: %v", cmd, err)
		}
	}
	if !c.From.IsZero() && !c.To.IsZero() && !c.To.After(c.From) {
		return store.EventFilter{}, usagef("%s: --to must be after --from", cmd)
	}
	for _, a := range f.accounts {
		if !accountRE.MatchString(a) {
			return store.EventFilter{}, usagef("%s: --account %q: want a 12-digit AWS account id", cmd, a)
		}
	}
	for _, r := range f.regions {
		if !regionRE.MatchString(r) {
			return store.EventFilter{}, usagef("%s: --region %q: want a region name such as us-east-1", cmd, r)
		}
	}
	c.Accounts, c.Regions = f.accounts, f.regions
	return store.EventFilter{Restricted: true, Clauses: []store.EventClause{c}}.Normalize(), nil
}

// eventsIndexing reads which records the case indexed, and the note verify
// prints when not all of them were (empty when all were).
func eventsIndexing(ctx context.Context, c *store.Case) (*store.EventIndexing, string, error) {
	x, err := c.EventIndexing(ctx)
	if err != nil {
		return nil, "", fmt.Errorf("read which events are indexed: %w", err)
	}
	if !x.Partial() {
		return x, "", nil
	}
	return x, x.Text(), nil
}

// eventsArgs are the flags that give f, for the custody log's command
// line (none for all).
func eventsArgs(f store.EventFilter) []string {
	f = f.Normalize()
	switch {
	case f.All():
		return nil
	case f.None():
		return []string{"--events", "none"}
	}
	var out []string
	for _, c := range f.Clauses {
		if !c.From.IsZero() {
			out = append(out, "--from", c.From.Format(time.RFC3339Nano))
		}
		if !c.To.IsZero() {
			out = append(out, "--to", c.To.Format(time.RFC3339Nano))
		}
		for _, a := range c.Accounts {
			out = append(out, "--account", a)
		}
		for _, r := range c.Regions {
			out = append(out, "--region", r)
		}
	}
	return out
}
