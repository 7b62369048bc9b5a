package llmrouter

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
)

// egress is an http.RoundTripper that sends only requests to its hosts
// (scheme, host and port of the backends' base URLs) and refuses every other one,
// redirects included, with an error wrapping ErrEgressDenied: the router
// can reach no host that is not a configured backend.
type egress struct {
	hosts map[string]bool
	next  http.RoundTripper
}

var _ http.RoundTripper = (*egress)(nil)

// newEgress allows the hosts of baseURLs, which must parse, over next.
func newEgress(next http.RoundTripper, baseURLs ...string) (*egress, error) {
	e := &egress{hosts: map[string]bool{}, next: next}
	for _, raw := range baseURLs {
		u, err := url.Parse(raw)
		if err != nil {
			return nil, fmt.Errorf("egress: %w", err)
		}
		e.hosts[hostKey(u)] = true
	}
	return e, nil
}

// RoundTrip sends req when its host is allowed.
func (e *egress) RoundTrip(req *http.Request) (*http.Response, error) {
	if !e.hosts[hostKey(req.URL)] {
		if req.Body != nil {
			_ = req.Body.Close()
		}
		return nil, fmt.Errorf("%w: %s", ErrEgressDenied, req.URL.Host)
	}
	return e.next.RoundTrip(req)
}

// hostKey is u's scheme, host and port, lower case, with the scheme's
// default port made explicit.
func hostKey(u *url.URL) string {
	port := u.Port()
	if port == "" {
		switch u.Scheme {
		case "https":
			port = "443"
		default:
			port = "80"
		}
	}
	return strings.ToLower(u.Scheme + "://" + u.Hostname() + ":" + port)
}
