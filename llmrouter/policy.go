package llmrouter

import (
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
)

// Values of Condition.Tools.
const (
	// ToolsAny matches every request; the empty value means the same.
	ToolsAny = "any"
	// ToolsRequired matches requests that let the model call a tool.
	ToolsRequired = "required"
	// ToolsNone matches requests that offer no tool (or ToolChoiceNone).
	ToolsNone = "none"
)

// Policy chooses the backends for a Request: the first of Routes whose
// condition matches it. A request no route matches is answered by the
// Offline responder.
type Policy struct {
	Routes []Route
}

// Route is a condition and the candidates that serve the requests it
// matches.
type Route struct {
	// Name identifies the route in Response.Route, logs and stickiness.
	Name string
	// When is the condition; its zero value matches every request.
	When Condition
	// Candidates are tried in turn (see Route.order): the candidate the
	// weighted split picks for the conversation first, then the others in
	// order.
	Candidates []Candidate
}

// Condition matches requests. Each non-empty list must contain the
// request's value; all given parts must match.
type Condition struct {
	Tenants  []string `yaml:"tenants"`
	Channels []string `yaml:"channels"`
	// Languages are BCP 47 tags; "pt" matches "pt" and "pt-BR", "pt-BR"
	// only "pt-BR" (case does not matter).
	Languages []string `yaml:"languages"`
	// Tools is ToolsAny (or empty), ToolsRequired or ToolsNone.
	Tools string `yaml:"tools"`
}

// Candidate is one backend, with its model and parameters, that may serve
// a route.
type Candidate struct {
	// Backend is the Name of a configured backend.
	Backend string
	// Model, when set, replaces the Request's model.
	Model string
	// Params adjust the request for this candidate.
	Params Params
	// Weight is the candidate's share of the route's conversations in a
	// weighted split (an A/B test); zero keeps it out of the split, as a
	// fallback only. Every conversation sticks to the candidate it is
	// given.
	Weight int
}

// Params are a candidate's sampling parameters.
type Params struct {
	// Temperature, when set, replaces the request's.
	Temperature *float64
	// MaxTokens, when positive, caps the request's MaxTokens.
	MaxTokens int
}

// Matches reports whether req meets c.
func (c Condition) Matches(req Request) bool {
	if len(c.Tenants) > 0 && !containsFold(c.Tenants, req.TenantID) {
		return false
	}
	if len(c.Channels) > 0 && !containsFold(c.Channels, req.Channel) {
		return false
	}
	if len(c.Languages) > 0 && !languageIn(c.Languages, req.Language) {
		return false
	}
	switch c.Tools {
	case ToolsRequired:
		return req.wantsTools()
	case ToolsNone:
		return !req.wantsTools()
	}
	return true
}

func containsFold(list []string, v string) bool {
	for _, s := range list {
		if strings.EqualFold(s, v) {
			return true
		}
	}
	return false
}

func languageIn(tags []string, lang string) bool {
	lang = strings.ReplaceAll(lang, "_", "-")
	if lang == "" {
		return false
	}
	for _, t := range tags {
		if strings.EqualFold(t, lang) || (len(lang) > len(t) && lang[len(t)] == '-' && strings.EqualFold(t, lang[:len(t)])) {
			return true
		}
	}
	return false
}

// validate reports the first problem of p: routes without a name or
// candidates, repeated names, candidates of unknown backends, negative
// weights, max tokens or temperatures.
func (p Policy) validate(known func(name string) bool) error {
	seen := map[string]bool{}
	var errs []error
	for i, r := range p.Routes {
		at := fmt.Sprintf("routes[%d]", i)
		switch {
		case r.Name == "":
			errs = append(errs, fmt.Errorf("%s.name: required", at))
		case seen[r.Name]:
			errs = append(errs, fmt.Errorf("%s.name: duplicate route %q", at, r.Name))
		}
		seen[r.Name] = true
		switch r.When.Tools {
		case "", ToolsAny, ToolsRequired, ToolsNone:
		default:
			errs = append(errs, fmt.Errorf("%s.when.tools: %q is not one of any, required, none", at, r.When.Tools))
		}
		if len(r.Candidates) == 0 {
			errs = append(errs, fmt.Errorf("%s.candidates: at least one required", at))
		}
		for j, c := range r.Candidates {
			cat := fmt.Sprintf("%s.candidates[%d]", at, j)
			if !known(c.Backend) {
				errs = append(errs, fmt.Errorf("%s.backend: unknown backend %q", cat, c.Backend))
			}
			if c.Weight < 0 {
				errs = append(errs, fmt.Errorf("%s.weight: must be > 0, got %d", cat, c.Weight))
			}
			if c.Params.MaxTokens < 0 {
				errs = append(errs, fmt.Errorf("%s.max_tokens: must be >= 0, got %d", cat, c.Params.MaxTokens))
			}
			if t := c.Params.Temperature; t != nil && (*t < 0 || *t > 2) {
				errs = append(errs, fmt.Errorf("%s.temperature: must be within [0, 2], got %g", cat, *t))
			}
		}
	}
	return errors.Join(errs...)
}

// route returns the first route that matches req.
func (p Policy) route(req Request) (Route, bool) {
	for _, r := range p.Routes {
		if r.When.Matches(req) {
			return r, true
		}
	}
	return Route{}, false
}

// order returns the candidates to try for req: the weighted split's pick
// for the conversation first, then every other candidate in listed order.
// The pick hashes the route's name, the tenant and the conversation, so a
// conversation gets the same candidate on every turn and on every member
// of a cluster; a request without a conversation gets a random pick. With
// no weights the candidates are tried in listed order.
func (r Route) order(req Request) []Candidate {
	total := 0
	for _, c := range r.Candidates {
		total += max(c.Weight, 0)
	}
	if total == 0 {
		return r.Candidates
	}
	var n uint64
	if req.ConversationID == "" {
		n = rand.Uint64N(uint64(total))
	} else {
		sum := sha256.Sum256([]byte(r.Name + "\x00" + req.TenantID + "\x00" + req.ConversationID))
		n = binary.BigEndian.Uint64(sum[:8]) % uint64(total)
	}
	pick := 0
	for i, c := range r.Candidates {
		w := uint64(max(c.Weight, 0))
		if n < w {
			pick = i
			break
		}
		n -= w
	}
	out := make([]Candidate, 0, len(r.Candidates))
	out = append(out, r.Candidates[pick])
	out = append(out, r.Candidates[:pick]...)
	return append(out, r.Candidates[pick+1:]...)
}

// apply returns req as the candidate sends it.
func (c Candidate) apply(req Request) Request {
	if c.Model != "" {
		req.Model = c.Model
	}
	if c.Params.Temperature != nil {
		req.Temperature = c.Params.Temperature
	}
	if m := c.Params.MaxTokens; m > 0 && (req.MaxTokens == 0 || m < req.MaxTokens) {
		req.MaxTokens = m
	}
	return req
}
