package main

import (
	"context"
	"errors"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/frontdesk-ai/frontdesk/channels/whatsapp"
	"github.com/frontdesk-ai/frontdesk/channels/whatsapp/whatsapptest"
	"github.com/frontdesk-ai/frontdesk/llmrouter"
)

// The fakes are held to frontdesk's own clients: what frontdesk sends,
// they understand, and what they answer, frontdesk accepts.

func TestModelFakeAnswersFrontdesksOpenAIBackend(t *testing.T) {
	m := newModelFake(replyText)
	srv := httptest.NewServer(m)
	defer srv.Close()
	backend, err := llmrouter.NewOpenAI(llmrouter.OpenAIConfig{BaseURL: srv.URL + "/v1", Model: modelName})
	if err != nil {
		t.Fatal(err)
	}
	resp, err := backend.Complete(context.Background(), llmrouter.Request{
		Messages: []llmrouter.Message{{Role: llmrouter.RoleUser, Content: "where is my order?"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if resp.Message.Content != replyText || len(resp.Message.ToolCalls) != 0 || m.calls.Load() != 1 {
		t.Errorf("answer %+v after %d calls, want %q and no tool call after 1", resp.Message, m.calls.Load(), replyText)
	}
}

func TestGraphFakeRecordsRepliesAndDoubles(t *testing.T) {
	g := newGraphFake(phoneNumberID, accessToken)
	srv := httptest.NewServer(g)
	defer srv.Close()
	client, err := whatsapp.NewClient(whatsapp.Config{BaseURL: srv.URL + "/" + whatsapptest.Version})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := client.MarkRead(ctx, phoneNumberID, accessToken, "wamid.in.1"); err != nil {
		t.Fatal(err)
	}
	if _, err := client.SendTextKeyed(ctx, phoneNumberID, "wrong-token", "4915", "hi", "", "k0"); err == nil {
		t.Error("a wrong token was accepted")
	}
	start := time.Now()
	for _, key := range []string{"k1", "k2", "k1"} {
		if _, err := client.SendTextKeyed(ctx, phoneNumberID, accessToken, "4915", replyText, "", key); err != nil {
			t.Fatal(err)
		}
	}
	if got := g.replies("4915"); got != 3 {
		t.Errorf("replies = %d, want 3", got)
	}
	if at, err := g.waitReply(ctx, "4915", 3, time.Second); err != nil || at.Before(start) {
		t.Errorf("third reply at %v, %v", at, err)
	}
	if _, err := g.waitReply(ctx, "4915", 4, 10*time.Millisecond); !errors.Is(err, errNoReply) {
		t.Errorf("fourth reply: %v, want errNoReply", err)
	}
	if g.doubledKeys() != 1 || g.reads.Load() != 1 || g.refused.Load() != 1 {
		t.Errorf("doubled %d, reads %d, refused %d; want 1 each", g.doubledKeys(), g.reads.Load(), g.refused.Load())
	}
	g.reset()
	if g.replies("4915") != 0 || g.doubledKeys() != 0 {
		t.Error("reset kept what it should forget")
	}
}

func TestGraphFakeWakesAWaiter(t *testing.T) {
	g := newGraphFake(phoneNumberID, accessToken)
	srv := httptest.NewServer(g)
	defer srv.Close()
	client, err := whatsapp.NewClient(whatsapp.Config{BaseURL: srv.URL + "/" + whatsapptest.Version})
	if err != nil {
		t.Fatal(err)
	}
	got := make(chan error, 1)
	go func() {
		_, err := g.waitReply(context.Background(), "4916", 1, 10*time.Second)
		got <- err
	}()
	if _, err := client.SendText(context.Background(), phoneNumberID, accessToken, "4916", replyText, ""); err != nil {
		t.Fatal(err)
	}
	if err := <-got; err != nil {
		t.Fatal(err)
	}
}
