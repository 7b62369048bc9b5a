package actors

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/frontdesk-ai/frontdesk/commerce"
	"github.com/frontdesk-ai/frontdesk/dashboard/liveview"
	"github.com/frontdesk-ai/frontdesk/events"
	"github.com/frontdesk-ai/frontdesk/persistence"
	"github.com/frontdesk-ai/frontdesk/tools"
)

// The confirmation protocol, enforced by the runtime: a financial tool
// only proposes (tools.Proposer); the turn's commit asks the customer in
// words the runtime writes, with Yes / No buttons; the customer's tap comes
// back as a button reply that the thread resolves with the customer grain
// before its transaction (only this customer, this conversation, before
// expiry); the customer grain executes a Yes once and tells the
// conversation every outcome. The model never writes these messages.

// Propose holds p pending in its customer's grain (tools.Proposer).
func (rt *Runtime) Propose(ctx context.Context, p tools.Proposal) (tools.Ask, error) {
	c, err := rt.ProposeConfirmation(ctx, Proposal{TenantID: p.TenantID, CustomerID: p.CustomerID, ConversationID: p.ConversationID,
		Action: p.Action, Arguments: p.Arguments, AmountMinor: p.AmountMinor, Currency: p.Currency, IdempotencyKey: p.IdempotencyKey,
		ApprovalReason: p.ApprovalReason})
	if err != nil {
		return tools.Ask{}, err
	}
	return tools.Ask{ConfirmationID: c.ID, Action: c.Action, AmountMinor: c.AmountMinor, Currency: c.Currency, ExpiresAt: c.ExpiresAt}, nil
}

// hasButtons reports whether channel has reply buttons.
func (rt *Runtime) hasButtons(channel string) bool { return rt.buttons == nil || rt.buttons(channel) }

// confirmCode is the one-time code that answers confirmation id on a
// channel without buttons: six digits derived from the id, so that only a
// deliberate answer naming this confirmation confirms it (a plain "yes"
// never does).
func confirmCode(id string) string {
	sum := sha256.Sum256([]byte("frontdesk confirmation code\x00" + id))
	return fmt.Sprintf("%06d", binary.BigEndian.Uint32(sum[:4])%1000000)
}

// codeAnswer matches a typed answer with a code: "482913" or "no 482913".
var codeAnswer = regexp.MustCompile(`(?i)^\s*(no\s+)?(\d{6})\s*[.!]?\s*$`)

// answerByCode resolves the pending confirmation of this conversation
// whose code the customer typed, on a channel without buttons; nil when the
// text answers none.
func (t *thread) answerByCode(ctx context.Context, rt *Runtime, text string) *tapped {
	m := codeAnswer.FindStringSubmatch(text)
	if m == nil || t.st.CustomerID == "" || t.st.Conv.ID == "" {
		return nil
	}
	pending, err := rt.Confirmations(ctx, t.st.TenantID, t.st.CustomerID)
	if err != nil {
		return &tapped{err: err}
	}
	for _, c := range pending {
		if c.ConversationID == t.st.Conv.ID && c.State == persistence.ConfirmationPending && confirmCode(c.ID) == m[2] {
			return t.answerConfirmation(ctx, rt, confirmButton(c.ID, m[1] == ""))
		}
	}
	return nil // six digits that answer nothing here: an ordinary message (an order number)
}

// confirmButton is the id of a confirmation's Yes or No button.
func confirmButton(id string, yes bool) string {
	if yes {
		return "confirm:" + id + ":yes"
	}
	return "confirm:" + id + ":no"
}

// parseConfirmButton reads a button id made by confirmButton.
func parseConfirmButton(buttonID string) (id string, yes, ok bool) {
	rest, ok := strings.CutPrefix(buttonID, "confirm:")
	if !ok {
		return "", false, false
	}
	switch {
	case strings.HasSuffix(rest, ":yes"):
		return strings.TrimSuffix(rest, ":yes"), true, true
	case strings.HasSuffix(rest, ":no"):
		return strings.TrimSuffix(rest, ":no"), false, true
	}
	return "", false, false
}

