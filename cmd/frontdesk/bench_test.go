package main

import (
	"context"
	"fmt"
	"net/http"
	"sort"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/frontdesk-ai/frontdesk/channels/whatsapp/whatsapptest"
	"github.com/frontdesk-ai/frontdesk/llmrouter/llmtest"
)

// BenchmarkTurnOverhead measures, through the whole serve process running
// in-process, the time from POST /webhooks/whatsapp to the reply's request
// at the (fake) Graph API, with a model that answers instantly: intake, log,
// dispatcher, grain, context bundle, model call, commit, outbound log,
// sender. Each iteration is one customer message, sent one after another.
func BenchmarkTurnOverhead(b *testing.B) {
	graph := whatsapptest.NewGraph(b)
	graph.AcceptTokens(pilotToken)
	llm := llmtest.NewServer(b)
	for range b.N + 1 {
		llm.Script(llmtest.Text("On its way!"))
	}
	addr := freeAddr(b)
	env := map[string]string{
		"FRONTDESK_DATA_DIR": b.TempDir(), "FRONTDESK_HTTP_ADDR": addr,
		"FRONTDESK_WHATSAPP_VERIFY_TOKEN": "v", "FRONTDESK_WHATSAPP_APP_SECRET": pilotSecret,
		"FRONTDESK_WHATSAPP_ACCESS_TOKEN": pilotToken, "FRONTDESK_WHATSAPP_PHONE_NUMBER_ID": pilotPNID,
		"FRONTDESK_GRAPH_API_URL": graph.BaseURL(), "FRONTDESK_LLM_BASE_URL": llm.BaseURL(), "FRONTDESK_LLM_MODEL": llmtest.Model,
	}
	cfg, err := parseConfig("serve", nil, envOf(env))
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- serve(ctx, cfg, zerolog.Nop()) }()
	defer func() { cancel(); <-done }()
	for deadline := time.Now().Add(60 * time.Second); ; {
		resp, err := http.Get("http://" + addr + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				break
			}
		}
		if time.Now().After(deadline) {
			b.Fatal("not ready")
		}
		time.Sleep(50 * time.Millisecond)
	}
	replies := func() int {
		n := 0
		for _, s := range graph.Sent() {
			if s.Text == "On its way!" {
				n++
			}
		}
		return n
	}
	lat := make([]time.Duration, b.N)
	now := time.Now()
	b.ResetTimer()
	for i := range b.N {
		body := whatsapptest.TextWebhook(pilotPNID, fmt.Sprintf("4916%08d", i), "Bench", fmt.Sprintf("wamid.turn.%d", i), "where is my order?", now)
		req, _ := whatsapptest.NewWebhookRequest(ctx, "http://"+addr+"/webhooks/whatsapp", pilotSecret, body)
		t0 := time.Now()
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		resp.Body.Close()
		for replies() <= i {
			if time.Since(t0) > 30*time.Second {
				b.Fatalf("no reply to message %d", i)
			}
			time.Sleep(200 * time.Microsecond)
		}
		lat[i] = time.Since(t0)
	}
	b.StopTimer()
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(lat[(len(lat)-1)*99/100].Microseconds())/1000, "p99-ms")
}
