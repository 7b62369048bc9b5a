package stripe

import (
	"fmt"
	"math"
	"strings"

	"github.com/frontdesk-ai/frontdesk/commerce"
)

// zeroDecimal are the currencies Stripe's API takes in whole units
// (docs.stripe.com/currencies#zero-decimal).
var zeroDecimal = map[string]bool{
	"BIF": true, "CLP": true, "DJF": true, "GNF": true, "JPY": true, "KMF": true,
	"KRW": true, "MGA": true, "PYG": true, "RWF": true, "UGX": true, "VND": true,
	"VUV": true, "XAF": true, "XOF": true, "XPF": true,
}

// threeDecimal are the currencies Stripe's API takes in thousandths
// (docs.stripe.com/currencies#three-decimal). Stripe requires their last
// digit to be 0 and says so in its answer; it is not checked here.
var threeDecimal = map[string]bool{"BHD": true, "JOD": true, "KWD": true, "OMR": true, "TND": true}

// apiDigits is how many decimals Stripe's amounts of code (upper case)
// carry. Every other currency is two-decimal, ISK included: effectively
// zero-decimal since 2023 but still two-decimal in the API for backwards
// compatibility, so 100 is one króna and amounts must be multiples of 100.
func apiDigits(code string) int {
	switch {
	case zeroDecimal[code]:
		return 0
	case threeDecimal[code]:
		return 3
	}
	return 2
}

// toAPIAmount converts minor units of code (as commerce.MinorUnits counts
// them) to Stripe's amount, exactly.
func toAPIAmount(minor int64, code string) (int64, error) {
	code = strings.ToUpper(strings.TrimSpace(code))
	iso, err := commerce.MinorUnits(code)
	if err != nil {
		return 0, err
	}
	return rescale(minor, iso, apiDigits(code), code)
}

// fromAPIAmount converts Stripe's amount of code to minor units as
// commerce.MinorUnits counts them, exactly.
func fromAPIAmount(amount int64, code string) (int64, error) {
	code = strings.ToUpper(strings.TrimSpace(code))
	iso, err := commerce.MinorUnits(code)
	if err != nil {
		return 0, err
	}
	return rescale(amount, apiDigits(code), iso, code)
}

// rescale moves v from a scale of `from` decimals to `to` decimals,
// refusing overflow and fractions lost by dividing.
func rescale(v int64, from, to int, code string) (int64, error) {
	if from == to {
		return v, nil
	}
	if to > from {
		f := int64(math.Pow10(to - from))
		if v > math.MaxInt64/f || v < math.MinInt64/f {
			return 0, fmt.Errorf("amount %d %s too large", v, code)
		}
		return v * f, nil
	}
	f := int64(math.Pow10(from - to))
	if v%f != 0 {
		return 0, fmt.Errorf("amount %d of %s is not a whole unit at %d decimals", v, code, to)
	}
	return v / f, nil
}
