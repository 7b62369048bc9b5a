package whatsapp

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/frontdesk-ai/frontdesk/events"
)

// Name is WhatsApp's channel name: events' Channel and the {channel} of
// /webhooks/{channel}.
const Name = "whatsapp"

// objectWABA is the "object" of every WhatsApp Business Account webhook.
const objectWABA = "whatsapp_business_account"

// fieldMessages is the change field that carries messages, statuses and errors.
const fieldMessages = "messages"

// ErrMalformed means a webhook body is not JSON, is not a WhatsApp Business
// Account webhook, or lacks a field needed to route or deduplicate an item.
// The gateway answers 400.
var ErrMalformed = errors.New("whatsapp: malformed webhook")

// Kinds of inbound messages, the values of events.MessageReceived.Kind. They
// are the Cloud API message types, except that every type this package does
// not model (and a known type without its payload object) becomes KindUnknown
// with the wire type in Details.Type and the whole message in Details.Raw.
const (
	KindText        = "text"
	KindAudio       = "audio"
	KindImage       = "image"
	KindVideo       = "video"
	KindDocument    = "document"
	KindSticker     = "sticker"
	KindLocation    = "location"
	KindContacts    = "contacts"
	KindInteractive = "interactive"
	KindButton      = "button"
	KindReaction    = "reaction"
	KindOrder       = "order"
	KindSystem      = "system"
	KindUnsupported = "unsupported"
	KindUnknown     = "unknown"
)

// Batch is everything one webhook POST carried, in payload order, across all
// entries and changes.
type Batch struct {
	// Messages are the inbound customer messages.
	Messages []Message `json:"messages,omitempty"`
	// Statuses are delivery reports for messages the business sent.
	Statuses []Status `json:"statuses,omitempty"`
	// Errors are value-level errors (asynchronous send or account problems).
	Errors []WebhookError `json:"errors,omitempty"`
	// Other are changes of fields other than "messages" (template or
	// account updates), kept unparsed.
	Other []Change `json:"other,omitempty"`
}

// Message is one inbound message with the routing data of its change.
type Message struct {
	// PhoneNumberID is the business phone number the message was sent to
	// (metadata.phone_number_id): the gateway's tenant routing key.
	PhoneNumberID string `json:"phone_number_id"`
	// WABAID is the WhatsApp Business Account id (entry.id).
	WABAID string `json:"waba_id,omitempty"`
	// Event is the normalized message; Event.Details holds a Details value.
	Event events.MessageReceived `json:"event"`
}

// DedupeKey returns the message's idempotency key: its wamid.
func (m Message) DedupeKey() string { return m.Event.ChannelMessageID }

// Status is one delivery report with the routing data of its change.
type Status struct {
	// PhoneNumberID is the business phone number that sent the message.
	PhoneNumberID string `json:"phone_number_id"`
	// WABAID is the WhatsApp Business Account id (entry.id).
	WABAID string `json:"waba_id,omitempty"`
	// Event is the normalized status; Event.Details holds a StatusDetails
	// value (every error, conversation, pricing) and Event.ClientKey the
	// biz_opaque_callback_data the sender set (frontdesk's message id).
	Event events.MessageStatus `json:"event"`
}

// DedupeKey returns the status's idempotency key: its wamid and status,
// since one message gets one report per status.
func (s Status) DedupeKey() string {
	if s.Event.ChannelMessageID == "" || s.Event.Status == "" {
		return ""
	}
	return s.Event.ChannelMessageID + ":" + s.Event.Status
}

// WebhookError is one entry of a change value's errors[], an error not tied
// to a single inbound message (for example an asynchronous 130429).
type WebhookError struct {
	PhoneNumberID string `json:"phone_number_id"`
	WABAID        string `json:"waba_id,omitempty"`
	Code          int    `json:"code"`
	Title         string `json:"title,omitempty"`
	Message       string `json:"message,omitempty"`
	// Details is error_data.details.
	Details string `json:"details,omitempty"`
	Href    string `json:"href,omitempty"`
}

