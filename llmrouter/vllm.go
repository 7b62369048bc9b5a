package llmrouter

import (
	"context"
	"fmt"
)

// VLLMConfig configures a VLLM backend.
type VLLMConfig struct {
	OpenAIConfig
	// ToolParser is the --tool-call-parser the server runs with
	// --enable-auto-tool-choice (hermes, llama3_json, mistral, …). Empty
	// means none: vLLM then answers tool_choice "auto" with a 400, so a
	// request offering tools with ToolChoiceAuto fails with ErrUnsupported
	// before anything is sent. Named and required choices need no parser.
	ToolParser string
	// StrictTools sends every tool with strict: true, which makes vLLM
	// constrain "auto" calls to the tools' schemas as well; without it they
	// are parsed from free text and may be malformed.
	StrictTools bool
}

// VLLM is a Backend for a vLLM server's OpenAI-compatible API
// (specs/channels-and-llm.md §5). It is OpenAI plus what vLLM needs:
// named and required tool choices are sent as they are (vLLM honours them
// with structured-output decoding, so the arguments always parse),
// tool_choice auto only where the server runs a tool parser, response
// formats pass through as json_schema, and a usage chunk with choices
// null is read.
type VLLM struct {
	o *OpenAI
}

var (
	_ Streamer = (*VLLM)(nil)
	_ Embedder = (*VLLM)(nil)
)

// NewVLLM returns a VLLM backend for cfg; its Name defaults to "vllm".
func NewVLLM(cfg VLLMConfig) (*VLLM, error) {
	o, err := newOpenAICompatible(cfg.OpenAIConfig, "vllm", dialect{
		kind: "vllm", noAutoTools: cfg.ToolParser == "", strictTools: cfg.StrictTools,
	})
	if err != nil {
		return nil, fmt.Errorf("vllm backend: %w", err)
	}
	return &VLLM{o: o}, nil
}

// Name returns the configured name, "vllm" by default.
func (v *VLLM) Name() string { return v.o.Name() }

// Model returns the model sent when a Request names none.
func (v *VLLM) Model() string { return v.o.Model() }

// Complete is OpenAI.Complete for vLLM.
func (v *VLLM) Complete(ctx context.Context, req Request) (Response, error) {
	return v.o.Complete(ctx, req)
}

// Stream is OpenAI.Stream for vLLM.
func (v *VLLM) Stream(ctx context.Context, req Request, onDelta func(Delta)) (Response, error) {
	return v.o.Stream(ctx, req, onDelta)
}

// Embed is OpenAI.Embed; the server must serve an embedding model.
func (v *VLLM) Embed(ctx context.Context, model string, inputs []string) ([][]float32, error) {
	return v.o.Embed(ctx, model, inputs)
}
