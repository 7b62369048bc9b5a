// Package actors owns frontdesk's virtual actors: the conversation grain (one
// per customer thread on a channel account, identity events.ThreadKey) and
// the customer grain (one per customer), and the dispatcher that feeds the
// inbound event log to conversation grains.
//
// Message protocol. The dispatcher sends grainpb.Deliver to a conversation
// grain and waits for grainpb.DeliverAck, which the grain sends only after the
// event's effect and the grain's checkpoint are committed in one store
// transaction. A grain never blocks on I/O in its receive loop: it runs one
// job at a time on a goroutine (jobs.go) and gets the result back as a
// message to itself; deliveries that arrive meanwhile wait in its queue, so
// one grain applies its events strictly in log order. Commands
// (grainpb.Command: takeover, replies, notes, hand-back, open, close; and
// the customer grain's context, changed, propose, resolve) run in the same
// job lane and are answered with grainpb.Reply. A conversation grain tells
// its customer grain grainpb.CustomerSeen after each new message, and asks
// it for the customer-wide context of a turn. Durable reminders reach a
// grain as grainpb.Remind. Nothing reads the store or calls a grain inside a
// store transaction. Each grain's state is the fold of its state events
// (threadState.apply, customerData.apply).
//
// Exactly-once effects: every grain write carries the checkpoint version
// (a stale activation's write fails with persistence.ErrVersionConflict and
// the grain reloads), the checkpoint records the last applied log position
// (a redelivered record is acknowledged as a duplicate), and inbound messages
// are unique on their channel message id.
package actors
