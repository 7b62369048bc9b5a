// Package channels defines what a messaging channel (WhatsApp, Messenger, …)
// is to frontdesk, and runs the one outbound loop that serves them all.
//
// A channel is a value implementing Channel: its inbound side (Webhook:
// verify a webhook request, answer a verification handshake where the
// provider has one, parse a body into normalized Items) and its outbound
// side (Outbound: send text, reply buttons or media, mark read, show
// typing, and classify its own send errors). Each channel lives in a
// subpackage (channels/whatsapp) that owns its wire format, client, error
// classification and rate limits. A Set looks channels up by name; the
// gateway's one webhook handler (POST /webhooks/{channel}) and the Sender
// (the outbound topic's one consumer) take a Set, so no package outside
// channels/ branches on a channel's name.
//
// Concurrency: a Set is immutable once built. Channel implementations are
// safe for concurrent use. The Sender handles records of different keys
// (conversations) in parallel and the records of one key in order (see
// consume.Run). Its one lock guards the queue of send outcomes waiting to
// be written (recorder), never held during a write or a wait.
package channels

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/frontdesk-ai/frontdesk/events"
)

// Sentinel errors of the inbound side. The gateway maps ErrUnauthorized to
// 401, ErrForbidden to 403 and ErrMalformed to 400.
var (
	// ErrUnauthorized means a webhook request's signature is missing, wrong,
	// or cannot be checked (no secret configured): nothing of it is trusted.
	ErrUnauthorized = errors.New("channels: webhook not authenticated")
	// ErrForbidden means a verification handshake was refused (wrong verify
	// token or mode).
	ErrForbidden = errors.New("channels: verification refused")
	// ErrMalformed means a webhook body or handshake cannot be understood.
	ErrMalformed = errors.New("channels: malformed webhook")
)

// ErrOutcomeUnknown is wrapped by a Send error when the request may have
// reached the provider but no answer came (a timeout, a connection lost
// after the request was written): the message may have been delivered. The
// sender then waits for the provider's status report before sending again.
var ErrOutcomeUnknown = errors.New("channels: the send's outcome is unknown")

// Capabilities says what a channel can do beyond plain text.
type Capabilities struct {
	// ReadReceipts: MarkRead shows the customer their message was read.
	ReadReceipts bool
	// Typing: Typing shows the customer a typing indicator.
	Typing bool
	// Interactive: Send accepts reply Buttons.
	Interactive bool
	// Templates: Send accepts an approved Template.
	Templates bool
	// Media: Send accepts Media.
	Media bool
	// ReplyWindow is how long after the customer's last message a free-form
	// reply may be sent (WhatsApp and Messenger: 24 h); zero means no limit.
	ReplyWindow time.Duration
}

// Item is one normalized piece of a webhook: exactly one of Message, Status
// and Problem is set.
type Item struct {
	// Account is the channel account the item was addressed to (WhatsApp:
	// the phone_number_id): the key that routes it to a tenant.
	Account string
	// DedupeKey identifies the item across the provider's redeliveries; it
	// is unique per channel and item kind.
	DedupeKey string
	// Message is a customer's message.
	Message *events.MessageReceived
	// Status is a delivery report of a message frontdesk sent.
	Status *events.MessageStatus
	// Problem is an error the provider reported about the account, not tied
	// to one message; it is audited.
	Problem *Problem
}

// Kind returns "message", "status" or "error".
func (it Item) Kind() string {
	switch {
	case it.Message != nil:
		return "message"
	case it.Status != nil:
		return "status"
	}
	return "error"
}

// Problem is a provider-reported error to audit.
type Problem struct {
	Code  int
	Title string
	// Data is the channel's whole description of the error, as JSON.
	Data json.RawMessage
}

// Webhook is a channel's inbound side: what the gateway's webhook handler
// needs.
type Webhook interface {
	// Name is the channel's name: the {channel} of /webhooks/{channel} and
	// the Channel of its events.
	Name() string
	// Verify authenticates a webhook POST from its headers and raw body. Its
	// error wraps ErrUnauthorized.
	Verify(header http.Header, body []byte) error
	// Parse normalizes a verified body into items, in payload order. Its
	// error wraps ErrMalformed.
	Parse(body []byte) ([]Item, error)
}

// Handshaker is implemented by a Webhook whose provider verifies the
// endpoint with a GET request (Meta's hub.challenge).
type Handshaker interface {
	// Handshake answers the verification request's query with the body to
	// echo. Its error wraps ErrForbidden or ErrMalformed.
	Handshake(query url.Values) (string, error)
}

