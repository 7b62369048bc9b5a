package commerce

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"
)

// Refunds through the shops' APIs, executed exactly once: a request names
// itself with a Key (the confirmation id), the shop's refund carries the
// Key in its note or comment (Marker), and a shop client reads the order's
// refunds for the marker before it creates one, so a second Refund with
// the same Key, after a crash or a lost answer, finds the first refund
// instead of refunding again.

// RefundRequest asks a shop to give money back on an order.
type RefundRequest struct {
	// OrderExternalID is the shop's id of the order (Order.ExternalID).
	OrderExternalID string
	// AmountMinor is in minor units of Currency; 0 means what is still
	// refundable (with LineItems: what those lines are worth).
	AmountMinor int64
	// Currency is the order's; empty means the order's, whatever it is.
	Currency string
	// LineItems are optional: which lines and quantities go back.
	LineItems []RefundLine
	// Reason is the customer's reason, kept on the shop's refund.
	Reason string
	// Key names the request (the confirmation id): a second Refund with the
	// same Key returns the first refund instead of refunding again.
	Key string
}

// RefundLine is a line of the order to refund and how many of it.
type RefundLine struct {
	LineItemExternalID string
	Quantity           int
}

// RefundResult is what the shop did.
type RefundResult struct {
	// ExternalID is the shop's id of the refund (Shopify: the Refund's
	// legacy id; Magento: the credit memo's entity id).
	ExternalID  string
	AmountMinor int64
	Currency    string
	// Replayed means the refund was found by Key on the shop, not answered
	// by the create call: made by an earlier call, or by a try of this one
	// whose answer was lost.
	Replayed bool
}

// Refunder is a shop API that refunds.
type Refunder interface {
	Refund(ctx context.Context, r RefundRequest) (RefundResult, error)
}

// ErrRefused means the shop refused the refund (userErrors, validation):
// retrying will not help. Errors wrap it with the shop's message.
var ErrRefused = errors.New("commerce: refund refused")

// Refused returns an error wrapping ErrRefused.
func Refused(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrRefused}, args...)...)
}

// refundKey is what a Key may be: it goes into a shop's free text and is
// found there again, so it has no spaces or brackets. Confirmation ids are
// UUIDs.
var refundKey = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._:-]{0,99}$`)

// maxReason is how much of the reason a refund's note keeps, in runes.
const maxReason = 200

// Validate reports whether r can be sent to a shop; its errors wrap
// ErrMalformed.
func (r RefundRequest) Validate() error {
	switch {
	case strings.TrimSpace(r.OrderExternalID) == "":
		return Malformed("refund: no order")
	case !refundKey.MatchString(r.Key):
		return Malformed("refund: key %q is not 1 to 100 letters, digits, '.', '_', ':' or '-'", r.Key)
	case r.AmountMinor < 0:
		return Malformed("refund: negative amount %d", r.AmountMinor)
	case r.Currency != "" && len(strings.TrimSpace(r.Currency)) != 3:
		return Malformed("refund: currency %q", r.Currency)
	}
	seen := make(map[string]bool, len(r.LineItems))
	for _, l := range r.LineItems {
		switch {
		case strings.TrimSpace(l.LineItemExternalID) == "":
			return Malformed("refund: a line without an id")
		case l.Quantity < 1:
			return Malformed("refund: line %s quantity %d", l.LineItemExternalID, l.Quantity)
		case seen[l.LineItemExternalID]:
			return Malformed("refund: line %s given twice", l.LineItemExternalID)
		}
		seen[l.LineItemExternalID] = true
	}
	return nil
}

// Marker is the text a shop's refund carries to name its request:
// "[frontdesk confirmation <Key>]".
func (r RefundRequest) Marker() string { return "[frontdesk confirmation " + r.Key + "]" }

// Marks reports whether a refund's note or comment carries r's Marker.
func (r RefundRequest) Marks(note string) bool { return strings.Contains(note, r.Marker()) }

// Note is the note a shop's refund gets: the Marker first (a shop that
// shortens a long note keeps it), then the reason's first 200 runes.
func (r RefundRequest) Note() string {
	reason := strings.Join(strings.Fields(r.Reason), " ")
	if utf8.RuneCountInString(reason) > maxReason {
		reason = string([]rune(reason)[:maxReason]) + "…"
	}
	if reason == "" {
		return r.Marker()
	}
	return r.Marker() + " " + reason
}

// CheckCurrency refuses a request whose Currency is set and is not the
// order's (wrapping ErrMalformed).
func (r RefundRequest) CheckCurrency(order string) error {
	if r.Currency != "" && !strings.EqualFold(strings.TrimSpace(r.Currency), strings.TrimSpace(order)) {
		return Malformed("refund: currency %s, but the order is in %s", strings.ToUpper(r.Currency), strings.ToUpper(order))
	}
	return nil
}

// UnsureError is a create call whose outcome is unknown (a transport
// failure, a timeout, HTTP 5xx or 429): the shop may have refunded or not.
// It is tried again only by RetryUnsure, which reads the shop first.
type UnsureError struct {
	Err error
	// Wait is how long to wait before trying again (zero: Backoff).
	Wait time.Duration
}

func (e *UnsureError) Error() string { return "outcome unknown: " + e.Err.Error() }
func (e *UnsureError) Unwrap() error { return e.Err }

// RetryUnsure calls try, which reconciles with the shop and then creates
// at most once, until it fails with an error that is not an *UnsureError,
// trying again at most maxRetries times after the error's Wait, else
// Backoff. Failures of try's reads (already retried by the shop client)
// end it at once. sleep returns ctx's error when ctx ends first.
func RetryUnsure(ctx context.Context, maxRetries int, sleep func(context.Context, time.Duration) error, try func() error) error {
	for attempt := 0; ; attempt++ {
		err := try()
		var unsure *UnsureError
		if err == nil || !errors.As(err, &unsure) {
			return err
		}
		if attempt >= maxRetries {
			return fmt.Errorf("giving up after %d tries: %w", attempt+1, err)
		}
		wait := unsure.Wait
		if wait <= 0 {
			wait = Backoff(attempt)
		}
		if err := sleep(ctx, wait); err != nil {
			return err
		}
	}
}
