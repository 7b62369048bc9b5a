package dashboard

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/gorilla/websocket"
	"github.com/rs/zerolog"

	"github.com/frontdesk-ai/frontdesk/persistence"
)

// Authenticator identifies the caller of a request, from its
// "Authorization: Bearer" header or its ?token= parameter; the gateway
// passes its token check. An error, or an empty tenant id, answers 401.
// The WebSocket and the long poll call it again with the same request every
// WSConfig.RecheckInterval while they are open, so it must answer the same
// for the same live session and fail once the session has ended (logged out,
// expired, its user disabled or deleted).
type Authenticator func(r *http.Request) (tenantID, userID string, err error)

// CloseSessionEnded is the close code of a WebSocket whose session ended
// (logout, expiry, user disabled or deleted) while it was open; its reason
// is "session ended". The client signs in again.
const CloseSessionEnded = 4401

// Default values of WSConfig.
const (
	DefaultPingInterval = 30 * time.Second
	DefaultPongWait     = 60 * time.Second
	DefaultWriteTimeout = 10 * time.Second
	DefaultWSReadLimit  = 4096
	// DefaultRecheckInterval is how often an open socket or long poll
	// re-checks its session.
	DefaultRecheckInterval = 5 * time.Second
)

// closeGrace is how long the handler waits for the client's answer to its
// close frame before it drops the connection.
const closeGrace = time.Second

// WSConfig tunes the WebSocket endpoint. Zero fields take their defaults.
type WSConfig struct {
	// PingInterval is the time between the server's pings (default 30s).
	PingInterval time.Duration
	// PongWait is how long the server waits for a pong (or any frame)
	// before it closes the connection (default 60s); it must exceed
	// PingInterval.
	PongWait time.Duration
	// WriteTimeout bounds the write of one frame (default 10s).
	WriteTimeout time.Duration
	// ReadLimit bounds the size of a client message (default 4096 bytes);
	// client messages are read and ignored.
	ReadLimit int64
	// AllowedOrigins lists the browser origins, written scheme://host[:port]
	// (e.g. https://support.example.com), that may open the socket besides
	// the same origin. A request without an Origin header (not a browser) is
	// allowed; a request whose Origin host equals its Host header (same
	// origin) is allowed; any other origin is refused with 403. Matching is
	// exact and case-insensitive; there are no wildcards.
	AllowedOrigins []string
	// RecheckInterval is how often an open connection re-checks its session
	// with the Authenticator (default 5s): once it fails, or names another
	// user, the socket closes with CloseSessionEnded.
	RecheckInterval time.Duration
	// Probes, when set, records how requests with ?probe= arrived, for
	// ProbeHandler to report.
	Probes *Probes
}

func (c WSConfig) withDefaults() WSConfig {
	if c.PingInterval <= 0 {
		c.PingInterval = DefaultPingInterval
	}
	if c.PongWait <= 0 {
		c.PongWait = DefaultPongWait
	}
	if c.WriteTimeout <= 0 {
		c.WriteTimeout = DefaultWriteTimeout
	}
	if c.ReadLimit <= 0 {
		c.ReadLimit = DefaultWSReadLimit
	}
	if c.RecheckInterval <= 0 {
		c.RecheckInterval = DefaultRecheckInterval
	}
	return c
}

// Validate reports a configuration that cannot work, after defaults.
func (c WSConfig) Validate() error {
	if c.PingInterval < 0 || c.PongWait < 0 || c.WriteTimeout < 0 || c.ReadLimit < 0 || c.RecheckInterval < 0 {
		return errors.New("websocket: ping interval, pong wait, write timeout, read limit and recheck interval must not be negative")
	}
	d := c.withDefaults()
	if d.PongWait <= d.PingInterval {
		return fmt.Errorf("websocket: pong wait %s must exceed ping interval %s", d.PongWait, d.PingInterval)
	}
	for _, o := range c.AllowedOrigins {
		if _, ok := normalOrigin(o); !ok {
			return fmt.Errorf("websocket: allowed origin %q is not scheme://host[:port]", o)
		}
	}
	return nil
}

// normalOrigin returns origin as lower-case scheme://host[:port].
func normalOrigin(origin string) (string, bool) {
	u, err := url.Parse(strings.TrimSuffix(origin, "/"))
	if err != nil || u.Scheme == "" || u.Host == "" || (u.Path != "" && u.Path != "/") {
		return "", false
	}
	return strings.ToLower(u.Scheme + "://" + u.Host), true
}

