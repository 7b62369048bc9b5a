package gateway

import (
	"cmp"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/frontdesk-ai/frontdesk/actors"
	"github.com/frontdesk-ai/frontdesk/channels"
	"github.com/frontdesk-ai/frontdesk/persistence"
)

// Customer 360: the dashboard's view of one customer. Agents find a
// customer by name, email, phone or a channel identity (or page through
// them all), read everything the tenant has with them on one timeline
// (conversations, orders, tickets and payments, newest first), open a
// ticket for them, and open a conversation with them. A conversation can
// only be opened in a thread the customer started: the new conversation
// reuses the thread of their latest one (its event-log key), so their next
// message lands in it, and it is assigned to the agent who opened it, so
// the AI stays quiet until the agent hands it back. Creating a ticket or a
// conversation is audited in the same transaction; opening a conversation
// is also published live as conversation.updated.

// Audit actions and error code of the customer routes.
const (
	// ActionTicketCreate audits a ticket an agent opened for a customer.
	ActionTicketCreate = "ticket.create"
	// ActionConversationOpen audits (and is the live Change of) a
	// conversation an agent opened with a customer.
	ActionConversationOpen = actors.ActionOpen
	// CodeNoChannel answers opening a conversation with a customer who
	// never wrote on any channel (or on the one asked for).
	CodeNoChannel = "no_channel"
)

// Limits of the customer routes; lengths are in characters.
const (
	maxCustomerQuery     = 200
	maxTicketSubject     = 200
	maxTicketDescription = 10000
	maxIdempotencyKey    = 200
	maxChannelName       = 64
	// timelinePerKind is how many of each kind of record a timeline shows.
	timelinePerKind = 50
)

// Kinds of timeline items.
const (
	timelineConversation = "conversation"
	timelineOrder        = "order"
	timelineTicket       = "ticket"
	timelinePayment      = "payment"
)

type customersPage struct {
	Customers  []customerJSON `json:"customers"`
	NextCursor string         `json:"next_cursor,omitempty"`
}