// tapped is what a customer's tap on a confirmation button did.
type tapped struct {
	c   persistence.Confirmation
	err error
}

// answerConfirmation resolves the confirmation a button names with the
// thread's own customer and conversation (before the transaction).
func (t *thread) answerConfirmation(ctx context.Context, rt *Runtime, buttonID string) *tapped {
	id, yes, ok := parseConfirmButton(buttonID)
	if !ok {
		return nil
	}
	if t.st.CustomerID == "" || t.st.Conv.ID == "" {
		return &tapped{err: invalid("no confirmation was asked in this conversation")}
	}
	c, err := rt.ResolveConfirmation(ctx, t.st.TenantID, t.st.CustomerID, Answer{ConfirmationID: id, ConversationID: t.st.Conv.ID, Yes: yes})
	return &tapped{c: c, err: err}
}

// sayRuntime queues a message the runtime writes to the customer (not the
// model, not a human); extra shapes its outbound record (buttons, a
// template).
func (t *thread) sayRuntime(ctx context.Context, tx Tx, rt *Runtime, conv *persistence.Conversation, text string, meta map[string]any, extra ...func(*events.MessageSend)) error {
	raw, err := json.Marshal(meta)
	if err != nil {
		return err
	}
	msg := &persistence.Message{Base: persistence.Base{TenantID: t.st.TenantID, Metadata: raw}, ConversationID: conv.ID,
		Direction: persistence.DirectionOutbound, Channel: conv.Channel, Sender: persistence.SenderSystem, Kind: "text",
		Text: text, DeliveryStatus: persistence.DeliveryPending}
	if err := t.enqueueOutbound(ctx, tx, rt, conv, msg, extra...); err != nil {
		return err
	}
	t.publish(persistence.LiveMessageCreated, conv.ID, liveview.NewMessage(*msg))
	return nil
}

// withButtons puts reply buttons under the message.
func withButtons(buttons ...events.Button) func(*events.MessageSend) {
	return func(s *events.MessageSend) { s.Buttons = buttons }
}

// withTemplate sends the message as an approved template.
func withTemplate(tmpl events.Template) func(*events.MessageSend) {
	return func(s *events.MessageSend) { s.Template = &tmpl }
}

// ask puts a pending confirmation to the customer.
func (t *thread) ask(ctx context.Context, tx Tx, rt *Runtime, conv *persistence.Conversation, a tools.Ask) error {
	lang := phrasesFor(t.st.Language)
	amount, until := commerce.FormatMinor(a.AmountMinor, a.Currency), a.ExpiresAt.UTC().Format("15:04 UTC")
	text := fmt.Sprintf(lang.ask, lang.action(a.Action), amount, a.Subject, until)
	if a.Action == tools.CreatePaymentIntent {
		text = fmt.Sprintf(lang.payAsk, amount, a.Subject, until)
	}
	if !rt.hasButtons(conv.Channel) {
		code := confirmCode(a.ConfirmationID)
		return t.sayRuntime(ctx, tx, rt, conv, text+" "+fmt.Sprintf(lang.codeHint, code, code),
			map[string]any{"confirmation_id": a.ConfirmationID, "confirmation": "asked"})
	}
	buttons := []events.Button{{ID: confirmButton(a.ConfirmationID, true), Title: lang.yes}, {ID: confirmButton(a.ConfirmationID, false), Title: lang.no}}
	return t.sayRuntime(ctx, tx, rt, conv, text, map[string]any{"confirmation_id": a.ConfirmationID, "confirmation": "asked", "buttons": buttons},
		withButtons(buttons...))
}

