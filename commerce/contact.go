package commerce

import (
	"strings"

	"github.com/nyaruka/phonenumbers"
)

// NormalizePhone returns phone in E.164 ("+15551234567"), or "" when it is
// not a valid number. Numbers without a country code are read in
// defaultRegion (ISO 3166 alpha-2, e.g. "US"); WhatsApp's wa_id
// ("15551234567") has its country code and no "+".
func NormalizePhone(phone, defaultRegion string) string {
	p := strings.TrimSpace(phone)
	if p == "" {
		return ""
	}
	if !strings.HasPrefix(p, "+") && !strings.HasPrefix(p, "00") && defaultRegion == "" {
		p = "+" + p
	}
	n, err := phonenumbers.Parse(p, strings.ToUpper(defaultRegion))
	if err != nil || !phonenumbers.IsPossibleNumber(n) {
		return ""
	}
	return phonenumbers.Format(n, phonenumbers.E164)
}

// NormalizeEmail returns email trimmed and lower-cased, or "" when it has no
// "@" between a local part and a domain.
func NormalizeEmail(email string) string {
	e := strings.ToLower(strings.TrimSpace(email))
	at := strings.LastIndexByte(e, '@')
	if at <= 0 || at == len(e)-1 || strings.ContainsAny(e, " \t\r\n") {
		return ""
	}
	return e
}
