package sqlstore

import (
	"strconv"
	"strings"
)

// dialect holds what differs between SQLite and PostgreSQL.
type dialect struct {
	name string
	// migrations is the folder of migrations/ with this dialect's files.
	migrations string
	// positional placeholders: PostgreSQL wants $1, $2; SQLite takes ?.
	dollar bool
}

var (
	sqliteDialect   = &dialect{name: "sqlite", migrations: "migrations/sqlite"}
	postgresDialect = &dialect{name: "postgres", migrations: "migrations/postgres", dollar: true}
)

// rebind rewrites the ? placeholders of query for the dialect. Queries are
// written with ? only; no query contains a literal question mark.
func (d *dialect) rebind(query string) string {
	if !d.dollar {
		return query
	}
	var b strings.Builder
	b.Grow(len(query) + 16)
	n := 0
	for i := 0; i < len(query); i++ {
		if query[i] == '?' {
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			continue
		}
		b.WriteByte(query[i])
	}
	return b.String()
}
