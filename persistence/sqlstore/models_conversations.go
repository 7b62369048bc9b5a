package sqlstore

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/frontdesk-ai/frontdesk/persistence"
)

var conversations = table[persistence.Conversation]{
	name: "conversations",
	cols: []string{"customer_id", "channel", "channel_account", "thread_key", "status",
		"assigned_user_id", "agent_profile_id", "last_message_at", "closed_at"},
	fields: func(m *persistence.Conversation) []any {
		return []any{&m.CustomerID, &m.Channel, &m.ChannelAccount, &m.ThreadKey, &m.Status,
			&m.AssignedUserID, &m.AgentProfileID, &m.LastMessageAt, &m.ClosedAt}
	},
	check: func(m *persistence.Conversation) error {
		orDefault(&m.Status, persistence.ConversationOpen)
		return need(m.Status.Valid(), "status", m.Status)
	},
}

// CreateConversation stores a new conversation; an empty Status becomes
// persistence.ConversationOpen.
func (q q) CreateConversation(ctx context.Context, m *persistence.Conversation) error {
	return create(ctx, q, conversations, m)
}

// GetConversation returns the tenant's conversation id, or
// persistence.ErrNotFound.
func (q q) GetConversation(ctx context.Context, tenantID, id string) (persistence.Conversation, error) {
	return get(ctx, q, conversations, tenantID, id)
}

// GetOpenConversation returns the newest conversation of the tenant's
// thread threadKey that is not closed, or persistence.ErrNotFound.
func (q q) GetOpenConversation(ctx context.Context, tenantID, threadKey string) (persistence.Conversation, error) {
	return first(ctx, q, conversations, "tenant_id = ? AND thread_key = ? AND status <> ? ORDER BY created_at DESC, id DESC",
		tenantID, threadKey, string(persistence.ConversationClosed))
}

// UpdateConversation writes m if m.Version is still the stored version (else
// persistence.ErrVersionConflict) and bumps m's Version and UpdatedAt.
func (q q) UpdateConversation(ctx context.Context, m *persistence.Conversation) error {
	return update(ctx, q, conversations, m)
}

// ListConversations returns one page of the tenant's conversations, oldest
// first, only those with status unless it is empty, and the next cursor (""
// on the last page).
func (q q) ListConversations(ctx context.Context, tenantID string, status persistence.ConversationStatus, p persistence.Page) ([]persistence.Conversation, string, error) {
	if status == "" {
		return list(ctx, q, conversations, p, "tenant_id = ?", tenantID)
	}
	return list(ctx, q, conversations, p, "tenant_id = ? AND status = ?", tenantID, string(status))
}

var messages = table[persistence.Message]{
	name: "messages",
	cols: []string{"conversation_id", "direction", "channel", "channel_message_id", "sender",
		"kind", "text", "media_ref", "delivery_status", "error"},
	fields: func(m *persistence.Message) []any {
		return []any{&m.ConversationID, &m.Direction, &m.Channel, &m.ChannelMessageID, &m.Sender,
			&m.Kind, &m.Text, &m.MediaRef, &m.DeliveryStatus, &m.Error}
	},
	check: func(m *persistence.Message) error {
		if m.Direction == persistence.DirectionInbound {
			orDefault(&m.DeliveryStatus, persistence.DeliveryReceived)
		}
		orDefault(&m.DeliveryStatus, persistence.DeliveryPending)
		orDefault(&m.Kind, persistence.KindText)
		return errors.Join(need(m.Direction.Valid(), "direction", m.Direction),
			need(m.DeliveryStatus.Valid(), "delivery status", m.DeliveryStatus))
	},
}

// CreateMessage stores a new message. A ChannelMessageID the tenant already
// stored for the channel fails with persistence.ErrDuplicate (a redelivered inbound
// message). An empty DeliveryStatus becomes received (inbound) or pending
// (outbound); an empty Kind becomes text.
func (q q) CreateMessage(ctx context.Context, m *persistence.Message) error {
	return create(ctx, q, messages, m)
}

// GetMessage returns the tenant's message id, or persistence.ErrNotFound.
func (q q) GetMessage(ctx context.Context, tenantID, id string) (persistence.Message, error) {
	return get(ctx, q, messages, tenantID, id)
}

// GetMessageByChannelID returns the tenant's message with the provider's id
// channelMessageID on channel, or persistence.ErrNotFound.
func (q q) GetMessageByChannelID(ctx context.Context, tenantID, channel, channelMessageID string) (persistence.Message, error) {
	if channelMessageID == "" {
		return persistence.Message{}, fmt.Errorf("get messages: empty channel message id: %w", persistence.ErrNotFound)
	}
	return first(ctx, q, messages, "tenant_id = ? AND channel = ? AND channel_message_id = ? AND channel_message_id <> ''", tenantID, channel, channelMessageID)
}

// UpdateMessage writes m if m.Version is still the stored version (else
// persistence.ErrVersionConflict) and bumps m's Version and UpdatedAt.
func (q q) UpdateMessage(ctx context.Context, m *persistence.Message) error {
	return update(ctx, q, messages, m)
}

// ListMessages returns one page of the messages of the tenant's
// conversation conversationID, oldest first, and the next cursor ("" on the
// last page).
func (q q) ListMessages(ctx context.Context, tenantID, conversationID string, p persistence.Page) ([]persistence.Message, string, error) {
	return list(ctx, q, messages, p, "tenant_id = ? AND conversation_id = ?", tenantID, conversationID)
}

// RecentMessages returns the newest n messages of the tenant's conversation
// conversationID in chronological order; n is bounded like Page.Limit.
func (q q) RecentMessages(ctx context.Context, tenantID, conversationID string, n int) ([]persistence.Message, error) {
	out, err := all(ctx, q, messages, "WHERE tenant_id = ? AND conversation_id = ? ORDER BY created_at DESC, id DESC LIMIT ?",
		tenantID, conversationID, persistence.Page{Limit: n}.Size())
	slices.Reverse(out)
	return out, err
}

var notes = table[persistence.Note]{
	name: "conversation_notes",
	cols: []string{"conversation_id", "author_id", "text"},
	fields: func(m *persistence.Note) []any {
		return []any{&m.ConversationID, &m.AuthorID, &m.Text}
	},
	check: func(m *persistence.Note) error {
		return errors.Join(need(m.ConversationID != "", "conversation id", m.ConversationID),
			need(m.AuthorID != "", "author id", m.AuthorID), need(m.Text != "", "text", m.Text))
	},
}

// CreateNote stores a new private note; a note without conversation, author
// or text fails with persistence.ErrInvalid.
func (q q) CreateNote(ctx context.Context, m *persistence.Note) error {
	return create(ctx, q, notes, m)
}

// ListNotes returns one page of the private notes on the tenant's
// conversation conversationID, oldest first, and the next cursor ("" on
// the last page).
func (q q) ListNotes(ctx context.Context, tenantID, conversationID string, p persistence.Page) ([]persistence.Note, string, error) {
	return list(ctx, q, notes, p, "tenant_id = ? AND conversation_id = ?", tenantID, conversationID)
}