// DedupeKey returns an idempotency key for the error. Value-level errors carry
// no id, so the key is derived from the number, the code and the texts: a
// redelivery yields the same key, and so does an identical repeat.
func (e WebhookError) DedupeKey() string {
	h := sha256.Sum256([]byte(e.Title + "\x00" + e.Message + "\x00" + e.Details + "\x00" + e.Href))
	return "error:" + e.PhoneNumberID + ":" + strconv.Itoa(e.Code) + ":" + hex.EncodeToString(h[:8])
}

// Change is a change of a field this package does not normalize.
type Change struct {
	WABAID string          `json:"waba_id,omitempty"`
	Field  string          `json:"field"`
	Value  json.RawMessage `json:"value,omitempty"`
}

// Details is the JSON this package puts in events.MessageReceived.Details.
// Only the fields of the message's kind, and the common extras (referral,
// forwarding, referred product), are set.
type Details struct {
	// Type is the wire type of a KindUnknown message.
	Type        string            `json:"type,omitempty"`
	Location    *Location         `json:"location,omitempty"`
	Contacts    json.RawMessage   `json:"contacts,omitempty"`
	Interactive *InteractiveReply `json:"interactive,omitempty"`
	Button      *ButtonReply      `json:"button,omitempty"`
	Reaction    *Reaction         `json:"reaction,omitempty"`
	Order       json.RawMessage   `json:"order,omitempty"`
	System      *System           `json:"system,omitempty"`
	// Animated is set for animated stickers.
	Animated bool `json:"animated,omitempty"`
	// UnsupportedType is unsupported.type, what the user actually sent.
	UnsupportedType string `json:"unsupported_type,omitempty"`
	// Errors are the message's errors[] (unsupported and unknown messages).
	Errors []ErrorInfo `json:"errors,omitempty"`
	// Referral is the click-to-WhatsApp ad referral, as sent.
	Referral            json.RawMessage `json:"referral,omitempty"`
	Forwarded           bool            `json:"forwarded,omitempty"`
	FrequentlyForwarded bool            `json:"frequently_forwarded,omitempty"`
	// ReferredProduct is context.referred_product, as sent.
	ReferredProduct json.RawMessage `json:"referred_product,omitempty"`
	// Raw is the whole wire message of a KindUnknown message.
	Raw json.RawMessage `json:"raw,omitempty"`
}

// Location is a shared location.
type Location struct {
	Latitude  float64 `json:"latitude"`
	Longitude float64 `json:"longitude"`
	Name      string  `json:"name,omitempty"`
	Address   string  `json:"address,omitempty"`
	URL       string  `json:"url,omitempty"`
}

// InteractiveReply is the user's answer to an interactive message: a
// button_reply or list_reply (ID, Title, Description) or a flow's nfm_reply
// (Name, Body, ResponseJSON).
type InteractiveReply struct {
	Type         string `json:"type"`
	ID           string `json:"id,omitempty"`
	Title        string `json:"title,omitempty"`
	Description  string `json:"description,omitempty"`
	Name         string `json:"name,omitempty"`
	Body         string `json:"body,omitempty"`
	ResponseJSON string `json:"response_json,omitempty"`
}

// ButtonReply is a tap on a template's quick-reply button.
type ButtonReply struct {
	Text    string `json:"text,omitempty"`
	Payload string `json:"payload,omitempty"`
}

// Reaction is an emoji reaction to a message; an empty Emoji removes it.
type Reaction struct {
	MessageID string `json:"message_id"`
	Emoji     string `json:"emoji,omitempty"`
}

// System is a system notice, such as a user changing number.
type System struct {
	Type     string `json:"type,omitempty"`
	Body     string `json:"body,omitempty"`
	NewWaID  string `json:"new_wa_id,omitempty"`
	WaID     string `json:"wa_id,omitempty"`
	Identity string `json:"identity,omitempty"`
	User     string `json:"user,omitempty"`
}

