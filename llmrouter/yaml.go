package llmrouter

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// decodeYAML decodes raw into the struct v points to, walking the document
// beside v's type so that every unknown key, repeated key and wrong type
// is an error naming its path; the errors are joined.
func decodeYAML(raw []byte, v any) error {
	var doc yaml.Node
	if err := yaml.Unmarshal(raw, &doc); err != nil {
		return err
	}
	if doc.Kind == 0 || len(doc.Content) == 0 {
		return errors.New("empty document")
	}
	var errs []error
	decodeNode(doc.Content[0], reflect.ValueOf(v).Elem(), "", &errs)
	return errors.Join(errs...)
}

var durationType = reflect.TypeFor[time.Duration]()

func decodeNode(n *yaml.Node, v reflect.Value, path string, errs *[]error) {
	if n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	if n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
		return // leave the zero value
	}
	fail := func(format string, args ...any) {
		at := path
		if at == "" {
			at = "(top level)"
		}
		*errs = append(*errs, fmt.Errorf("%s: line %d: %s", at, n.Line, fmt.Sprintf(format, args...)))
	}
	switch {
	case v.Kind() == reflect.Pointer:
		elem := reflect.New(v.Type().Elem())
		decodeNode(n, elem.Elem(), path, errs)
		v.Set(elem)
	case v.Kind() == reflect.Struct && v.Type() != durationType:
		if n.Kind != yaml.MappingNode {
			fail("want a mapping")
			return
		}
		fields := map[string]int{}
		for i := 0; i < v.NumField(); i++ {
			if tag, _, _ := strings.Cut(v.Type().Field(i).Tag.Get("yaml"), ","); tag != "" && tag != "-" {
				fields[tag] = i
			}
		}
		seen := map[string]bool{}
		for i := 0; i+1 < len(n.Content); i += 2 {
			key, val := n.Content[i].Value, n.Content[i+1]
			at := key
			if path != "" {
				at = path + "." + key
			}
			idx, ok := fields[key]
			switch {
			case !ok:
				*errs = append(*errs, fmt.Errorf("%s: line %d: unknown key", at, n.Content[i].Line))
			case seen[key]:
				*errs = append(*errs, fmt.Errorf("%s: line %d: repeated key", at, n.Content[i].Line))
			default:
				seen[key] = true
				decodeNode(val, v.Field(idx), at, errs)
			}
		}
	case v.Kind() == reflect.Slice:
		if n.Kind != yaml.SequenceNode {
			fail("want a list")
			return
		}
		s := reflect.MakeSlice(v.Type(), len(n.Content), len(n.Content))
		for i, item := range n.Content {
			decodeNode(item, s.Index(i), fmt.Sprintf("%s[%d]", path, i), errs)
		}
		v.Set(s)
	default:
		if n.Kind != yaml.ScalarNode {
			fail("want a single value")
			return
		}
		if err := n.Decode(v.Addr().Interface()); err != nil {
			// yaml's message starts with the line.
			*errs = append(*errs, fmt.Errorf("%s: %s", path, strings.TrimPrefix(err.Error(), "yaml: unmarshal errors:\n  ")))
		}
	}
}
