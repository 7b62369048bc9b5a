package llmrouter

import (
	"context"
	"encoding/json"
	"fmt"
)

// Embedder turns texts into vectors. Embed returns one vector per input, in
// order; model empty means the backend's configured model. Errors follow
// Backend.Complete: ErrInvalidRequest, *APIError, or ErrBackendUnavailable.
type Embedder interface {
	Embed(ctx context.Context, model string, inputs []string) ([][]float32, error)
}

// maxEmbedInputs bounds the inputs of one Embed call.
const maxEmbedInputs = 2048

// checkEmbed validates an Embed call and returns the model to send.
func checkEmbed(name, model, fallback string, inputs []string) (string, error) {
	if model == "" {
		model = fallback
	}
	if model == "" {
		return "", fmt.Errorf("%s: %w: embed without a model", name, ErrInvalidRequest)
	}
	if len(inputs) > maxEmbedInputs {
		return "", fmt.Errorf("%s: %w: %d inputs, at most %d", name, ErrInvalidRequest, len(inputs), maxEmbedInputs)
	}
	return model, nil
}

// Embed posts inputs to {BaseURL}/embeddings (input as an array, encoding
// float) and returns the vectors in input order.
func (o *OpenAI) Embed(ctx context.Context, model string, inputs []string) ([][]float32, error) {
	model, err := checkEmbed(o.name, model, o.model, inputs)
	if err != nil || len(inputs) == 0 {
		return nil, err
	}
	body, err := json.Marshal(struct {
		Model          string   `json:"model"`
		Input          []string `json:"input"`
		EncodingFormat string   `json:"encoding_format"`
	}{model, inputs, "float"})
	if err != nil {
		return nil, fmt.Errorf("encode embeddings request: %w", err)
	}
	var out [][]float32
	err = o.do(ctx, o.name, func(ctx context.Context) error {
		hresp, err := post(ctx, o.http, o.embeddings, o.apiKey, body, "application/json")
		if err != nil {
			return err
		}
		defer hresp.Body.Close()
		raw, err := readBody(hresp)
		if err != nil {
			return err
		}
		out, err = parseEmbeddings(raw, len(inputs))
		return err
	})
	return out, err
}

// parseEmbeddings reads an OpenAI embeddings answer for n inputs:
// data[].{index, embedding}, each index in [0,n) exactly once, every vector
// of the same non-zero length. Its errors wrap errMalformed.
func parseEmbeddings(body []byte, n int) ([][]float32, error) {
	var w struct {
		Data []struct {
			Index     int       `json:"index"`
			Embedding []float32 `json:"embedding"`
		} `json:"data"`
	}
	if err := json.Unmarshal(body, &w); err != nil {
		return nil, fmt.Errorf("%w: embeddings: %w", errMalformed, err)
	}
	if len(w.Data) != n {
		return nil, fmt.Errorf("%w: %d embeddings for %d inputs", errMalformed, len(w.Data), n)
	}
	out := make([][]float32, n)
	for _, d := range w.Data {
		if d.Index < 0 || d.Index >= n || out[d.Index] != nil {
			return nil, fmt.Errorf("%w: embedding index %d out of range or repeated", errMalformed, d.Index)
		}
		out[d.Index] = d.Embedding
	}
	return out, checkVectors(out)
}

// checkVectors reports whether vs are non-empty vectors of one length.
func checkVectors(vs [][]float32) error {
	for i, v := range vs {
		if len(v) == 0 || len(v) != len(vs[0]) {
			return fmt.Errorf("%w: embedding %d has %d dimensions", errMalformed, i, len(v))
		}
	}
	return nil
}
