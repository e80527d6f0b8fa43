package cloudtrail

import (
	"path"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

func TestParseKey(t *testing.T) {
	at := func(s string) time.Time { return *utc(s) }
	tests := []struct {
		name string
		in   string
		want KeyInfo
	}{
		{"log file",
			"AWSLogs/111122223333/CloudTrail/us-east-2/2015/08/01/111122223333_CloudTrail_us-east-2_20150801T0210Z_Mu0KsOhtH1ar15ZZ.json.gz",
			KeyInfo{Key: "AWSLogs/111122223333/CloudTrail/us-east-2/2015/08/01/111122223333_CloudTrail_us-east-2_20150801T0210Z_Mu0KsOhtH1ar15ZZ.json.gz",
				Account: "111122223333", Type: TypeLog, Region: "us-east-2", Date: "2015-08-01", Unique: "Mu0KsOhtH1ar15ZZ", Ext: ".json.gz",
				Time: at("2015-08-01T02:10:00Z")}},
		{"org trail with bucket and prefix",
			"my-bucket/a/b/AWSLogs/o-exampleorgid/111122223333/CloudTrail/eu-west-1/2024/02/29/111122223333_CloudTrail_eu-west-1_20240229T2355Z_abcdefghijklmnop.json.gz",
			KeyInfo{Key: "AWSLogs/o-exampleorgid/111122223333/CloudTrail/eu-west-1/2024/02/29/111122223333_CloudTrail_eu-west-1_20240229T2355Z_abcdefghijklmnop.json.gz",
				Prefix: "my-bucket/a/b", OrgID: "o-exampleorgid", Account: "111122223333", Type: TypeLog, Region: "eu-west-1", Date: "2024-02-29",
				Unique: "abcdefghijklmnop", Ext: ".json.gz", Time: at("2024-02-29T23:55:00Z")}},
		{"digest with '_' in trail name",
			"AWSLogs/111122223333/CloudTrail-Digest/us-east-2/2015/08/17/111122223333_CloudTrail-Digest_us-east-2_my_trail_name_us-west-2_20150817T150131Z.json.gz",
			KeyInfo{Key: "AWSLogs/111122223333/CloudTrail-Digest/us-east-2/2015/08/17/111122223333_CloudTrail-Digest_us-east-2_my_trail_name_us-west-2_20150817T150131Z.json.gz",
				Account: "111122223333", Type: TypeDigest, Region: "us-east-2", Date: "2015-08-17", Trail: "my_trail_name", HomeRegion: "us-west-2",
				Ext: ".json.gz", Time: at("2015-08-17T15:01:31Z")}},
		{"backfill digest",
			"/evidence/b/AWSLogs/111122223333/CloudTrail-Digest/us-east-1/2023/01/02/111122223333_CloudTrail-Digest_us-east-1_t_us-east-1_20230102T030405Z_backfill.json.gz",
			KeyInfo{Key: "AWSLogs/111122223333/CloudTrail-Digest/us-east-1/2023/01/02/111122223333_CloudTrail-Digest_us-east-1_t_us-east-1_20230102T030405Z_backfill.json.gz",
				Prefix: "/evidence/b", Account: "111122223333", Type: TypeDigest, Region: "us-east-1", Date: "2023-01-02", Trail: "t", HomeRegion: "us-east-1",
				Ext: ".json.gz", Time: at("2023-01-02T03:04:05Z"), Backfill: true}},
		// The name pattern of these two folders is not documented: read as
		// a log file's, with the folder's type.
		{"network activity",
			"AWSLogs/111122223333/CloudTrail-NetworkActivity/us-east-1/2024/06/17/111122223333_CloudTrail-NetworkActivity_us-east-1_20240617T2235Z_abcdefghijklmnop.json.gz",
			KeyInfo{Key: "AWSLogs/111122223333/CloudTrail-NetworkActivity/us-east-1/2024/06/17/111122223333_CloudTrail-NetworkActivity_us-east-1_20240617T2235Z_abcdefghijklmnop.json.gz",
				Account: "111122223333", Type: TypeNetworkActivity, Region: "us-east-1", Date: "2024-06-17", Unique: "abcdefghijklmnop", Ext: ".json.gz",
				Time: at("2024-06-17T22:35:00Z")}},
		{"aggregated",
			"AWSLogs/o-exampleorgid/111122223333/CloudTrail-Aggregated/us-west-2/2025/11/17/111122223333_CloudTrail-Aggregated_us-west-2_20251117T1930Z_abcdefghijklmnop.json.gz",
			KeyInfo{Key: "AWSLogs/o-exampleorgid/111122223333/CloudTrail-Aggregated/us-west-2/2025/11/17/111122223333_CloudTrail-Aggregated_us-west-2_20251117T1930Z_abcdefghijklmnop.json.gz",
				OrgID: "o-exampleorgid", Account: "111122223333", Type: TypeAggregated, Region: "us-west-2", Date: "2025-11-17", Unique: "abcdefghijklmnop", Ext: ".json.gz",
				Time: at("2025-11-17T19:30:00Z")}},
		{"insight",
			"AWSLogs/111122223333/CloudTrail-Insight/us-east-1/2019/11/14/111122223333_CloudTrail-Insight_us-east-1_20191114T2050Z_4Hk1ZbF4rxCAYHT2.json.gz",
			KeyInfo{Key: "AWSLogs/111122223333/CloudTrail-Insight/us-east-1/2019/11/14/111122223333_CloudTrail-Insight_us-east-1_20191114T2050Z_4Hk1ZbF4rxCAYHT2.json.gz",
				Account: "111122223333", Type: TypeInsight, Region: "us-east-1", Date: "2019-11-14", Unique: "4Hk1ZbF4rxCAYHT2", Ext: ".json.gz",
				Time: at("2019-11-14T20:50:00Z")}},
		{"prefix named AWSLogs",
			"AWSLogs/AWSLogs/111122223333/CloudTrail/us-east-1/2019/11/14/111122223333_CloudTrail_us-east-1_20191114T2050Z_4Hk1ZbF4rxCAYHT2.json",
			KeyInfo{Key: "AWSLogs/111122223333/CloudTrail/us-east-1/2019/11/14/111122223333_CloudTrail_us-east-1_20191114T2050Z_4Hk1ZbF4rxCAYHT2.json",
				Prefix: "AWSLogs", Account: "111122223333", Type: TypeLog, Region: "us-east-1", Date: "2019-11-14", Unique: "4Hk1ZbF4rxCAYHT2", Ext: ".json",
				Time: at("2019-11-14T20:50:00Z")}},
		{"folders disagree with file name",
			"AWSLogs/111122223333/CloudTrail/us-east-1/2023/07/11/218007301253_CloudTrail_us-west-2_20230710T1145Z_7xgocspSowgK0Gto.gz",
			KeyInfo{Key: "AWSLogs/111122223333/CloudTrail/us-east-1/2023/07/11/218007301253_CloudTrail_us-west-2_20230710T1145Z_7xgocspSowgK0Gto.gz",
				Account: "111122223333", Type: TypeLog, Region: "us-east-1", Date: "2023-07-11", Unique: "7xgocspSowgK0Gto", Ext: ".gz",
				Time: at("2023-07-10T11:45:00Z"), Problems: []string{
					"file name account 218007301253 differs from folder account 111122223333",
					"file name region us-west-2 differs from folder region us-east-1",
					"file name date 2023-07-10 differs from date folder 2023-07-11",
				}}},
		{"flattened file name",
			"/cases/x/218007301253_CloudTrail_us-east-1_20230710T1145Z_7xgocspSowgK0Gto.json",
			KeyInfo{Account: "218007301253", Type: TypeLog, Region: "us-east-1", Unique: "7xgocspSowgK0Gto", Ext: ".json",
				Time: at("2023-07-10T11:45:00Z"), FileNameOnly: true}},
		{"flattened digest",
			"111122223333_CloudTrail-Digest_us-west-2_leh-ct-test_us-west-2_20200911T193649Z.json.gz",
			KeyInfo{Account: "111122223333", Type: TypeDigest, Region: "us-west-2", Trail: "leh-ct-test", HomeRegion: "us-west-2",
				Ext: ".json.gz", Time: at("2020-09-11T19:36:49Z"), FileNameOnly: true}},
		{"malformed folders fall back to the file name",
			"AWSLogs/111122223333/CloudTrail/us-east-1/2023/07/10/extra/218007301253_CloudTrail_us-east-1_20230710T1145Z_7xgocspSowgK0Gto.json",
			KeyInfo{Account: "218007301253", Type: TypeLog, Region: "us-east-1", Unique: "7xgocspSowgK0Gto", Ext: ".json",
				Time: at("2023-07-10T11:45:00Z"), FileNameOnly: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := ParseKey(tt.in)
			assert.True(t, ok)
			assert.Equal(t, tt.want, got)
			if len(got.Problems) == 0 {
				assert.Equal(t, path.Base(tt.in), got.FileName())
			}
		})
	}
}

func TestParseKeyRejects(t *testing.T) {
	for _, in := range []string{
		"",
		"README.md",
		"AWSLogs/111122223333/elasticloadbalancing/us-east-1/2023/07/10/111122223333_elasticloadbalancing_us-east-1_app.x_20230710T1145Z_1.2.3.4_abc.log.gz",
		"AWSLogs/111122223333/CloudTrail-Lake/Query/2022/05/10/q/result_sign.json",
		"111122223333_CloudTrail_us-east-1_20230710T1145Z_abc.txt",
		"111122223333_CloudTrail_us-east-1_20230710T1145Z_.json.gz",
		"11112222333_CloudTrail_us-east-1_20230710T1145Z_abc.json.gz",
		"111122223333_CloudTrail_us-east-1_20230710T114Z_abcd.json.gz",
		"111122223333_CloudTrail_us-east-1_20231310T1145Z_abc.json.gz",
		"111122223333_CloudTrail_us-east-1_2023071T01145Z_abc.json.gz",
		"111122223333_CloudTrail_US-EAST-1_20230710T1145Z_abc.json.gz",
		"111122223333_CloudTrail-Digest_us-east-1_us-east-1_20230710T114500Z.json.gz",
		"111122223333_CloudTrail-Digest_us-east-1_t_us-east-1_20230710T1145Z.json.gz",
		"111122223333_CloudTrail-Digest_us-east-1_t_home_20230710T114500Z.json.gz",
		"111122223333_CloudTrail-Trace_us-east-1_20230710T1145Z_abc.json.gz",
		"s3-server-access-logs/2023-07-10-11-45-00-ABCDEF0123456789",
	} {
		if got, ok := ParseKey(in); ok {
			t.Errorf("ParseKey(%q) = %+v, true; want false", in, got)
		}
	}
}

// FuzzParseKey checks that ParseKey never panics, that an accepted key's
// file name rebuilds exactly, and that its Key parses to the same fields.
func FuzzParseKey(f *testing.F) {
	f.Add("p/AWSLogs/o-aaaaaaaaaa/111122223333/CloudTrail-Digest/us-east-2/2015/08/17/111122223333_CloudTrail-Digest_us-east-2_my_trail_us-east-2_20150817T150131Z_backfill.json.gz")
	f.Add("AWSLogs/111122223333/CloudTrail/us-east-2/2015/08/01/111122223333_CloudTrail_us-east-2_20150801T0210Z_Mu0KsOhtH1ar15ZZ.json")
	f.Add("111122223333_CloudTrail-Insight_us-east-2_20150801T0210Z_a_b.gz")
	f.Fuzz(func(t *testing.T, p string) {
		k, ok := ParseKey(p)
		if !ok {
			return
		}
		if base := p[strings.LastIndex(p, "/")+1:]; len(k.Problems) == 0 && k.FileName() != base {
			t.Fatalf("FileName() = %q, want %q", k.FileName(), base)
		}
		if k.FileNameOnly {
			return
		}
		if !strings.HasSuffix(p, k.Key) || !strings.HasPrefix(k.Key, "AWSLogs/") {
			t.Fatalf("Key %q is not the AWSLogs suffix of %q", k.Key, p)
		}
		if k.Prefix != "" && k.Prefix+"/"+k.Key != p {
			t.Fatalf("Prefix %q + Key %q != %q", k.Prefix, k.Key, p)
		}
		again, ok := ParseKey(k.Key)
		k.Prefix = ""
		if !ok || !assert.ObjectsAreEqual(k, again) {
			t.Fatalf("ParseKey(Key) = %+v, %v; want %+v", again, ok, k)
		}
	})
}