// ErrorInfo is one Cloud API error object of a webhook.
type ErrorInfo struct {
	Code    int    `json:"code"`
	Title   string `json:"title,omitempty"`
	Message string `json:"message,omitempty"`
	// Details is error_data.details, or the older top-level details.
	Details string `json:"details,omitempty"`
	Href    string `json:"href,omitempty"`
}

// StatusDetails is the JSON kept in Status.Details.
type StatusDetails struct {
	Errors                []ErrorInfo     `json:"errors,omitempty"`
	Conversation          json.RawMessage `json:"conversation,omitempty"`
	Pricing               json.RawMessage `json:"pricing,omitempty"`
	RecipientType         string          `json:"recipient_type,omitempty"`
	BizOpaqueCallbackData string          `json:"biz_opaque_callback_data,omitempty"`
}

type wireEnvelope struct {
	Object string          `json:"object"`
	Entry  json.RawMessage `json:"entry"`
}

type wireEntry struct {
	ID      string       `json:"id"`
	Changes []wireChange `json:"changes"`
}

type wireChange struct {
	Field string          `json:"field"`
	Value json.RawMessage `json:"value"`
}

type wireValue struct {
	Metadata struct {
		DisplayPhoneNumber string `json:"display_phone_number"`
		PhoneNumberID      string `json:"phone_number_id"`
	} `json:"metadata"`
	Contacts []struct {
		Profile struct {
			Name string `json:"name"`
		} `json:"profile"`
		WaID string `json:"wa_id"`
	} `json:"contacts"`
	Messages []json.RawMessage `json:"messages"`
	Statuses []wireStatus      `json:"statuses"`
	Errors   []wireError       `json:"errors"`
}

type wireError struct {
	Code      int    `json:"code"`
	Title     string `json:"title"`
	Message   string `json:"message"`
	Details   string `json:"details"`
	ErrorData struct {
		Details string `json:"details"`
	} `json:"error_data"`
	Href string `json:"href"`
}

func (w wireError) info() ErrorInfo {
	d := w.ErrorData.Details
	if d == "" {
		d = w.Details
	}
	return ErrorInfo{Code: w.Code, Title: w.Title, Message: w.Message, Details: d, Href: w.Href}
}

type wireStatus struct {
	ID                    string          `json:"id"`
	Status                string          `json:"status"`
	Timestamp             unixTime        `json:"timestamp"`
	RecipientID           string          `json:"recipient_id"`
	RecipientType         string          `json:"recipient_type"`
	BizOpaqueCallbackData string          `json:"biz_opaque_callback_data"`
	Conversation          json.RawMessage `json:"conversation"`
	Pricing               json.RawMessage `json:"pricing"`
	Errors                []wireError     `json:"errors"`
}

type wireMedia struct {
	ID       string `json:"id"`
	MimeType string `json:"mime_type"`
	SHA256   string `json:"sha256"`
	Caption  string `json:"caption"`
	Filename string `json:"filename"`
	URL      string `json:"url"`
	Voice    bool   `json:"voice"`
	Animated bool   `json:"animated"`
}

