package tools

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/frontdesk-ai/frontdesk/commerce"
)

// Policy is an agent profile's rules for what its tools do beyond words.
// Money, on top of the customer's yes: what breaks a rule of the order
// (currency, status, age) is refused at once; what exceeds a limit (amount,
// refunds per day) waits, after the customer's yes, for a supervisor's
// approval. Follow-ups: the approved template that reaches the customer
// outside the channel's reply window.
type Policy struct {
	// Currencies the tools may move money in; empty: any.
	Currencies []string `json:"currencies,omitempty"`
	// AutoLimitMinor is, per currency, the largest amount (minor units)
	// executed on the customer's yes alone; a larger one, or one in a
	// currency not listed, needs approval. Unset: no limit.
	AutoLimitMinor map[string]int64 `json:"auto_limit_minor,omitempty"`
	// RefundableStatuses are the payment statuses an order may be refunded
	// in; empty: paid and partially_refunded.
	RefundableStatuses []string `json:"refundable_statuses,omitempty"`
	// MaxOrderAgeDays refuses refunds of orders placed longer ago; 0: any.
	MaxOrderAgeDays int `json:"max_order_age_days,omitempty"`
	// MaxRefundsPerCustomerPerDay: refunds proposed to one customer in 24
	// hours beyond this need approval; 0: any.
	MaxRefundsPerCustomerPerDay int `json:"max_refunds_per_customer_per_day,omitempty"`
	// FollowUpTemplate is the approved WhatsApp template a follow-up due
	// outside the 24-hour window is sent with (its body's {{1}} is the
	// follow-up's note); unset: a ticket for a person instead.
	FollowUpTemplate *Template `json:"followup_template,omitempty"`
	// KnowledgeNoAnswer is what the agent does when the knowledge base has
	// no passage that answers a question about the brand: KnowledgeSayUnsure
	// (the default: say so, never guess) or KnowledgeHandoff (hand the
	// conversation to a human).
	KnowledgeNoAnswer string `json:"knowledge_no_answer,omitempty"`
}

// What an agent does when the knowledge base does not answer.
const (
	KnowledgeSayUnsure = "say_unsure"
	KnowledgeHandoff   = "handoff"
)

// Template names an approved message template and its language.
type Template struct {
	Name     string `json:"name"`
	Language string `json:"language"`
}

// ParsePolicy reads a policy strictly: unknown fields, duplicate or
// malformed currencies and negative numbers are errors. Empty is the zero
// policy.
func ParsePolicy(raw json.RawMessage) (Policy, error) {
	var p Policy
	if len(bytes.TrimSpace(raw)) == 0 || string(bytes.TrimSpace(raw)) == "null" {
		return p, nil
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&p); err != nil {
		return p, fmt.Errorf("policy: %w", err)
	}
	var errs []error
	for i, c := range p.Currencies {
		p.Currencies[i] = strings.ToUpper(c)
		if _, err := commerce.MinorUnits(c); err != nil {
			errs = append(errs, fmt.Errorf("currencies: %w", err))
		}
	}
	limits := make(map[string]int64, len(p.AutoLimitMinor))
	for c, v := range p.AutoLimitMinor {
		if _, err := commerce.MinorUnits(c); err != nil {
			errs = append(errs, fmt.Errorf("auto_limit_minor: %w", err))
		}
		if v < 0 {
			errs = append(errs, fmt.Errorf("auto_limit_minor[%s]: negative", c))
		}
		limits[strings.ToUpper(c)] = v
	}
	if p.AutoLimitMinor != nil {
		p.AutoLimitMinor = limits
	}
	if t := p.FollowUpTemplate; t != nil && (strings.TrimSpace(t.Name) == "" || strings.TrimSpace(t.Language) == "") {
		errs = append(errs, errors.New("followup_template: name and language are required"))
	}
	if a := p.KnowledgeNoAnswer; a != "" && a != KnowledgeSayUnsure && a != KnowledgeHandoff {
		errs = append(errs, fmt.Errorf("knowledge_no_answer: %q is not say_unsure or handoff", a))
	}
	if p.MaxOrderAgeDays < 0 || p.MaxRefundsPerCustomerPerDay < 0 {
		errs = append(errs, errors.New("max_order_age_days and max_refunds_per_customer_per_day must not be negative"))
	}
	if err := errors.Join(errs...); err != nil {
		return p, fmt.Errorf("policy: %w", err)
	}
	return p, nil
}

// refusal is why the policy refuses a refund of an order outright, or "".
func (p Policy) refusal(currency, financialStatus string, placed *time.Time, now time.Time) string {
	statuses := p.RefundableStatuses
	if len(statuses) == 0 {
		statuses = refundableStatuses
	}
	switch {
	case len(p.Currencies) > 0 && !slices.Contains(p.Currencies, currency):
		return fmt.Sprintf("refunds in %s are not allowed by this agent's policy", currency)
	case !slices.Contains(statuses, financialStatus):
		return fmt.Sprintf("orders that are %s cannot be refunded by this agent's policy", financialStatus)
	case p.MaxOrderAgeDays > 0 && placed != nil && now.Sub(*placed) > time.Duration(p.MaxOrderAgeDays)*24*time.Hour:
		return fmt.Sprintf("the order is older than the %d days this agent's policy allows", p.MaxOrderAgeDays)
	}
	return ""
}

// approvalReason is why a refund of amount needs a supervisor's approval
// after the customer's yes (refundsToday: this customer's refunds proposed
// in the last 24 hours), or "".
func (p Policy) approvalReason(amount int64, currency string, refundsToday int) string {
	if p.AutoLimitMinor != nil {
		limit, ok := p.AutoLimitMinor[currency]
		switch {
		case !ok:
			return fmt.Sprintf("no limit is set for %s", currency)
		case amount > limit:
			return fmt.Sprintf("above the %s limit", commerce.FormatMinor(limit, currency))
		}
	}
	if p.MaxRefundsPerCustomerPerDay > 0 && refundsToday >= p.MaxRefundsPerCustomerPerDay {
		return fmt.Sprintf("more than %d refunds for this customer in 24 hours", p.MaxRefundsPerCustomerPerDay)
	}
	return ""
}
