package whatsapptest_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/frontdesk-ai/frontdesk/channels/whatsapp/whatsapptest"
)

// TestGraphRefusesWhatGraphRefuses checks the fake answers malformed calls
// with Graph's error shape instead of accepting them.
func TestGraphRefusesWhatGraphRefuses(t *testing.T) {
	tests := []struct {
		name, method, path, token, body string
		status, code                    int
	}{
		{"no token", "POST", "/v21.0/1/messages", "", `{"messaging_product":"whatsapp","to":"1","type":"text","text":{"body":"x"}}`, 401, 190},
		{"wrong path", "POST", "/v21.0/1/media", "t", `{}`, 400, 100},
		{"get", "GET", "/v21.0/1/messages", "t", ``, 400, 100},
		{"not json", "POST", "/v21.0/1/messages", "t", `hello`, 400, 100},
		{"no messaging_product", "POST", "/v21.0/1/messages", "t", `{"to":"1","type":"text","text":{"body":"x"}}`, 400, 100},
		{"no recipient", "POST", "/v21.0/1/messages", "t", `{"messaging_product":"whatsapp","type":"text","text":{"body":"x"}}`, 400, 100},
		{"empty text", "POST", "/v21.0/1/messages", "t", `{"messaging_product":"whatsapp","to":"1","type":"text","text":{"body":""}}`, 400, 100},
		{"read without id", "POST", "/v21.0/1/messages", "t", `{"messaging_product":"whatsapp","status":"read"}`, 400, 100},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := whatsapptest.NewGraph(t)
			base := strings.TrimSuffix(g.BaseURL(), "/"+whatsapptest.Version)
			req, err := http.NewRequest(tt.method, base+tt.path, bytes.NewBufferString(tt.body))
			if err != nil {
				t.Fatal(err)
			}
			if tt.token != "" {
				req.Header.Set("Authorization", "Bearer "+tt.token)
			}
			resp, err := g.HTTPClient().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var e struct {
				Error struct {
					Code      int    `json:"code"`
					Type      string `json:"type"`
					FBTraceID string `json:"fbtrace_id"`
				} `json:"error"`
			}
			if err := json.NewDecoder(resp.Body).Decode(&e); err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != tt.status || e.Error.Code != tt.code || e.Error.Type != "OAuthException" || e.Error.FBTraceID == "" {
				t.Errorf("got %d %+v, want %d code %d", resp.StatusCode, e.Error, tt.status, tt.code)
			}
			if len(g.Requests()) != 1 || len(g.Sent()) != 0 {
				t.Errorf("recorded %d requests, sent %d", len(g.Requests()), len(g.Sent()))
			}
		})
	}
}

func TestGraphScript(t *testing.T) {
	g := whatsapptest.NewGraph(t)
	g.FailNext(2, whatsapptest.ServerError())
	body := `{"messaging_product":"whatsapp","to":"1","type":"text","text":{"body":"x"}}`
	statuses := func(n int) []int {
		var out []int
		for range n {
			req, _ := http.NewRequest("POST", g.BaseURL()+"/1/messages", strings.NewReader(body))
			req.Header.Set("Authorization", "Bearer t")
			resp, err := g.HTTPClient().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			out = append(out, resp.StatusCode)
		}
		return out
	}
	if got := statuses(3); got[0] != 500 || got[1] != 500 || got[2] != 200 {
		t.Errorf("fail next 2: got %v", got)
	}
	g.FailAlways(whatsapptest.ReEngagement())
	if got := statuses(2); got[0] != 400 || got[1] != 400 {
		t.Errorf("fail always: got %v", got)
	}
	g.Heal()
	if got := statuses(1); got[0] != 200 {
		t.Errorf("healed: got %v", got)
	}
	if len(g.Sent()) != 2 || len(g.Requests()) != 6 {
		t.Errorf("sent %d, requests %d", len(g.Sent()), len(g.Requests()))
	}
}
