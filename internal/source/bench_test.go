package source

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/klauspost/compress/gzip"
)

// BenchmarkWalkTarGz walks a tar.gz of 2,000 small .json.gz members (the
// shape of a CloudTrail export) and reads every member; MB/s counts the
// archive's bytes.
func BenchmarkWalkTarGz(b *testing.B) {
	p := benchTarGz(b)
	fi, err := os.Stat(p)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(fi.Size())
	b.ReportAllocs()
	for b.Loop() {
		n := 0
		err := Walk(b.Context(), p, Options{}, func(e *Entry, r io.Reader) error {
			if r != nil {
				if _, err := io.Copy(io.Discard, r); err != nil {
					return err
				}
			}
			n++
			return nil
		})
		if err != nil || n != 2001 {
			b.Fatalf("Walk: %d entries, %v", n, err)
		}
	}
}

// BenchmarkGunzipBaseline only decompresses the same archive: the floor
// for BenchmarkWalkTarGz.
func BenchmarkGunzipBaseline(b *testing.B) {
	p := benchTarGz(b)
	fi, err := os.Stat(p)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(fi.Size())
	for b.Loop() {
		f, err := os.Open(p)
		if err != nil {
			b.Fatal(err)
		}
		zr, err := gzip.NewReader(f)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := io.Copy(io.Discard, zr); err != nil {
			b.Fatal(err)
		}
		f.Close()
	}
}

func benchTarGz(b *testing.B) string {
	var ms []member
	body := noise(2000 * 10 << 10) // distinct content per member, as real logs
	for i := range 2000 {
		n := 2<<10 + i*7%(8<<10)
		ms = append(ms, member{name: fmt.Sprintf("AWSLogs/1/CloudTrail/us-east-1/f%04d.json.gz", i), body: gzipBytes(b, body[i*10<<10:][:n])})
	}
	p := filepath.Join(b.TempDir(), "ev.tar.gz")
	if err := os.WriteFile(p, gzipBytes(b, tarBytes(b, ms...)), 0o644); err != nil {
		b.Fatal(err)
	}
	return p
}