type wireMessage struct {
	From      string   `json:"from"`
	ID        string   `json:"id"`
	Timestamp unixTime `json:"timestamp"`
	Type      string   `json:"type"`
	Context   *struct {
		From                string          `json:"from"`
		ID                  string          `json:"id"`
		Forwarded           bool            `json:"forwarded"`
		FrequentlyForwarded bool            `json:"frequently_forwarded"`
		ReferredProduct     json.RawMessage `json:"referred_product"`
	} `json:"context"`
	Text *struct {
		Body string `json:"body"`
	} `json:"text"`
	Audio       *wireMedia      `json:"audio"`
	Image       *wireMedia      `json:"image"`
	Video       *wireMedia      `json:"video"`
	Document    *wireMedia      `json:"document"`
	Sticker     *wireMedia      `json:"sticker"`
	Location    *Location       `json:"location"`
	Contacts    json.RawMessage `json:"contacts"`
	Interactive *struct {
		Type        string `json:"type"`
		ButtonReply *struct {
			ID    string `json:"id"`
			Title string `json:"title"`
		} `json:"button_reply"`
		ListReply *struct {
			ID          string `json:"id"`
			Title       string `json:"title"`
			Description string `json:"description"`
		} `json:"list_reply"`
		NfmReply *struct {
			Name         string `json:"name"`
			Body         string `json:"body"`
			ResponseJSON string `json:"response_json"`
		} `json:"nfm_reply"`
	} `json:"interactive"`
	Button   *ButtonReply    `json:"button"`
	Reaction *Reaction       `json:"reaction"`
	Order    json.RawMessage `json:"order"`
	System   *System         `json:"system"`
	Referral json.RawMessage `json:"referral"`
	Errors   []wireError     `json:"errors"`
	// Unsupported is unsupported{type}.
	Unsupported *struct {
		Type string `json:"type"`
	} `json:"unsupported"`
}

// maxUnix is 9999-12-31T23:59:59Z, the last instant encoding/json can write.
const maxUnix = 253402300799

// unixTime is a Cloud API timestamp: unix seconds, sent as a string (a bare
// number is accepted too).
type unixTime struct {
	t   time.Time
	set bool
}

func (u *unixTime) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		return nil
	}
	s := string(b)
	if len(b) > 0 && b[0] == '"' {
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return fmt.Errorf("timestamp %q is not unix seconds", s)
	}
	if n <= 0 || n > maxUnix {
		return fmt.Errorf("timestamp %d out of range", n)
	}
	u.t, u.set = time.Unix(n, 0).UTC(), true
	return nil
}

// Parse decodes a webhook body and normalizes every message, status and
// value-level error of every entry and change into a Batch. Any body that is
// not a WhatsApp Business Account webhook, or whose messages or statuses lack
// an id, sender, status or timestamp, yields an error wrapping ErrMalformed;
// a message of a type this package does not model is kept as KindUnknown.
func Parse(body []byte) (Batch, error) {
	b, err := parse(body)
	if err != nil {
		return Batch{}, fmt.Errorf("%w: %s", ErrMalformed, err.Error())
	}
	return b, nil
}

func parse(body []byte) (Batch, error) {
	var env wireEnvelope
	if err := json.Unmarshal(body, &env); err != nil {
		return Batch{}, fmt.Errorf("decode body: %v", err)
	}
	if env.Object != objectWABA {
		return Batch{}, fmt.Errorf("object %q, want %q", env.Object, objectWABA)
	}
	if len(env.Entry) == 0 || string(env.Entry) == "null" {
		return Batch{}, errors.New("missing entry")
	}
	var entries []wireEntry
	if err := json.Unmarshal(env.Entry, &entries); err != nil {
		return Batch{}, fmt.Errorf("decode entry: %v", err)
	}
	var b Batch
	for i, e := range entries {
		for j, c := range e.Changes {
			at := fmt.Sprintf("entry[%d].changes[%d]", i, j)
			switch c.Field {
			case "":
				return Batch{}, fmt.Errorf("%s: missing field", at)
			case fieldMessages:
				if err := b.addValue(at+".value", e.ID, c.Value); err != nil {
					return Batch{}, err
				}
			default:
				b.Other = append(b.Other, Change{WABAID: e.ID, Field: c.Field, Value: compact(c.Value)})
			}
		}
	}
	return b, nil
}

