package main

import (
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/frontdesk-ai/frontdesk/channels/whatsapp/whatsapptest"
	"github.com/frontdesk-ai/frontdesk/commerce/shopify/shopifytest"
	"github.com/frontdesk-ai/frontdesk/llmrouter/llmtest"
)

type apiDocument struct {
	ID         string `json:"id"`
	Title      string `json:"title"`
	Kind       string `json:"kind"`
	Status     string `json:"status"`
	Version    int    `json:"version"`
	ChunkCount int    `json:"chunk_count"`
	SourceURL  string `json:"source_url"`
}

// documents lists the tenant's knowledge documents of kind ("" all).
func (p *pilot) documents(t *testing.T, kind string) []apiDocument {
	t.Helper()
	var list struct{ Documents []apiDocument }
	if code := p.api(t, "GET", "/api/v1/knowledge/documents?kind="+kind, nil, &list); code != 200 {
		t.Fatalf("list documents: %d", code)
	}
	return list.Documents
}

// search returns the texts the knowledge search finds for q.
func (p *pilot) search(t *testing.T, q string) []string {
	t.Helper()
	var res struct {
		Results []struct{ Text string }
	}
	if code := p.api(t, "POST", "/api/v1/knowledge/search", map[string]any{"query": q}, &res); code != 200 {
		t.Fatalf("search: %d", code)
	}
	var out []string
	for _, r := range res.Results {
		out = append(out, r.Text)
	}
	return out
}

func anyContains(texts []string, sub string) bool {
	for _, s := range texts {
		if strings.Contains(s, sub) {
			return true
		}
	}
	return false
}

// TestKnowledgeAnswersOnWhatsApp: a document uploaded through the API is
// processed by the running binary; a customer's WhatsApp question is
// answered by the model with the passage in its context, the customer gets
// the reply without the citation mark, the inbox's message keeps the
// citation, and the coverage report counts the question, and a second one
// no document answers.
func TestKnowledgeAnswersOnWhatsApp(t *testing.T) {
	p := startPilot(t)
	var created struct{ ID string }
	if code := p.api(t, "POST", "/api/v1/knowledge/documents", map[string]any{"title": "Returns policy", "kind": "policy",
		"content": "# Returns policy\n\n## How long do I have to return an item?\n\nYou can return any item within 30 days of delivery for a full refund.\n"}, &created); code != 201 {
		t.Fatalf("upload: %d", code)
	}
	waitUntil(t, "the document ready", func() bool {
		d := p.documents(t, "policy")
		return len(d) == 1 && d[0].Status == "ready" && d[0].ChunkCount == 1
	})
	p.llm.Script(
		llmtest.Func(func(r llmtest.Request) llmtest.Step {
			system := r.Body.Messages[0].Text()
			if !strings.Contains(system, "[1] Returns policy") || !strings.Contains(system, "> A: You can return any item within 30 days of delivery") {
				return llmtest.Text("no passage in the context: " + system)
			}
			return llmtest.Text("You can return it within 30 days of delivery [1].")
		}),
		llmtest.Text("I am not sure we ship there; let me ask a colleague."),
	)
	const waID = "15550007777"
	if code := p.webhook(t, whatsapptest.TextWebhook(pilotPNID, waID, "Lin", "wamid.kb.1", "How long do I have to return an item?", time.Now()), pilotSecret); code != 200 {
		t.Fatalf("webhook: %d", code)
	}
	waitUntil(t, "the reply at the Graph API", func() bool { return len(p.sentTo(waID)) == 1 })
	if got := p.sentTo(waID)[0].Text; got != "You can return it within 30 days of delivery." {
		t.Fatalf("the customer got %q", got)
	}
	var convs struct {
		Conversations []struct{ ID string }
	}
	p.api(t, "GET", "/api/v1/conversations", nil, &convs)
	if len(convs.Conversations) != 1 {
		t.Fatalf("conversations %+v", convs)
	}
	var msgs struct {
		Messages []struct {
			Direction string
			Text      string
			Citations []struct {
				N          int    `json:"n"`
				DocumentID string `json:"document_id"`
				Title      string `json:"title"`
				Snippet    string `json:"snippet"`
			}
		}
	}
	waitUntil(t, "the reply with its citation", func() bool {
		p.api(t, "GET", "/api/v1/conversations/"+convs.Conversations[0].ID+"/messages", nil, &msgs)
		for _, m := range msgs.Messages {
			if m.Direction == "outbound" && len(m.Citations) == 1 {
				c := m.Citations[0]
				return c.N == 1 && c.DocumentID == created.ID && c.Title == "Returns policy" && strings.Contains(c.Snippet, "30 days")
			}
		}
		return false
	})

	if code := p.webhook(t, whatsapptest.TextWebhook(pilotPNID, waID, "Lin", "wamid.kb.2", "Do you deliver to Antarctica by sledge?", time.Now()), pilotSecret); code != 200 {
		t.Fatalf("webhook: %d", code)
	}
	waitUntil(t, "the second reply", func() bool { return len(p.sentTo(waID)) == 2 })
	var rep struct {
		Questions           int `json:"questions"`
		AnsweredWithSources int `json:"answered_with_sources"`
		NoRelevantDocs      int `json:"no_relevant_docs"`
	}
	waitUntil(t, "two questions in the coverage report", func() bool {
		p.api(t, "GET", "/api/v1/knowledge/coverage", nil, &rep)
		return rep.Questions == 2
	})
	if rep.AnsweredWithSources != 1 || rep.NoRelevantDocs != 1 {
		t.Fatalf("coverage %+v", rep)
	}
}

