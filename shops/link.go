package shops

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/frontdesk-ai/frontdesk/commerce"
	"github.com/frontdesk-ai/frontdesk/persistence"
)

// Customers are linked, never guessed: a shop customer is the chat customer
// whose phone (E.164, as WhatsApp verified it) or email is theirs; a name
// never links anyone. Two customers found to be one person are merged: the
// older one keeps everything, the merge records what moved, and an admin
// can undo it (after which those two are never merged again).

// IdentityID is the customer identity of a shop customer: unique per
// source (the identity's channel) and shop.
func IdentityID(shop, customerExternalID string) string { return shop + "/" + customerExternalID }

// link returns the customer of shop customer c (nil for a guest order) and
// the order's contact, creating, linking or merging as needed.
func (a *Applier) link(ctx context.Context, tx Tx, tenantID string, c *commerce.Customer, phone, email string, ch *change) (string, error) {
	if c != nil {
		phone, email = cmp.Or(c.Phone, phone), cmp.Or(c.Email, email)
	}
	phone, email = commerce.NormalizePhone(phone, ""), commerce.NormalizeEmail(email)
	var owner string
	known := false
	if c != nil && c.ExternalID != "" {
		ident, err := tx.GetCustomerIdentity(ctx, tenantID, c.Source, IdentityID(c.Shop, c.ExternalID))
		switch {
		case err == nil:
			owner, known = ident.CustomerID, true
		case !errors.Is(err, persistence.ErrNotFound):
			return "", err
		}
	}
	matches, err := tx.FindCustomersByContact(ctx, tenantID, phone, email)
	if err != nil {
		return "", err
	}
	if owner == "" && len(matches) > 0 {
		owner = matches[0].ID
		by := "email"
		if phone != "" && matches[0].Phone == phone {
			by = "phone"
		}
		if err := a.audit(ctx, tx, tenantID, ActionLinked, owner, map[string]any{"by": by, "shop": shopOf(c), "shop_customer": externalOf(c)}); err != nil {
			return "", err
		}
	}
	if owner == "" {
		cust := &persistence.Customer{Base: persistence.Base{TenantID: tenantID}, Phone: phone, Email: email}
		if c != nil {
			cust.Name = c.Name()
		}
		if err := tx.CreateCustomer(ctx, cust); err != nil {
			return "", err
		}
		owner = cust.ID
	}
	if c != nil && c.ExternalID != "" && !known {
		// A duplicate (another writer first) fails the transaction, which
		// the consumer retries: then the identity is known.
		ident := &persistence.CustomerIdentity{Base: persistence.Base{TenantID: tenantID}, CustomerID: owner,
			Channel: c.Source, ExternalID: IdentityID(c.Shop, c.ExternalID), DisplayName: c.Name()}
		if err := tx.CreateCustomerIdentity(ctx, ident); err != nil {
			return "", err
		}
	}
	for _, m := range matches {
		if m.ID == owner {
			continue
		}
		kept, err := a.merge(ctx, tx, tenantID, owner, m, phone, email, ch)
		if err != nil {
			return "", err
		}
		owner = kept
	}
	if err := a.fillProfile(ctx, tx, tenantID, owner, c, phone, email, ch); err != nil {
		return "", err
	}
	return owner, nil
}

// fillProfile gives the customer the shop's name, phone and email where it
// has none.
func (a *Applier) fillProfile(ctx context.Context, tx Tx, tenantID, id string, c *commerce.Customer, phone, email string, ch *change) error {
	cust, err := tx.GetCustomer(ctx, tenantID, id)
	if err != nil {
		return err
	}
	changed := false
	set := func(f *string, v string) {
		if *f == "" && v != "" {
			*f, changed = v, true
		}
	}
	set(&cust.Phone, phone)
	set(&cust.Email, email)
	if c != nil {
		set(&cust.Name, c.Name())
	}
	if !changed {
		return nil
	}
	if err := tx.UpdateCustomer(ctx, &cust); err != nil {
		return err
	}
	ch.touch(id, "profile")
	return nil
}

