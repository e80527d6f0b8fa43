package cloudtrail

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/forensic-dev/forensic/store"
)

func boolPtr(v bool) *bool { return &v }

func TestExtract(t *testing.T) {
	full := `{"eventVersion":"1.08","userIdentity":{"type":"AssumedRole","principalId":"AROAEXAMPLE:s","arn":"arn:aws:sts::111122223333:assumed-role/r/s","accountId":"111122223333","accessKeyId":"ASIAEXAMPLE","userName":"u","sessionContext":{"sessionIssuer":{"arn":"arn:aws:iam::111122223333:role/r"}}},` +
		`"eventTime":"2023-07-10T11:40:01Z","eventSource":"s3.amazonaws.com","eventName":"GetObject","awsRegion":"us-east-1","sourceIPAddress":"192.0.2.1","userAgent":"[aws-cli/2]",` +
		`"errorCode":"AccessDenied","errorMessage":"Access Denied","requestParameters":{"bucketName":"b","eventName":"inner"},"responseElements":null,"requestID":"R1","eventID":"E1",` +
		`"readOnly":true,"eventType":"AwsApiCall","managementEvent":false,"recipientAccountId":"111122223333","sharedEventID":"S1","eventCategory":"Data","tlsDetails":{"tlsVersion":"TLSv1.3"}}`
	tests := []struct {
		name string
		in   string
		want store.Event
	}{
		{"all fields", full, store.Event{
			EventID: "E1", EventTime: "2023-07-10T11:40:01Z", EventVersion: "1.08", EventSource: "s3.amazonaws.com",
			EventName: "GetObject", EventType: "AwsApiCall", EventCategory: "Data", AWSRegion: "us-east-1",
			SourceIP: "192.0.2.1", UserAgent: "[aws-cli/2]", Principal: "arn:aws:sts::111122223333:assumed-role/r/s",
			IdentityType: "AssumedRole", AccessKeyID: "ASIAEXAMPLE", UserName: "u", AccountID: "111122223333",
			RecipientAccountID: "111122223333", ErrorCode: "AccessDenied", ErrorMessage: "Access Denied",
			RequestID: "R1", SharedEventID: "S1", ReadOnly: boolPtr(true), ManagementEvent: boolPtr(false),
		}},
		{"principalId when no arn", `{"userIdentity":{"type":"AWSAccount","principalId":"P","accountId":"1"}}`,
			store.Event{Principal: "P", IdentityType: "AWSAccount", AccountID: "1"}},
		{"invokedBy when no arn or principalId", `{"userIdentity":{"type":"AWSService","invokedBy":"ec2.amazonaws.com"}}`,
			store.Event{Principal: "ec2.amazonaws.com", IdentityType: "AWSService"}},
		{"empty arn falls through", `{"userIdentity":{"arn":"","principalId":"P"}}`, store.Event{Principal: "P"}},
		{"insight record without userIdentity", `{"eventVersion":"1.07","eventTime":"2020-01-01T00:00:00Z","awsRegion":"us-east-1","eventID":"I1","eventType":"AwsCloudTrailInsight","recipientAccountId":"1","sharedEventID":"S","insightDetails":{"state":"Start","eventSource":"ec2.amazonaws.com","eventName":"RunInstances"},"eventCategory":"Insight"}`,
			store.Event{EventVersion: "1.07", EventTime: "2020-01-01T00:00:00Z", AWSRegion: "us-east-1", EventID: "I1", EventType: "AwsCloudTrailInsight", RecipientAccountID: "1", SharedEventID: "S", EventCategory: "Insight",
				EventName: "RunInstances", EventSource: "ec2.amazonaws.com"}},
		// The aggregated event of AWS's "Aggregating data events" page.
		{"aggregated event", `{"eventVersion":"1.0","accountId":"111122223333","eventId":"62759c1a-6248-48e1-a6b3-d5fb7e6c4bc0","eventCategory":"Aggregated","eventType":"AwsAggregatedEvent","awsRegion":"us-west-2","eventSource":"s3.amazonaws.com","timeWindow":{"windowStart":"2025-11-17T19:20:00Z","windowEnd":"2025-11-17T19:25:00Z","windowSize":"PT5M"},"summary":{"primaryDimension":{"dimension":"eventName","statistics":[{"name":"PutObject","value":1000}],"aggregationType":"Count"},"details":[{"dimension":"resourceARN","statistics":[{"name":"arn:aws:s3:::bucket-1","value":800}],"aggregationType":"Count"}]}}`,
			store.Event{EventVersion: "1.0", EventID: "62759c1a-6248-48e1-a6b3-d5fb7e6c4bc0", EventTime: "2025-11-17T19:20:00Z", EventSource: "s3.amazonaws.com",
				EventType: "AwsAggregatedEvent", EventCategory: "Aggregated", AWSRegion: "us-west-2", AccountID: "111122223333", RecipientAccountID: "111122223333"}},
		// The usual spellings win over a shape's own when both are there.
		{"usual fields first", `{"eventID":"A","eventId":"B","eventTime":"2024-01-01T00:00:00Z","timeWindow":{"windowStart":"2023-01-01T00:00:00Z"},"eventName":"N","insightDetails":{"eventName":"M"},"recipientAccountId":"1","accountId":"2"}`,
			store.Event{EventID: "A", EventTime: "2024-01-01T00:00:00Z", EventName: "N", RecipientAccountID: "1", AccountID: "2"}},
		// A network activity event (AWS, "Logging network activity events"): the usual fields.
		{"network activity event", `{"eventVersion":"1.09","userIdentity":{"type":"AWSAccount","principalId":"AKIAIOSFODNN7EXAMPLE","accountId":"777788889999"},"eventTime":"2024-06-17T22:33:58Z","eventSource":"cloudtrail.amazonaws.com","eventName":"ListTrails","awsRegion":"us-east-1","sourceIPAddress":"192.0.2.1","errorCode":"VpceAccessDenied","eventID":"N1","eventType":"AwsVpceEvent","recipientAccountId":"111122223333","eventCategory":"NetworkActivity","vpcEndpointId":"vpce-12345678"}`,
			store.Event{EventVersion: "1.09", Principal: "AKIAIOSFODNN7EXAMPLE", IdentityType: "AWSAccount", AccountID: "777788889999", EventTime: "2024-06-17T22:33:58Z",
				EventSource: "cloudtrail.amazonaws.com", EventName: "ListTrails", AWSRegion: "us-east-1", SourceIP: "192.0.2.1", ErrorCode: "VpceAccessDenied", EventID: "N1",
				EventType: "AwsVpceEvent", RecipientAccountID: "111122223333", EventCategory: "NetworkActivity"}},
		// An EventBridge event (AWS, "Events from AWS services"): the
		// columns are the CloudTrail record's in detail.
		{"EventBridge event", `{"version":"0","id":"36eb8523-97d0-4518-b33d-ee3579ff19f0","detail-type":"AWS API Call via CloudTrail","source":"aws.s3","account":"111122223333","time":"2024-03-01T10:00:05Z","region":"us-east-1","resources":[],"detail":{"eventVersion":"1.09","userIdentity":{"type":"IAMUser","arn":"arn:aws:iam::111122223333:user/ops-admin","userName":"ops-admin"},"eventTime":"2024-03-01T10:00:00Z","eventSource":"s3.amazonaws.com","eventName":"PutBucketPolicy","awsRegion":"us-east-1","eventID":"EB1","eventType":"AwsApiCall","recipientAccountId":"111122223333","eventCategory":"Management"}}`,
			store.Event{EventVersion: "1.09", Principal: "arn:aws:iam::111122223333:user/ops-admin", IdentityType: "IAMUser", UserName: "ops-admin", EventTime: "2024-03-01T10:00:00Z",
				EventSource: "s3.amazonaws.com", EventName: "PutBucketPolicy", AWSRegion: "us-east-1", EventID: "EB1", EventType: "AwsApiCall",
				RecipientAccountID: "111122223333", EventCategory: "Management"}},
		// A record with an eventVersion of its own is read as itself, even
		// with fields named detail-type and detail.
		{"record with a detail field", `{"eventVersion":"1.08","eventName":"N","detail-type":"x","detail":{"eventName":"inner"}}`,
			store.Event{EventVersion: "1.08", EventName: "N"}},
		{"booleans as strings", `{"readOnly":"false","managementEvent":"true"}`, store.Event{ReadOnly: boolPtr(false), ManagementEvent: boolPtr(true)}},
		{"nulls are absent", `{"readOnly":null,"managementEvent":null,"userIdentity":null,"eventName":null}`, store.Event{}},
		{"names are case-sensitive", `{"EventName":"X","eventname":"Y","USERIDENTITY":{"arn":"A"}}`, store.Event{}},
		{"unknown fields ignored", `{"eventName":"N","x":{"eventName":1},"y":[1,2]}`, store.Event{EventName: "N"}},
		{"escapes decoded", `{"eventName":"a\"b\u00e9"}`, store.Event{EventName: "a\"bé"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			raw := []byte(tt.in)
			ev := store.Event{EvidenceID: 7, RecordIndex: 3, Verifiable: true, EventName: "stale", Principal: "stale"}
			require.NoError(t, Extract(raw, &ev))
			want := tt.want
			want.EvidenceID, want.RecordIndex, want.Verifiable, want.Raw = 7, 3, true, raw
			assert.Equal(t, want, ev)
			assert.Same(t, &raw[0], &ev.Raw[0], "Raw must be the input, not a copy")
		})
	}
}

