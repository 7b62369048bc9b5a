package llmrouter_test

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/frontdesk-ai/frontdesk/llmrouter"
	"github.com/frontdesk-ai/frontdesk/llmrouter/llmtest"
)

func newLlamaCpp(t *testing.T, srv *llmtest.Server) *llmrouter.LlamaCpp {
	t.Helper()
	b, err := llmrouter.NewLlamaCpp(llmrouter.LlamaCppConfig{OpenAIConfig: srv.OpenAIConfig()})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// paths returns the method and path of each request srv received.
func paths(srv *llmtest.Server) []string {
	var out []string
	for _, r := range srv.Requests() {
		out = append(out, r.Method+" "+r.Path)
	}
	return out
}

func TestLlamaCppRequestBody(t *testing.T) {
	srv := llmtest.NewServer(t, llmtest.Text("ok"), llmtest.Text("ok"))
	b := newLlamaCpp(t, srv)
	req := transcript() // names get_order as the tool choice
	req.ResponseFormat = &llmrouter.ResponseFormat{Schema: orderSchema}
	if _, err := b.Complete(context.Background(), req); err != nil {
		t.Fatal(err)
	}
	got := srv.Requests()[1].Body // after GET /health
	if !jsonEqual(t, got.ToolChoice, []byte(`"required"`)) {
		t.Errorf("tool_choice %s; llama-server reads only strings, want \"required\"", got.ToolChoice)
	}
	if names := got.ToolNames(); len(names) != 1 || names[0] != "get_order" {
		t.Errorf("tools %v, want only the named get_order", names)
	}
	if got.ParallelToolCalls == nil || !*got.ParallelToolCalls {
		t.Error("parallel_tool_calls not sent as true")
	}
	want := `{"type":"json_schema","json_schema":{"name":"response","schema":` + string(orderSchema) + `}}`
	if !jsonEqual(t, got.ResponseFormat, []byte(want)) {
		t.Errorf("response_format %s, want the nested form %s", got.ResponseFormat, want)
	}

	req.ToolChoice = llmrouter.ToolChoiceNone
	if _, err := b.Complete(context.Background(), req); err != nil {
		t.Fatal(err)
	}
	if got := srv.Requests()[2].Body; got.ParallelToolCalls != nil || len(got.Tools) != 2 {
		t.Errorf("with tool_choice none: parallel_tool_calls %v, %d tools; want absent and both tools", got.ParallelToolCalls, len(got.Tools))
	}
}

func TestLlamaCppReadiness(t *testing.T) {
	srv := llmtest.NewServer(t)
	srv.Loading()
	b := newLlamaCpp(t, srv)

	_, err := b.Complete(context.Background(), customerTurn("hi"))
	if !errors.Is(err, llmrouter.ErrBackendUnavailable) {
		t.Fatalf("err = %v while loading, want ErrBackendUnavailable", err)
	}
	if got := paths(srv); len(got) != 1 || got[0] != "GET /health" {
		t.Fatalf("requests %v while loading, want only GET /health", got)
	}

	srv.Loaded()
	srv.Script(llmtest.Text("one"), llmtest.Text("two"))
	for _, want := range []string{"one", "two"} {
		resp, err := b.Complete(context.Background(), customerTurn("hi"))
		if err != nil || resp.Message.Content != want || resp.Backend != "llamacpp" {
			t.Fatalf("Complete = %+v, %v", resp, err)
		}
	}
	want := []string{"GET /health", "GET /health", "POST /v1/chat/completions", "POST /v1/chat/completions"}
	if got := paths(srv); !slices.Equal(got, want) {
		t.Errorf("requests %v, want %v (health read until ready, then not)", got, want)
	}

	// A failed call makes it read readiness again.
	srv.Down()
	if _, err := b.Complete(context.Background(), customerTurn("hi")); !errors.Is(err, llmrouter.ErrBackendUnavailable) {
		t.Fatalf("err = %v, want ErrBackendUnavailable", err)
	}
	srv.Up()
	srv.Script(llmtest.Text("three"))
	if _, err := b.Complete(context.Background(), customerTurn("hi")); err != nil {
		t.Fatal(err)
	}
	got := paths(srv)
	if got[len(got)-2] != "GET /health" {
		t.Errorf("requests %v: want GET /health before the call after a failure", got)
	}
}