// acknowledge answers the customer's tap on a confirmation button.
func (t *thread) acknowledge(ctx context.Context, tx Tx, rt *Runtime, conv *persistence.Conversation, a *tapped) error {
	lang := phrasesFor(t.st.Language)
	var text string
	switch {
	case a.err != nil:
		text = lang.invalid
	case a.c.State == persistence.ConfirmationConfirmed && a.c.Action == tools.CreatePaymentIntent:
		text = fmt.Sprintf(lang.payConfirmed, commerce.FormatMinor(a.c.AmountMinor, a.c.Currency))
	case a.c.State == persistence.ConfirmationConfirmed:
		text = fmt.Sprintf(lang.confirmed, lang.action(a.c.Action), commerce.FormatMinor(a.c.AmountMinor, a.c.Currency), subjectOf(a.c))
	case a.c.State == persistence.ConfirmationAwaitingApproval:
		text = fmt.Sprintf(lang.review, lang.action(a.c.Action), commerce.FormatMinor(a.c.AmountMinor, a.c.Currency), subjectOf(a.c))
	default:
		text = fmt.Sprintf(lang.declined, subjectOf(a.c))
	}
	return t.sayRuntime(ctx, tx, rt, conv, text, map[string]any{"confirmation_id": a.c.ID, "confirmation": string(a.c.State)})
}

// subjectOf names what a confirmation is about: "#1001" for an order, a
// payment's description, else its id.
func subjectOf(c persistence.Confirmation) string {
	return cmp.Or(liveview.ConfirmationSubject(c), c.ID)
}

// PaymentNotice tells the conversation what became of a payment the
// customer was sent a link for ("paid", "failed", "refunded").
func (rt *Runtime) PaymentNotice(ctx context.Context, tenantID, conversationID, outcome string, amountMinor int64, currency string) error {
	_, err := rt.Command(ctx, Command{Kind: CommandNotice, TenantID: tenantID, ConversationID: conversationID,
		Note: "payment:" + outcome, Text: commerce.FormatMinor(amountMinor, currency)})
	return err
}

// outcomeText is what the customer is told when a confirmation reaches
// state (executed, expired, or failed for good); "" for no message.
func outcomeText(language string, c persistence.Confirmation, failedForGood bool) string {
	lang := phrasesFor(language)
	amount := commerce.FormatMinor(c.AmountMinor, c.Currency)
	switch {
	case c.State == persistence.ConfirmationExecuted && c.Action == tools.CreatePaymentIntent:
		var meta struct {
			Result struct {
				URL string `json:"url"`
			} `json:"result"`
		}
		_ = json.Unmarshal(c.Metadata, &meta)
		return fmt.Sprintf(lang.payLink, amount, meta.Result.URL)
	case c.State == persistence.ConfirmationExecuted:
		return fmt.Sprintf(lang.executed, lang.action(c.Action), amount, subjectOf(c))
	case c.State == persistence.ConfirmationExpired:
		return fmt.Sprintf(lang.expired, subjectOf(c))
	case c.State == persistence.ConfirmationDeclined && rejected(c):
		return fmt.Sprintf(lang.rejected, lang.action(c.Action), amount, subjectOf(c))
	case failedForGood:
		return fmt.Sprintf(lang.failed, lang.action(c.Action), amount, subjectOf(c))
	}
	return ""
}

// rejected reports whether a supervisor rejected c.
func rejected(c persistence.Confirmation) bool {
	var meta struct {
		Rejected bool `json:"rejected"`
	}
	_ = json.Unmarshal(c.Metadata, &meta)
	return meta.Rejected
}

// tellOutcome sends the conversation the outcome of c, off the grain.
func (g *customerGrain) tellOutcome(ctx actor.Context, c persistence.Confirmation) {
	meta := map[string]any{}
	_ = json.Unmarshal(c.Metadata, &meta)
	n, _ := meta["failed_executions"].(float64)
	text := outcomeText(g.d.customer.Language, c, c.State == persistence.ConfirmationConfirmed && int(n) >= maxExecutions)
	if text == "" || c.ConversationID == "" {
		return
	}
	rt := g.rt
	rt.inflight.Add(1)
	go func() {
		defer rt.inflight.Done()
		cctx, cancel := context.WithTimeout(context.Background(), rt.cfg.TurnTimeout)
		defer cancel()
		_, err := rt.Command(cctx, Command{Kind: CommandNotice, TenantID: c.TenantID, ConversationID: c.ConversationID, Text: text,
			Note: c.ID + ":" + string(c.State)})
		if err != nil {
			rt.log.Warn().Err(err).Str("confirmation_id", c.ID).Msg("the customer was not told a confirmation's outcome")
		}
	}()
}

