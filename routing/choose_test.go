package routing_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/frontdesk-ai/frontdesk/persistence"
	"github.com/frontdesk-ai/frontdesk/routing"
)

var t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func profile(id, name string, age int, rules string) persistence.AgentProfile {
	return persistence.AgentProfile{
		Base: persistence.Base{ID: id, TenantID: "t1", CreatedAt: t0.Add(time.Duration(age) * time.Hour)},
		Name: name, Routing: json.RawMessage(rules),
	}
}

func TestChoose(t *testing.T) {
	// A tenant's profiles, in no particular order.
	tenant := []persistence.AgentProfile{
		profile("p-general", "General", 0, `{}`),
		profile("p-de", "German", 1, `{"priority": 10, "match": {"languages": ["de"]}}`),
		profile("p-vip", "VIP desk", 2, `{"priority": 50, "match": {"customer_tags_any": ["vip", "gold"]}}`),
		profile("p-wa-br", "WhatsApp Brazil", 3, `{"priority": 10, "match": {"channels": ["whatsapp"], "languages": ["pt-BR"]}}`),
		profile("p-shop2", "Second shop", 4, `{"priority": 20, "match": {"channel_accounts": ["1555000"], "customer_tags_all": ["b2b", "eu"]}}`),
		profile("p-fallback", "Fallback", 5, `{"default": true}`),
	}
	for _, tc := range []struct {
		name     string
		profiles []persistence.AgentProfile
		in       routing.Input
		want     string
		reason   string
	}{
		{"language rule", tenant, routing.Input{Channel: "messenger", Language: "de"}, "p-de", `rule of "German" (priority 10) matched language de`},
		{"regional language matches its base", tenant, routing.Input{Channel: "messenger", Language: "de-AT"}, "p-de", "German"},
		{"language case and underscore", tenant, routing.Input{Channel: "WhatsApp", Language: "PT_br"}, "p-wa-br", "channel WhatsApp, language PT_br"},
		{"base language does not match a regional rule", tenant, routing.Input{Channel: "whatsapp", Language: "pt"}, "p-fallback", "default profile"},
		{"higher priority wins", tenant, routing.Input{Channel: "messenger", Language: "de", CustomerTags: []string{"Gold"}}, "p-vip", `"VIP desk" (priority 50) matched customer tags`},
		{"all lists must match", tenant, routing.Input{Channel: "whatsapp", Language: "en", CustomerTags: []string{"b2b", "eu"}}, "p-fallback", "default"},
		{"tags all", tenant, routing.Input{Channel: "whatsapp", ChannelAccount: "1555000", CustomerTags: []string{"eu", "b2b", "new"}}, "p-shop2", "channel account 1555000, customer tags"},
		{"tags all, one missing", tenant, routing.Input{ChannelAccount: "1555000", CustomerTags: []string{"b2b"}}, "p-fallback", "default"},
		{"unknown language matches no language rule", tenant, routing.Input{Channel: "whatsapp"}, "p-fallback", `"Fallback" is the default profile`},
		{"no default: oldest", tenant[:4], routing.Input{Channel: "webhook", Language: "fr"}, "p-general", `no profile is the default; "General" is the oldest`},
		{"oldest default of several", []persistence.AgentProfile{
			profile("p-b", "B", 2, `{"default": true}`), profile("p-a", "A", 1, `{"default": true}`), profile("p-0", "Zero", 0, `{}`),
		}, routing.Input{}, "p-a", `"A" is the default`},
		{"equal priority: by name", []persistence.AgentProfile{
			profile("p-2", "Beta", 0, `{"match": {"channels": ["whatsapp"]}}`), profile("p-1", "Alpha", 1, `{"match": {}}`),
		}, routing.Input{Channel: "whatsapp"}, "p-1", `"Alpha" (priority 0) matched every conversation`},
		{"equal priority and name: by id", []persistence.AgentProfile{
			profile("p-2", "Same", 0, `{"match": {}}`), profile("p-1", "Same", 1, `{"match": {}}`),
		}, routing.Input{}, "p-1", "Same"},
		{"oldest by id when created together", []persistence.AgentProfile{
			profile("p-2", "Two", 0, `{}`), profile("p-1", "One", 0, `null`),
		}, routing.Input{}, "p-1", "oldest"},
		{"negative priority after the rest", []persistence.AgentProfile{
			profile("p-last", "Catch-all", 0, `{"priority": -1, "match": {}}`), profile("p-wa", "WA", 1, `{"match": {"channels": ["whatsapp"]}}`),
		}, routing.Input{Channel: "whatsapp"}, "p-wa", "WA"},
		{"unparseable stored rules are no rules", []persistence.AgentProfile{
			profile("p-legacy", "Legacy", 0, `{"prefer": "fast", "match": {}}`), profile("p-new", "New", 1, `{"default": true}`),
		}, routing.Input{Channel: "whatsapp"}, "p-new", "default"},
		{"no profiles", nil, routing.Input{Channel: "whatsapp"}, "", "no agent profiles"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, reason := routing.Choose(tc.profiles, tc.in)
			if got != tc.want || !strings.Contains(reason, tc.reason) {
				t.Fatalf("Choose = %q, %q; want %q, reason with %q", got, reason, tc.want, tc.reason)
			}
		})
	}
}

// TestChooseKeepsOrder: Choose sorts a copy, not the caller's slice.
func TestChooseKeepsOrder(t *testing.T) {
	ps := []persistence.AgentProfile{profile("b", "B", 1, `{"match": {}}`), profile("a", "A", 0, `{"priority": 5, "match": {}}`)}
	if got, _ := routing.Choose(ps, routing.Input{}); got != "a" {
		t.Fatalf("Choose = %q, want a", got)
	}
	if ps[0].ID != "b" || ps[1].ID != "a" {
		t.Fatalf("caller's slice reordered: %s, %s", ps[0].ID, ps[1].ID)
	}
}
