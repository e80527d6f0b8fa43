package cloudtrail

import (
	"fmt"

	gojson "github.com/goccy/go-json"

	"github.com/forensic-dev/forensic/store"
)

// record holds the indexed fields of one CloudTrail record (FORMATS.md
// E.2, E.3). Unknown fields are skipped by the decoder without being
// stored.
type record struct {
	EventVersion       string       `json:"eventVersion"`
	EventTime          string       `json:"eventTime"`
	EventSource        string       `json:"eventSource"`
	EventName          string       `json:"eventName"`
	EventType          string       `json:"eventType"`
	EventCategory      string       `json:"eventCategory"`
	EventID            string       `json:"eventID"`
	AWSRegion          string       `json:"awsRegion"`
	SourceIPAddress    string       `json:"sourceIPAddress"`
	UserAgent          string       `json:"userAgent"`
	ErrorCode          string       `json:"errorCode"`
	ErrorMessage       string       `json:"errorMessage"`
	RequestID          string       `json:"requestID"`
	RecipientAccountID string       `json:"recipientAccountId"`
	SharedEventID      string       `json:"sharedEventID"`
	ReadOnly           flexBool     `json:"readOnly"`
	ManagementEvent    flexBool     `json:"managementEvent"`
	UserIdentity       userIdentity `json:"userIdentity"`

	// Insights events name the API in insightDetails (no top-level
	// eventName or eventSource).
	InsightDetails struct {
		EventName   string `json:"eventName"`
		EventSource string `json:"eventSource"`
	} `json:"insightDetails"`
	// Aggregated events (eventType AwsAggregatedEvent) spell the id
	// eventId and the account accountId, and have a time window instead
	// of an eventTime.
	EventIDAggregated string `json:"eventId"`
	// An EventBridge event carries the record in detail.
	DetailType string            `json:"detail-type"`
	Detail     gojson.RawMessage `json:"detail"`
	AccountID  string            `json:"accountId"`
	TimeWindow struct {
		WindowStart string `json:"windowStart"`
	} `json:"timeWindow"`
}

type userIdentity struct {
	Type        string `json:"type"`
	PrincipalID string `json:"principalId"`
	ARN         string `json:"arn"`
	AccountID   string `json:"accountId"`
	AccessKeyID string `json:"accessKeyId"`
	UserName    string `json:"userName"`
	InvokedBy   string `json:"invokedBy"`
}

// flexBool is a JSON boolean, or a string "true"/"false" as some exports
// write readOnly and managementEvent; null leaves it unset.
type flexBool struct {
	set, v bool
}

func (f *flexBool) UnmarshalJSON(b []byte) error {
	switch string(b) {
	case "true", `"true"`:
		*f = flexBool{set: true, v: true}
	case "false", `"false"`:
		*f = flexBool{set: true, v: false}
	case "null":
	default:
		return fmt.Errorf("want true, false, \"true\" or \"false\", got %.40s", b)
	}
	return nil
}

func (f flexBool) ptr() *bool {
	if !f.set {
		return nil
	}
	v := f.v
	return &v
}

// Extract fills ev's indexed columns from one record and sets ev.Raw =
// raw (no copy). It overwrites every field taken from the record and
// leaves EvidenceID, RecordIndex and Verifiable to the caller (see
// Verifiable).
//
// Principal is userIdentity.arn, else userIdentity.principalId, else
// userIdentity.invokedBy; userIdentity may be absent (Insight records).
// Each record shape's own spellings fill the columns the usual fields
// leave empty: an Insights event's insightDetails.eventName and
// eventSource; an aggregated event's eventId, accountId (its account and
// recipient account) and timeWindow.windowStart (its event_time).
// readOnly and managementEvent may be booleans or the strings "true" and
// "false". A field of the wrong JSON type (eventName a number, readOnly
// "yes") is an error naming the field; unknown fields are ignored; null
// counts as absent. Field names match case-sensitively, and a record that
// names a field twice is an error, so no record reads differently
// depending on the JSON library.
func Extract(raw []byte, ev *store.Event) error {
	var r record
	if err := decodeRecord(raw, &r); err != nil {
		return fmt.Errorf("extract record: %w", err)
	}
	if r.DetailType != "" && r.EventVersion == "" && len(r.Detail) > 0 && r.Detail[0] == '{' {
		// An EventBridge event: the columns are the record's in detail;
		// raw stays the whole event as the evidence holds it.
		var inner record
		if err := decodeRecord(r.Detail, &inner); err != nil {
			return fmt.Errorf("extract record: EventBridge detail: %w", err)
		}
		r = inner
	}
	u := &r.UserIdentity
	principal := u.ARN
	if principal == "" {
		principal = u.PrincipalID
	}
	if principal == "" {
		principal = u.InvokedBy
	}
	// The shapes' own spellings, when the usual field is absent.
	id, at, name, src, recipient, account := r.EventID, r.EventTime, r.EventName, r.EventSource, r.RecipientAccountID, u.AccountID
	if id == "" {
		id = r.EventIDAggregated
	}
	if at == "" {
		at = r.TimeWindow.WindowStart
	}
	if name == "" {
		name = r.InsightDetails.EventName
	}
	if src == "" {
		src = r.InsightDetails.EventSource
	}
	if recipient == "" {
		recipient = r.AccountID
	}
	if account == "" {
		account = r.AccountID
	}
	*ev = store.Event{
		EvidenceID:         ev.EvidenceID,
		RecordIndex:        ev.RecordIndex,
		Verifiable:         ev.Verifiable,
		EventID:            id,
		EventTime:          at,
		EventVersion:       r.EventVersion,
		EventSource:        src,
		EventName:          name,
		EventType:          r.EventType,
		EventCategory:      r.EventCategory,
		AWSRegion:          r.AWSRegion,
		SourceIP:           r.SourceIPAddress,
		UserAgent:          r.UserAgent,
		Principal:          principal,
		IdentityType:       u.Type,
		AccessKeyID:        u.AccessKeyID,
		UserName:           u.UserName,
		AccountID:          account,
		RecipientAccountID: recipient,
		ErrorCode:          r.ErrorCode,
		ErrorMessage:       r.ErrorMessage,
		RequestID:          r.RequestID,
		SharedEventID:      r.SharedEventID,
		ReadOnly:           r.ReadOnly.ptr(),
		ManagementEvent:    r.ManagementEvent.ptr(),
		Raw:                raw,
	}
	return nil
}
