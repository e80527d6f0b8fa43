package s3check

import "testing"

// FORMATS.md A.5 worked examples: the composite is the hash of the
// concatenated raw part digests.
func TestComposite(t *testing.T) {
	tests := []struct {
		name, alg string
		parts     []string
		want      string
	}{
		{"real S3 SHA256 3 parts", "SHA256", []string{
			"lcKa6Boe7a167tUCN5C4OaFygGSYD8MBnBARTrdL+1w=",
			"gHjhbUT4oo2tSCtSZJdlKi+jeNXJT+VImqdPXsXvkOc=",
			"4l9PQ3zOPZ0oGFvknFX+J4zZwE4WMzO+l3r8XrbWOeM=",
		}, "rVWtNbadtsaKXJAcgWPWjifHzJaXde/iV4jaJAOdivc="},
		{"CRC32 6 parts", "CRC32", []string{"rCTaNA==", "yOLe+Q==", "I60aeg==", "boj9Ew==", "0tmIfQ==", "6/tRKA=="}, "7YCXxg=="},
		{"synthetic CRC32", "CRC32", syntheticParts["CRC32"], "NSvTHQ=="},
		{"synthetic CRC32C", "CRC32C", syntheticParts["CRC32C"], "/agQOQ=="},
		{"synthetic SHA1", "SHA1", syntheticParts["SHA1"], "h4DBaMG2SDGJYciDl4eJvWBvCe8="},
		{"synthetic SHA256", "SHA256", syntheticParts["SHA256"], "GWe7p5dr+syR+JQOlPisEAdcMnh6SQOhmXZbd9p8Mo0="},
	}
	for _, tt := range tests {
		got, err := Composite(tt.alg, tt.parts)
		if err != nil || got != tt.want {
			t.Errorf("%s: Composite = %q, %v; want %q", tt.name, got, err, tt.want)
		}
	}
	// The composite is not the hash of the base64 text.
	if got, _ := Digest("CRC32", []byte("rCTaNA==yOLe+Q==I60aeg==boj9Ew==0tmIfQ==6/tRKA==")); got == "7YCXxg==" {
		t.Errorf("composite equals hash of base64 text")
	}
	if _, err := Composite("SHA256", []string{"DUoRhQ=="}); err == nil || err.Error() != `part 1 SHA256 "DUoRhQ==": decodes to 4 bytes, want 32` {
		t.Errorf("Composite(short part) error = %v", err)
	}
	if _, err := Composite("NOPE", nil); err == nil {
		t.Errorf("Composite(unknown algorithm) error = nil")
	}
}

// The synthetic object's part and full-object digests (FORMATS.md A.5).
func TestSyntheticDigests(t *testing.T) {
	for alg, parts := range syntheticParts {
		for i, d := range [][]byte{synthetic[:5<<20], synthetic[5<<20:]} {
			if got, _ := Digest(alg, d); got != parts[i] {
				t.Errorf("%s part %d = %s, want %s", alg, i+1, got, parts[i])
			}
		}
	}
	full := map[string]string{"CRC32": "WrTTSg==", "CRC32C": "a9j9dQ==", "CRC64NVME": "tUz56p+TDl0=",
		"SHA1": "J7W3xPH6Kp8H3Sicu6ZbCJmL+ts=", "SHA256": "zk1wDDHzNOKaQdyRjky8pzkVcbvXpx+lA67VrykonK4="}
	for alg, want := range full {
		if got, _ := Digest(alg, synthetic); got != want {
			t.Errorf("%s(full) = %s, want %s", alg, got, want)
		}
	}
}
