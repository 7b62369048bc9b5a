package dashboard

// Realtime without WebSocket. Some proxies do not forward the WebSocket
// upgrade: the browser's handshake then fails and the browser tells the page
// nothing about why. Two endpoints make that visible and keep the inbox
// current anyway:
//
//   - GET /ws/probe?probe=ID tells the client how its /ws request with
//     ?probe=ID arrived: with its upgrade ("ok"), without it ("blocked": a
//     proxy stripped the Upgrade header, and /ws answered 426), or not at all
//     ("unseen": refused before the server, or sent to another member).
//   - GET /ws/poll?after=ID returns the events after ID as the WebSocket
//     would have sent them (the same frames, the same ids), so a client that
//     polls it misses nothing and doubles nothing. With &wait=S it holds the
//     request up to S seconds until an event comes (a long poll), so events
//     arrive as they happen rather than at the next poll.

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"github.com/frontdesk-ai/frontdesk/persistence"
)

// Verdicts of a probe.
const (
	ProbeOK      = "ok"
	ProbeBlocked = "blocked"
	ProbeUnseen  = "unseen"
)

// FallbackPath is where a client that cannot keep a WebSocket polls.
const FallbackPath = "/ws/poll"

// probeTTL is how long a probe is remembered; probeLimit bounds how many.
const (
	probeTTL   = 5 * time.Minute
	probeLimit = 4096
)

type probeKey struct{ tenant, user, id string }

type probeResult struct {
	upgrade bool
	at      time.Time
}

// Probes remembers how recent /ws requests that carried ?probe= arrived,
// per tenant and user, for five minutes and at most 4096 of them (the
// oldest go first). It is safe for concurrent use; the zero value is not
// usable: call NewProbes.
type Probes struct {
	mu    sync.Mutex
	m     map[probeKey]probeResult
	order []probeKey
	now   func() time.Time
}

// NewProbes returns an empty probe register.
func NewProbes() *Probes {
	return &Probes{m: make(map[probeKey]probeResult), now: time.Now}
}

// validProbe reports whether id is a usable probe id: 1 to 64 letters,
// digits, '-' or '_'.
func validProbe(id string) bool {
	if id == "" || len(id) > 64 {
		return false
	}
	for _, c := range id {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

func (p *Probes) record(tenant, user, id string, upgrade bool) {
	if p == nil || !validProbe(id) {
		return
	}
	k := probeKey{tenant, user, id}
	p.mu.Lock()
	defer p.mu.Unlock()
	if _, ok := p.m[k]; !ok {
		p.order = append(p.order, k)
	}
	p.m[k] = probeResult{upgrade: upgrade, at: p.now()}
	for len(p.order) > probeLimit || (len(p.order) > 0 && p.now().Sub(p.m[p.order[0]].at) > probeTTL) {
		delete(p.m, p.order[0])
		p.order = p.order[1:]
	}
}

func (p *Probes) verdict(tenant, user, id string) string {
	p.mu.Lock()
	defer p.mu.Unlock()
	r, ok := p.m[probeKey{tenant, user, id}]
	switch {
	case !ok || p.now().Sub(r.at) > probeTTL:
		return ProbeUnseen
	case r.upgrade:
		return ProbeOK
	default:
		return ProbeBlocked
	}
}

// writeJSON writes v as a JSON response with status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// writeError writes the API's JSON error shape.
func writeError(w http.ResponseWriter, status int, code, message string) {
	writeJSON(w, status, map[string]any{"error": map[string]string{"code": code, "message": message}})
}

// authenticated runs auth and answers 401 when it fails.
func authenticated(w http.ResponseWriter, r *http.Request, auth Authenticator) (tenantID, userID string, ok bool) {
	tenantID, userID, err := auth(r)
	if err != nil || tenantID == "" {
		w.Header().Set("WWW-Authenticate", "Bearer")
		writeError(w, http.StatusUnauthorized, "unauthorized", "sign in first")
		return "", "", false
	}
	return tenantID, userID, true
}

// ProbeHandler returns GET /ws/probe?probe=ID: {"probe", "verdict" (ok,
// blocked or unseen), "fallback"} for the caller's own probe. 400 for a
// malformed id, 401 without a valid token.
func ProbeHandler(probes *Probes, auth Authenticator) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tenantID, userID, ok := authenticated(w, r, auth)
		if !ok {
			return
		}
		id := r.URL.Query().Get("probe")
		if !validProbe(id) {
			writeError(w, http.StatusBadRequest, "invalid", "probe: 1 to 64 letters, digits, '-' or '_'")
			return
		}
		writeJSON(w, http.StatusOK, map[string]string{"probe": id, "verdict": probes.verdict(tenantID, userID, id), "fallback": FallbackPath})
	})
}

// pollLimit bounds the events of one poll; MaxPollWait bounds a long poll.
const (
	pollLimit   = DefaultBackfillLimit
	MaxPollWait = 25 * time.Second
)