// merge makes owner and other one customer, unless an admin undid their
// merge before; it returns the customer kept (the older one).
func (a *Applier) merge(ctx context.Context, tx Tx, tenantID, owner string, other persistence.Customer, phone, email string, ch *change) (string, error) {
	past, err := tx.ListCustomerMerges(ctx, tenantID, owner)
	if err != nil {
		return "", err
	}
	for _, m := range past {
		if m.UndoneAt != nil && (m.KeptCustomerID == other.ID || m.MergedCustomerID == other.ID) {
			return owner, nil
		}
	}
	own, err := tx.GetCustomer(ctx, tenantID, owner)
	if err != nil {
		return "", err
	}
	kept, gone := own, other
	if other.CreatedAt.Before(own.CreatedAt) {
		kept, gone = other, own
	}
	moved, err := tx.MoveCustomerRecords(ctx, tenantID, gone.ID, kept.ID)
	if err != nil {
		return "", err
	}
	raw, err := json.Marshal(moved)
	if err != nil {
		return "", err
	}
	reason := "email"
	if phone != "" && other.Phone == phone {
		reason = "phone"
	}
	m := &persistence.CustomerMerge{Base: persistence.Base{TenantID: tenantID}, KeptCustomerID: kept.ID,
		MergedCustomerID: gone.ID, Reason: reason, Moved: raw}
	if err := tx.CreateCustomerMerge(ctx, m); err != nil {
		return "", err
	}
	if err := a.audit(ctx, tx, tenantID, ActionMerged, kept.ID, map[string]any{"merge_id": m.ID, "merged_customer_id": gone.ID,
		"by": reason, "moved": moved}); err != nil {
		return "", err
	}
	ch.touch(kept.ID, "orders", "tickets", "profile")
	ch.touch(gone.ID, "orders", "tickets", "profile")
	ch.moved = append(ch.moved, moved.Conversations...)
	return kept.ID, nil
}

// Unmerge undoes merge id: what moved goes back to the merged customer, and
// the two are never merged again. byUserID is the admin.
func (a *Applier) Unmerge(ctx context.Context, tenantID, id, byUserID string) (persistence.CustomerMerge, error) {
	var ch change
	var m persistence.CustomerMerge
	err := a.store.InTx(ctx, func(tx Tx) error {
		ch = change{}
		var err error
		if m, err = tx.GetCustomerMerge(ctx, tenantID, id); err != nil {
			return err
		}
		if m.UndoneAt != nil {
			return fmt.Errorf("merge %s was undone already: %w", id, persistence.ErrInvalid)
		}
		moved, err := m.Records()
		if err != nil {
			return err
		}
		if err := tx.RestoreCustomerRecords(ctx, tenantID, moved, m.MergedCustomerID); err != nil {
			return err
		}
		now := a.now().UTC()
		m.UndoneAt, m.UndoneBy = &now, byUserID
		if err := tx.UpdateCustomerMerge(ctx, &m); err != nil {
			return err
		}
		ch.touch(m.KeptCustomerID, "orders", "tickets", "profile")
		ch.touch(m.MergedCustomerID, "orders", "tickets", "profile")
		ch.moved = append(ch.moved, moved.Conversations...)
		return tx.CreateAuditEvent(ctx, &persistence.AuditEvent{Base: persistence.Base{TenantID: tenantID},
			ActorKind: persistence.ActorUser, ActorID: byUserID, Action: ActionUnmerged, TargetKind: "customer", TargetID: m.KeptCustomerID,
			Data: mustJSON(map[string]any{"merge_id": m.ID, "merged_customer_id": m.MergedCustomerID, "moved": moved})})
	})
	if err != nil {
		return m, err
	}
	a.tell(ctx, tenantID, ch)
	return m, nil
}

func (a *Applier) audit(ctx context.Context, tx Tx, tenantID, action, customerID string, data map[string]any) error {
	return tx.CreateAuditEvent(ctx, &persistence.AuditEvent{Base: persistence.Base{TenantID: tenantID, CreatedAt: a.now()},
		ActorKind: persistence.ActorSystem, ActorID: "commerce", Action: action, TargetKind: "customer", TargetID: customerID,
		Data: mustJSON(data)})
}

func mustJSON(v any) json.RawMessage {
	b, err := json.Marshal(v)
	if err != nil {
		return json.RawMessage(`{}`)
	}
	return b
}

func shopOf(c *commerce.Customer) string {
	if c == nil {
		return ""
	}
	return c.Shop
}

func externalOf(c *commerce.Customer) string {
	if c == nil {
		return ""
	}
	return c.ExternalID
}