func (b *Batch) addValue(at, wabaID string, raw json.RawMessage) error {
	var v wireValue
	if err := json.Unmarshal(raw, &v); err != nil {
		return fmt.Errorf("%s: %v", at, err)
	}
	pnid := v.Metadata.PhoneNumberID
	if pnid == "" {
		return fmt.Errorf("%s: missing metadata.phone_number_id", at)
	}
	names := make(map[string]string, len(v.Contacts))
	for _, c := range v.Contacts {
		names[c.WaID] = c.Profile.Name
	}
	for k, rm := range v.Messages {
		m, err := normalizeMessage(rm, names)
		if err != nil {
			return fmt.Errorf("%s.messages[%d]: %v", at, k, err)
		}
		m.Event.ChannelAccount = pnid
		if len(v.Contacts) == 1 && m.Event.ProfileName == "" {
			// One contact per value is the norm; wa_id and from may differ in
			// formatting, so a lone contact names the sender.
			m.Event.ProfileName = v.Contacts[0].Profile.Name
		}
		b.Messages = append(b.Messages, Message{PhoneNumberID: pnid, WABAID: wabaID, Event: m.Event})
	}
	for k, ws := range v.Statuses {
		s, err := normalizeStatus(ws)
		if err != nil {
			return fmt.Errorf("%s.statuses[%d]: %v", at, k, err)
		}
		s.PhoneNumberID, s.WABAID, s.Event.ChannelAccount = pnid, wabaID, pnid
		b.Statuses = append(b.Statuses, s)
	}
	for _, we := range v.Errors {
		info := we.info()
		b.Errors = append(b.Errors, WebhookError{
			PhoneNumberID: pnid, WABAID: wabaID, Code: info.Code, Title: info.Title,
			Message: info.Message, Details: info.Details, Href: info.Href,
		})
	}
	return nil
}

func normalizeStatus(ws wireStatus) (Status, error) {
	switch {
	case ws.ID == "":
		return Status{}, errors.New("missing id")
	case ws.Status == "":
		return Status{}, errors.New("missing status")
	case !ws.Timestamp.set:
		return Status{}, errors.New("missing timestamp")
	}
	ev := events.MessageStatus{
		Channel:          Name,
		ChannelMessageID: ws.ID,
		ExternalUserID:   ws.RecipientID,
		Status:           ws.Status,
		ClientKey:        ws.BizOpaqueCallbackData,
		At:               ws.Timestamp.t,
	}
	d := StatusDetails{
		Conversation:          compact(ws.Conversation),
		Pricing:               compact(ws.Pricing),
		RecipientType:         ws.RecipientType,
		BizOpaqueCallbackData: ws.BizOpaqueCallbackData,
	}
	for k, we := range ws.Errors {
		info := we.info()
		if k == 0 {
			ev.ErrorCode, ev.ErrorTitle = info.Code, info.Title
		}
		d.Errors = append(d.Errors, info)
	}
	details, err := marshalDetails(d)
	if err != nil {
		return Status{}, err
	}
	ev.Details = details
	return Status{Event: ev}, nil
}

