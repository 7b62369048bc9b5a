package routing

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	"github.com/frontdesk-ai/frontdesk/persistence"
)

// Input is what routing knows of a new conversation.
type Input struct {
	// Channel is the conversation's channel, e.g. "whatsapp".
	Channel string
	// ChannelAccount is the tenant's account on it (a phone number id, a
	// page id).
	ChannelAccount string
	// Language is the customer's language as a BCP 47 tag ("de",
	// "pt-BR"); empty when unknown, which no language list matches.
	Language string
	// CustomerTags are the customer's tags.
	CustomerTags []string
}

// Matches reports whether in meets every non-empty list of m.
func (m Match) Matches(in Input) bool {
	return (len(m.Channels) == 0 || containsFold(m.Channels, in.Channel)) &&
		(len(m.ChannelAccounts) == 0 || containsFold(m.ChannelAccounts, in.ChannelAccount)) &&
		(len(m.Languages) == 0 || languageIn(m.Languages, in.Language)) &&
		(len(m.CustomerTagsAny) == 0 || slices.ContainsFunc(m.CustomerTagsAny, func(t string) bool { return containsFold(in.CustomerTags, t) })) &&
		(len(m.CustomerTagsAll) == 0 || !slices.ContainsFunc(m.CustomerTagsAll, func(t string) bool { return !containsFold(in.CustomerTags, t) }))
}

// what describes the conditions m matched on, for Choose's reason.
func (m Match) what(in Input) string {
	var parts []string
	if len(m.Channels) > 0 {
		parts = append(parts, "channel "+in.Channel)
	}
	if len(m.ChannelAccounts) > 0 {
		parts = append(parts, "channel account "+in.ChannelAccount)
	}
	if len(m.Languages) > 0 {
		parts = append(parts, "language "+in.Language)
	}
	if len(m.CustomerTagsAny) > 0 || len(m.CustomerTagsAll) > 0 {
		parts = append(parts, "customer tags")
	}
	if len(parts) == 0 {
		return "every conversation"
	}
	return strings.Join(parts, ", ")
}

// Choose returns the id of the agent profile that answers a new
// conversation described by in, and a reason in words for logs and the
// audit trail:
//
//  1. the first profile whose rule matches, trying rules by priority
//     (highest first), then name, then id;
//  2. else the profile marked default (the oldest, if several are);
//  3. else the oldest profile (created first, then lowest id);
//  4. else "" when there are no profiles.
//
// A profile whose stored rules do not parse (written before rules were
// checked) counts as having none: it is never chosen by a rule but may be
// the oldest profile.
func Choose(profiles []persistence.AgentProfile, in Input) (profileID, reason string) {
	if len(profiles) == 0 {
		return "", "no agent profiles"
	}
	type candidate struct {
		p     *persistence.AgentProfile
		rules Rules
	}
	cands := make([]candidate, len(profiles))
	for i := range profiles {
		r, _ := Parse(profiles[i].Routing) // unparseable: no rules
		cands[i] = candidate{&profiles[i], r}
	}
	slices.SortStableFunc(cands, func(a, b candidate) int {
		return cmp.Or(cmp.Compare(b.rules.Priority, a.rules.Priority),
			strings.Compare(a.p.Name, b.p.Name), strings.Compare(a.p.ID, b.p.ID))
	})
	for _, c := range cands {
		if c.rules.Match != nil && c.rules.Match.Matches(in) {
			return c.p.ID, fmt.Sprintf("rule of %q (priority %d) matched %s", c.p.Name, c.rules.Priority, c.rules.Match.what(in))
		}
	}
	older := func(a, b candidate) int {
		return cmp.Or(a.p.CreatedAt.Compare(b.p.CreatedAt), strings.Compare(a.p.ID, b.p.ID))
	}
	var defaults []candidate
	for _, c := range cands {
		if c.rules.Default {
			defaults = append(defaults, c)
		}
	}
	if len(defaults) > 0 {
		d := slices.MinFunc(defaults, older)
		return d.p.ID, fmt.Sprintf("no rule matched; %q is the default profile", d.p.Name)
	}
	o := slices.MinFunc(cands, older)
	return o.p.ID, fmt.Sprintf("no rule matched and no profile is the default; %q is the oldest profile", o.p.Name)
}

func containsFold(list []string, v string) bool {
	v = strings.TrimSpace(v)
	return v != "" && slices.ContainsFunc(list, func(s string) bool { return strings.EqualFold(strings.TrimSpace(s), v) })
}

// languageIn reports whether lang is one of tags or a more specific form of
// one ("pt-BR" is in ["pt"]; "pt" is not in ["pt-BR"]).
func languageIn(tags []string, lang string) bool {
	lang = strings.ReplaceAll(strings.TrimSpace(lang), "_", "-")
	if lang == "" {
		return false
	}
	for _, t := range tags {
		t = strings.ReplaceAll(t, "_", "-")
		if strings.EqualFold(t, lang) || len(lang) > len(t) && lang[len(t)] == '-' && strings.EqualFold(t, lang[:len(t)]) {
			return true
		}
	}
	return false
}
