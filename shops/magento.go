package shops

import (
	"crypto/rsa"
	"fmt"
	"net/http"
	"time"

	"github.com/frontdesk-ai/frontdesk/commerce"
	"github.com/frontdesk-ai/frontdesk/commerce/magento"
	"github.com/frontdesk-ai/frontdesk/events"
)

// Magento is the Magento / Adobe Commerce webhook of one shop (Shop, the
// host of its REST base URL): Adobe Commerce's
// x-adobe-commerce-webhook-signature checked with PublicKey, or the
// open-source async events' x-magento-signature with Secret.
type Magento struct {
	Shop      string
	Secret    string
	PublicKey *rsa.PublicKey
}

// Source is "magento".
func (Magento) Source() string { return commerce.SourceMagento }

// Ack is Adobe Commerce's success answer.
func (Magento) Ack() []byte { return []byte(`{"op":"success"}`) }

// Receive checks whichever signature the delivery carries (one that is
// configured), then checks that the body parses.
func (m Magento) Receive(h http.Header, body []byte) (events.ShopEvent, error) {
	ev := events.ShopEvent{Source: commerce.SourceMagento, Shop: m.Shop, Body: body}
	switch adobe := h.Get(magento.HeaderRSA); {
	case adobe != "" && m.PublicKey != nil:
		if err := magento.VerifyRSA(m.PublicKey, body, adobe); err != nil {
			return events.ShopEvent{}, err
		}
	case m.Secret != "":
		if err := magento.VerifyHMAC(m.Secret, body, h.Get(magento.HeaderHMAC)); err != nil {
			return events.ShopEvent{}, err
		}
	default:
		return events.ShopEvent{}, fmt.Errorf("magento webhook: no signature this server checks: %w", commerce.ErrSignature)
	}
	parsed, topic, err := magento.Parse(m.Shop, body)
	if err != nil {
		return ev, err
	}
	if topic == "" {
		// The async-events body names no event: its kind stands for it.
		topic = string(parsed.Kind)
	}
	ev.Topic = topic
	ev.TriggeredAt = time.Now().UTC()
	return ev, nil
}

func parseMagento(ev events.ShopEvent) (commerce.Event, error) {
	e, _, err := magento.Parse(ev.Shop, ev.Body)
	return e, err
}