// Frame is one live event as the WebSocket sends it, one per text frame.
type Frame struct {
	ID             int64           `json:"id"`
	Type           string          `json:"type"`
	ConversationID string          `json:"conversation_id"`
	Data           json.RawMessage `json:"data"`
	Time           string          `json:"time"` // RFC 3339, UTC
}

// NewFrame returns the frame of e.
func NewFrame(e persistence.LiveEvent) Frame {
	data := e.Data
	if len(data) == 0 || !json.Valid(data) {
		data = json.RawMessage("null")
	}
	return Frame{ID: e.ID, Type: e.Type, ConversationID: e.ConversationID, Data: data, Time: e.CreatedAt.UTC().Format(time.RFC3339Nano)}
}

type wsHandler struct {
	hub      *Hub
	auth     Authenticator
	cfg      WSConfig
	log      zerolog.Logger
	origins  map[string]bool
	upgrader websocket.Upgrader
}

var _ http.Handler = (*wsHandler)(nil)

// WSHandler returns the GET /ws endpoint: a WebSocket of the live events of
// the caller's tenant, one JSON Frame per text frame. It answers 401 when
// auth fails, 400 for a last_event_id that is not a non-negative integer, 403
// for a foreign origin (see WSConfig.AllowedOrigins) and 503 when the hub
// cannot subscribe. With ?last_event_id=N it sends every event after N, then
// live ones; without it, live ones only. It pings every PingInterval, ends
// the connection when no pong arrives within PongWait, and closes with 1008
// "slow consumer" when the client falls behind (the client reconnects with
// its last id), 1001 when the hub stops, 1011 on a store failure and
// CloseSessionEnded (4401) within RecheckInterval after the caller's session
// ends. Zero
// fields of cfg take their defaults; call cfg.Validate first.
func WSHandler(hub *Hub, auth Authenticator, cfg WSConfig, log zerolog.Logger) http.Handler {
	h := &wsHandler{hub: hub, auth: auth, cfg: cfg.withDefaults(), log: log, origins: make(map[string]bool)}
	for _, o := range cfg.AllowedOrigins {
		if n, ok := normalOrigin(o); ok {
			h.origins[n] = true
		}
	}
	h.upgrader = websocket.Upgrader{
		HandshakeTimeout: h.cfg.WriteTimeout,
		CheckOrigin:      h.checkOrigin,
	}
	return h
}

// checkOrigin allows non-browser clients, the same origin and the
// configured origins.
func (h *wsHandler) checkOrigin(r *http.Request) bool {
	origin := r.Header.Get("Origin")
	if origin == "" {
		return true
	}
	u, err := url.Parse(origin)
	if err != nil {
		return false
	}
	if strings.EqualFold(u.Host, r.Host) {
		return true
	}
	n, ok := normalOrigin(origin)
	return ok && h.origins[n]
}

func (h *wsHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	tenantID, userID, err := h.auth(r)
	if err != nil || tenantID == "" {
		h.log.Debug().Err(err).Msg("websocket: unauthenticated")
		w.Header().Set("WWW-Authenticate", "Bearer")
		http.Error(w, "unauthorized", http.StatusUnauthorized)
		return
	}
	log := h.log.With().Str("tenant_id", tenantID).Str("user_id", userID).Logger()
	var lastID int64
	fromLatest := true
	if vs, ok := r.URL.Query()["last_event_id"]; ok {
		id, err := strconv.ParseInt(vs[0], 10, 64)
		if err != nil || id < 0 || len(vs) > 1 {
			http.Error(w, "last_event_id: want one non-negative integer", http.StatusBadRequest)
			return
		}
		lastID, fromLatest = id, false
	}
	if !h.checkOrigin(r) {
		http.Error(w, "origin not allowed", http.StatusForbidden)
		return
	}
	probe := r.URL.Query().Get("probe")
	if !websocket.IsWebSocketUpgrade(r) {
		// A browser always asks for the upgrade: a request without it
		// passed a proxy that stripped it. Say so, and where to go instead.
		h.cfg.Probes.record(tenantID, userID, probe, false)
		log.Info().Str("probe", probe).Str("connection", r.Header.Get("Connection")).Msg("websocket: request arrived without its upgrade; a proxy is not forwarding WebSockets")
		w.Header().Set("Upgrade", "websocket")
		w.Header().Set("Connection", "Upgrade")
		w.Header().Set("X-Frontdesk-Fallback", FallbackPath)
		writeError(w, http.StatusUpgradeRequired, "upgrade_blocked",
			"the WebSocket upgrade did not reach the server (a proxy between strips the Upgrade header); poll "+FallbackPath+" instead, or let the proxy forward WebSockets")
		return
	}
	h.cfg.Probes.record(tenantID, userID, probe, true)
	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	sub, err := h.hub.Subscribe(ctx, tenantID, lastID, fromLatest)
	if err != nil {
		if ctx.Err() == nil {
			log.Warn().Err(err).Msg("websocket: subscribe failed")
		}
		http.Error(w, "live events unavailable", http.StatusServiceUnavailable)
		return
	}
	defer sub.Close()
	conn, err := h.upgrader.Upgrade(w, r, nil)
	if err != nil {
		// The upgrader has answered the client.
		log.Debug().Err(err).Msg("websocket: upgrade failed")
		return
	}
	h.serve(conn, sub, sessionCheck(r, h.auth, tenantID, userID), log)
}

