package whatsapp_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/frontdesk-ai/frontdesk/channels/whatsapp"
	"github.com/frontdesk-ai/frontdesk/events"
)

var update = flag.Bool("update", false, "rewrite testdata/webhooks/*.golden.json from the parser's output")

// payloads returns the webhook payloads under testdata/webhooks by name.
func payloads(t testing.TB) map[string][]byte {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join("testdata", "webhooks", "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	out := make(map[string][]byte)
	for _, p := range paths {
		if strings.HasSuffix(p, ".golden.json") {
			continue
		}
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		out[strings.TrimSuffix(filepath.Base(p), ".json")] = b
	}
	if len(out) == 0 {
		t.Fatal("no payloads in testdata/webhooks")
	}
	return out
}

func TestParseGolden(t *testing.T) {
	for name, body := range payloads(t) {
		t.Run(name, func(t *testing.T) {
			got, err := whatsapp.Parse(body)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			golden := filepath.Join("testdata", "webhooks", name+".golden.json")
			if *update {
				out, err := json.MarshalIndent(got, "", "  ")
				if err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(golden, append(out, '\n'), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			raw, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("read golden (run go test -update): %v", err)
			}
			var want whatsapp.Batch
			if err := json.Unmarshal(raw, &want); err != nil {
				t.Fatalf("decode golden: %v", err)
			}
			compareFields(t, "batch", reflect.ValueOf(want), reflect.ValueOf(got))
		})
	}
}

var (
	rawMessageType = reflect.TypeFor[json.RawMessage]()
	timeType       = reflect.TypeFor[time.Time]()
)

// compareFields reports every differing leaf field of want and got by path.
func compareFields(t *testing.T, path string, want, got reflect.Value) {
	t.Helper()
	switch {
	case want.Type() == rawMessageType:
		if w, g := compactJSON(want.Bytes()), compactJSON(got.Bytes()); w != g {
			t.Errorf("%s:\n got %s\nwant %s", path, g, w)
		}
		return
	case want.Type() == timeType:
		if w, g := want.Interface().(time.Time), got.Interface().(time.Time); !w.Equal(g) {
			t.Errorf("%s: got %s, want %s", path, g, w)
		}
		return
	}
	switch want.Kind() {
	case reflect.Struct:
		for i := range want.NumField() {
			compareFields(t, path+"."+want.Type().Field(i).Name, want.Field(i), got.Field(i))
		}
	case reflect.Pointer:
		if want.IsNil() || got.IsNil() {
			if want.IsNil() != got.IsNil() {
				t.Errorf("%s: got %v, want %v", path, got.Interface(), want.Interface())
			}
			return
		}
		compareFields(t, path, want.Elem(), got.Elem())
	case reflect.Slice:
		if want.Len() != got.Len() {
			t.Errorf("%s: got %d items, want %d", path, got.Len(), want.Len())
			return
		}
		for i := range want.Len() {
			compareFields(t, path+"["+itoa(i)+"]", want.Index(i), got.Index(i))
		}
	default:
		if !reflect.DeepEqual(want.Interface(), got.Interface()) {
			t.Errorf("%s: got %#v, want %#v", path, got.Interface(), want.Interface())
		}
	}
}

func itoa(i int) string { return strconv.Itoa(i) }

func compactJSON(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	var buf bytes.Buffer
	if err := json.Compact(&buf, b); err != nil {
		return "invalid:" + string(b)
	}
	return buf.String()
}

// one parses the named payload and returns its only message.
func one(t *testing.T, name string) (events.MessageReceived, whatsapp.Details) {
	t.Helper()
	b, err := whatsapp.Parse(payloads(t)[name])
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	if len(b.Messages) != 1 {
		t.Fatalf("got %d messages, want 1", len(b.Messages))
	}
	m := b.Messages[0]
	if m.PhoneNumberID != "106540352242922" || m.Event.ChannelAccount != m.PhoneNumberID || m.WABAID != "102290129340398" {
		t.Errorf("routing: phone_number_id %q, channel_account %q, waba %q", m.PhoneNumberID, m.Event.ChannelAccount, m.WABAID)
	}
	if m.Event.Channel != "whatsapp" || m.Event.ExternalUserID != "16505551234" {
		t.Errorf("channel %q, external user %q", m.Event.Channel, m.Event.ExternalUserID)
	}
	var d whatsapp.Details
	if len(m.Event.Details) > 0 {
		if err := json.Unmarshal(m.Event.Details, &d); err != nil {
			t.Fatalf("decode details: %v", err)
		}
	}
	return m.Event, d
}

// TestParseKinds states, independently of the golden files, what each kind
// must yield.
func TestParseKinds(t *testing.T) {
	const quoted = "wamid.HBgLMTY1MDM4Nzk0MzkVAgARGBI4Qjc0RTQ2RkZGRjdFRDNGQUUA"
	tests := []struct {
		name  string
		check func(t *testing.T, ev events.MessageReceived, d whatsapp.Details)
	}{
		{"text", func(t *testing.T, ev events.MessageReceived, d whatsapp.Details) {
			want := events.MessageReceived{
				Channel: "whatsapp", ChannelAccount: "106540352242922", ExternalUserID: "16505551234",
				ProfileName: "Sheena Nelson", Phone: "+16505551234", ChannelMessageID: "wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQTRBNjU5OUFFRTAzODEwMTQ0RgA=",
				Kind: "text", Text: "Does it come in another color?", SentAt: time.Unix(1749416383, 0).UTC(),
			}
			if !reflect.DeepEqual(ev, want) {
				t.Errorf("got %+v\nwant %+v", ev, want)
			}
		}},
		{"text_reply", func(t *testing.T, ev events.MessageReceived, d whatsapp.Details) {
			if ev.ReplyTo != quoted || ev.Text != "Yes, the blue one please" {
				t.Errorf("reply to %q, text %q", ev.ReplyTo, ev.Text)
			}
		}},
		{"text_referral", func(t *testing.T, ev events.MessageReceived, d whatsapp.Details) {
			if !strings.Contains(string(d.Referral), `"ctwa_clid":"Aff-n8ZT`) {
				t.Errorf("referral %s", d.Referral)
			}
		}},
		{"audio_voice", func(t *testing.T, ev events.MessageReceived, d whatsapp.Details) {
			if ev.Kind != "audio" || ev.Media == nil || !ev.Media.Voice || ev.Media.ID != "1003383421387256" ||
				ev.Media.MimeType != "audio/ogg; codecs=opus" || !strings.HasPrefix(ev.Media.URL, "https://lookaside.fbsbx.com/") {
				t.Errorf("kind %q media %+v", ev.Kind, ev.Media)
			}
		}},
		{"audio_file", func(t *testing.T, ev events.MessageReceived, d whatsapp.Details) {
			if ev.Kind != "audio" || ev.Media == nil || ev.Media.Voice || ev.Media.MimeType != "audio/mpeg" {
				t.Errorf("kind %q media %+v", ev.Kind, ev.Media)
			}
		}},
		{"image", func(t *testing.T, ev events.MessageReceived, d whatsapp.Details) {
			if ev.Kind != "image" || ev.Media == nil || ev.Media.ID != "1479537139650973" || ev.Media.Caption != "Is this the right size?" ||
				ev.Text != "Is this the right size?" || ev.Media.SHA256 == "" {
				t.Errorf("kind %q text %q media %+v", ev.Kind, ev.Text, ev.Media)
			}
		}},
		{"video", func(t *testing.T, ev events.MessageReceived, d whatsapp.Details) {
			if ev.Kind != "video" || ev.Media == nil || ev.Media.MimeType != "video/mp4" {
				t.Errorf("kind %q media %+v", ev.Kind, ev.Media)
			}
		}},
		{"document", func(t *testing.T, ev events.MessageReceived, d whatsapp.Details) {
			if ev.Kind != "document" || ev.Media == nil || ev.Media.Filename != "invoice-4021.pdf" || ev.Media.MimeType != "application/pdf" {
				t.Errorf("kind %q media %+v", ev.Kind, ev.Media)
			}
		}},
		{"sticker", func(t *testing.T, ev events.MessageReceived, d whatsapp.Details) {
			if ev.Kind != "sticker" || ev.Media == nil || ev.Media.MimeType != "image/webp" || !d.Animated {
				t.Errorf("kind %q media %+v animated %v", ev.Kind, ev.Media, d.Animated)
			}
		}},
		{"location", func(t *testing.T, ev events.MessageReceived, d whatsapp.Details) {
			want := &whatsapp.Location{Latitude: 37.483307, Longitude: -122.148981, Name: "Meta Headquarters",
				Address: "1 Hacker Way, Menlo Park, CA 94025", URL: "https://www.facebook.com/meta"}
			if ev.Kind != "location" || !reflect.DeepEqual(d.Location, want) {
				t.Errorf("kind %q location %+v", ev.Kind, d.Location)
			}
		}},
		{"contacts", func(t *testing.T, ev events.MessageReceived, d whatsapp.Details) {
			var cs []struct {
				Name struct {
					FormattedName string `json:"formatted_name"`
				} `json:"name"`
				Phones []struct {
					WaID string `json:"wa_id"`
				} `json:"phones"`
			}
			if err := json.Unmarshal(d.Contacts, &cs); err != nil || len(cs) != 1 ||
				cs[0].Name.FormattedName != "Pablo Morales" || cs[0].Phones[0].WaID != "19405551234" {
				t.Errorf("kind %q contacts %s (%v)", ev.Kind, d.Contacts, err)
			}
		}},
		{"interactive_button_reply", func(t *testing.T, ev events.MessageReceived, d whatsapp.Details) {
			want := &whatsapp.InteractiveReply{Type: "button_reply", ID: "change-button", Title: "Change"}
			if ev.Kind != "interactive" || !reflect.DeepEqual(d.Interactive, want) || ev.Text != "Change" || ev.ReplyTo != quoted || ev.ButtonID != "change-button" {
				t.Errorf("kind %q text %q reply %q button %q interactive %+v", ev.Kind, ev.Text, ev.ReplyTo, ev.ButtonID, d.Interactive)
			}
		}},
		{"interactive_list_reply", func(t *testing.T, ev events.MessageReceived, d whatsapp.Details) {
			want := &whatsapp.InteractiveReply{Type: "list_reply", ID: "priority_express", Title: "Express Shipping", Description: "Next Day to 2 Days"}
			if ev.Kind != "interactive" || !reflect.DeepEqual(d.Interactive, want) || ev.Text != "Express Shipping" {
				t.Errorf("kind %q text %q interactive %+v", ev.Kind, ev.Text, d.Interactive)
			}
		}},
		{"button", func(t *testing.T, ev events.MessageReceived, d whatsapp.Details) {
			if ev.Kind != "button" || d.Button == nil || d.Button.Payload != "Unsubscribe" || ev.Text != "Stop promotions" || ev.ReplyTo != quoted {
				t.Errorf("kind %q text %q button %+v", ev.Kind, ev.Text, d.Button)
			}
		}},
		{"reaction", func(t *testing.T, ev events.MessageReceived, d whatsapp.Details) {
			if ev.Kind != "reaction" || d.Reaction == nil || d.Reaction.MessageID != quoted || d.Reaction.Emoji != "👍" || ev.Text != "👍" {
				t.Errorf("kind %q text %q reaction %+v", ev.Kind, ev.Text, d.Reaction)
			}
		}},
		{"reaction_removed", func(t *testing.T, ev events.MessageReceived, d whatsapp.Details) {
			if ev.Kind != "reaction" || d.Reaction == nil || d.Reaction.MessageID != quoted || d.Reaction.Emoji != "" {
				t.Errorf("kind %q reaction %+v", ev.Kind, d.Reaction)
			}
		}},
		{"order", func(t *testing.T, ev events.MessageReceived, d whatsapp.Details) {
			if ev.Kind != "order" || ev.Text != "Please deliver before Friday" || !strings.Contains(string(d.Order), `"product_retailer_id":"di9ozbzfi4"`) {
				t.Errorf("kind %q text %q order %s", ev.Kind, ev.Text, d.Order)
			}
		}},
		{"system", func(t *testing.T, ev events.MessageReceived, d whatsapp.Details) {
			if ev.Kind != "system" || d.System == nil || d.System.Type != "user_changed_number" || d.System.NewWaID != "16505559876" || ev.ProfileName != "" {
				t.Errorf("kind %q profile %q system %+v", ev.Kind, ev.ProfileName, d.System)
			}
		}},
		{"unsupported", func(t *testing.T, ev events.MessageReceived, d whatsapp.Details) {
			if ev.Kind != "unsupported" || d.UnsupportedType != "poll_creation" || len(d.Errors) != 1 || d.Errors[0].Code != 131051 ||
				d.Errors[0].Details != "Message type is currently not supported." {
				t.Errorf("kind %q details %+v", ev.Kind, d)
			}
		}},
		{"unknown", func(t *testing.T, ev events.MessageReceived, d whatsapp.Details) {
			if ev.Kind != "unknown" || len(d.Errors) != 1 || d.Errors[0].Code != 131051 || d.Errors[0].Details != "Message type is not currently supported" {
				t.Errorf("kind %q details %+v", ev.Kind, d)
			}
		}},
		{"unmodeled_type", func(t *testing.T, ev events.MessageReceived, d whatsapp.Details) {
			if ev.Kind != "unknown" || d.Type != "request_welcome" || !strings.Contains(string(d.Raw), `"type":"request_welcome"`) {
				t.Errorf("kind %q details %+v", ev.Kind, d)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ev, d := one(t, tt.name)
			tt.check(t, ev, d)
		})
	}
}

func TestParseStatuses(t *testing.T) {
	const out = "wamid.HBgLMTY1MDM4Nzk0MzkVAgARGBI3MTE5MjhGQUQwQ0U4NDJEQkUA"
	const pnid = "106540352242922"
	tests := []struct {
		name string
		want events.MessageStatus
	}{
		{"status_sent", events.MessageStatus{Channel: "whatsapp", ChannelAccount: pnid, ChannelMessageID: out, ExternalUserID: "16505551234", Status: "sent", At: time.Unix(1749416900, 0).UTC()}},
		{"status_delivered", events.MessageStatus{Channel: "whatsapp", ChannelAccount: pnid, ChannelMessageID: out, ExternalUserID: "16505551234", Status: "delivered", At: time.Unix(1749416901, 0).UTC()}},
		{"status_read", events.MessageStatus{Channel: "whatsapp", ChannelAccount: pnid, ChannelMessageID: out, ExternalUserID: "16505551234", Status: "read", At: time.Unix(1749416930, 0).UTC()}},
		{"status_failed", events.MessageStatus{Channel: "whatsapp", ChannelAccount: pnid, ChannelMessageID: "wamid.HBgLMTY1MDM4Nzk0MzkVAgARGBJBQkNERUYwMTIzNDU2Nzg5AA==", ExternalUserID: "16505551234",
			Status: "failed", ErrorCode: 131047, ErrorTitle: "Re-engagement message", At: time.Unix(1749503999, 0).UTC()}},
		// The sender's key comes back as the client key: it names the
		// message even when its wamid was never recorded.
		{"status_keyed", events.MessageStatus{Channel: "whatsapp", ChannelAccount: pnid, ChannelMessageID: out, ExternalUserID: "16505551234", Status: "delivered",
			ClientKey: "0195f3a2-7c1e-7b55-9e0c-frontdesk-msg", At: time.Unix(1749416901, 0).UTC()}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := whatsapp.Parse(payloads(t)[tt.name])
			if err != nil {
				t.Fatal(err)
			}
			if len(b.Statuses) != 1 || len(b.Messages) != 0 {
				t.Fatalf("got %d statuses, %d messages", len(b.Statuses), len(b.Messages))
			}
			s := b.Statuses[0]
			ev := s.Event
			ev.Details = nil // checked below and by the golden files
			if !reflect.DeepEqual(ev, tt.want) {
				t.Errorf("got %+v\nwant %+v", s.Event, tt.want)
			}
			if s.PhoneNumberID != "106540352242922" {
				t.Errorf("phone number id %q", s.PhoneNumberID)
			}
			if want := tt.want.ChannelMessageID + ":" + tt.want.Status; s.DedupeKey() != want {
				t.Errorf("dedupe key %q, want %q", s.DedupeKey(), want)
			}
		})
	}
	t.Run("failed details keep every error", func(t *testing.T) {
		b, _ := whatsapp.Parse(payloads(t)["status_failed"])
		var d whatsapp.StatusDetails
		if err := json.Unmarshal(b.Statuses[0].Event.Details, &d); err != nil {
			t.Fatal(err)
		}
		if len(d.Errors) != 1 || !strings.HasPrefix(d.Errors[0].Details, "Message failed to send because more than 24 hours") {
			t.Errorf("details %+v", d)
		}
	})
	t.Run("pricing kept", func(t *testing.T) {
		b, _ := whatsapp.Parse(payloads(t)["status_sent"])
		var d whatsapp.StatusDetails
		if err := json.Unmarshal(b.Statuses[0].Event.Details, &d); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(d.Pricing), `"category":"service"`) || !strings.Contains(string(d.Conversation), `"6ceb9d929c1bb3f2dbb9e2d3a3bd4d12"`) {
			t.Errorf("details %s", b.Statuses[0].Event.Details)
		}
	})
}

func TestParseValueErrors(t *testing.T) {
	b, err := whatsapp.Parse(payloads(t)["value_errors"])
	if err != nil {
		t.Fatal(err)
	}
	want := []whatsapp.WebhookError{{
		PhoneNumberID: "106540352242922", WABAID: "102290129340398", Code: 130429, Title: "Rate limit hit",
		Message: "(#130429) Rate limit hit", Details: "Cloud API message throughput has been reached.",
		Href: "https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes/",
	}}
	if !reflect.DeepEqual(b.Errors, want) || len(b.Messages)+len(b.Statuses) != 0 {
		t.Errorf("got %+v", b)
	}
	if k := b.Errors[0].DedupeKey(); !strings.HasPrefix(k, "error:106540352242922:130429:") {
		t.Errorf("dedupe key %q", k)
	}
}

func TestParseMulti(t *testing.T) {
	b, err := whatsapp.Parse(payloads(t)["multi"])
	if err != nil {
		t.Fatal(err)
	}
	type msg struct{ pnid, waba, from, name, wamid string }
	var got []msg
	for _, m := range b.Messages {
		got = append(got, msg{m.PhoneNumberID, m.WABAID, m.Event.ExternalUserID, m.Event.ProfileName, m.DedupeKey()})
	}
	want := []msg{
		{"106540352242922", "102290129340398", "16505551234", "Sheena Nelson", "wamid.MULTI0001"},
		{"106540352242922", "102290129340398", "19405551234", "Pablo Morales", "wamid.MULTI0002"},
		{"209876543210987", "987654321098765", "447700900123", "Ada", "wamid.MULTI0003"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("messages\n got %+v\nwant %+v", got, want)
	}
	var keys []string
	for _, s := range b.Statuses {
		keys = append(keys, s.DedupeKey())
	}
	if !reflect.DeepEqual(keys, []string{"wamid.OUT0001:delivered", "wamid.OUT0001:read"}) {
		t.Errorf("status keys %v", keys)
	}
	if len(b.Errors) != 1 || b.Errors[0].PhoneNumberID != "209876543210987" || b.Errors[0].Code != 131000 {
		t.Errorf("errors %+v", b.Errors)
	}
	if len(b.Other) != 1 || b.Other[0].Field != "account_update" || !strings.Contains(string(b.Other[0].Value), "VERIFIED_ACCOUNT") {
		t.Errorf("other %+v", b.Other)
	}
}

// malformed are bodies Parse must refuse with ErrMalformed; FuzzParse
// seeds from them too.
var malformed = []struct{ name, body string }{
	{"empty", ``},
	{"bad json", `{"object":"whatsapp_business_account","entry":[`},
	{"trailing garbage", `{"object":"whatsapp_business_account","entry":[]} x`},
	{"top-level array", `[]`},
	{"wrong object", `{"object":"page","entry":[]}`},
	{"missing object", `{"entry":[]}`},
	{"missing entry", `{"object":"whatsapp_business_account"}`},
	{"entry not array", `{"object":"whatsapp_business_account","entry":{}}`},
	{"change without field", `{"object":"whatsapp_business_account","entry":[{"id":"1","changes":[{"value":{}}]}]}`},
	{"missing phone_number_id", `{"object":"whatsapp_business_account","entry":[{"id":"1","changes":[{"field":"messages","value":{"metadata":{}}}]}]}`},
	{"value not object", `{"object":"whatsapp_business_account","entry":[{"id":"1","changes":[{"field":"messages","value":"x"}]}]}`},
	{"message missing id", msgBody(`{"from":"1","timestamp":"1","type":"text","text":{"body":"x"}}`)},
	{"message missing from", msgBody(`{"id":"wamid.1","timestamp":"1","type":"text","text":{"body":"x"}}`)},
	{"message missing timestamp", msgBody(`{"id":"wamid.1","from":"1","type":"text","text":{"body":"x"}}`)},
	{"message bad timestamp", msgBody(`{"id":"wamid.1","from":"1","timestamp":"yesterday","type":"text","text":{"body":"x"}}`)},
	{"message timestamp out of range", msgBody(`{"id":"wamid.1","from":"1","timestamp":"99999999999999","type":"text","text":{"body":"x"}}`)},
	{"message missing type", msgBody(`{"id":"wamid.1","from":"1","timestamp":"1"}`)},
	{"message not object", msgBody(`"hello"`)},
	{"location not numbers", msgBody(`{"id":"wamid.1","from":"1","timestamp":"1","type":"location","location":{"latitude":"north"}}`)},
	{"status missing id", statusBody(`{"status":"read","timestamp":"1","recipient_id":"1"}`)},
	{"status missing status", statusBody(`{"id":"wamid.1","timestamp":"1","recipient_id":"1"}`)},
	{"status missing timestamp", statusBody(`{"id":"wamid.1","status":"read","recipient_id":"1"}`)},
}

func msgBody(m string) string {
	return `{"object":"whatsapp_business_account","entry":[{"id":"1","changes":[{"field":"messages","value":{"metadata":{"phone_number_id":"42"},"messages":[` + m + `]}}]}]}`
}

func statusBody(s string) string {
	return `{"object":"whatsapp_business_account","entry":[{"id":"1","changes":[{"field":"messages","value":{"metadata":{"phone_number_id":"42"},"statuses":[` + s + `]}}]}]}`
}

func TestParseMalformed(t *testing.T) {
	for _, tt := range malformed {
		t.Run(tt.name, func(t *testing.T) {
			b, err := whatsapp.Parse([]byte(tt.body))
			if !errors.Is(err, whatsapp.ErrMalformed) {
				t.Fatalf("err = %v, want ErrMalformed", err)
			}
			if len(b.Messages)+len(b.Statuses)+len(b.Errors)+len(b.Other) != 0 {
				t.Errorf("got items with an error: %+v", b)
			}
		})
	}
}

func TestParseEdges(t *testing.T) {
	tests := []struct {
		name  string
		body  string
		check func(t *testing.T, b whatsapp.Batch)
	}{
		{"empty entry list", `{"object":"whatsapp_business_account","entry":[]}`, func(t *testing.T, b whatsapp.Batch) {
			if len(b.Messages)+len(b.Statuses)+len(b.Errors)+len(b.Other) != 0 {
				t.Errorf("got %+v", b)
			}
		}},
		{"numeric timestamp", msgBody(`{"id":"wamid.1","from":"1","timestamp":1749416383,"type":"text","text":{"body":"x"}}`), func(t *testing.T, b whatsapp.Batch) {
			if !b.Messages[0].Event.SentAt.Equal(time.Unix(1749416383, 0)) {
				t.Errorf("sent at %v", b.Messages[0].Event.SentAt)
			}
		}},
		{"known type without its object is kept as unknown", msgBody(`{"id":"wamid.1","from":"1","timestamp":"1","type":"image"}`), func(t *testing.T, b whatsapp.Batch) {
			ev := b.Messages[0].Event
			if ev.Kind != "unknown" || ev.Media != nil || !strings.Contains(string(ev.Details), `"type":"image"`) {
				t.Errorf("got %+v details %s", ev, ev.Details)
			}
		}},
		{"name matched by wa_id among several contacts", `{"object":"whatsapp_business_account","entry":[{"id":"1","changes":[{"field":"messages","value":{"metadata":{"phone_number_id":"42"},
			"contacts":[{"profile":{"name":"A"},"wa_id":"1"},{"profile":{"name":"B"},"wa_id":"2"}],
			"messages":[{"id":"wamid.2","from":"2","timestamp":"1","type":"text","text":{"body":"x"}}]}}]}]}`, func(t *testing.T, b whatsapp.Batch) {
			if b.Messages[0].Event.ProfileName != "B" {
				t.Errorf("profile %q", b.Messages[0].Event.ProfileName)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := whatsapp.Parse([]byte(tt.body))
			if err != nil {
				t.Fatal(err)
			}
			tt.check(t, b)
		})
	}
}

func FuzzParse(f *testing.F) {
	for _, body := range payloads(f) {
		f.Add(body)
	}
	for _, m := range malformed {
		f.Add([]byte(m.body))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		b, err := whatsapp.Parse(body)
		if err != nil {
			if !errors.Is(err, whatsapp.ErrMalformed) {
				t.Fatalf("error %v does not wrap ErrMalformed", err)
			}
			return
		}
		for _, m := range b.Messages {
			if m.DedupeKey() == "" || m.PhoneNumberID == "" || m.Event.ExternalUserID == "" || m.Event.Kind == "" {
				t.Fatalf("message without key or routing: %+v", m)
			}
		}
		for _, s := range b.Statuses {
			if s.DedupeKey() == "" || s.PhoneNumberID == "" {
				t.Fatalf("status without key or routing: %+v", s)
			}
		}
		for _, e := range b.Errors {
			if e.DedupeKey() == "" || e.PhoneNumberID == "" {
				t.Fatalf("error without key or routing: %+v", e)
			}
		}
		if _, err := json.Marshal(b); err != nil {
			t.Fatalf("batch does not encode: %v", err)
		}
	})
}