func TestExtractErrors(t *testing.T) {
	tests := []struct{ in, field string }{
		{`{"eventName":5}`, "/eventName"},
		{`{"eventTime":{"a":1}}`, "/eventTime"},
		{`{"readOnly":"yes"}`, "/readOnly"},
		{`{"managementEvent":1}`, "/managementEvent"},
		{`{"userIdentity":"root"}`, "/userIdentity"},
		{`{"userIdentity":{"arn":["a"]}}`, "/userIdentity/arn"},
		{`{"eventName":"a","eventName":"b"}`, `"eventName"`},
		{`{"requestParameters":{"k":1,"k":2}}`, `"k"`},
		{`[1]`, "cloudtrail.record"},
		{`{"eventName":"a"`, "unexpected EOF"},
		{`{"detail-type":"d","detail":{"eventName":5}}`, "EventBridge detail"},
	}
	for _, tt := range tests {
		var ev store.Event
		err := Extract([]byte(tt.in), &ev)
		if err == nil || !strings.Contains(err.Error(), tt.field) {
			t.Errorf("Extract(%s) = %v, want an error naming %s", tt.in, err, tt.field)
		}
	}
}

// FuzzExtract checks that Extract never panics, keeps Raw, and agrees with
// encoding/json on the fields of records both accept.
func FuzzExtract(f *testing.F) {
	f.Add([]byte(`{"eventVersion":"1.08","eventName":"X","userIdentity":{"arn":"A"},"readOnly":"true"}`))
	f.Add([]byte(`{"eventName":5}`))
	f.Add([]byte(`{"detail-type":"AWS API Call via CloudTrail","source":"aws.s3","detail":{"eventVersion":"1.09","eventName":"PutObject","userIdentity":{"arn":"A"}}}`))
	f.Add([]byte(`{"userIdentity":null,"managementEvent":false}`))
	f.Fuzz(func(t *testing.T, raw []byte) {
		var ev store.Event
		err := Extract(raw, &ev)
		if err != nil {
			return
		}
		if string(ev.Raw) != string(raw) {
			t.Fatalf("Raw = %q, want %q", ev.Raw, raw)
		}
		if !json.Valid(raw) {
			t.Fatalf("Extract accepted invalid JSON %q", raw)
		}
		// encoding/json matches names case-insensitively and lets the last
		// duplicate win; where the record names eventName once, in any case
		// and at any depth, both must read the same top-level value.
		low := strings.ToLower(string(raw))
		if strings.Contains(low, `\`) || strings.Count(low, `"eventname"`) != 1 {
			return
		}
		var std struct {
			EventName *string `json:"eventName"`
		}
		if json.Unmarshal(raw, &std) != nil || std.EventName == nil || !strings.Contains(string(raw), `"eventName"`) {
			return
		}
		if *std.EventName != ev.EventName {
			t.Fatalf("eventName = %q, encoding/json says %q", ev.EventName, *std.EventName)
		}
	})
}