// PollHandler returns GET /ws/poll[?after=ID[&wait=S]]: {"events":
// [Frame…], "last_event_id", "more"}, the caller's tenant's events after
// ID, oldest first, at most 500 (more is true when others follow at once).
// With wait (seconds, at most MaxPollWait) and no event yet, it waits on the
// hub until one comes, the time is up or stop is closed (the server shuts
// down; nil never closes); while it waits it re-checks the session every
// DefaultRecheckInterval and answers 401 "session ended" once it fails. Without after it returns no
// events and the newest id, where a new client starts. 400 for an after or
// wait that is not a non-negative integer, 401 without a valid token, 503
// when the store fails.
func PollHandler(hub *Hub, auth Authenticator, stop <-chan struct{}, log zerolog.Logger) http.Handler {
	return pollHandler(hub, auth, stop, DefaultRecheckInterval, log)
}

// PollHandlerRecheck is PollHandler re-checking the session every recheck
// (DefaultRecheckInterval when 0) during a long poll.
func PollHandlerRecheck(hub *Hub, auth Authenticator, stop <-chan struct{}, recheck time.Duration, log zerolog.Logger) http.Handler {
	if recheck <= 0 {
		recheck = DefaultRecheckInterval
	}
	return pollHandler(hub, auth, stop, recheck, log)
}

func pollHandler(hub *Hub, auth Authenticator, stop <-chan struct{}, recheck time.Duration, log zerolog.Logger) http.Handler {
	source := hub.src
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tenantID, userID, ok := authenticated(w, r, auth)
		if !ok {
			return
		}
		out := struct {
			Events      []Frame `json:"events"`
			LastEventID int64   `json:"last_event_id"`
			More        bool    `json:"more"`
		}{Events: []Frame{}}
		s, resume := r.URL.Query()["after"]
		if !resume {
			latest, err := source.LatestLiveEventID(r.Context(), tenantID)
			if err != nil {
				log.Warn().Err(err).Str("tenant_id", tenantID).Msg("live poll: latest id")
				writeError(w, http.StatusServiceUnavailable, "unavailable", "live events unavailable")
				return
			}
			out.LastEventID = latest
			writeJSON(w, http.StatusOK, out)
			return
		}
		after, err := strconv.ParseInt(s[0], 10, 64)
		if err != nil || after < 0 || len(s) > 1 {
			writeError(w, http.StatusBadRequest, "invalid", "after: want one non-negative integer")
			return
		}
		var wait time.Duration
		if ws := r.URL.Query().Get("wait"); ws != "" {
			n, err := strconv.Atoi(ws)
			if err != nil || n < 0 {
				writeError(w, http.StatusBadRequest, "invalid", "wait: want a non-negative number of seconds")
				return
			}
			wait = min(time.Duration(n)*time.Second, MaxPollWait)
		}
		evs, err := source.LiveEventsAfter(r.Context(), tenantID, after, pollLimit)
		if err != nil {
			log.Warn().Err(err).Str("tenant_id", tenantID).Msg("live poll")
			writeError(w, http.StatusServiceUnavailable, "unavailable", "live events unavailable")
			return
		}
		if len(evs) == 0 && wait > 0 {
			var ended bool
			evs, ended = waitForEvents(r.Context(), hub, tenantID, after, wait, stop, recheck, sessionCheck(r, auth, tenantID, userID))
			if ended {
				w.Header().Set("WWW-Authenticate", "Bearer")
				writeError(w, http.StatusUnauthorized, "unauthorized", "session ended")
				return
			}
		}
		out.LastEventID, out.More = after, len(evs) == pollLimit
		for _, e := range evs {
			out.Events = append(out.Events, NewFrame(e))
			out.LastEventID = e.ID
		}
		writeJSON(w, http.StatusOK, out)
	})
}

// waitForEvents subscribes to tenantID's events after after and returns
// those that arrive within wait: the first, and any that are already there
// with it (up to pollLimit). None when the time is up, the client leaves,
// stop is closed or the hub cannot subscribe (the client simply polls
// again). Every recheck it asks alive whether the session still holds, and
// reports ended when it does not.
func waitForEvents(ctx context.Context, hub *Hub, tenantID string, after int64, wait time.Duration, stop <-chan struct{},
	recheck time.Duration, alive func(context.Context) bool) (evs []persistence.LiveEvent, ended bool) {
	ctx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	sub, err := hub.Subscribe(ctx, tenantID, after, false)
	if err != nil {
		return nil, false
	}
	defer sub.Close()
	tick := time.NewTicker(recheck)
	defer tick.Stop()
wait:
	for {
		select {
		case e := <-sub.Events():
			evs = append(evs, e)
			break wait
		case <-tick.C:
			if !alive(ctx) {
				return nil, ctx.Err() == nil
			}
		case <-sub.Done():
			return nil, false
		case <-stop: // nil never fires
			return nil, false
		}
	}
	for len(evs) < pollLimit {
		select {
		case e := <-sub.Events():
			evs = append(evs, e)
		default:
			return evs, false
		}
	}
	return evs, false
}
