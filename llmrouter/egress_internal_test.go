package llmrouter

import (
	"errors"
	"net/http"
	"testing"
)

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func TestEgress(t *testing.T) {
	var sent []string
	next := roundTripFunc(func(r *http.Request) (*http.Response, error) {
		sent = append(sent, r.URL.String())
		return &http.Response{StatusCode: 200, Body: http.NoBody}, nil
	})
	e, err := newEgress(next, "http://vllm.internal:8000/v1", "https://api.openai.com/v1")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		url     string
		allowed bool
	}{
		{"http://vllm.internal:8000/v1/chat/completions", true},
		{"http://VLLM.internal:8000/health", true},
		{"https://api.openai.com/v1/embeddings", true},
		{"https://api.openai.com:443/v1/embeddings", true},
		{"http://api.openai.com/v1/embeddings", false},
		{"http://vllm.internal:8001/v1/chat/completions", false},
		{"http://169.254.169.254/latest/meta-data/", false},
		{"https://evil.example/v1/chat/completions", false},
	}
	for _, tt := range tests {
		t.Run(tt.url, func(t *testing.T) {
			sent = nil
			req, err := http.NewRequest(http.MethodGet, tt.url, nil)
			if err != nil {
				t.Fatal(err)
			}
			_, err = e.RoundTrip(req)
			if tt.allowed != (err == nil) || tt.allowed != (len(sent) == 1) {
				t.Fatalf("err = %v, sent %v; want allowed %v", err, sent, tt.allowed)
			}
			if !tt.allowed && !errors.Is(err, ErrEgressDenied) {
				t.Errorf("err = %v, want ErrEgressDenied", err)
			}
		})
	}
}