func normalizeMessage(raw json.RawMessage, names map[string]string) (Message, error) {
	var w wireMessage
	if err := json.Unmarshal(raw, &w); err != nil {
		return Message{}, err
	}
	switch {
	case w.ID == "":
		return Message{}, errors.New("missing id")
	case w.From == "":
		return Message{}, errors.New("missing from")
	case !w.Timestamp.set:
		return Message{}, errors.New("missing timestamp")
	case w.Type == "":
		return Message{}, errors.New("missing type")
	}
	ev := events.MessageReceived{
		Channel:          Name,
		ExternalUserID:   w.From,
		ProfileName:      names[w.From],
		Phone:            phone(w.From),
		ChannelMessageID: w.ID,
		Kind:             w.Type,
		SentAt:           w.Timestamp.t,
	}
	var d Details
	if w.Context != nil {
		ev.ReplyTo = w.Context.ID
		d.Forwarded = w.Context.Forwarded
		d.FrequentlyForwarded = w.Context.FrequentlyForwarded
		d.ReferredProduct = compact(w.Context.ReferredProduct)
	}
	d.Referral = compact(w.Referral)
	for _, we := range w.Errors {
		d.Errors = append(d.Errors, we.info())
	}

	media := func(m *wireMedia) bool {
		if m == nil {
			return false
		}
		ev.Media = &events.Media{
			ID: m.ID, MimeType: m.MimeType, SHA256: m.SHA256, Caption: m.Caption,
			Filename: m.Filename, URL: m.URL, Voice: m.Voice,
		}
		ev.Text = m.Caption
		d.Animated = m.Animated
		return true
	}
	known := true
	switch w.Type {
	case KindText:
		if known = w.Text != nil; known {
			ev.Text = w.Text.Body
		}
	case KindAudio:
		known = media(w.Audio)
	case KindImage:
		known = media(w.Image)
	case KindVideo:
		known = media(w.Video)
	case KindDocument:
		known = media(w.Document)
	case KindSticker:
		known = media(w.Sticker)
	case KindLocation:
		d.Location = w.Location
		known = w.Location != nil
	case KindContacts:
		d.Contacts = compact(w.Contacts)
		known = d.Contacts != nil
	case KindInteractive:
		known = w.Interactive != nil
		if known {
			d.Interactive, ev.Text = interactive(w)
			if d.Interactive.Type == "button_reply" {
				ev.ButtonID = d.Interactive.ID
			}
		}
	case KindButton:
		if known = w.Button != nil; known {
			d.Button, ev.Text = w.Button, w.Button.Text
		}
	case KindReaction:
		if known = w.Reaction != nil; known {
			d.Reaction, ev.Text = w.Reaction, w.Reaction.Emoji
		}
	case KindOrder:
		d.Order = compact(w.Order)
		if known = d.Order != nil; known {
			var o struct {
				Text string `json:"text"`
			}
			_ = json.Unmarshal(w.Order, &o) // an object order without text keeps Text empty
			ev.Text = o.Text
		}
	case KindSystem:
		if known = w.System != nil; known {
			d.System, ev.Text = w.System, w.System.Body
		}
	case KindUnsupported:
		if w.Unsupported != nil {
			d.UnsupportedType = w.Unsupported.Type
		}
	case KindUnknown:
	default:
		known = false
	}
	if !known {
		ev.Kind, ev.Text, ev.Media = KindUnknown, "", nil
		d.Type = w.Type
		d.Raw = compact(raw)
	}
	details, err := marshalDetails(d)
	if err != nil {
		return Message{}, err
	}
	ev.Details = details
	return Message{Event: ev}, nil
}

func interactive(w wireMessage) (*InteractiveReply, string) {
	in := w.Interactive
	r := &InteractiveReply{Type: in.Type}
	switch {
	case in.ButtonReply != nil:
		r.ID, r.Title = in.ButtonReply.ID, in.ButtonReply.Title
		return r, r.Title
	case in.ListReply != nil:
		r.ID, r.Title, r.Description = in.ListReply.ID, in.ListReply.Title, in.ListReply.Description
		return r, r.Title
	case in.NfmReply != nil:
		r.Name, r.Body, r.ResponseJSON = in.NfmReply.Name, in.NfmReply.Body, in.NfmReply.ResponseJSON
		return r, r.Body
	}
	return r, ""
}

// phone returns the E.164 form (+ and digits) of a sender's WhatsApp id,
// which is their number in international digits; "" when waID is not
// digits (WhatsApp ids and numbers "may not always match").
func phone(waID string) string {
	digits := strings.TrimPrefix(waID, "+")
	if len(digits) < 6 || len(digits) > 15 {
		return ""
	}
	for _, r := range digits {
		if r < '0' || r > '9' {
			return ""
		}
	}
	return "+" + digits
}

// compact returns raw without insignificant space, or nil when raw is empty,
// null, or not valid JSON.
func compact(raw json.RawMessage) json.RawMessage {
	if len(raw) == 0 || string(raw) == "null" {
		return nil
	}
	var buf bytes.Buffer
	if err := json.Compact(&buf, raw); err != nil {
		return nil
	}
	return buf.Bytes()
}

// marshalDetails encodes v, or returns nil when it encodes to "{}".
func marshalDetails(v any) (json.RawMessage, error) {
	out, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("encode details: %v", err)
	}
	if string(out) == "{}" {
		return nil, nil
	}
	return out, nil
}
