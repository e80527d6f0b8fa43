package lake_test

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/forensic-dev/forensic/internal/lake"
)

const queryDir = "bucket/AWSLogs/111122223333/CloudTrail-Lake/Query/2022/05/10/0a1b2c3d-0000-4000-8000-000000000000/"

func TestLakeQueryFolder(t *testing.T) {
	for _, tt := range []struct {
		in, id string
		ok     bool
	}{
		{queryDir + "result_sign.json", "0a1b2c3d-0000-4000-8000-000000000000", true},
		{"AWSLogs/1/CloudTrail-Lake/Query/2022/05/10/q/result_1.csv.gz", "q", true},
		{"CloudTrail-Lake/Query/2022/05/10/q/x", "q", true},
		{"AWSLogs/1/CloudTrail-Lake/Query/2022/05/10/result_sign.json", "", false},      // no query folder
		{"AWSLogs/1/CloudTrail-Lake/Query/2022/5/10/q/result_sign.json", "", false},     // month not 2 digits
		{"AWSLogs/1/CloudTrail-Lake/Query/2022/05/10/q/sub/result_1.csv.gz", "", false}, // not directly in it
		{"AWSLogs/1/CloudTrail/Query/2022/05/10/q/result_1.csv.gz", "", false},
		{"AWSLogs/1/CloudTrail-Lake/Query/2022/05/10//result_1.csv.gz", "", false},
		{"result_sign.json", "", false},
	} {
		id, ok := lake.QueryFolder(tt.in)
		assert.Equal(t, tt.ok, ok, "QueryFolder(%q)", tt.in)
		assert.Equal(t, tt.id, id, "QueryFolder(%q)", tt.in)
	}
}

func TestLakeLooksLikeSignFile(t *testing.T) {
	sign := []byte("{\n  \"version\": \"1.0\",\n  \"files\" : [],\n  \"hashSignature\" : \"00\"}")
	for _, tt := range []struct {
		path string
		head []byte
		want bool
	}{
		{queryDir + "result_sign.json", sign, true},
		{"export/result_sign.json", sign, true},
		{"result_sign.json", []byte(" \n" + string(sign)), true},
		{"flat/result_sign (1).json", sign, true},
		{"flat/q1_result_sign.json", sign, true},
		{"flat/result_sign-2.json", sign, true},
		{queryDir + "result_1.csv.gz", sign, false},
		{queryDir + "sign.json", sign, false},
		{queryDir + "result_sign.json.gz", sign, false},
		{queryDir + "result_sign.json", []byte(`{"files":[]}`), false},                                      // no hashSignature
		{queryDir + "result_sign.json", []byte(`{"hashSignature":"00"}`), false},                            // no files
		{queryDir + "result_sign.json", []byte(`{"note":"files", "hashSignature" : "00"}`), false},          // "files" is a value
		{queryDir + "result_sign.json", []byte(`{"note":"files", "files" : [], "hashSignature":""}`), true}, // and then a member
		{queryDir + "result_sign.json", []byte(`["files", "hashSignature"]`), false},
		{queryDir + "result_sign.json", nil, false},
	} {
		assert.Equal(t, tt.want, lake.LooksLikeSignFile(tt.path, tt.head), "LooksLikeSignFile(%q, %q)", tt.path, tt.head)
	}
}

func TestLakeLooksLikeResult(t *testing.T) {
	for _, tt := range []struct {
		path string
		want bool
	}{
		{queryDir + "result_1.csv.gz", true},
		{queryDir + "result_12.csv.gz", true},
		{queryDir + "result_0.csv.gz", false},
		{queryDir + "result_1.csv", false},
		{queryDir + "result_1 (1).csv.gz", false}, // a renamed copy is not in a query folder
		{queryDir + "result_sign.json", false},
		{"export/result_1.csv.gz", false}, // beside a sign file: IsResultName
	} {
		assert.Equal(t, tt.want, lake.LooksLikeResult(tt.path), "LooksLikeResult(%q)", tt.path)
	}
	for _, tt := range []struct {
		name string
		want bool
	}{
		{"result_1.csv.gz", true},
		{"result_1 (1).csv.gz", true},
		{"result_1-2.csv.gz", true},
		{"0a1b2c3d_result_3.csv.gz", true},
		{"result_1.csv", false},
		{"myresult_1.csv.gz", false},
		{"result_.csv.gz", false},
		{"result_sign.json", false},
		{"a/result_1.csv.gz", false},
	} {
		assert.Equal(t, tt.want, lake.IsResultName(tt.name), "IsResultName(%q)", tt.name)
	}
}