// TestShopifyProductsBecomeKnowledge: a products/create webhook becomes a
// product document (prices in the shop's currency, asked from its API
// once), found by a search; products/delete removes it; `frontdesk
// commerce backfill` imports the catalogue too.
func TestShopifyProductsBecomeKnowledge(t *testing.T) {
	admin := shopifytest.NewAdmin(t, "shpat_products")
	admin.SetCurrency("EUR")
	p := startPilot(t, "FRONTDESK_SHOPIFY_SHOP="+testShop, "FRONTDESK_SHOPIFY_WEBHOOK_SECRET="+testShopSecret,
		"FRONTDESK_SHOPIFY_ADMIN_TOKEN=shpat_products", "FRONTDESK_SHOPIFY_API_URL="+admin.URL())
	at := time.Now().Add(-time.Hour).UTC().Truncate(time.Second)
	hoodie := shopifytest.ProductSpec{ID: 632910392, Title: "Blue hoodie", Handle: "blue-hoodie", BodyHTML: "<p>Organic cotton, relaxed fit.</p>",
		Vendor: "Brand", Options: []shopifytest.OptionSpec{{Name: "Size", Values: []string{"S", "M"}}}, PublishedAt: &at,
		Variants: []shopifytest.VariantSpec{{ID: 1, OptionValues: []string{"S"}, Price: "49.00", Tracked: true, InventoryQuantity: 0},
			{ID: 2, OptionValues: []string{"M"}, Price: "49.00", Tracked: true, InventoryQuantity: 4}},
		CreatedAt: at, UpdatedAt: at}
	if code := p.deliver(t, testShopSecret, "products/create", "ev-p1", at, shopifytest.ProductPayload(hoodie)); code != 200 {
		t.Fatalf("products/create: %d", code)
	}
	waitUntil(t, "the product document ready", func() bool {
		d := p.documents(t, "product")
		return len(d) == 1 && d[0].Status == "ready" && d[0].Title == "Blue hoodie"
	})
	waitUntil(t, "the product found", func() bool { return anyContains(p.search(t, "blue hoodie size M price"), "49.00 EUR") })
	if texts := p.search(t, "organic cotton hoodie"); !anyContains(texts, "Organic cotton, relaxed fit.") {
		t.Fatalf("description not found: %q", texts)
	}
	if code := p.deliver(t, testShopSecret, "products/delete", "ev-p2", at.Add(time.Minute), shopifytest.ProductDeletePayload(hoodie.ID)); code != 200 {
		t.Fatalf("products/delete: %d", code)
	}
	waitUntil(t, "the product gone", func() bool { return len(p.documents(t, "product")) == 0 && len(p.search(t, "blue hoodie")) == 0 })

	// The backfill (a command beside the running server) imports the
	// catalogue; the server's processor makes the documents ready.
	for i := range 3 {
		spec := shopifytest.ProductSpec{ID: int64(700 + i), Title: fmt.Sprintf("Mug %d", i), Handle: fmt.Sprintf("mug-%d", i), BodyHTML: "<p>Stoneware mug.</p>",
			Variants: []shopifytest.VariantSpec{{ID: int64(70 + i), Price: "12.00"}}, CreatedAt: at, UpdatedAt: at}
		if i == 2 {
			spec.Status = "draft"
		}
		admin.AddProduct(spec)
	}
	out := p.runCommand(t, "commerce", "backfill", "-since", "720h")
	if !strings.Contains(out, "done: 3 products (1 unchanged)") {
		t.Fatalf("backfill output:\n%s", out)
	}
	waitUntil(t, "two mugs ready", func() bool {
		ready := 0
		for _, d := range p.documents(t, "product") {
			if d.Status == "ready" && strings.HasPrefix(d.Title, "Mug") {
				ready++
			}
		}
		return ready == 2
	})
}

// runCommand runs the binary with args in the server's environment (its
// data dir and configuration) and returns its output.
func (p *pilot) runCommand(t *testing.T, args ...string) string {
	t.Helper()
	cmd := exec.Command(binary, args...)
	cmd.Env = append(os.Environ(), p.env...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%v: %v\n%s", args, err, out)
	}
	return string(out)
}
