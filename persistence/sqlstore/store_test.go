package sqlstore_test

import (
	"testing"

	"github.com/frontdesk-ai/frontdesk/persistence/sqlstore"
	"github.com/frontdesk-ai/frontdesk/persistence/sqlstore/sqlstoretest"
	"github.com/frontdesk-ai/frontdesk/persistence/storetest"
)

// TestStore holds both dialects to the store conformance suite.
func TestStore(t *testing.T) {
	for _, d := range sqlstoretest.Dialects {
		t.Run(d, func(t *testing.T) {
			storetest.Run(t, func(t *testing.T) *sqlstore.Store { return sqlstoretest.Open(t, d) })
		})
	}
}
