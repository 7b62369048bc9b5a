package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/frontdesk-ai/frontdesk/channels/whatsapp/whatsapptest"
	"github.com/frontdesk-ai/frontdesk/llmrouter/llmtest"
	"github.com/frontdesk-ai/frontdesk/persistence/sqlstore"
)

const (
	pilotSecret = "app-secret-for-tests"
	pilotToken  = "EAAG-test-token"
	pilotPNID   = "106540352242922"
	adminEmail  = "admin@example.com"
	adminPass   = "correct horse battery"
)

// pilot is a frontdesk serve subprocess wired to a fake Graph API and a
// scripted OpenAI-compatible model, with a logged-in admin.
type pilot struct {
	*server
	graph *whatsapptest.Graph
	llm   *llmtest.Server
	token string
	dir   string
	// env is the server's environment, for restarts.
	env []string
}

func startPilot(t *testing.T, env ...string) *pilot {
	t.Helper()
	graph := whatsapptest.NewGraph(t)
	graph.AcceptTokens(pilotToken)
	llm := llmtest.NewServer(t)
	dir := t.TempDir()
	env = append([]string{
		"FRONTDESK_DATA_DIR=" + dir,
		"FRONTDESK_ADMIN_EMAIL=" + adminEmail, "FRONTDESK_ADMIN_PASSWORD=" + adminPass,
		"FRONTDESK_WHATSAPP_VERIFY_TOKEN=verify-me", "FRONTDESK_WHATSAPP_APP_SECRET=" + pilotSecret,
		"FRONTDESK_WHATSAPP_ACCESS_TOKEN=" + pilotToken, "FRONTDESK_WHATSAPP_PHONE_NUMBER_ID=" + pilotPNID,
		"FRONTDESK_GRAPH_API_URL=" + graph.BaseURL(),
		"FRONTDESK_LLM_BASE_URL=" + llm.BaseURL(), "FRONTDESK_LLM_MODEL=" + llmtest.Model,
	}, env...)
	s := startServer(t, env...)
	s.waitReady(t)
	p := &pilot{server: s, graph: graph, llm: llm, dir: dir, env: env}
	var login struct{ Token string }
	if code := p.api(t, "POST", "/api/v1/auth/login", map[string]string{"email": adminEmail, "password": adminPass}, &login); code != 200 || login.Token == "" {
		t.Fatalf("login: %d", code)
	}
	p.token = login.Token
	return p
}

// crashAndRestart kills the server with SIGKILL and starts it again on
// the same data dir (sessions survive in the store).
func (p *pilot) crashAndRestart(t *testing.T) {
	t.Helper()
	if err := p.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	<-p.done
	p.server = startServer(t, p.env...)
	p.waitReady(t)
}

