package service_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"
	"github.com/openai/openai-go/v3/shared"
	"github.com/rs/zerolog"

	"github.com/frontdesk-ai/frontdesk/llmrouter"
	"github.com/frontdesk-ai/frontdesk/llmrouter/llmtest"
	"github.com/frontdesk-ai/frontdesk/llmrouter/service"
)

// facadeClient starts the service over router (which also embeds) with the
// bearer key and returns the official OpenAI client pointed at it, and the
// service's URL.
func facadeClient(t *testing.T, router *llmrouter.Router, key string) (openai.Client, string) {
	t.Helper()
	svc, err := service.New(service.Config{APIKey: key, Models: []string{llmtest.Model}, DefaultTenantID: tenant},
		router, router, zerolog.New(io.Discard), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(svc)
	t.Cleanup(srv.Close)
	return openai.NewClient(option.WithBaseURL(srv.URL+"/v1/"), option.WithAPIKey(key),
		option.WithHTTPClient(srv.Client()), option.WithMaxRetries(0)), srv.URL
}

// TestOpenAIGoClient talks to the facade with github.com/openai/openai-go,
// unchanged, over the router of FRONTDESK_LLM_* (NewDefault) on the llmtest
// fake: chat, a tool call round trip, streaming text and tool calls with
// the accumulator, embeddings and models; and checks what the fake
// received.
func TestOpenAIGoClient(t *testing.T) {
	llm := llmtest.NewServer(t)
	llm.RequireAPIKey("upstream-key")
	router, err := llmrouter.NewDefault(llm.BaseURL(), llmtest.Model, "upstream-key", zerolog.New(io.Discard), nil)
	if err != nil {
		t.Fatal(err)
	}
	client, url := facadeClient(t, router, "router-key")
	ctx := context.Background()
	getOrder := openai.ChatCompletionFunctionTool(shared.FunctionDefinitionParam{
		Name: "get_order", Description: openai.String("One order by number."),
		Parameters: shared.FunctionParameters{"type": "object", "required": []string{"order_number"},
			"properties": map[string]any{"order_number": map[string]any{"type": "string"}}},
	})
	profile := openai.ChatCompletionFunctionTool(shared.FunctionDefinitionParam{Name: "get_customer_profile",
		Parameters: shared.FunctionParameters{"type": "object"}})
	// received returns the requests the fake got since before, checking
	// each carried the upstream key.
	received := func(t *testing.T, before int) []llmtest.Request {
		t.Helper()
		reqs := llm.Requests()[before:]
		for _, r := range reqs {
			if r.Header.Get("Authorization") != "Bearer upstream-key" {
				t.Fatalf("the fake got %s %s with %q", r.Method, r.Path, r.Header.Get("Authorization"))
			}
		}
		return reqs
	}

	t.Run("chat", func(t *testing.T) {
		before := len(llm.Requests())
		llm.Script(llmtest.Text("Your order shipped yesterday.").WithUsage(12, 6))
		c, err := client.Chat.Completions.New(ctx, openai.ChatCompletionNewParams{
			Model:       "gpt-4o-mini",
			Messages:    []openai.ChatCompletionMessageParamUnion{openai.SystemMessage("Be brief."), openai.UserMessage("Where is my order?")},
			Temperature: openai.Float(0.2),
		})
		if err != nil {
			t.Fatal(err)
		}
		if c.Object != "chat.completion" || c.Model != "gpt-4o-mini" || len(c.Choices) != 1 ||
			c.Choices[0].Message.Content != "Your order shipped yesterday." || c.Choices[0].FinishReason != "stop" ||
			c.Usage.PromptTokens != 12 || c.Usage.CompletionTokens != 6 || c.Usage.TotalTokens != 18 {
			t.Fatalf("completion %s", c.RawJSON())
		}
		reqs := received(t, before)
		if len(reqs) != 1 {
			t.Fatalf("the fake got %d requests", len(reqs))
		}
		b := reqs[0].Body
		if len(b.Messages) != 2 || b.Messages[0].Role != "system" || b.Messages[0].Text() != "Be brief." ||
			b.Messages[1].Role != "user" || b.Messages[1].Text() != "Where is my order?" ||
			b.Temperature == nil || *b.Temperature != 0.2 || b.Model != llmtest.Model {
			t.Fatalf("the fake got %s", reqs[0].Raw)
		}
	})

	t.Run("tool call round trip", func(t *testing.T) {
		before := len(llm.Requests())
		llm.Script(llmtest.ToolCalls(llmtest.Call{ID: "call_42", Name: "get_order", Arguments: `{"order_number":"#1001"}`}).WithUsage(40, 8),
			llmtest.Text("It shipped yesterday."))
		params := openai.ChatCompletionNewParams{
			Model:    "gpt-4o-mini",
			Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("Where is order #1001?")},
			Tools:    []openai.ChatCompletionToolUnionParam{getOrder},
		}
		first, err := client.Chat.Completions.New(ctx, params)
		if err != nil {
			t.Fatal(err)
		}
		msg := first.Choices[0].Message
		if first.Choices[0].FinishReason != "tool_calls" || len(msg.ToolCalls) != 1 || msg.ToolCalls[0].ID != "call_42" ||
			msg.ToolCalls[0].Type != "function" || msg.ToolCalls[0].Function.Name != "get_order" ||
			msg.ToolCalls[0].Function.Arguments != `{"order_number":"#1001"}` {
			t.Fatalf("first answer %s", first.RawJSON())
		}
		var args struct {
			OrderNumber string `json:"order_number"`
		}
		if err := json.Unmarshal([]byte(msg.ToolCalls[0].Function.Arguments), &args); err != nil || args.OrderNumber != "#1001" {
			t.Fatalf("arguments %q: %v", msg.ToolCalls[0].Function.Arguments, err)
		}
		params.Messages = append(params.Messages, msg.ToParam(), openai.ToolMessage(`{"status":"shipped"}`, msg.ToolCalls[0].ID))
		second, err := client.Chat.Completions.New(ctx, params)
		if err != nil {
			t.Fatal(err)
		}
		if second.Choices[0].Message.Content != "It shipped yesterday." {
			t.Fatalf("second answer %s", second.RawJSON())
		}
		reqs := received(t, before)
		if len(reqs) != 2 {
			t.Fatalf("the fake got %d requests", len(reqs))
		}
		if tools := reqs[0].Body.Tools; len(tools) != 1 || tools[0].Function.Name != "get_order" ||
			!jsonHas(tools[0].Function.Parameters, "required", []any{"order_number"}) {
			t.Fatalf("tools sent %s", reqs[0].Raw)
		}
		// The fake refuses a tool result that answers no call; check the
		// transcript too.
		m := reqs[1].Body.Messages
		if len(m) != 3 || m[1].Role != "assistant" || len(m[1].ToolCalls) != 1 || m[1].ToolCalls[0].ID != "call_42" ||
			m[1].ToolCalls[0].Function.Name != "get_order" || m[1].ToolCalls[0].Function.Arguments != `{"order_number":"#1001"}` ||
			m[2].Role != "tool" || m[2].ToolCallID != "call_42" || m[2].Text() != `{"status":"shipped"}` {
			t.Fatalf("second request %s", reqs[1].Raw)
		}
	})

	// stream runs a streaming completion through the accumulator and
	// returns it, the finished tool calls and the tool-call pieces seen.
	stream := func(t *testing.T, tools ...openai.ChatCompletionToolUnionParam) (openai.ChatCompletionAccumulator, []openai.FinishedChatCompletionToolCall, int, int) {
		t.Helper()
		s := client.Chat.Completions.NewStreaming(ctx, openai.ChatCompletionNewParams{
			Model:         "gpt-4o-mini",
			Messages:      []openai.ChatCompletionMessageParamUnion{openai.UserMessage("Where is order #1001?")},
			Tools:         tools,
			StreamOptions: openai.ChatCompletionStreamOptionsParam{IncludeUsage: openai.Bool(true)},
		})
		defer s.Close()
		var acc openai.ChatCompletionAccumulator
		var finished []openai.FinishedChatCompletionToolCall
		pieces, chunks := 0, 0
		for s.Next() {
			chunk := s.Current()
			chunks++
			if !acc.AddChunk(chunk) {
				t.Fatalf("the accumulator refused chunk %s", chunk.RawJSON())
			}
			if tc, ok := acc.JustFinishedToolCall(); ok {
				finished = append(finished, tc)
			}
			for _, ch := range chunk.Choices {
				pieces += len(ch.Delta.ToolCalls)
			}
		}
		if err := s.Err(); err != nil {
			t.Fatal(err)
		}
		return acc, finished, pieces, chunks
	}

	t.Run("streaming text", func(t *testing.T) {
		before := len(llm.Requests())
		llm.Script(llmtest.Text("Your order #1001 shipped yesterday, María.").WithUsage(20, 9))
		acc, _, _, chunks := stream(t)
		if len(acc.Choices) != 1 || acc.Choices[0].Message.Content != "Your order #1001 shipped yesterday, María." ||
			acc.Choices[0].FinishReason != "stop" || acc.Usage.TotalTokens != 29 || acc.Model != "gpt-4o-mini" {
			t.Fatalf("accumulated %+v usage %+v", acc.Choices, acc.Usage)
		}
		if chunks < 4 {
			t.Errorf("%d chunks; want the text in pieces", chunks)
		}
		reqs := received(t, before)
		if len(reqs) != 1 || !reqs[0].Body.Stream || reqs[0].Body.StreamOptions == nil || !reqs[0].Body.StreamOptions.IncludeUsage {
			t.Fatalf("the fake got %v; want one streaming request with usage", reqs)
		}
	})

	t.Run("streaming tool calls", func(t *testing.T) {
		before := len(llm.Requests())
		llm.Script(llmtest.ToolCalls(
			llmtest.Call{ID: "call_p", Name: "get_customer_profile", Arguments: `{}`},
			llmtest.Call{ID: "call_o", Name: "get_order", Arguments: `{"order_number":"#1001","include":["items","tracking"]}`},
		).WithUsage(30, 12))
		acc, finished, pieces, _ := stream(t, getOrder, profile)
		want := []struct{ id, name, args string }{
			{"call_p", "get_customer_profile", `{}`},
			{"call_o", "get_order", `{"order_number":"#1001","include":["items","tracking"]}`},
		}
		calls := acc.Choices[0].Message.ToolCalls
		if len(calls) != len(want) || acc.Choices[0].FinishReason != "tool_calls" || acc.Usage.PromptTokens != 30 || acc.Usage.TotalTokens != 42 {
			t.Fatalf("accumulated %+v usage %+v", acc.Choices, acc.Usage)
		}
		for i, w := range want {
			if calls[i].ID != w.id || calls[i].Function.Name != w.name || calls[i].Function.Arguments != w.args {
				t.Errorf("call %d = %s %s %s, want %+v", i, calls[i].ID, calls[i].Function.Name, calls[i].Function.Arguments, w)
			}
		}
		if len(finished) != len(want) || finished[0].Name != "get_customer_profile" || finished[1].Arguments != want[1].args {
			t.Errorf("finished tool calls %+v", finished)
		}
		if pieces <= len(want) {
			t.Errorf("%d tool-call pieces; want the arguments in several", pieces)
		}
		if reqs := received(t, before); len(reqs) != 1 || len(reqs[0].Body.Tools) != 2 {
			t.Fatalf("the fake got %d requests; want one offering two tools", len(reqs))
		}
	})

	t.Run("embeddings", func(t *testing.T) {
		inputs := []string{"How do I return shoes?", "Shipping to Portugal"}
		for _, format := range []openai.EmbeddingNewParamsEncodingFormat{"", openai.EmbeddingNewParamsEncodingFormatFloat} {
			before := len(llm.Requests())
			e, err := client.Embeddings.New(ctx, openai.EmbeddingNewParams{Model: "text-embedding-3-small",
				Input: openai.EmbeddingNewParamsInputUnion{OfArrayOfStrings: inputs}, EncodingFormat: format})
			if err != nil {
				t.Fatal(err)
			}
			if len(e.Data) != len(inputs) || e.Model != "text-embedding-3-small" {
				t.Fatalf("embeddings %s", e.RawJSON())
			}
			for i, d := range e.Data {
				want := llmtest.Vector(inputs[i])
				if d.Index != int64(i) || len(d.Embedding) != len(want) {
					t.Fatalf("embedding %d: %s", i, e.RawJSON())
				}
				for j := range want {
					if float32(d.Embedding[j]) != want[j] { // sent as float32s
						t.Fatalf("embedding %d = %v, want %v", i, d.Embedding, want)
					}
				}
			}
			reqs := received(t, before)
			if len(reqs) != 1 || reqs[0].Path != llmtest.EmbeddingsPath || reqs[0].JSON["model"] != "text-embedding-3-small" {
				t.Fatalf("the fake got %v; want one embeddings request for text-embedding-3-small", reqs)
			}
		}
	})

	t.Run("models", func(t *testing.T) {
		page, err := client.Models.List(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(page.Data) != 1 || page.Data[0].ID != llmtest.Model {
			t.Fatalf("models %s", page.RawJSON())
		}
	})

	t.Run("wrong key", func(t *testing.T) {
		before := len(llm.Requests())
		other := openai.NewClient(option.WithBaseURL(url+"/v1/"), option.WithAPIKey("not-the-key"), option.WithMaxRetries(0))
		_, err := other.Chat.Completions.New(ctx, openai.ChatCompletionNewParams{Model: "gpt-4o-mini",
			Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("hi")}})
		var apiErr *openai.Error
		if !errors.As(err, &apiErr) || apiErr.StatusCode != http.StatusUnauthorized || apiErr.Code != "invalid_api_key" {
			t.Fatalf("err = %v, want a 401 invalid_api_key", err)
		}
		if n := len(llm.Requests()) - before; n != 0 {
			t.Fatalf("the fake got %d requests", n)
		}
	})

	t.Run("embeddings without an embeddings backend", func(t *testing.T) {
		offline, err := llmrouter.NewDefault("", "", "", zerolog.New(io.Discard), nil)
		if err != nil {
			t.Fatal(err)
		}
		c, _ := facadeClient(t, offline, "k")
		_, err = c.Embeddings.New(ctx, openai.EmbeddingNewParams{Model: "text-embedding-3-small",
			Input: openai.EmbeddingNewParamsInputUnion{OfString: openai.String("hi")}})
		var apiErr *openai.Error
		if !errors.As(err, &apiErr) || apiErr.StatusCode != http.StatusNotImplemented || apiErr.Code != "embeddings_unsupported" {
			t.Fatalf("err = %v, want a 501 embeddings_unsupported", err)
		}
	})
}

// jsonHas reports whether the JSON object raw has key with value want.
func jsonHas(raw json.RawMessage, key string, want any) bool {
	var m map[string]any
	if json.Unmarshal(raw, &m) != nil {
		return false
	}
	got, _ := json.Marshal(m[key])
	w, _ := json.Marshal(want)
	return string(got) == string(w)
}
