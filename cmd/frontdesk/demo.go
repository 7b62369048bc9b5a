package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/gorilla/websocket"

	"github.com/frontdesk-ai/frontdesk/channels/whatsapp"
)

// Demo mode (FRONTDESK_DEMO=1, set by `make run`) turns on a WhatsApp
// channel with these publicly known values, so a test message can be sent
// without a Meta account. Replies are shown live but not delivered anywhere.
const (
	demoAppSecret     = "frontdesk-demo-app-secret"
	demoVerifyToken   = "frontdesk-demo-verify-token"
	demoPhoneNumberID = "100000000000000"
	demoAdminEmail    = "admin@demo.local"
	demoAdminPassword = "frontdesk-demo-password"
)

// demoMessage implements `frontdesk demo-message`: it posts a signed
// WhatsApp text webhook to a running frontdesk and, with -watch, prints the
// live events that follow.
func demoMessage(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("demo-message", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", envOr(getenv, "FRONTDESK_HTTP_ADDR", ":8080"), "address of the running frontdesk (FRONTDESK_HTTP_ADDR)")
	secret := fs.String("app-secret", envOr(getenv, "FRONTDESK_WHATSAPP_APP_SECRET", demoAppSecret), "app secret that signs the webhook")
	pnid := fs.String("phone-number-id", envOr(getenv, "FRONTDESK_WHATSAPP_PHONE_NUMBER_ID", demoPhoneNumberID), "business phone number id the message is sent to")
	from := fs.String("from", "4915550001234", "the customer's WhatsApp id (phone number without +)")
	name := fs.String("name", "Ada Lovelace", "the customer's profile name")
	text := fs.String("text", "Hi! Where is my order?", "the message text")
	watch := fs.Duration("watch", 5*time.Second, "print live events (/ws) for this long; 0 to skip")
	email := fs.String("email", envOr(getenv, "FRONTDESK_ADMIN_EMAIL", demoAdminEmail), "user to watch /ws as")
	password := fs.String("password", envOr(getenv, "FRONTDESK_ADMIN_PASSWORD", demoAdminPassword), "that user's password")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	base := "http://" + dialAddr(*addr)
	var events func() []byte
	if *watch > 0 {
		var err error
		if events, err = watchEvents(ctx, base, *email, *password); err != nil {
			fmt.Fprintf(stderr, "frontdesk demo-message: watch: %v\n", err)
			return 1
		}
	}
	wamid := fmt.Sprintf("wamid.demo.%d", time.Now().UnixNano())
	body := whatsapp.TextWebhook(*pnid, *from, *name, wamid, *text, time.Now())
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+"/webhooks/whatsapp", bytes.NewReader(body))
	if err != nil {
		fmt.Fprintf(stderr, "frontdesk demo-message: %v\n", err)
		return 1
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(whatsapp.SignatureHeader, whatsapp.Sign(*secret, body))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		fmt.Fprintf(stderr, "frontdesk demo-message: post webhook: %v (is `frontdesk serve` running at %s?)\n", err, base)
		return 1
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		fmt.Fprintf(stderr, "frontdesk demo-message: webhook answered %s (is the WhatsApp channel on? `make run` starts demo mode)\n", resp.Status)
		return 1
	}
	fmt.Fprintf(stdout, "sent %q from +%s (%s) as %s\n", *text, *from, *name, wamid)
	if events == nil {
		return 0
	}
	select {
	case <-ctx.Done():
	case <-time.After(*watch):
	}
	_, _ = stdout.Write(events())
	return 0
}

// watchEvents logs in and collects /ws frames, one JSON line each.
func watchEvents(ctx context.Context, base, email, password string) (func() []byte, error) {
	b, _ := json.Marshal(map[string]string{"email": email, "password": password})
	resp, err := http.Post(base+"/api/v1/auth/login", "application/json", bytes.NewReader(b))
	if err != nil {
		return nil, fmt.Errorf("login: %w", err)
	}
	defer resp.Body.Close()
	var login struct{ Token string }
	if resp.StatusCode != http.StatusOK || json.NewDecoder(resp.Body).Decode(&login) != nil {
		return nil, fmt.Errorf("login as %s: %s", email, resp.Status)
	}
	ws := "ws" + strings.TrimPrefix(base, "http") + "/ws?" + url.Values{"token": {login.Token}}.Encode()
	conn, _, err := websocket.DefaultDialer.DialContext(ctx, ws, nil)
	if err != nil {
		return nil, fmt.Errorf("connect /ws: %w", err)
	}
	var out bytes.Buffer
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			_, msg, err := conn.ReadMessage()
			if err != nil {
				return
			}
			out.Write(msg)
			out.WriteByte('\n')
		}
	}()
	return func() []byte {
		conn.Close()
		<-done
		return out.Bytes()
	}, nil
}

func envOr(getenv func(string) string, key, def string) string {
	if v := getenv(key); v != "" {
		return v
	}
	return def
}

// dialAddr turns a listen address (":8080") into one to dial.
func dialAddr(addr string) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return addr
	}
	if host == "" || host == "0.0.0.0" || host == "::" {
		host = "127.0.0.1"
	}
	return net.JoinHostPort(host, port)
}