func (p *pilot) api(t *testing.T, method, path string, body, out any) int {
	t.Helper()
	var rd *bytes.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	} else {
		rd = bytes.NewReader(nil)
	}
	req, _ := http.NewRequest(method, "http://"+p.addr+path, rd)
	req.Header.Set("Content-Type", "application/json")
	if p.token != "" {
		req.Header.Set("Authorization", "Bearer "+p.token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if out != nil {
		_ = json.NewDecoder(resp.Body).Decode(out)
	}
	return resp.StatusCode
}

func (p *pilot) webhook(t *testing.T, body []byte, secret string) int {
	t.Helper()
	req, err := whatsapptest.NewWebhookRequest(context.Background(), "http://"+p.addr+"/webhooks/whatsapp", secret, body)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

type apiConversation struct {
	ID       string `json:"id"`
	Status   string `json:"status"`
	Writer   string `json:"writer"`
	Customer struct {
		ID    string `json:"id"`
		Name  string `json:"name"`
		Phone string `json:"phone"`
	} `json:"customer"`
}

type apiMessage struct {
	ID               string `json:"id"`
	Direction        string `json:"direction"`
	Text             string `json:"text"`
	Status           string `json:"status"`
	ChannelMessageID string `json:"channel_message_id"`
	Error            string `json:"error"`
}

// conversationOf returns the conversation of the customer with phone +waID.
func (p *pilot) conversationOf(t *testing.T, waID string) (apiConversation, bool) {
	t.Helper()
	var list struct{ Conversations []apiConversation }
	if code := p.api(t, "GET", "/api/v1/conversations?limit=500", nil, &list); code != 200 {
		t.Fatalf("list conversations: %d", code)
	}
	for _, c := range list.Conversations {
		if c.Customer.Phone == "+"+waID {
			return c, true
		}
	}
	return apiConversation{}, false
}

func (p *pilot) messages(t *testing.T, conversationID string) []apiMessage {
	t.Helper()
	var list struct{ Messages []apiMessage }
	if code := p.api(t, "GET", "/api/v1/conversations/"+conversationID+"/messages", nil, &list); code != 200 {
		t.Fatalf("list messages: %d", code)
	}
	return list.Messages
}

// waitUntil polls cond; it waits for asynchronous effects and asserts
// nothing about speed.
func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(45 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (p *pilot) sentTo(waID string) []whatsapptest.Sent {
	var out []whatsapptest.Sent
	for _, s := range p.graph.Sent() {
		if s.To == waID {
			out = append(out, s)
		}
	}
	return out
}

// textRequests counts the send requests (failed ones included) with text.
func (p *pilot) textRequests(text string) int {
	n := 0
	for _, r := range p.graph.Requests() {
		if tx, ok := r.Body["text"].(map[string]any); ok && tx["body"] == text {
			n++
		}
	}
	return n
}

func (p *pilot) markedRead(wamid string) bool {
	for _, r := range p.graph.Requests() {
		if r.Body["status"] == "read" && r.Body["message_id"] == wamid {
			return true
		}
	}
	return false
}

// wsFrame is one frame of /ws.
type wsFrame struct {
	ID             int64           `json:"id"`
	Type           string          `json:"type"`
	ConversationID string          `json:"conversation_id"`
	Data           json.RawMessage `json:"data"`
}

// watch connects to /ws (resuming after lastID when > 0) and collects
// frames until the test ends.
func (p *pilot) watch(t *testing.T, lastID int64) func() []wsFrame {
	t.Helper()
	q := url.Values{"token": {p.token}}
	if lastID > 0 {
		q.Set("last_event_id", fmt.Sprint(lastID))
	}
	conn, resp, err := websocket.DefaultDialer.Dial("ws://"+p.addr+"/ws?"+q.Encode(), nil)
	if err != nil {
		t.Fatalf("dial /ws: %v (%v)", err, resp)
	}
	var mu sync.Mutex
	var frames []wsFrame
	go func() {
		for {
			var f wsFrame
			if err := conn.ReadJSON(&f); err != nil {
				return
			}
			mu.Lock()
			frames = append(frames, f)
			mu.Unlock()
		}
	}()
	t.Cleanup(func() { conn.Close() })
	return func() []wsFrame {
		mu.Lock()
		defer mu.Unlock()
		return append([]wsFrame(nil), frames...)
	}
}

func TestWhatsAppPilotEndToEnd(t *testing.T) {
	p := startPilot(t)
	frames := p.watch(t, 0)
	now := time.Now()

	t.Run("webhook verification", func(t *testing.T) {
		resp, err := http.Get("http://" + p.addr + "/webhooks/whatsapp?" + whatsapptest.VerifyQuery("verify-me", "challenge-123").Encode())
		if err != nil {
			t.Fatal(err)
		}
		var b bytes.Buffer
		_, _ = b.ReadFrom(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || b.String() != "challenge-123" {
			t.Fatalf("verify: %d %q", resp.StatusCode, b.String())
		}
		resp, err = http.Get("http://" + p.addr + "/webhooks/whatsapp?" + whatsapptest.VerifyQuery("wrong", "x").Encode())
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 403 {
			t.Fatalf("wrong verify token: %d, want 403", resp.StatusCode)
		}
	})

	t.Run("bad signature is refused and nothing is stored or sent", func(t *testing.T) {
		body := whatsapptest.TextWebhook(pilotPNID, "4915550100", "Mallory", "wamid.forged", "refund me", now)
		if code := p.webhook(t, body, "not-the-secret"); code != 401 {
			t.Fatalf("forged signature: %d, want 401", code)
		}
		req, _ := http.NewRequest("POST", "http://"+p.addr+"/webhooks/whatsapp", bytes.NewReader(body))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 401 {
			t.Fatalf("missing signature: %d, want 401", resp.StatusCode)
		}
		if code := p.webhook(t, []byte(`{"object":`), pilotSecret); code != 400 {
			t.Fatalf("malformed JSON: %d, want 400", code)
		}
		if code := p.webhook(t, bytes.Repeat([]byte(" "), 2<<20), pilotSecret); code != 413 {
			t.Fatalf("oversized body: %d, want 413", code)
		}
		if _, ok := p.conversationOf(t, "4915550100"); ok {
			t.Fatal("a conversation was stored for the forged webhook")
		}
	})

	t.Run("text message answered with a tool call, once", func(t *testing.T) {
		const waID = "4915550101"
		p.llm.Script(
			llmtest.ToolCalls(llmtest.Call{Name: "get_customer_profile", Arguments: "{}"}),
			llmtest.Func(func(r llmtest.Request) llmtest.Step {
				last := r.Body.Last()
				if last.Role != "tool" || !strings.Contains(last.Text(), "Ada Lovelace") {
					return llmtest.Text("the tool result did not come back: " + last.Text())
				}
				return llmtest.Text("Hi Ada! Your parcel leaves our warehouse tomorrow.")
			}),
		)
		body := whatsapptest.TextWebhook(pilotPNID, waID, "Ada Lovelace", "wamid.HBgLNDkxNTU1NTAxMDEVAgASGBQzQUI", "Where is my parcel?", now)
		if code := p.webhook(t, body, pilotSecret); code != 200 {
			t.Fatalf("webhook: %d", code)
		}
		if code := p.webhook(t, body, pilotSecret); code != 200 { // Meta retries
			t.Fatalf("redelivered webhook: %d", code)
		}
		waitUntil(t, "the reply at the Graph API", func() bool { return len(p.sentTo(waID)) > 0 })
		sent := p.sentTo(waID)
		if len(sent) != 1 || sent[0].Text != "Hi Ada! Your parcel leaves our warehouse tomorrow." || sent[0].Token != pilotToken || sent[0].PhoneNumberID != pilotPNID {
			t.Fatalf("sent = %+v", sent)
		}
		reqs := p.llm.Requests()
		if len(reqs) != 2 {
			t.Fatalf("model requests = %d, want 2 (tool call, then answer)", len(reqs))
		}
		if names := strings.Join(reqs[0].Body.ToolNames(), ","); names != "get_customer_profile,list_customer_orders,get_order,search_knowledge,schedule_followup,create_ticket,handoff_to_human" {
			t.Fatalf("tools offered = %s", names)
		}
		if first := reqs[0].Body.Messages; first[0].Role != "system" || first[len(first)-1].Text() != "Where is my parcel?" {
			t.Fatalf("first request messages = %+v", first)
		}
		waitUntil(t, "the inbound message marked read", func() bool { return p.markedRead("wamid.HBgLNDkxNTU1NTAxMDEVAgASGBQzQUI") })

		conv, ok := p.conversationOf(t, waID)
		if !ok || conv.Customer.Name != "Ada Lovelace" || conv.Status != "open" || conv.Writer != "ai" {
			t.Fatalf("conversation = %+v", conv)
		}
		var msgs []apiMessage
		waitUntil(t, "the reply marked sent", func() bool {
			msgs = p.messages(t, conv.ID)
			return len(msgs) == 2 && msgs[1].Status == "sent"
		})
		if msgs[0].Direction != "inbound" || msgs[0].ChannelMessageID != "wamid.HBgLNDkxNTU1NTAxMDEVAgASGBQzQUI" ||
			msgs[1].Direction != "outbound" || msgs[1].ChannelMessageID != sent[0].WAMID {
			t.Fatalf("messages = %+v", msgs)
		}
		// Delivery reports move the status forward only.
		for _, st := range []string{"delivered", "sent", "read"} {
			if code := p.webhook(t, whatsapptest.StatusWebhook(pilotPNID, waID, sent[0].WAMID, st, now), pilotSecret); code != 200 {
				t.Fatalf("status webhook: %d", code)
			}
		}
		waitUntil(t, "the reply read", func() bool { return p.messages(t, conv.ID)[1].Status == "read" })
		time.Sleep(300 * time.Millisecond)
		if len(p.sentTo(waID)) != 1 || len(p.llm.Requests()) != 2 {
			t.Fatalf("after the redelivered webhook: %d replies, %d model calls; want 1 and 2", len(p.sentTo(waID)), len(p.llm.Requests()))
		}
	})

	t.Run("a tool call that breaks its schema is not executed and the model sees why", func(t *testing.T) {
		const waID = "4915550102"
		var toolResult string
		p.llm.Script(
			llmtest.ToolCalls(llmtest.Call{Name: "create_ticket", Arguments: `{"priority":"asap"}`}),
			llmtest.Func(func(r llmtest.Request) llmtest.Step {
				toolResult = r.Body.Last().Text()
				return llmtest.Text("Could you tell me a bit more about the problem?")
			}),
		)
		if code := p.webhook(t, whatsapptest.TextWebhook(pilotPNID, waID, "Bob", "wamid.bob1", "it broke", now), pilotSecret); code != 200 {
			t.Fatalf("webhook: %d", code)
		}
		waitUntil(t, "the reply", func() bool { return len(p.sentTo(waID)) == 1 })
		if !strings.Contains(toolResult, "error") || !strings.Contains(toolResult, "subject") || !strings.Contains(toolResult, "priority") {
			t.Fatalf("tool result the model saw = %q, want the validation error", toolResult)
		}
		conv, _ := p.conversationOf(t, waID)
		if conv.Status != "open" {
			t.Fatalf("conversation %+v", conv)
		}
	})

	t.Run("Graph API failing twice then accepting sends one reply", func(t *testing.T) {
		const waID, wamid = "4915550103", "wamid.carol1"
		p.llm.Script(llmtest.Func(func(llmtest.Request) llmtest.Step {
			// Fail the reply's sends, not the read receipt before it.
			deadline := time.Now().Add(10 * time.Second)
			for !p.markedRead(wamid) && time.Now().Before(deadline) {
				time.Sleep(10 * time.Millisecond)
			}
			p.graph.FailNext(2, whatsapptest.ServerError())
			return llmtest.Text("Sorry for the wait, Carol.")
		}))
		if code := p.webhook(t, whatsapptest.TextWebhook(pilotPNID, waID, "Carol", wamid, "hello?", now), pilotSecret); code != 200 {
			t.Fatalf("webhook: %d", code)
		}
		waitUntil(t, "the reply", func() bool { return len(p.sentTo(waID)) == 1 })
		if n := p.textRequests("Sorry for the wait, Carol."); n != 3 {
			t.Fatalf("send requests = %d, want 3 (two failures, one success)", n)
		}
		conv, _ := p.conversationOf(t, waID)
		waitUntil(t, "the reply marked sent", func() bool {
			m := p.messages(t, conv.ID)
			return len(m) == 2 && m[1].Status == "sent"
		})
	})

	t.Run("outside the 24-hour window the reply fails with the reason and is not retried", func(t *testing.T) {
		const waID, wamid = "4915550104", "wamid.dave1"
		p.llm.Script(llmtest.Func(func(llmtest.Request) llmtest.Step {
			deadline := time.Now().Add(10 * time.Second)
			for !p.markedRead(wamid) && time.Now().Before(deadline) {
				time.Sleep(10 * time.Millisecond)
			}
			p.graph.FailNext(1, whatsapptest.ReEngagement())
			return llmtest.Text("Dave, here is your answer.")
		}))
		if code := p.webhook(t, whatsapptest.TextWebhook(pilotPNID, waID, "Dave", wamid, "hi", now), pilotSecret); code != 200 {
			t.Fatalf("webhook: %d", code)
		}
		conv := apiConversation{}
		waitUntil(t, "the conversation", func() bool { var ok bool; conv, ok = p.conversationOf(t, waID); return ok })
		var msgs []apiMessage
		waitUntil(t, "the reply failed", func() bool {
			msgs = p.messages(t, conv.ID)
			return len(msgs) == 2 && msgs[1].Status == "failed"
		})
		if !strings.Contains(msgs[1].Error, "131047") {
			t.Fatalf("failed reply error = %q, want the 131047 reason", msgs[1].Error)
		}
		time.Sleep(500 * time.Millisecond)
		if n := p.textRequests("Dave, here is your answer."); n != 1 {
			t.Fatalf("send requests = %d, want 1", n)
		}
	})

	t.Run("model down: the offline responder acknowledges, opens a ticket and hands over", func(t *testing.T) {
		const waID = "4915550105"
		p.llm.Down()
		defer p.llm.Up()
		if code := p.webhook(t, whatsapptest.TextWebhook(pilotPNID, waID, "Eve", "wamid.eve1", "my order never arrived", now), pilotSecret); code != 200 {
			t.Fatalf("webhook: %d", code)
		}
		waitUntil(t, "the acknowledgement", func() bool { return len(p.sentTo(waID)) == 1 })
		if ack := p.sentTo(waID)[0].Text; !strings.Contains(ack, "ticket") {
			t.Fatalf("acknowledgement = %q", ack)
		}
		conv, _ := p.conversationOf(t, waID)
		if conv.Status != "waiting_human" {
			t.Fatalf("conversation status = %q, want waiting_human", conv.Status)
		}
		// The ticket is in the store (read through a second connection).
		store, err := sqlstore.Open(context.Background(), sqlstore.Config{DataDir: p.dir})
		if err != nil {
			t.Fatal(err)
		}
		defer store.Close()
		var n int
		if err := store.DB().QueryRow(`SELECT COUNT(*) FROM tickets WHERE customer_id = ? AND conversation_id = ?`, conv.Customer.ID, conv.ID).Scan(&n); err != nil || n != 1 {
			t.Fatalf("tickets for the conversation = %d (%v), want 1", n, err)
		}
	})

	t.Run("the live stream carries a turn in order and a resume misses nothing", func(t *testing.T) {
		conv, _ := p.conversationOf(t, "4915550101")
		var all []wsFrame
		waitUntil(t, "frames", func() bool { all = frames(); return len(all) > 8 })
		for i := 1; i < len(all); i++ {
			if all[i].ID != all[i-1].ID+1 {
				t.Fatalf("frame ids %d then %d: want dense and increasing", all[i-1].ID, all[i].ID)
			}
		}
		var turn []string
		for _, f := range all {
			if f.ConversationID == conv.ID {
				turn = append(turn, f.Type)
			}
		}
		want := "conversation.updated,message.created,tool.called,message.created,message.status"
		if got := strings.Join(turn, ","); !strings.HasPrefix(got, want) {
			t.Fatalf("events of the turn = %s, want them to start %s", got, want)
		}
		// Reconnect after the third frame: everything since comes again.
		resumed := p.watch(t, all[2].ID)
		waitUntil(t, "the resumed stream", func() bool { return len(resumed()) >= len(all)-3 })
		got := resumed()
		for i, f := range all[3:] {
			if got[i].ID != f.ID || got[i].Type != f.Type {
				t.Fatalf("resumed frame %d = %d %s, want %d %s", i, got[i].ID, got[i].Type, f.ID, f.Type)
			}
		}
	})
	p.stop(t)
}

// TestHumanTakeoverEndToEnd: an agent takes a conversation over, the AI
// stops answering, the agent's reply reaches the customer through the
// channel, and after hand-back the AI answers again and sees the agent's
// note.
func TestHumanTakeoverEndToEnd(t *testing.T) {
	p := startPilot(t)
	const waID = "4915550200"
	now := time.Now()
	p.llm.Script(llmtest.Text("Hi! How can I help?"))
	if code := p.webhook(t, whatsapptest.TextWebhook(pilotPNID, waID, "Grace", "wamid.g1", "hello", now), pilotSecret); code != 200 {
		t.Fatalf("webhook: %d", code)
	}
	waitUntil(t, "the AI's first answer", func() bool { return len(p.sentTo(waID)) == 1 })
	conv, _ := p.conversationOf(t, waID)
	var c apiConversation
	if code := p.api(t, "POST", "/api/v1/conversations/"+conv.ID+"/takeover", nil, &c); code != 200 || !strings.HasPrefix(c.Writer, "user:") {
		t.Fatalf("takeover: %d %+v", code, c)
	}
	modelCalls := len(p.llm.Requests())
	if code := p.webhook(t, whatsapptest.TextWebhook(pilotPNID, waID, "Grace", "wamid.g2", "I want a refund", now), pilotSecret); code != 200 {
		t.Fatalf("webhook: %d", code)
	}
	waitUntil(t, "the message stored", func() bool { return len(p.messages(t, conv.ID)) == 3 })
	if code := p.api(t, "POST", "/api/v1/conversations/"+conv.ID+"/replies", map[string]string{"text": "Grace, I'm on it. — Ann"}, nil); code != 201 {
		t.Fatalf("agent reply: %d", code)
	}
	waitUntil(t, "the agent's reply at the Graph API", func() bool { return len(p.sentTo(waID)) == 2 })
	if got := p.sentTo(waID)[1].Text; got != "Grace, I'm on it. — Ann" {
		t.Fatalf("second message to the customer = %q, want the agent's", got)
	}
	if n := len(p.llm.Requests()); n != modelCalls {
		t.Fatalf("the model was called %d times while a human wrote", n-modelCalls)
	}
	var note string
	p.llm.Script(llmtest.Func(func(r llmtest.Request) llmtest.Step {
		note = r.Body.Messages[0].Text()
		return llmtest.Text("Your refund is approved.")
	}))
	if code := p.api(t, "POST", "/api/v1/conversations/"+conv.ID+"/handback", map[string]string{"note": "Refund approved, tell her."}, &c); code != 200 || c.Writer != "ai" {
		t.Fatalf("handback: %d %+v", code, c)
	}
	if code := p.webhook(t, whatsapptest.TextWebhook(pilotPNID, waID, "Grace", "wamid.g3", "so?", now), pilotSecret); code != 200 {
		t.Fatalf("webhook: %d", code)
	}
	waitUntil(t, "the AI answering again", func() bool { return len(p.sentTo(waID)) == 3 })
	if !strings.Contains(note, "Refund approved, tell her.") {
		t.Fatalf("the model's context lacks the hand-back note: %q", note)
	}
	p.stop(t)
}
