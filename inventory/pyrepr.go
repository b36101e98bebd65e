package inventory

import (
	"github.com/drover/drover/playbook/value"
	"slices"
	"strings"
)

func sortStrings(s []string) { slices.Sort(s) }

// pyRepr renders a value as Python's str() does for --graph --vars.
func pyRepr(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case nil:
		return "None"
	case bool:
		if x {
			return "True"
		}
		return "False"
	case []any:
		parts := make([]string, len(x))
		for i, e := range x {
			parts[i] = pyInner(e)
		}
		return "[" + strings.Join(parts, ", ") + "]"
	case tuple:
		parts := make([]string, len(x))
		for i, e := range x {
			parts[i] = pyInner(e)
		}
		if len(parts) == 1 {
			return "(" + parts[0] + ",)"
		}
		return "(" + strings.Join(parts, ", ") + ")"
	case *value.Dict:
		parts := make([]string, 0, x.Len())
		for k, e := range x.All() {
			parts = append(parts, pyInner(k)+": "+pyInner(e))
		}
		return "{" + strings.Join(parts, ", ") + "}"
	case map[string]any:
		return pyRepr(value.DictOf(x))
	case value.Unsafe:
		return string(x)
	case float64:
		r := pyFloat(x)
		if s, ok := map[string]string{"Infinity": "inf", "-Infinity": "-inf", "NaN": "nan"}[r]; ok {
			return s // str() and JSON differ only here
		}
		return r
	default:
		return formatScalar(x)
	}
}

// pyInner renders a value inside a container, where strings are quoted.
func pyInner(v any) string {
	if u, ok := v.(value.Unsafe); ok {
		v = string(u)
	}
	if s, ok := v.(string); ok {
		return "'" + strings.ReplaceAll(s, "'", `\'`) + "'"
	}
	return pyRepr(v)
}
