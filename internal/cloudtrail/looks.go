package cloudtrail

import (
	"errors"
	"strings"
)

// LooksLikeRecords reports whether head (the first KiB or more of
// decompressed content) looks like CloudTrail records, to classify files
// whose names say nothing: content starting {"Records":[ (whitespace and a
// byte-order mark allowed), or a top-level array or NDJSON whose first
// object names "eventVersion" and one of "eventTime", "eventName",
// "eventSource", also after the time stamp that starts each line of a
// CloudWatch Logs export. The test looks at key names only; Split decides.
func LooksLikeRecords(head []byte) bool {
	i := skipWS(head, skipBOM(head))
	if i >= len(head) {
		return false
	}
	switch head[i] {
	case '{':
		j := skipWS(head, i+1)
		const rec = `"Records"`
		if len(head)-j >= len(rec) && string(head[j:j+len(rec)]) == rec {
			j = skipWS(head, j+len(rec))
			if j < len(head) && head[j] == ':' {
				j = skipWS(head, j+1)
				return j < len(head) && head[j] == '['
			}
		}
	case '[':
		i = skipWS(head, i+1)
		if i >= len(head) || head[i] != '{' {
			return false
		}
	default:
		// A CloudWatch Logs export: a time stamp, then the record.
		j, _ := stampEnd(head, i)
		if j < 0 || j >= len(head) || head[j] != '{' {
			return false
		}
		i = j
	}
	return firstObjectLooksLikeEvent(head[i:], true)
}

// eventFields are the top-level fields of CloudTrail records (FORMATS.md
// E.2, E.4); the value says whether the name is specific to CloudTrail.
var eventFields = map[string]bool{
	"eventVersion": true, "userIdentity": true, "eventTime": true, "eventSource": true,
	"eventName": true, "awsRegion": true, "sourceIPAddress": true, "eventID": true,
	"eventType": true, "eventCategory": true, "recipientAccountId": true,
	"sharedEventID": true, "insightDetails": true, "managementEvent": true,
	"readOnly": true, "vpcEndpointId": true, "vpcEndpointAccountId": true,
	"requestParameters": true, "responseElements": true, "additionalEventData": true,
	"serviceEventDetails": true, "sessionCredentialFromConsole": true,
	"edgeDeviceDetails": true, "tlsDetails": true, "eventContext": true,
	"userAgent": false, "errorCode": false, "errorMessage": false, "requestID": false,
	"apiVersion": false, "resources": false, "addendum": false,
}

// firstObjectLooksLikeEvent reads the top-level keys of the object at the
// start of b, which may be cut short. A complete object must name
// eventVersion and one of eventTime, eventName, eventSource. A cut object
// (pretty-printed exports sort keys, so eventVersion may lie beyond the
// head) must name at least two record fields, one specific to CloudTrail,
// and nothing else but Logstash-style "@" fields.
func firstObjectLooksLikeEvent(b []byte, envelope bool) bool {
	s := splitter{b: b}
	seen := map[string]bool{}
	foreign := false
	detail := -1
	_, err := s.walkObject(0, func(key string, v int) (int, error) {
		seen[key] = true
		if key == "detail" {
			detail = v
		}
		if _, ok := eventFields[key]; !ok && !strings.HasPrefix(key, "@") {
			foreign = true
		}
		return s.skip(v)
	})
	if seen["eventVersion"] && (seen["eventTime"] || seen["eventName"] || seen["eventSource"]) {
		return true
	}
	// An EventBridge event carrying a CloudTrail record in detail
	// ("detail-type": "AWS API Call via CloudTrail", ...).
	// envelope is false inside detail: one level, so that nested details
	// cannot make the check quadratic in the head.
	if envelope && seen["detail-type"] && seen["source"] && detail >= 0 {
		d := skipWS(b, detail)
		return d < len(b) && b[d] == '{' && firstObjectLooksLikeEvent(b[d:], false)
	}
	var se *SyntaxError
	if foreign || !errors.As(err, &se) || se.Offset != int64(len(b)) {
		return false
	}
	known, specific := 0, false
	for k := range seen {
		if isSpecific, ok := eventFields[k]; ok {
			known++
			specific = specific || isSpecific
		}
	}
	return known >= 2 && specific
}
