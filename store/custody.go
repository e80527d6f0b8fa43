package store

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"time"
)

// CustodyEntry is one command run on the case. Each entry carries the hash
// of the one before it, so an altered, removed or reordered entry breaks
// the chain.
type CustodyEntry struct {
	Seq      int64           `json:"seq"`
	Time     string          `json:"time"`
	Operator string          `json:"operator"`
	Host     string          `json:"host"`
	Tool     string          `json:"tool"` // name, version and VCS revision
	Command  string          `json:"command"`
	Args     []string        `json:"args"`
	Inputs   json.RawMessage `json:"inputs"`  // what it read, with hashes
	Outputs  json.RawMessage `json:"outputs"` // what it produced, with hashes
	PrevHash string          `json:"prev_hash"`
	Hash     string          `json:"hash"`
}

// custodyGenesis is the prev_hash of the first entry.
const custodyGenesis = "0000000000000000000000000000000000000000000000000000000000000000"

// EntryHash is the hex SHA-256 of the entry's canonical JSON with Hash
// left empty: encoding/json writes struct fields in declaration order and
// compacts RawMessage values, so the bytes are reproducible.
func EntryHash(e CustodyEntry) (string, error) {
	e.Hash = ""
	if e.Inputs == nil {
		e.Inputs = json.RawMessage("null")
	}
	if e.Outputs == nil {
		e.Outputs = json.RawMessage("null")
	}
	b, err := json.Marshal(e)
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:]), nil
}

// AppendCustody adds e to the custody log, filling Seq, Time (if empty),
// PrevHash and Hash, and returns the stored entry.
func (c *Case) AppendCustody(ctx context.Context, e CustodyEntry) (CustodyEntry, error) {
	tx, err := c.DB.BeginTx(ctx, nil)
	if err != nil {
		return e, err
	}
	defer tx.Rollback()
	e.PrevHash = custodyGenesis
	e.Seq = 1
	var seq int64
	var prev string
	err = tx.QueryRowContext(ctx, "SELECT seq, hash FROM custody ORDER BY seq DESC LIMIT 1").Scan(&seq, &prev)
	if err == nil {
		e.Seq, e.PrevHash = seq+1, prev
	}
	if e.Time == "" {
		e.Time = c.Now().UTC().Format(time.RFC3339Nano)
	}
	if e.Args == nil {
		e.Args = []string{}
	}
	if e.Inputs == nil {
		e.Inputs = json.RawMessage("null")
	}
	if e.Outputs == nil {
		e.Outputs = json.RawMessage("null")
	}
	if e.Hash, err = EntryHash(e); err != nil {
		return e, err
	}
	args, _ := json.Marshal(e.Args)
	if _, err := tx.ExecContext(ctx, `INSERT INTO custody(seq, time, operator, host, tool, command, args, inputs, outputs, prev_hash, hash)
		VALUES (?,?,?,?,?,?,?,?,?,?,?)`, e.Seq, e.Time, e.Operator, e.Host, e.Tool, e.Command, string(args),
		string(e.Inputs), string(e.Outputs), e.PrevHash, e.Hash); err != nil {
		return e, fmt.Errorf("append custody entry: %w", err)
	}
	return e, tx.Commit()
}

// Custody returns the custody log in order.
func (c *Case) Custody(ctx context.Context) ([]CustodyEntry, error) {
	rows, err := c.DB.QueryContext(ctx, "SELECT seq, time, operator, host, tool, command, args, inputs, outputs, prev_hash, hash FROM custody ORDER BY seq")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []CustodyEntry
	for rows.Next() {
		var e CustodyEntry
		var args, in, outp string
		if err := rows.Scan(&e.Seq, &e.Time, &e.Operator, &e.Host, &e.Tool, &e.Command, &args, &in, &outp, &e.PrevHash, &e.Hash); err != nil {
			return nil, err
		}
		if err := json.Unmarshal([]byte(args), &e.Args); err != nil {
			return nil, fmt.Errorf("custody entry %d: args: %w", e.Seq, err)
		}
		e.Inputs, e.Outputs = json.RawMessage(in), json.RawMessage(outp)
		out = append(out, e)
	}
	return out, rows.Err()
}

// VerifyCustody checks the chain: sequence numbers 1..n without holes, each
// prev_hash equal to the previous entry's hash, and each hash recomputed
// from the entry. It returns one problem per broken entry; none means the
// log is intact.
func VerifyCustody(entries []CustodyEntry) []string {
	var problems []string
	prev := custodyGenesis
	for i, e := range entries {
		if e.Seq != int64(i+1) {
			problems = append(problems, fmt.Sprintf("entry %d: sequence number %d, want %d (entry removed or reordered)", i+1, e.Seq, i+1))
		}
		if e.PrevHash != prev {
			problems = append(problems, fmt.Sprintf("entry %d: prev_hash %s does not match the hash of the entry before it %s", e.Seq, e.PrevHash, prev))
		}
		h, err := EntryHash(e)
		if err != nil {
			problems = append(problems, fmt.Sprintf("entry %d: %v", e.Seq, err))
		} else if h != e.Hash {
			problems = append(problems, fmt.Sprintf("entry %d: content hash %s, recorded %s (entry altered)", e.Seq, h, e.Hash))
		}
		prev = e.Hash
	}
	return problems
}
