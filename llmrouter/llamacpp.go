package llmrouter

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
)

// LlamaCppConfig configures a LlamaCpp backend.
type LlamaCppConfig struct {
	OpenAIConfig
	// HealthURL is where readiness is read; empty means /health at the
	// server's root (BaseURL without its /v1).
	HealthURL string
}

// LlamaCpp is a Backend for llama.cpp's llama-server
// (specs/channels-and-llm.md §5): OpenAI-compatible, with these
// differences. Tools are sent with parallel_tool_calls: true (the server
// makes one call per turn otherwise). The server reads only "auto", "none"
// and "required" as tool_choice, so a named choice is sent as "required"
// with only that tool offered. Response formats use the nested
// json_schema.schema form. Until the server has been seen ready, each call
// first reads GET /health: 503 while the model loads makes the call fail
// with ErrBackendUnavailable without sending it; after a call fails that
// way, readiness is read again.
type LlamaCpp struct {
	o      *OpenAI
	health string
	ready  atomic.Bool
}

var (
	_ Streamer = (*LlamaCpp)(nil)
	_ Embedder = (*LlamaCpp)(nil)
)

// NewLlamaCpp returns a LlamaCpp backend for cfg; its Name defaults to
// "llamacpp".
func NewLlamaCpp(cfg LlamaCppConfig) (*LlamaCpp, error) {
	o, err := newOpenAICompatible(cfg.OpenAIConfig, "llamacpp", dialect{
		kind: "llamacpp", parallelToolCalls: true, noNamedChoice: true,
	})
	if err != nil {
		return nil, fmt.Errorf("llamacpp backend: %w", err)
	}
	l := &LlamaCpp{o: o, health: cfg.HealthURL}
	if l.health == "" {
		l.health = strings.TrimSuffix(strings.TrimRight(cfg.BaseURL, "/"), "/v1") + "/health"
	} else if err := checkBaseURL(l.health); err != nil {
		return nil, fmt.Errorf("llamacpp backend: health %w", err)
	}
	return l, nil
}

// Name returns the configured name, "llamacpp" by default.
func (l *LlamaCpp) Name() string { return l.o.Name() }

// Model returns the model sent when a Request names none.
func (l *LlamaCpp) Model() string { return l.o.Model() }

// Ready reads GET /health: nil when the server answers 200, an error
// wrapping ErrBackendUnavailable otherwise (503 while the model loads).
func (l *LlamaCpp) Ready(ctx context.Context) error {
	err := l.o.once(ctx, func(ctx context.Context) error {
		hreq, err := http.NewRequestWithContext(ctx, http.MethodGet, l.health, nil)
		if err != nil {
			return fmt.Errorf("build request: %w", err)
		}
		hresp, err := send(l.o.http, hreq)
		if err != nil {
			return err
		}
		return hresp.Body.Close()
	})
	if err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("%s: health: %w", l.Name(), ctx.Err())
		}
		return fmt.Errorf("%s: %w: not ready: %w", l.Name(), ErrBackendUnavailable, err)
	}
	l.ready.Store(true)
	return nil
}

// Complete is OpenAI.Complete for llama-server, after readiness.
func (l *LlamaCpp) Complete(ctx context.Context, req Request) (Response, error) {
	if err := l.whenReady(ctx); err != nil {
		return Response{}, err
	}
	resp, err := l.o.Complete(ctx, req)
	l.noteFailure(err)
	return resp, err
}

// Stream is OpenAI.Stream for llama-server, after readiness.
func (l *LlamaCpp) Stream(ctx context.Context, req Request, onDelta func(Delta)) (Response, error) {
	if err := l.whenReady(ctx); err != nil {
		return Response{}, err
	}
	resp, err := l.o.Stream(ctx, req, onDelta)
	l.noteFailure(err)
	return resp, err
}

// Embed is OpenAI.Embed, after readiness; the server must run with
// --embedding.
func (l *LlamaCpp) Embed(ctx context.Context, model string, inputs []string) ([][]float32, error) {
	if err := l.whenReady(ctx); err != nil {
		return nil, err
	}
	out, err := l.o.Embed(ctx, model, inputs)
	l.noteFailure(err)
	return out, err
}

func (l *LlamaCpp) whenReady(ctx context.Context) error {
	if l.ready.Load() {
		return nil
	}
	return l.Ready(ctx)
}

func (l *LlamaCpp) noteFailure(err error) {
	if errors.Is(err, ErrBackendUnavailable) {
		l.ready.Store(false)
	}
}
