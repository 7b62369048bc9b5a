package commerce

import (
	"errors"
	"testing"
)

func TestToMinor(t *testing.T) {
	for _, c := range []struct {
		amount, code string
		want         int64
		err          error
	}{
		{"19.99", "USD", 1999, nil},
		{"19.9", "eur", 1990, nil},
		{"19", "USD", 1900, nil},
		{"19.990", "USD", 1999, nil},
		{"1200", "JPY", 1200, nil},
		{"1200.00", "JPY", 1200, nil},
		{"1.234", "KWD", 1234, nil},
		{"-3.50", "USD", -350, nil},
		{".5", "USD", 50, nil},
		{"19.995", "USD", 0, ErrMalformed},
		{"1e3", "USD", 0, ErrMalformed},
		{"", "USD", 0, ErrMalformed},
		{"99999999999999999999", "USD", 0, ErrMalformed},
		{"10.00", "XYZ", 0, ErrCurrency},
		{"10.00", "", 0, ErrCurrency},
	} {
		got, err := ToMinor(c.amount, c.code)
		if c.err != nil {
			if !errors.Is(err, c.err) {
				t.Errorf("ToMinor(%q, %q) error %v, want %v", c.amount, c.code, err, c.err)
			}
			continue
		}
		if err != nil || got != c.want {
			t.Errorf("ToMinor(%q, %q) = %d, %v; want %d", c.amount, c.code, got, err, c.want)
		}
	}
}

func TestFormatMinor(t *testing.T) {
	for _, c := range []struct {
		minor int64
		code  string
		want  string
	}{{1999, "usd", "19.99 USD"}, {1200, "JPY", "1200 JPY"}, {-5, "EUR", "-0.05 EUR"}, {1234, "KWD", "1.234 KWD"}} {
		if got := FormatMinor(c.minor, c.code); got != c.want {
			t.Errorf("FormatMinor(%d, %s) = %q, want %q", c.minor, c.code, got, c.want)
		}
	}
}

func TestNormalizePhone(t *testing.T) {
	for _, c := range []struct{ in, region, want string }{
		{"15551234567", "", "+15551234567"},      // WhatsApp wa_id
		{"+1 555-123-4567", "", "+15551234567"},  // Shopify
		{"(555) 123-4567", "US", "+15551234567"}, // national, with a region
		{"+49 30 1234567", "", "+49301234567"},
		{"0049 30 1234567", "DE", "+49301234567"},
		{"not a phone", "", ""},
		{"", "", ""},
		{"12", "", ""},
	} {
		if got := NormalizePhone(c.in, c.region); got != c.want {
			t.Errorf("NormalizePhone(%q, %q) = %q, want %q", c.in, c.region, got, c.want)
		}
	}
}

func TestNormalizeEmail(t *testing.T) {
	for in, want := range map[string]string{" Ana@Example.COM ": "ana@example.com", "nope": "", "@x": "", "a@": "", "a b@x": ""} {
		if got := NormalizeEmail(in); got != want {
			t.Errorf("NormalizeEmail(%q) = %q, want %q", in, got, want)
		}
	}
}

func FuzzToMinor(f *testing.F) {
	for _, s := range []string{"19.99", "-0.5", "1e9", "", "..", "+1", "99999999999999999999"} {
		f.Add(s, "USD")
	}
	f.Fuzz(func(t *testing.T, amount, code string) {
		v, err := ToMinor(amount, code)
		if err != nil {
			return
		}
		// What parses formats back to an amount that parses to the same.
		back, err := ToMinor(FormatMinor(v, code)[:len(FormatMinor(v, code))-4], code)
		if err != nil || back != v {
			t.Fatalf("ToMinor(%q, %q) = %d; formatted back: %d, %v", amount, code, v, back, err)
		}
	})
}
