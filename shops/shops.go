// Package shops owns the connected shops at run time: their webhooks'
// signature checks and parsing by shop system (Shopify, Magento / Adobe
// Commerce), the consumer that applies shop events from the commerce topic
// to the store (orders, shop customers linked to chat customers by verified
// phone or email, merges and their undo), the backfill from the shops' APIs
// and the lookup of one order a customer names.
package shops

import (
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/frontdesk-ai/frontdesk/commerce"
	"github.com/frontdesk-ai/frontdesk/commerce/shopify"
	"github.com/frontdesk-ai/frontdesk/events"
)

// Shopify is the Shopify webhook: X-Shopify-Hmac-Sha256 with Secret, the
// X-Shopify-* headers, the REST resource as body.
type Shopify struct {
	Secret string
}

// Source is "shopify".
func (Shopify) Source() string { return commerce.SourceShopify }

// Ack is nil: Shopify reads only the status.
func (Shopify) Ack() []byte { return nil }

// Receive checks the signature, reads the headers and checks that the body
// parses for its topic.
func (s Shopify) Receive(h http.Header, body []byte) (events.ShopEvent, error) {
	if err := shopify.Verify(s.Secret, body, h.Get(shopify.HeaderHMAC)); err != nil {
		return events.ShopEvent{}, err
	}
	d, err := shopify.DeliveryFrom(h)
	if err != nil {
		return events.ShopEvent{}, err
	}
	ev := events.ShopEvent{Source: commerce.SourceShopify, Shop: strings.ToLower(d.ShopDomain), Topic: d.Topic,
		EventID: d.EventID, WebhookID: d.WebhookID, APIVersion: d.APIVersion, TriggeredAt: d.TriggeredAt, Body: body}
	if _, err := shopify.Parse(d.Topic, ev.Shop, body); err != nil {
		return ev, err
	}
	return ev, nil
}

// Parse normalizes a shop event as received, by its source.
func Parse(ev events.ShopEvent) (commerce.Event, error) {
	switch ev.Source {
	case commerce.SourceShopify:
		return shopify.Parse(ev.Topic, ev.Shop, ev.Body)
	case commerce.SourceMagento:
		return parseMagento(ev)
	}
	return commerce.Event{}, fmt.Errorf("%w: unknown shop system %q", commerce.ErrMalformed, ev.Source)
}

// errPermanent marks an event that can never be applied (it goes to the
// dead-letter topic).
var errPermanent = errors.New("shops: cannot apply")
