package inventory

import (
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
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		parts := make([]string, 0, len(keys))
		for _, k := range keys {
			parts = append(parts, "'"+k+"': "+pyInner(x[k]))
		}
		return "{" + strings.Join(parts, ", ") + "}"
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
	if s, ok := v.(string); ok {
		return "'" + strings.ReplaceAll(s, "'", `\'`) + "'"
	}
	return pyRepr(v)
}