// notice runs CommandNotice: the runtime tells the customer something
// (a confirmation's outcome), whoever writes the conversation.
func (t *thread) notice(ctx context.Context, tx Tx, rt *Runtime, conv persistence.Conversation, cmd Command) (CommandResult, error) {
	if strings.TrimSpace(cmd.Text) == "" {
		return CommandResult{}, invalid("notice: text is required")
	}
	if outcome, ok := strings.CutPrefix(cmd.Note, "payment:"); ok {
		// The runtime's words, in the customer's language, about Text (an
		// amount).
		lang := phrasesFor(t.st.Language)
		switch outcome {
		case "paid":
			cmd.Text = fmt.Sprintf(lang.paid, cmd.Text)
		case "failed":
			cmd.Text = fmt.Sprintf(lang.payFailed, cmd.Text)
		case "refunded":
			cmd.Text = fmt.Sprintf(lang.payRefunded, cmd.Text)
		default:
			return CommandResult{}, invalid("notice: unknown payment outcome " + outcome)
		}
	}
	if err := t.sayRuntime(ctx, tx, rt, &conv, cmd.Text, map[string]any{"notice": cmd.Note}); err != nil {
		return CommandResult{}, err
	}
	return CommandResult{Conversation: conv}, nil
}

// phrases are the runtime's words in one language.
type phrases struct {
	ask, yes, no, confirmed, declined, invalid, executed, expired, failed string
	review, rejected, refund                                              string
	payAsk, payConfirmed, payLink, paid, payFailed, payRefunded           string
	codeHint                                                              string
}

func (p phrases) action(a string) string {
	if a == tools.RefundOrder {
		return p.refund
	}
	return a
}

