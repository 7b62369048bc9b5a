// Package persistence owns frontdesk's durable data: the domain records every
// other package reads and writes (tenants, customers, conversations, messages,
// agents, commerce, knowledge, memory, follow-ups, audit), the sentinel errors
// that give storage failures a meaning, and the event log's record and
// envelope types.
//
// The implementations live in sub-packages: sqlstore (SQLite by default,
// PostgreSQL when a database URL is set) holds state and, in the embedded
// mode, the event log in the same database. Each implementation is held to
// the conformance suites in storetest and logtest.
package persistence