// sessionCheck returns a check that r's session still authenticates
// tenantID's userID.
func sessionCheck(r *http.Request, auth Authenticator, tenantID, userID string) func(ctx context.Context) bool {
	return func(ctx context.Context) bool {
		t, u, err := auth(r.WithContext(ctx))
		return err == nil && t == tenantID && u == userID
	}
}

// serve writes sub's events to conn until either ends. A goroutine reads
// the client's frames (answering pings and closes, extending the read
// deadline on pongs) and ends with the connection; serve waits for it.
func (h *wsHandler) serve(conn *websocket.Conn, sub *Subscription, alive func(context.Context) bool, log zerolog.Logger) {
	conn.SetReadLimit(h.cfg.ReadLimit)
	_ = conn.SetReadDeadline(time.Now().Add(h.cfg.PongWait))
	conn.SetPongHandler(func(string) error {
		return conn.SetReadDeadline(time.Now().Add(h.cfg.PongWait))
	})
	readDone := make(chan struct{})
	go func() {
		defer close(readDone)
		for {
			if _, _, err := conn.NextReader(); err != nil {
				return
			}
		}
	}()
	defer func() {
		conn.Close()
		<-readDone
	}()
	ping := time.NewTicker(h.cfg.PingInterval)
	defer ping.Stop()
	recheck := time.NewTicker(h.cfg.RecheckInterval)
	defer recheck.Stop()
	// closeWith sends a close frame and waits a moment for the client's.
	closeWith := func(code int, text string) {
		msg := websocket.FormatCloseMessage(code, text)
		if err := conn.WriteControl(websocket.CloseMessage, msg, time.Now().Add(h.cfg.WriteTimeout)); err == nil {
			grace := time.NewTimer(closeGrace)
			select {
			case <-readDone:
			case <-grace.C:
			}
			grace.Stop()
		}
	}
	for {
		select {
		case e := <-sub.Events():
			b, err := json.Marshal(NewFrame(e))
			if err != nil {
				log.Error().Err(err).Int64("event_id", e.ID).Msg("websocket: encode event")
				continue
			}
			_ = conn.SetWriteDeadline(time.Now().Add(h.cfg.WriteTimeout))
			if err := conn.WriteMessage(websocket.TextMessage, b); err != nil {
				log.Debug().Err(err).Msg("websocket: write failed")
				return
			}
		case <-ping.C:
			if err := conn.WriteControl(websocket.PingMessage, nil, time.Now().Add(h.cfg.WriteTimeout)); err != nil {
				log.Debug().Err(err).Msg("websocket: ping failed")
				return
			}
		case <-recheck.C:
			ctx, cancel := context.WithTimeout(context.Background(), h.cfg.WriteTimeout)
			ok := alive(ctx)
			cancel()
			if !ok {
				log.Info().Msg("websocket: session ended; closing")
				closeWith(CloseSessionEnded, "session ended")
				return
			}
		case <-sub.Done():
			code, text := closeCode(sub.Err())
			log.Debug().Err(sub.Err()).Int("code", code).Msg("websocket: subscription ended")
			closeWith(code, text)
			return
		case <-readDone:
			return
		}
	}
}

// closeCode returns the close frame for a subscription that ended with err.
func closeCode(err error) (int, string) {
	switch {
	case errors.Is(err, ErrSlowConsumer):
		return websocket.ClosePolicyViolation, "slow consumer"
	case errors.Is(err, ErrHubClosed):
		return websocket.CloseGoingAway, "server shutting down"
	case errors.Is(err, ErrClosed), errors.Is(err, context.Canceled):
		return websocket.CloseNormalClosure, ""
	default:
		return websocket.CloseInternalServerErr, "live events unavailable"
	}
}
