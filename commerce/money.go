package commerce

import (
	"errors"
	"fmt"
	"math"
	"strings"

	"github.com/bojanz/currency"
)

// ErrCurrency means a currency code has no known minor-unit rule (ISO 4217
// by way of CLDR). Such errors wrap ErrMalformed too: the input is bad.
var ErrCurrency = errors.New("commerce: unknown currency")

// MinorUnits returns how many decimal digits currency code's minor unit has
// (USD 2, JPY 0, KWD 3), or ErrCurrency.
func MinorUnits(code string) (int, error) {
	code = strings.ToUpper(strings.TrimSpace(code))
	if len(code) != 3 || !currency.IsValid(code) {
		return 0, fmt.Errorf("%w: %w: %q", ErrMalformed, ErrCurrency, code)
	}
	d, ok := currency.GetDigits(code)
	if !ok {
		return 0, fmt.Errorf("%w: %w: %q", ErrMalformed, ErrCurrency, code)
	}
	return int(d), nil
}

// ToMinor converts a decimal amount as shops write it ("19.99", "-3.5",
// "1200", 12.5 rendered as text) into minor units of code, exactly: no
// floating point. More fractional digits than the currency has are refused
// unless they are zeros ("19.990" is 1999 cents; "19.995" is an error).
func ToMinor(amount, code string) (int64, error) {
	digits, err := MinorUnits(code)
	if err != nil {
		return 0, err
	}
	s := strings.TrimSpace(amount)
	if s == "" {
		return 0, fmt.Errorf("%w: empty amount", ErrMalformed)
	}
	neg := false
	switch s[0] {
	case '-':
		neg, s = true, s[1:]
	case '+':
		s = s[1:]
	}
	whole, frac, _ := strings.Cut(s, ".")
	if whole == "" && frac == "" {
		return 0, fmt.Errorf("%w: amount %q", ErrMalformed, amount)
	}
	for _, part := range []string{whole, frac} {
		for _, r := range part {
			if r < '0' || r > '9' {
				return 0, fmt.Errorf("%w: amount %q", ErrMalformed, amount)
			}
		}
	}
	if len(frac) > digits {
		if strings.Trim(frac[digits:], "0") != "" {
			return 0, fmt.Errorf("%w: amount %q has more decimals than %s allows", ErrMalformed, amount, code)
		}
		frac = frac[:digits]
	}
	frac += strings.Repeat("0", digits-len(frac))
	var v int64
	for _, r := range whole + frac {
		d := int64(r - '0')
		if v > (math.MaxInt64-d)/10 {
			return 0, fmt.Errorf("%w: amount %q too large", ErrMalformed, amount)
		}
		v = v*10 + d
	}
	if neg {
		v = -v
	}
	return v, nil
}

// FormatMinor writes minor units of code as a decimal with the currency:
// "19.99 EUR".
func FormatMinor(minor int64, code string) string {
	digits, err := MinorUnits(code)
	if err != nil || digits == 0 {
		return fmt.Sprintf("%d %s", minor, strings.ToUpper(code))
	}
	sign := ""
	if minor < 0 {
		sign, minor = "-", -minor
	}
	p := int64(math.Pow10(digits))
	return fmt.Sprintf("%s%d.%0*d %s", sign, minor/p, digits, minor%p, strings.ToUpper(code))
}