// Button is a reply button of an interactive message.
type Button struct {
	// ID comes back in the customer's reply; Title is shown.
	ID, Title string
}

// Outgoing is one message to send.
type Outgoing struct {
	// Account is the channel account that sends it (WhatsApp: phone_number_id).
	Account string
	// To is the customer's id on the channel (events' ExternalUserID).
	To string
	// Key is frontdesk's message id; channels that can (WhatsApp's
	// biz_opaque_callback_data) attach it so status reports carry it back
	// as events.MessageStatus.ClientKey.
	Key string
	// ReplyTo is the provider id of the message being answered, if any.
	ReplyTo string
	// Text is the body, or the caption of Media.
	Text string
	// Buttons makes the message interactive (Capabilities.Interactive).
	Buttons []Button
	// Template sends an approved template instead of Text
	// (Capabilities.Templates).
	Template *events.Template
	// Media is an attachment (Capabilities.Media), by provider media id or URL.
	Media *events.Media
}

// Outbound is a channel's sending side: what the Sender needs.
type Outbound interface {
	// Name is the channel's name, as in events' Channel.
	Name() string
	// Capabilities says what Send, MarkRead and Typing support.
	Capabilities() Capabilities
	// Send delivers m and returns the provider's id of the new message.
	// It waits for the channel's rate limits. An error that leaves open
	// whether the provider took the message wraps ErrOutcomeUnknown.
	Send(ctx context.Context, m Outgoing) (providerID string, err error)
	// MarkRead marks the customer's message providerID, received on
	// account, as read.
	MarkRead(ctx context.Context, account, providerID string) error
	// Typing shows customer to a typing indicator from account while a
	// reply to their message providerID is prepared.
	Typing(ctx context.Context, account, to, providerID string) error
	// Retry decides about err, the error of a Send, MarkRead or Typing
	// call: whether the same call may succeed later, and after how long
	// (attempt counts the retries so far, from 0). A false answer makes
	// the failure permanent.
	Retry(err error, attempt int) (wait time.Duration, ok bool)
}

// Channel is a whole channel: both sides.
type Channel interface {
	Webhook
	Outbound
}

// Reasoner is implemented by send errors that have a short description fit
// for the message row and the dashboard (WhatsApp: "131047 Re-engagement
// message"), shorter than their Error.
type Reasoner interface {
	Reason() string
}

// Reason returns the short description of err: the Reason of the first
// Reasoner in its chain, else err.Error().
func Reason(err error) string {
	var r Reasoner
	if errors.As(err, &r) {
		return r.Reason()
	}
	return err.Error()
}

// Set is the channels this process serves, by name. The zero Set and a nil
// *Set are empty.
type Set struct {
	byName map[string]Channel
}

// NewSet returns a Set of chans; names must be unique and not empty.
func NewSet(chans ...Channel) (*Set, error) {
	s := &Set{byName: make(map[string]Channel, len(chans))}
	for _, c := range chans {
		name := c.Name()
		if name == "" {
			return nil, errors.New("channels: a channel has no name")
		}
		if _, dup := s.byName[name]; dup {
			return nil, fmt.Errorf("channels: channel %q given twice", name)
		}
		s.byName[name] = c
	}
	return s, nil
}

// Get returns the channel named name.
func (s *Set) Get(name string) (Channel, bool) {
	if s == nil {
		return nil, false
	}
	c, ok := s.byName[name]
	return c, ok
}

// Names returns the channels' names, sorted.
func (s *Set) Names() []string {
	if s == nil {
		return nil
	}
	names := make([]string, 0, len(s.byName))
	for n := range s.byName {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// displayNames are the names people read, for the channels whose name is
// not simply capitalised. Conversations outlive a channel's configuration,
// so this does not depend on the Set.
var displayNames = map[string]string{
	"whatsapp":  "WhatsApp",
	"messenger": "Messenger",
	"instagram": "Instagram",
	"sms":       "SMS",
	"webchat":   "Web chat",
}

// DisplayName returns the name people read for channel name ("WhatsApp" for
// "whatsapp"): a known channel's own spelling, else name capitalised; ""
// for "".
func DisplayName(name string) string {
	if d, ok := displayNames[name]; ok {
		return d
	}
	r, size := utf8.DecodeRuneInString(name)
	if size == 0 {
		return ""
	}
	return string(unicode.ToUpper(r)) + name[size:]
}
