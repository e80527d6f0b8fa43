package cloudtrail

import "testing"

func TestLooksLikeRecords(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want bool
	}{
		{"records", `{"Records":[{"eventVersion":"1.08"`, true},
		{"records with BOM and spaces", "\xEF\xBB\xBF\n{ \"Records\" :\n [", true},
		{"empty records", `{"Records":[]}`, true},
		{"Records not an array", `{"Records":{}}`, false},
		{"array of events", `[{"eventVersion":"1.08","eventTime":"2020-01-01T00:00:00Z"}]`, true},
		{"ndjson event", "{\"eventName\":\"X\",\"eventVersion\":\"1.05\",\"@version\":\"1\"}\n", true},
		{"complete object without eventVersion", `{"eventName":"X","eventSource":"s"}`, false},
		{"eventVersion alone", `{"eventVersion":"1.08"}`, false},
		{"eventVersion nested only", `[{"x":{"eventVersion":"1","eventName":"n"}}]`, false},
		{"cut sorted export", "[\n   {\n      \"awsRegion\": \"us-east-1\",\n      \"errorCode\": \"Client.Unauthorized\",\n      \"errorMessage\": \"You are not auth", true},
		{"cut object with a foreign key", `[{"awsRegion":"us-east-1","errorCode":"x","color":"red","errorMessage":"...`, false},
		{"cut object with generic keys only", `[{"errorCode":"x","errorMessage":"...`, false},
		{"EventBridge event", "{\"version\":\"0\",\"id\":\"1\",\"detail-type\":\"AWS API Call via CloudTrail\",\"source\":\"aws.s3\",\"detail\":{\"eventVersion\":\"1.09\",\"eventName\":\"PutObject\"}}\n", true},
		{"EventBridge event, detail cut", `{"detail-type":"AWS API Call via CloudTrail","source":"aws.s3","detail":{"eventVersion":"1.09","eventTime":"2024-`, true},
		{"EventBridge event of another kind", `{"detail-type":"EC2 Instance State-change Notification","source":"aws.ec2","detail":{"instance-id":"i-1","state":"running"}}`, false},
		{"EventBridge event, detail not an object", `{"detail-type":"x","source":"aws.s3","detail":"{\"eventVersion\":\"1\",\"eventName\":\"n\"}"}`, false},
		{"EventBridge event inside an EventBridge event", `{"detail-type":"x","source":"aws.s3","detail":{"detail-type":"x","source":"aws.s3","detail":{"eventVersion":"1.09","eventName":"PutObject"}}}`, false},
		{"CloudWatch Logs export", "2024-03-04T10:00:00.123Z {\"eventVersion\":\"1.09\",\"eventTime\":\"2024-03-04T09:59:58Z\",\"eventName\":\"PutObject\"}\n", true},
		{"CloudWatch Logs export, cut record", "2024-03-04T10:00:00.123Z {\"awsRegion\":\"us-east-1\",\"eventSource\":\"s3.amaz", true},
		{"CloudWatch Logs export of other logs", "2024-03-04T10:00:00.123Z {\"level\":\"info\",\"msg\":\"x\"}\n", false},
		{"text lines with stamps", "2024-03-04T10:00:00.123Z started\n", false},
		{"digest", `{"awsAccountId":"1","digestStartTime":"x"}`, false},
		{"public keys", `{"PublicKeyList":[]}`, false},
		{"array of numbers", `[1,2]`, false},
		{"empty", ``, false},
		{"text", `eventVersion eventName`, false},
	}
	for _, tt := range tests {
		if got := LooksLikeRecords([]byte(tt.in)); got != tt.want {
			t.Errorf("%s: LooksLikeRecords(%q) = %v, want %v", tt.name, tt.in, got, tt.want)
		}
	}
}

// FuzzLooksLikeRecords checks that sniffing any head never panics (an
// EventBridge envelope makes it look inside detail).
func FuzzLooksLikeRecords(f *testing.F) {
	f.Add([]byte(`{"Records":[{"eventVersion":"1.08"`))
	f.Add([]byte(`[{"awsRegion":"us-east-1","errorCode":"x","errorMessage":"...`))
	f.Add([]byte(`{"detail-type":"AWS API Call via CloudTrail","source":"aws.s3","detail":{"eventVersion":"1.09","eventTime":"2024-`))
	f.Add([]byte("{\"eventName\":\"X\",\"eventVersion\":\"1.05\"}\n{"))
	f.Fuzz(func(t *testing.T, head []byte) {
		LooksLikeRecords(head)
	})
}