var phraseBook = map[string]phrases{
	"en": {ask: "Please confirm: %s of %s for order %s? Tap Yes to go ahead or No to cancel (valid until %s).", yes: "Yes", no: "No",
		confirmed: "Thank you. The %s of %s for order %s is on its way.", declined: "Understood: nothing will be done for order %s.",
		invalid:  "This confirmation is no longer valid (it expired, was answered already, or is not yours). Nothing was changed.",
		executed: "Done: the %s of %s for order %s has been made.", expired: "The request for order %s expired without an answer; nothing was done.",
		failed: "The %s of %s for order %s could not be completed. A member of our team will follow up.", review: "Thank you. The %s of %s for order %s needs a quick review by our team; we will let you know.", rejected: "Our team could not approve the %s of %s for order %s. A member of our team will follow up.",
		payAsk: "Please confirm: pay %s for %s? Tap Yes to receive a secure payment link, or No to cancel (valid until %s).", payConfirmed: "Thank you. Your secure link to pay %s is on its way.", payLink: "Here is your secure link to pay %s: %s", paid: "We received your payment of %s. Thank you!", payFailed: "Your payment of %s did not go through. You can try the link again or ask us for help.", payRefunded: "Your payment of %s has been refunded.",
		codeHint: "To confirm, reply %s; to cancel, reply NO %s.",
		refund:   "refund"},
	"es": {ask: "Por favor, confirme: ¿%s de %s para el pedido %s? Pulse Sí para continuar o No para cancelar (válido hasta las %s).", yes: "Sí", no: "No",
		confirmed: "Gracias. El %s de %s para el pedido %s está en marcha.", declined: "Entendido: no se hará nada con el pedido %s.",
		invalid:  "Esta confirmación ya no es válida (caducó, ya fue respondida o no es suya). No se ha cambiado nada.",
		executed: "Hecho: se ha realizado el %s de %s para el pedido %s.", expired: "La solicitud para el pedido %s caducó sin respuesta; no se hizo nada.",
		failed: "No se pudo completar el %s de %s para el pedido %s. Alguien de nuestro equipo se pondrá en contacto.", review: "Gracias. El %s de %s para el pedido %s necesita una revisión de nuestro equipo; le avisaremos.", rejected: "Nuestro equipo no pudo aprobar el %s de %s para el pedido %s. Alguien se pondrá en contacto.",
		payAsk: "Por favor, confirme: ¿pagar %s por %s? Pulse Sí para recibir un enlace de pago seguro, o No para cancelar (válido hasta las %s).", payConfirmed: "Gracias. Su enlace seguro para pagar %s está en camino.", payLink: "Aquí tiene su enlace seguro para pagar %s: %s", paid: "Hemos recibido su pago de %s. ¡Gracias!", payFailed: "Su pago de %s no se completó. Puede intentarlo de nuevo con el enlace o pedirnos ayuda.", payRefunded: "Su pago de %s ha sido reembolsado.",
		codeHint: "Para confirmar, responda %s; para cancelar, responda NO %s.",
		refund:   "reembolso"},
	"de": {ask: "Bitte bestätigen: %s von %s für Bestellung %s? Tippen Sie auf Ja, um fortzufahren, oder Nein zum Abbrechen (gültig bis %s).", yes: "Ja", no: "Nein",
		confirmed: "Danke. Die %s von %s für Bestellung %s ist unterwegs.", declined: "Verstanden: Für Bestellung %s wird nichts unternommen.",
		invalid:  "Diese Bestätigung ist nicht mehr gültig (abgelaufen, schon beantwortet oder nicht Ihre). Es wurde nichts geändert.",
		executed: "Erledigt: Die %s von %s für Bestellung %s wurde ausgeführt.", expired: "Die Anfrage zu Bestellung %s ist ohne Antwort abgelaufen; es wurde nichts unternommen.",
		failed: "Die %s von %s für Bestellung %s konnte nicht abgeschlossen werden. Jemand aus unserem Team meldet sich.", review: "Danke. Die %s von %s für Bestellung %s wird kurz von unserem Team geprüft; wir melden uns.", rejected: "Unser Team konnte die %s von %s für Bestellung %s nicht freigeben. Jemand aus dem Team meldet sich.",
		payAsk: "Bitte bestätigen: %s zahlen für %s? Tippen Sie auf Ja, um einen sicheren Zahlungslink zu erhalten, oder Nein zum Abbrechen (gültig bis %s).", payConfirmed: "Danke. Ihr sicherer Link zum Bezahlen von %s ist unterwegs.", payLink: "Hier ist Ihr sicherer Link zum Bezahlen von %s: %s", paid: "Wir haben Ihre Zahlung von %s erhalten. Vielen Dank!", payFailed: "Ihre Zahlung von %s ist nicht durchgegangen. Sie können den Link erneut nutzen oder uns um Hilfe bitten.", payRefunded: "Ihre Zahlung von %s wurde erstattet.",
		codeHint: "Zum Bestätigen antworten Sie %s, zum Abbrechen NO %s.",
		refund:   "Erstattung"},
	"fr": {ask: "Merci de confirmer : %s de %s pour la commande %s ? Touchez Oui pour continuer ou Non pour annuler (valable jusqu'à %s).", yes: "Oui", no: "Non",
		confirmed: "Merci. Le %s de %s pour la commande %s est en cours.", declined: "Compris : rien ne sera fait pour la commande %s.",
		invalid:  "Cette confirmation n'est plus valable (expirée, déjà répondue ou pas la vôtre). Rien n'a été modifié.",
		executed: "C'est fait : le %s de %s pour la commande %s a été effectué.", expired: "La demande pour la commande %s a expiré sans réponse ; rien n'a été fait.",
		failed: "Le %s de %s pour la commande %s n'a pas pu aboutir. Quelqu'un de notre équipe va vous recontacter.", review: "Merci. Le %s de %s pour la commande %s doit être vérifié par notre équipe ; nous vous tiendrons informé.", rejected: "Notre équipe n'a pas pu approuver le %s de %s pour la commande %s. Quelqu'un va vous recontacter.",
		payAsk: "Merci de confirmer : payer %s pour %s ? Touchez Oui pour recevoir un lien de paiement sécurisé, ou Non pour annuler (valable jusqu'à %s).", payConfirmed: "Merci. Votre lien sécurisé pour payer %s arrive.", payLink: "Voici votre lien sécurisé pour payer %s : %s", paid: "Nous avons bien reçu votre paiement de %s. Merci !", payFailed: "Votre paiement de %s n'a pas abouti. Vous pouvez réessayer avec le lien ou nous demander de l'aide.", payRefunded: "Votre paiement de %s a été remboursé.",
		codeHint: "Pour confirmer, répondez %s ; pour annuler, répondez NO %s.",
		refund:   "remboursement"},
	"pt": {ask: "Por favor, confirme: %s de %s para o pedido %s? Toque em Sim para continuar ou Não para cancelar (válido até %s).", yes: "Sim", no: "Não",
		confirmed: "Obrigado. O %s de %s para o pedido %s está a caminho.", declined: "Entendido: nada será feito no pedido %s.",
		invalid:  "Esta confirmação já não é válida (expirou, já foi respondida ou não é sua). Nada foi alterado.",
		executed: "Feito: o %s de %s para o pedido %s foi realizado.", expired: "O pedido de confirmação para o pedido %s expirou sem resposta; nada foi feito.",
		failed: "Não foi possível concluir o %s de %s para o pedido %s. Alguém da nossa equipa vai entrar em contacto.", review: "Obrigado. O %s de %s para o pedido %s precisa de uma revisão da nossa equipa; avisaremos.", rejected: "A nossa equipa não pôde aprovar o %s de %s para o pedido %s. Alguém entrará em contacto.",
		payAsk: "Por favor, confirme: pagar %s por %s? Toque em Sim para receber um link de pagamento seguro, ou Não para cancelar (válido até %s).", payConfirmed: "Obrigado. O seu link seguro para pagar %s está a caminho.", payLink: "Aqui está o seu link seguro para pagar %s: %s", paid: "Recebemos o seu pagamento de %s. Obrigado!", payFailed: "O seu pagamento de %s não foi concluído. Pode tentar de novo com o link ou pedir-nos ajuda.", payRefunded: "O seu pagamento de %s foi reembolsado.",
		codeHint: "Para confirmar, responda %s; para cancelar, responda NO %s.",
		refund:   "reembolso"},
	"it": {ask: "Conferma per favore: %s di %s per l'ordine %s? Tocca Sì per procedere o No per annullare (valido fino alle %s).", yes: "Sì", no: "No",
		confirmed: "Grazie. Il %s di %s per l'ordine %s è in corso.", declined: "Capito: non verrà fatto nulla per l'ordine %s.",
		invalid:  "Questa conferma non è più valida (scaduta, già risposta o non tua). Non è stato cambiato nulla.",
		executed: "Fatto: il %s di %s per l'ordine %s è stato eseguito.", expired: "La richiesta per l'ordine %s è scaduta senza risposta; non è stato fatto nulla.",
		failed: "Non è stato possibile completare il %s di %s per l'ordine %s. Qualcuno del nostro team ti ricontatterà.", review: "Grazie. Il %s di %s per l'ordine %s richiede una verifica del nostro team; ti faremo sapere.", rejected: "Il nostro team non ha potuto approvare il %s di %s per l'ordine %s. Qualcuno ti ricontatterà.",
		payAsk: "Conferma per favore: pagare %s per %s? Tocca Sì per ricevere un link di pagamento sicuro, o No per annullare (valido fino alle %s).", payConfirmed: "Grazie. Il tuo link sicuro per pagare %s è in arrivo.", payLink: "Ecco il tuo link sicuro per pagare %s: %s", paid: "Abbiamo ricevuto il tuo pagamento di %s. Grazie!", payFailed: "Il tuo pagamento di %s non è andato a buon fine. Puoi riprovare con il link o chiederci aiuto.", payRefunded: "Il tuo pagamento di %s è stato rimborsato.",
		codeHint: "Per confermare rispondi %s; per annullare rispondi NO %s.",
		refund:   "rimborso"},
}

// phrasesFor returns the runtime's words in language (ISO 639-1), English
// when it has none.
func phrasesFor(language string) phrases {
	if p, ok := phraseBook[language]; ok {
		return p
	}
	return phraseBook["en"]
}
