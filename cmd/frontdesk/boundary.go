package main

import (
	"github.com/frontdesk-ai/frontdesk/actors"
	"github.com/frontdesk-ai/frontdesk/channels"
	"github.com/frontdesk-ai/frontdesk/gateway"
	"github.com/frontdesk-ai/frontdesk/knowledge"
	"github.com/frontdesk-ai/frontdesk/payments"
	"github.com/frontdesk-ai/frontdesk/persistence/sqlstore"
	"github.com/frontdesk-ai/frontdesk/shops"
	"github.com/frontdesk-ai/frontdesk/tools"
)

// The store boundary: each consumer declares its own transaction interface
// and is handed sqlstore.For[ItsTx](store). These guards fail the build when
// the concrete transaction stops satisfying one of them (For would only
// panic at start-up).
var (
	_ actors.Tx  = (*sqlstore.Tx)(nil)
	_ tools.Tx   = (*sqlstore.Tx)(nil)
	_ gateway.Tx = (*sqlstore.Tx)(nil)

	_ gateway.WebhookTx = (*sqlstore.Tx)(nil)
	_ channels.SenderTx = (*sqlstore.Tx)(nil)
	_ shops.Tx          = (*sqlstore.Tx)(nil)
	_ payments.Tx       = (*sqlstore.Tx)(nil)
	_ knowledge.Tx      = (*sqlstore.Tx)(nil)

	_ knowledge.Store = sqlstore.Typed[knowledge.Tx]{}

	_ gateway.ShopStore = sqlstore.Typed[gateway.WebhookTx]{}
)
