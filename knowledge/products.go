package knowledge

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/frontdesk-ai/frontdesk/commerce"
	"github.com/frontdesk-ai/frontdesk/events"
	"github.com/frontdesk-ai/frontdesk/knowledge/extract"
	"github.com/frontdesk-ai/frontdesk/persistence"
)

// FormatProduct is the format of a document generated from a shop's
// product: its file is the product as JSON (commerce.Product).
const FormatProduct = "product"

// ProductKey is the external key of the document of a shop's product.
func ProductKey(p commerce.Product) string {
	return p.Source + ":" + strings.ToLower(p.Shop) + ":product:" + p.ExternalID
}

// catalogue is who changes product documents.
var catalogue = Actor{Kind: persistence.ActorSystem, ID: "catalogue"}

// UpsertProduct makes the shop's product a knowledge document of kind
// product (its description, options, variants, prices and availability),
// or removes that document when the product was deleted or is not active.
// An update older than the stored one, or one that changes nothing, is
// ignored. It reports whether the knowledge base changed.
func (s *Service) UpsertProduct(ctx context.Context, tenantID string, p commerce.Product) (bool, error) {
	key := ProductKey(p)
	if p.Deleted || p.Status != "active" {
		var deleted string
		err := s.store.InTx(ctx, func(tx Tx) error {
			doc, err := tx.GetKnowledgeDocumentByExternalKey(ctx, tenantID, key)
			if errors.Is(err, persistence.ErrNotFound) {
				return nil
			}
			if err != nil {
				return err
			}
			deleted = doc.ID
			return s.deleteIn(ctx, tx, catalogue, doc)
		})
		if err != nil || deleted == "" {
			return false, err
		}
		return true, s.forget(tenantID, deleted)
	}
	if p.Currency == "" {
		return false, fmt.Errorf("knowledge: product %s has no currency: %w", p.ExternalID, persistence.ErrInvalid)
	}
	data, err := json.Marshal(p)
	if err != nil {
		return false, err
	}
	if _, err := productDocument(data); err != nil {
		return false, fmt.Errorf("knowledge: %w: %w", persistence.ErrInvalid, err)
	}
	tags, _ := cleanTags(p.Tags)
	if len(tags) > maxTags {
		tags = tags[:maxTags]
	}
	changed := false
	err = s.store.InTx(ctx, func(tx Tx) error {
		doc, err := tx.GetKnowledgeDocumentByExternalKey(ctx, tenantID, key)
		switch {
		case errors.Is(err, persistence.ErrNotFound):
			doc = persistence.KnowledgeDocument{Base: persistence.Base{TenantID: tenantID}, Source: p.Source, ExternalKey: key, Revision: 1}
		case err != nil:
			return err
		default:
			_, old, err := tx.GetKnowledgeSource(ctx, tenantID, doc.ID, doc.Revision)
			if err == nil {
				var prev commerce.Product
				if json.Unmarshal(old, &prev) == nil && (bytes.Equal(old, data) || prev.UpdatedAt.After(p.UpdatedAt)) {
					return nil // the same product, or an older update
				}
			}
			doc.Revision++
		}
		doc.Title, doc.Kind, doc.Tags, doc.SourceURL = cut(firstOf(p.Title, "Product "+p.ExternalID), maxTitle), persistence.KnowledgeProduct, tags, p.URL
		doc.Format, doc.ContentType, doc.SizeBytes = FormatProduct, "application/json", int64(len(data))
		doc.Status, doc.Error = persistence.KnowledgeProcessing, ""
		action := ActionRevised
		if doc.ID == "" {
			action = ActionUploaded
			if err := tx.CreateKnowledgeDocument(ctx, &doc); err != nil {
				return err
			}
		} else if err := tx.UpdateKnowledgeDocument(ctx, &doc); err != nil {
			return err
		}
		if err := tx.PutKnowledgeSource(ctx, tenantID, doc.ID, doc.Revision, key+".json", data); err != nil {
			return err
		}
		if err := audit(ctx, tx, catalogue, &doc, action, map[string]any{"revision": doc.Revision, "product": key}); err != nil {
			return err
		}
		changed = true
		return s.appendChange(ctx, tx, tenantID, events.KnowledgeDocument{DocumentID: doc.ID, Revision: doc.Revision, Change: events.KnowledgeUploaded})
	})
	return changed, err
}

// productDocument reads a product's JSON into the sections its passages
// are cut from: what it is (description, vendor, type, options), then its
// prices and availability, each a record of its own.
func productDocument(data []byte) (extract.Document, error) {
	var p commerce.Product
	if err := json.Unmarshal(data, &p); err != nil {
		return extract.Document{}, fmt.Errorf("%w: product: %v", extract.ErrCorrupt, err)
	}
	title := firstOf(p.Title, "Product "+p.ExternalID)
	d := extract.Document{Title: title}
	var about []string
	if p.Description != "" {
		if desc, err := extract.Parse(extract.HTML, []byte(p.Description)); err == nil {
			for _, sec := range desc.Sections {
				about = append(about, sec.Text)
			}
		}
	}
	for _, f := range [][2]string{{"Brand", p.Vendor}, {"Type", p.ProductType}} {
		if f[1] != "" {
			about = append(about, f[0]+": "+f[1])
		}
	}
	for _, o := range p.Options {
		if o.Name != "" && len(o.Values) > 0 && !(len(o.Values) == 1 && o.Values[0] == "Default Title") {
			about = append(about, o.Name+": "+strings.Join(o.Values, ", "))
		}
	}
	if len(p.Tags) > 0 {
		about = append(about, "Tags: "+strings.Join(p.Tags, ", "))
	}
	if len(about) > 0 {
		d.Sections = append(d.Sections, extract.Section{Headings: []string{title}, Text: strings.Join(about, "\n\n"), Record: true})
	}
	var offers []string
	for _, v := range p.Variants {
		name := firstOf(v.Title, title)
		line := name + ": " + commerce.FormatMinor(v.PriceMinor, p.Currency)
		if v.CompareAtMinor > v.PriceMinor {
			line += " (was " + commerce.FormatMinor(v.CompareAtMinor, p.Currency) + ")"
		}
		switch {
		case v.Available != nil && !*v.Available:
			line += ", out of stock"
		case v.Inventory != nil && *v.Inventory > 0:
			line += fmt.Sprintf(", in stock (%d available)", *v.Inventory)
		case v.Available != nil:
			line += ", in stock"
		}
		if v.SKU != "" {
			line += ", SKU " + v.SKU
		}
		offers = append(offers, line)
	}
	if len(offers) > 0 {
		d.Sections = append(d.Sections, extract.Section{Headings: []string{title, "Prices and availability"}, Text: strings.Join(offers, "\n"), Record: true})
	}
	if len(d.Sections) == 0 {
		return d, fmt.Errorf("%w: product %s has neither a description nor variants", extract.ErrEmpty, p.ExternalID)
	}
	return d, nil
}
