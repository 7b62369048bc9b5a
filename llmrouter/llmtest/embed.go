package llmtest

import (
	"crypto/sha256"
	"encoding/json"
	"math"
	"net/http"
)

// Dimensions is the length of the fakes' embedding vectors.
const Dimensions = 8

// Vector returns the embedding both fakes give text: Dimensions values
// derived from its SHA-256, L2-normalized as Ollama's are.
func Vector(text string) []float32 {
	sum := sha256.Sum256([]byte(text))
	v := make([]float32, Dimensions)
	var norm float64
	for i := range v {
		v[i] = float32(int8(sum[i])) / 128
		norm += float64(v[i]) * float64(v[i])
	}
	norm = math.Sqrt(norm)
	for i := range v {
		v[i] = float32(float64(v[i]) / norm)
	}
	return v
}

// inputs decodes an embeddings input: a string or an array of strings.
func inputs(raw json.RawMessage) ([]string, bool) {
	var one string
	if json.Unmarshal(raw, &one) == nil {
		return []string{one}, true
	}
	var many []string
	if json.Unmarshal(raw, &many) == nil && len(many) > 0 {
		return many, true
	}
	return nil, false
}

// embeddings answers POST /v1/embeddings as OpenAI does.
func (s *Server) embeddings(w http.ResponseWriter, req Request) {
	var body struct {
		Model string          `json:"model"`
		Input json.RawMessage `json:"input"`
	}
	_ = json.Unmarshal(req.Raw, &body)
	texts, ok := inputs(body.Input)
	switch {
	case body.Model == "":
		writeError(w, Step{Status: http.StatusBadRequest, ErrorMessage: "you must provide a model parameter"})
		return
	case !ok:
		writeError(w, Step{Status: http.StatusBadRequest, ErrorMessage: "'input' must be a string or an array of strings"})
		return
	}
	type datum struct {
		Object    string    `json:"object"`
		Index     int       `json:"index"`
		Embedding []float32 `json:"embedding"`
	}
	data := make([]datum, len(texts))
	for i, t := range texts {
		data[i] = datum{Object: "embedding", Index: i, Embedding: Vector(t)}
	}
	// Answer in reverse order: clients must place vectors by index.
	for i, j := 0, len(data)-1; i < j; i, j = i+1, j-1 {
		data[i], data[j] = data[j], data[i]
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"object": "list", "data": data, "model": body.Model,
		"usage": map[string]int{"prompt_tokens": len(texts), "total_tokens": len(texts)},
	})
}