// listCustomers handles GET /api/v1/customers?query=&limit=&cursor=: the
// customers matching query (one page, up to limit), or with no query every
// customer, paged oldest first.
func (a *API) listCustomers(w http.ResponseWriter, r *http.Request, p Principal) error {
	page, err := pageOf(r)
	if err != nil {
		return err
	}
	ctx := r.Context()
	query := strings.TrimSpace(r.URL.Query().Get("query"))
	if utf8.RuneCountInString(query) > maxCustomerQuery {
		return errInvalid(fmt.Sprintf("query: at most %d characters", maxCustomerQuery))
	}
	var custs []persistence.Customer
	var next string
	if query != "" {
		if page.Cursor != "" {
			return errInvalid("cursor: a search answers one page; search again with a larger limit instead")
		}
		if custs, err = a.store.SearchCustomers(ctx, p.TenantID, query, page.Limit); err != nil {
			return fmt.Errorf("search customers: %w", err)
		}
	} else if custs, next, err = a.store.ListCustomers(ctx, p.TenantID, page); err != nil {
		return listError("list customers", err)
	}
	ids := make([]string, len(custs))
	for i, c := range custs {
		ids[i] = c.ID
	}
	idents, err := a.store.ListIdentitiesOfCustomers(ctx, p.TenantID, ids)
	if err != nil {
		return fmt.Errorf("list customers: identities: %w", err)
	}
	byCustomer := make(map[string][]persistence.CustomerIdentity, len(custs))
	for _, id := range idents {
		byCustomer[id.CustomerID] = append(byCustomer[id.CustomerID], id)
	}
	out := customersPage{Customers: make([]customerJSON, len(custs)), NextCursor: next}
	for i, c := range custs {
		out.Customers[i] = toCustomerJSON(c, byCustomer[c.ID])
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// timelineItem is what every item of a timeline has; the kinds add their
// own fields.
type timelineItem struct {
	Kind   string    `json:"kind"`
	ID     string    `json:"id"`
	At     time.Time `json:"at"`
	Title  string    `json:"title"`
	Status string    `json:"status"`
}

type conversationItem struct {
	timelineItem
	Channel string `json:"channel"`
	// Writer is "ai" or "user:<id>".
	Writer         string `json:"writer"`
	ConversationID string `json:"conversation_id"`
}

type orderItem struct {
	timelineItem
	Source     string `json:"source"`
	ExternalID string `json:"external_id"`
	Number     string `json:"number"`
	// TotalMinor is in minor units (the name total_cents predates
	// currencies without cents).
	TotalMinor int64  `json:"total_cents"`
	Currency   string `json:"currency"`
}

type ticketItem struct {
	timelineItem
	Priority       string `json:"priority"`
	Description    string `json:"description"`
	ConversationID string `json:"conversation_id"`
}

type paymentItem struct {
	timelineItem
	AmountCents    int64  `json:"amount_cents"`
	Currency       string `json:"currency"`
	Provider       string `json:"provider"`
	OrderID        string `json:"order_id"`
	ConversationID string `json:"conversation_id"`
}

type timelineJSON struct {
	Customer customerJSON `json:"customer"`
	// Items are conversationItem, orderItem, ticketItem and paymentItem
	// values, newest first.
	Items []any `json:"items"`
}

// timelineEntry is an item with the keys it is sorted by.
type timelineEntry struct {
	at   time.Time
	id   string
	item any
}

// customerTimeline handles GET /api/v1/customers/{id}/timeline: the
// customer and up to timelinePerKind of each of their conversations,
// orders, tickets and payment intents, merged newest first.
func (a *API) customerTimeline(w http.ResponseWriter, r *http.Request, p Principal) error {
	ctx := r.Context()
	c, err := a.store.GetCustomer(ctx, p.TenantID, r.PathValue("id"))
	if err != nil {
		return fmt.Errorf("customer timeline: %w", err)
	}
	idents, err := a.store.ListIdentitiesOfCustomer(ctx, p.TenantID, c.ID)
	if err != nil {
		return fmt.Errorf("customer timeline %s: identities: %w", c.ID, err)
	}
	convs, err := a.store.ListConversationsByCustomer(ctx, p.TenantID, c.ID, timelinePerKind)
	if err != nil {
		return fmt.Errorf("customer timeline %s: conversations: %w", c.ID, err)
	}
	orders, err := a.store.ListOrdersByCustomer(ctx, p.TenantID, c.ID, timelinePerKind)
	if err != nil {
		return fmt.Errorf("customer timeline %s: orders: %w", c.ID, err)
	}
	tickets, err := a.store.ListTicketsByCustomer(ctx, p.TenantID, c.ID, timelinePerKind)
	if err != nil {
		return fmt.Errorf("customer timeline %s: tickets: %w", c.ID, err)
	}
	pays, err := a.store.ListPaymentIntentsByCustomer(ctx, p.TenantID, c.ID, timelinePerKind)
	if err != nil {
		return fmt.Errorf("customer timeline %s: payment intents: %w", c.ID, err)
	}

	entries := make([]timelineEntry, 0, len(convs)+len(orders)+len(tickets)+len(pays))
	add := func(base timelineItem, item any) {
		entries = append(entries, timelineEntry{at: base.At, id: base.ID, item: item})
	}
	for _, cv := range convs {
		base := timelineItem{Kind: timelineConversation, ID: cv.ID, At: orTime(cv.LastMessageAt, cv.CreatedAt),
			Title: conversationTitle(cv.Channel), Status: string(cv.Status)}
		add(base, conversationItem{timelineItem: base, Channel: cv.Channel, Writer: cv.Writer(), ConversationID: cv.ID})
	}
	for _, o := range orders {
		// What the customer knows the order by; the shop's id, else ours.
		ref := cmp.Or(o.Number, o.ExternalID, o.ID)
		status := cmp.Or(o.FinancialStatus, o.Status)
		if o.Status == "cancelled" {
			status = o.Status
		}
		base := timelineItem{Kind: timelineOrder, ID: o.ID, At: orTime(o.PlacedAt, o.CreatedAt), Title: "Order #" + ref, Status: status}
		add(base, orderItem{timelineItem: base, Source: o.Source, ExternalID: o.ExternalID, Number: o.Number, TotalMinor: o.TotalMinor, Currency: o.Currency})
	}
	for _, t := range tickets {
		title := t.Subject
		if strings.TrimSpace(title) == "" {
			title = "Ticket"
		}
		base := timelineItem{Kind: timelineTicket, ID: t.ID, At: t.CreatedAt, Title: title, Status: string(t.Status)}
		add(base, ticketItem{timelineItem: base, Priority: string(t.Priority), Description: t.Description, ConversationID: t.ConversationID})
	}
	for _, pi := range pays {
		base := timelineItem{Kind: timelinePayment, ID: pi.ID, At: pi.CreatedAt,
			Title: paymentTitle(pi.Provider), Status: pi.Status}
		add(base, paymentItem{timelineItem: base, AmountCents: pi.AmountCents, Currency: pi.Currency, Provider: pi.Provider,
			OrderID: pi.OrderID, ConversationID: pi.ConversationID})
	}
	slices.SortStableFunc(entries, func(x, y timelineEntry) int {
		if n := y.at.Compare(x.at); n != 0 {
			return n
		}
		return strings.Compare(y.id, x.id)
	})
	out := timelineJSON{Customer: toCustomerJSON(c, idents), Items: make([]any, len(entries))}
	for i, e := range entries {
		out.Items[i] = e.item
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// orTime returns *t, or def when t is nil.
func orTime(t *time.Time, def time.Time) time.Time {
	if t != nil {
		return *t
	}
	return def
}

// conversationTitle names a conversation on channel: "WhatsApp
// conversation" for "whatsapp" (the channels package knows display names),
// "Conversation" when the channel is unknown.
func conversationTitle(channel string) string {
	if name := channels.DisplayName(channel); name != "" {
		return name + " conversation"
	}
	return "Conversation"
}

// paymentTitle names a payment by its provider. The amount is not in the
// title: it is a field of its own, and how many decimals it has depends on
// the currency, which the client formats.
func paymentTitle(provider string) string {
	if provider == "" {
		return "Payment"
	}
	return "Payment via " + provider
}

type ticketJSON struct {
	ID             string    `json:"id"`
	CustomerID     string    `json:"customer_id"`
	ConversationID string    `json:"conversation_id"`
	Subject        string    `json:"subject"`
	Description    string    `json:"description"`
	Priority       string    `json:"priority"`
	Status         string    `json:"status"`
	CreatedAt      time.Time `json:"created_at"`
}

func toTicketJSON(t persistence.Ticket) ticketJSON {
	return ticketJSON{ID: t.ID, CustomerID: t.CustomerID, ConversationID: t.ConversationID, Subject: t.Subject,
		Description: t.Description, Priority: string(t.Priority), Status: string(t.Status), CreatedAt: t.CreatedAt}
}

type createTicketRequest struct {
	Subject        string `json:"subject"`
	Description    string `json:"description"`
	Priority       string `json:"priority"`
	ConversationID string `json:"conversation_id"`
}

// createCustomerTicket handles POST /api/v1/customers/{id}/tickets. With an
// Idempotency-Key header, a repeat returns the ticket the first request
// created (200) and creates nothing.
func (a *API) createCustomerTicket(w http.ResponseWriter, r *http.Request, p Principal) error {
	var req createTicketRequest
	if err := decodeJSON(w, r, &req); err != nil {
		return err
	}
	subject := strings.TrimSpace(req.Subject)
	prio := persistence.TicketPriority(req.Priority)
	if prio == "" {
		prio = persistence.PriorityNormal
	}
	key := r.Header.Get("Idempotency-Key")
	// stored is the key as the tickets table holds it: apart from the keys
	// the AI's ticket tool uses.
	stored := ""
	if key != "" {
		stored = "dashboard:" + key
	}
	switch {
	case subject == "" || utf8.RuneCountInString(subject) > maxTicketSubject:
		return errInvalid(fmt.Sprintf("subject: 1 to %d characters", maxTicketSubject))
	case utf8.RuneCountInString(req.Description) > maxTicketDescription:
		return errInvalid(fmt.Sprintf("description: at most %d characters", maxTicketDescription))
	case !prio.Valid():
		return errInvalid("priority must be low, normal, high or urgent")
	case utf8.RuneCountInString(key) > maxIdempotencyKey:
		return errInvalid(fmt.Sprintf("Idempotency-Key: at most %d characters", maxIdempotencyKey))
	}
	ctx := r.Context()
	var tk persistence.Ticket
	created := false
	err := a.store.InTx(ctx, func(tx Tx) error {
		c, err := tx.GetCustomer(ctx, p.TenantID, r.PathValue("id"))
		if err != nil {
			return fmt.Errorf("customer: %w", err)
		}
		// repeat answers a key that a ticket already holds.
		repeat := func() (bool, error) {
			prev, err := tx.GetTicketByIdempotencyKey(ctx, p.TenantID, stored)
			if errors.Is(err, persistence.ErrNotFound) {
				return false, nil
			}
			if err != nil {
				return false, fmt.Errorf("ticket by idempotency key: %w", err)
			}
			if prev.CustomerID != c.ID {
				return false, &Error{Status: http.StatusConflict, Code: CodeDuplicate,
					Message: "Idempotency-Key was already used for a ticket of another customer"}
			}
			tk = prev
			return true, nil
		}
		if key != "" {
			if done, err := repeat(); done || err != nil {
				return err
			}
		}
		if req.ConversationID != "" {
			conv, err := tx.GetConversation(ctx, p.TenantID, req.ConversationID)
			if errors.Is(err, persistence.ErrNotFound) {
				return &Error{Status: http.StatusNotFound, Code: CodeNotFound, Message: "conversation_id: no such conversation", Err: err}
			}
			if err != nil {
				return fmt.Errorf("conversation %s: %w", req.ConversationID, err)
			}
			if conv.CustomerID != c.ID {
				return errInvalid("conversation_id: the conversation is another customer's")
			}
		}
		tk = persistence.Ticket{Base: persistence.Base{TenantID: p.TenantID}, CustomerID: c.ID, ConversationID: req.ConversationID,
			Subject: subject, Description: req.Description, Priority: prio, Status: persistence.TicketOpen, IdempotencyKey: stored}
		err = tx.Savepoint(ctx, func() error { return tx.CreateTicket(ctx, &tk) })
		if errors.Is(err, persistence.ErrDuplicate) && key != "" {
			// A concurrent request with the same key committed first.
			if done, rerr := repeat(); done || rerr != nil {
				return rerr
			}
		}
		if err != nil {
			return fmt.Errorf("create ticket: %w", err)
		}
		data := map[string]any{"customer_id": c.ID, "conversation_id": tk.ConversationID, "priority": tk.Priority}
		if err := audit(ctx, tx, p, ActionTicketCreate, "ticket", tk.ID, data); err != nil {
			return err
		}
		created = true
		return nil
	})
	if err != nil {
		return err
	}
	status := http.StatusOK
	if created {
		status = http.StatusCreated
		// The customer's grain serves open tickets to the AI's turns from
		// memory: it reloads them. The ticket is stored either way; a grain
		// that cannot be told now reloads on its next activation.
		if a.cfg.Grains != nil {
			if err := a.cfg.Grains.CustomerChanged(ctx, p.TenantID, tk.CustomerID, "tickets"); err != nil {
				a.log.Warn().Err(err).Str("ticket_id", tk.ID).Msg("customer grain not told of a new ticket")
			}
		}
	}
	writeJSON(w, status, toTicketJSON(tk))
	return nil
}

// errNoChannel answers opening a conversation with a customer who never
// wrote on channel (on any channel when it is empty).
func errNoChannel(channel string) *Error {
	msg := "this customer has never written on any channel, so there is no thread to open a conversation in; they have to write first"
	if channel != "" {
		msg = fmt.Sprintf("this customer has never written on %s, so there is no %s thread to open a conversation in; they have to write there first", channel, channel)
	}
	return &Error{Status: http.StatusConflict, Code: CodeNoChannel, Message: msg}
}

// openCustomerConversation handles POST /api/v1/customers/{id}/conversations
// {"channel"}: the customer's conversation that is not closed (on channel
// when given), 200; else a new one in the thread of their latest
// conversation (on channel when given), written by the caller, 201.
func (a *API) openCustomerConversation(w http.ResponseWriter, r *http.Request, p Principal) error {
	var body struct {
		Channel string `json:"channel"`
	}
	if err := decodeOptionalJSON(w, r, &body); err != nil {
		return err
	}
	channel := strings.TrimSpace(body.Channel)
	if utf8.RuneCountInString(channel) > maxChannelName {
		return errInvalid(fmt.Sprintf("channel: at most %d characters", maxChannelName))
	}
	ctx := r.Context()
	cust, err := a.store.GetCustomer(ctx, p.TenantID, r.PathValue("id"))
	if err != nil {
		return fmt.Errorf("customer: %w", err)
	}
	if open, err := a.store.GetOpenConversationOfCustomer(ctx, p.TenantID, cust.ID, channel); err == nil {
		writeJSON(w, http.StatusOK, toConversationJSON(open, cust))
		return nil
	} else if !errors.Is(err, persistence.ErrNotFound) {
		return fmt.Errorf("open conversation of customer %s: %w", cust.ID, err)
	}
	last, err := a.store.GetLatestConversationOfCustomer(ctx, p.TenantID, cust.ID, channel)
	if errors.Is(err, persistence.ErrNotFound) {
		return errNoChannel(channel)
	}
	if err != nil {
		return fmt.Errorf("latest conversation of customer %s: %w", cust.ID, err)
	}
	// The thread's grain opens it, or returns the one another agent opened
	// meanwhile: it is the single writer of its thread's conversations.
	res, err := a.command(r, p, actors.Command{Kind: actors.CommandOpen, Thread: last.ThreadKey, AfterConversationID: last.ID, Latest: &last})
	if err != nil {
		return err
	}
	conv, created := res.Conversation, res.Created
	status := http.StatusOK
	if created {
		a.cfg.notify(p.TenantID)
		status = http.StatusCreated
	}
	writeJSON(w, status, toConversationJSON(conv, cust))
	return nil
}
