// Package verdict is the model of what verify concludes about one item:
// the checks it ran, each with what it expected and what it found, and
// the item's status, derived from the checks by one severity order per
// kind. verify builds verdicts, store keeps them, report reads them; the
// names of checks and statuses are a public contract (add, never rename).
package verdict

// Check statuses.
const (
	Pass   = "pass"    // the check ran and what was found is what was expected
	Fail   = "fail"    // the check ran and found something else
	NotRun = "not_run" // the check could not run (Reason says why): it neither passes nor fails
)

// Check is one test of an item.
type Check struct {
	Name   string `json:"name"`
	Status string `json:"status"`
	Want   string `json:"want"`
	Got    string `json:"got"`
	// Reason says in words why a check failed or did not run ("" when it
	// passed).
	Reason string `json:"reason,omitempty"`
}

// Rule is one check of an Order and the status an item gets when that
// check is the first in the order to fail.
type Rule struct {
	Check  string
	Status string
	// Optional checks are run only where there is something to check
	// (one per checksum an object's metadata export): an item without one
	// lacks it, rather than having it not run.
	Optional bool
}

// Order lists a kind's checks from the most to the least severe.
type Order struct {
	Rules []Rule
	// Valid is the status of an item none of whose checks failed.
	Valid string
}

// Status derives an item's status from its checks: the status of the
// first rule whose check failed, else o.Valid. decided is that failing
// check (nil when none failed). A failing check the order does not name
// is a bug in the caller, reported as unknown.
func (o Order) Status(checks []Check) (status string, decided *Check, unknown string) {
	failed := map[string]int{}
	for i := range checks {
		if checks[i].Status == Fail {
			if _, ok := failed[checks[i].Name]; !ok {
				failed[checks[i].Name] = i
			}
		}
	}
	named := map[string]bool{}
	for _, r := range o.Rules {
		named[r.Check] = true
	}
	for _, c := range checks {
		if c.Status == Fail && !named[c.Name] {
			unknown = c.Name
			break
		}
	}
	for _, r := range o.Rules {
		if i, ok := failed[r.Check]; ok {
			return r.Status, &checks[i], unknown
		}
	}
	return o.Valid, nil, unknown
}

// Names returns the order's check names, most severe first.
func (o Order) Names() []string {
	out := make([]string, len(o.Rules))
	for i, r := range o.Rules {
		out[i] = r.Check
	}
	return out
}

// Required returns the names of the checks every item of the kind has
// (run or not run), most severe first.
func (o Order) Required() []string {
	var out []string
	for _, r := range o.Rules {
		if !r.Optional {
			out = append(out, r.Check)
		}
	}
	return out
}
