package llmrouter

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

// newServer starts a plain HTTP server for the internal tests, closed at
// cleanup, and returns its URL.
func newServer(t *testing.T, h http.HandlerFunc) string {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv.URL
}
