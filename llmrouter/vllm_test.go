package llmrouter_test

import (
	"context"
	"encoding/json"
	"errors"
	"testing"

	"github.com/frontdesk-ai/frontdesk/llmrouter"
	"github.com/frontdesk-ai/frontdesk/llmrouter/llmtest"
)

func newVLLM(t *testing.T, srv *llmtest.Server, toolParser string, strict bool) *llmrouter.VLLM {
	t.Helper()
	b, err := llmrouter.NewVLLM(llmrouter.VLLMConfig{OpenAIConfig: srv.OpenAIConfig(), ToolParser: toolParser, StrictTools: strict})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

var orderSchema = json.RawMessage(`{"type":"object","properties":{"intent":{"type":"string","enum":["refund","status"]}},"required":["intent"]}`)

func TestVLLMRequestBody(t *testing.T) {
	tools := []llmrouter.Tool{{Name: "get_order", Parameters: json.RawMessage(`{"type":"object","properties":{"n":{"type":"string"}}}`)}, {Name: "create_ticket"}}
	tests := []struct {
		name       string
		toolParser string
		strict     bool
		choice     string
		format     *llmrouter.ResponseFormat
		wantChoice string // raw JSON; "" for absent
		wantStrict bool
		wantFormat string // raw JSON; "" for absent
	}{
		{name: "named choice needs no parser", choice: "get_order", wantChoice: `{"type":"function","function":{"name":"get_order"}}`},
		{name: "required needs no parser", choice: "required", wantChoice: `"required"`},
		{name: "none needs no parser", choice: "none", wantChoice: `"none"`},
		{name: "auto with a parser", toolParser: "hermes", choice: "auto", wantChoice: `"auto"`},
		{name: "auto with strict tools", toolParser: "hermes", strict: true, wantChoice: `"auto"`, wantStrict: true},
		{name: "json schema passes through", choice: "none", wantChoice: `"none"`,
			format:     &llmrouter.ResponseFormat{Name: "intent", Schema: orderSchema, Strict: true},
			wantFormat: `{"type":"json_schema","json_schema":{"name":"intent","schema":` + string(orderSchema) + `,"strict":true}}`},
		{name: "json object", choice: "none", wantChoice: `"none"`, format: &llmrouter.ResponseFormat{}, wantFormat: `{"type":"json_object"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := llmtest.NewServer(t, llmtest.Text("ok"))
			req := llmrouter.Request{Messages: []llmrouter.Message{{Role: "user", Content: "hi"}}, Tools: tools, ToolChoice: tt.choice, ResponseFormat: tt.format}
			if _, err := newVLLM(t, srv, tt.toolParser, tt.strict).Complete(context.Background(), req); err != nil {
				t.Fatalf("Complete: %v", err)
			}
			got := srv.Requests()[0]
			if !jsonEqual(t, got.Body.ToolChoice, []byte(tt.wantChoice)) {
				t.Errorf("tool_choice %s, want %s", got.Body.ToolChoice, tt.wantChoice)
			}
			for _, tool := range got.Body.Tools {
				if s := tool.Function.Strict; (s != nil && *s) != tt.wantStrict {
					t.Errorf("tool %s strict %v, want %v", tool.Function.Name, s, tt.wantStrict)
				}
			}
			if len(got.Body.Tools) != 2 {
				t.Errorf("%d tools sent, want both", len(got.Body.Tools))
			}
			if tt.wantFormat == "" {
				if _, ok := got.JSON["response_format"]; ok {
					t.Errorf("response_format sent: %s", got.Body.ResponseFormat)
				}
			} else if !jsonEqual(t, got.Body.ResponseFormat, []byte(tt.wantFormat)) {
				t.Errorf("response_format %s, want %s", got.Body.ResponseFormat, tt.wantFormat)
			}
		})
	}
}

func TestVLLMWithoutToolParserRefusesAuto(t *testing.T) {
	srv := llmtest.NewServer(t)
	req := llmrouter.Request{Messages: []llmrouter.Message{{Role: "user", Content: "hi"}}, Tools: []llmrouter.Tool{{Name: "get_order"}}}
	_, err := newVLLM(t, srv, "", false).Complete(context.Background(), req)
	if !errors.Is(err, llmrouter.ErrUnsupported) || errors.Is(err, llmrouter.ErrBackendUnavailable) {
		t.Fatalf("err = %v, want ErrUnsupported (and not unavailable: the circuit must not count it)", err)
	}
	if n := len(srv.Requests()); n != 0 {
		t.Errorf("server got %d requests; vLLM would answer 400, so none must be sent", n)
	}
	// A turn without tools is served.
	srv.Script(llmtest.Text("summary"))
	req.Tools = nil
	resp, err := newVLLM(t, srv, "", false).Complete(context.Background(), req)
	if err != nil || resp.Backend != "vllm" || resp.Message.Content != "summary" {
		t.Fatalf("Complete = %+v, %v", resp, err)
	}
}

func TestVLLMStreamsUsageFromNullChoices(t *testing.T) {
	srv := llmtest.NewServer(t, llmtest.Step{Text: "Your order shipped.", Usage: llmtest.Usage{Prompt: 310, Completion: 4}, UsageChoicesNull: true})
	var deltas []llmrouter.Delta
	resp, err := newVLLM(t, srv, "hermes", false).Stream(context.Background(), customerTurn("where is it"), collect(&deltas))
	if err != nil {
		t.Fatal(err)
	}
	if resp.Usage != (llmrouter.Usage{PromptTokens: 310, CompletionTokens: 4, TotalTokens: 314}) || resp.Message.Content != "Your order shipped." {
		t.Errorf("response %+v", resp)
	}
}
