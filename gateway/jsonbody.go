package gateway

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
)

// maxJSONDepth bounds how deeply objects and arrays may nest in a request
// body: no API body comes near it, and a deeper one is refused before it is
// decoded.
const maxJSONDepth = 32

// readJSONBody reads r's body, at most limit bytes (413 beyond), and
// decodes it strictly into v with decodeStrictJSON.
func readJSONBody(w http.ResponseWriter, r *http.Request, limit int64, v any) error {
	data, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return AsError(err)
		}
		return errBadRequest("could not read the request body", err)
	}
	return decodeStrictJSON(data, v)
}

// decodeStrictJSON decodes data, exactly one JSON value, into v. It refuses
// (with a 400 *Error) malformed JSON, trailing data after the value, an
// object with the same key twice, objects or arrays nested deeper than
// maxJSONDepth, and a field that v's struct types do not have: a client's
// typo or a smuggled field is an error the client sees, never silently
// dropped, and two parsers can never read two different values from one
// body.
func decodeStrictJSON(data []byte, v any) error {
	if err := scanJSON(data); err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		if field, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
			return errBadRequest("unknown field "+field, err)
		}
		return errBadRequest("malformed JSON body: "+jsonErrorMessage(err), err)
	}
	return nil
}

// scanJSON walks data's tokens once: exactly one value, no key twice in an
// object, nesting at most maxJSONDepth.
func scanJSON(data []byte) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	// keys[i] holds the keys seen in the i-th open container (nil for an
	// array); expectKey[i] says an object's next string is a key.
	var (
		keys      []map[string]struct{}
		expectKey []bool
	)
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			if len(keys) != 0 {
				return errBadRequest("malformed JSON body: unexpected end", err)
			}
			break
		}
		if err != nil {
			return errBadRequest("malformed JSON body: "+jsonErrorMessage(err), err)
		}
		top := len(keys) - 1
		switch t := tok.(type) {
		case json.Delim:
			switch t {
			case '{', '[':
				if top >= 0 && keys[top] != nil {
					expectKey[top] = true
				}
				if len(keys) == maxJSONDepth {
					return errBadRequest(fmt.Sprintf("malformed JSON body: nested deeper than %d levels", maxJSONDepth), nil)
				}
				if t == '{' {
					keys = append(keys, map[string]struct{}{})
				} else {
					keys = append(keys, nil)
				}
				expectKey = append(expectKey, true)
			case '}', ']':
				keys, expectKey = keys[:top], expectKey[:top]
			}
			if len(keys) == 0 {
				// The one value has ended: only whitespace may follow.
				if _, err := dec.Token(); !errors.Is(err, io.EOF) {
					return errBadRequest("malformed JSON body: more than one value", err)
				}
				return nil
			}
			continue
		case string:
			if top >= 0 && keys[top] != nil && expectKey[top] {
				if _, dup := keys[top][t]; dup {
					return errBadRequest(fmt.Sprintf("malformed JSON body: key %q appears twice in one object", t), nil)
				}
				keys[top][t] = struct{}{}
				expectKey[top] = false
				continue
			}
		}
		if top < 0 {
			// A scalar as the whole body.
			if _, err := dec.Token(); !errors.Is(err, io.EOF) {
				return errBadRequest("malformed JSON body: more than one value", err)
			}
			return nil
		}
		if keys[top] != nil {
			expectKey[top] = true
		}
	}
	return errBadRequest("malformed JSON body: empty", nil)
}

// jsonErrorMessage says what is wrong with a body without echoing Go type
// names beyond what encoding/json writes.
func jsonErrorMessage(err error) string {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return "unexpected end"
	}
	return strings.TrimPrefix(err.Error(), "json: ")
}
