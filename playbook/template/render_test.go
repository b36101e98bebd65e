package template

import (
	"strings"
	"testing"
)

func TestRenderString(t *testing.T) {
	vars := Vars{"l": []any{int64(1), int64(2)}, "n": int64(3), "name": "web", "t": true}
	tests := []struct {
		src  string
		want any
	}{
		{"plain", "plain"},
		{"{{ l }}", []any{int64(1), int64(2)}},
		{"{{ n }}", int64(3)}, // a bare variable keeps its number (Ansible's SINGLE_VAR)
		{"{{ n + 0 }}", "3"},
		{"{{ n|string }}", "3"},
		{"{{ 'abc' | length }}", "3"},
		{"{{ t }}", true},
		{"host {{ name }}-{{ n + 1 }}", "host web-4"},
		{"{{ name }}{# note #}!", "web!"},
		{"[{{ n }}, 4]", []any{int64(3), int64(4)}},
		{"{{ 'True' }}", true},
		{"{{ '}}' ~ name }}", "}}web"},
		{"a { b }", "a { b }"},
		{"{% for x in l %}{{ x }}{% if not loop.last %},{% endif %}{% endfor %}", "1,2"},
		{"{% if t %}[1, 2]{% endif %}", []any{int64(1), int64(2)}},
	}
	var c Cache
	for _, tt := range tests {
		got, err := c.RenderString(tt.src, vars)
		if err != nil || !equal(got, tt.want) || typeName(got) != typeName(tt.want) {
			t.Errorf("RenderString(%q) = %#v, %v; want %#v", tt.src, got, err, tt.want)
		}
	}
	for src, want := range map[string]string{
		"x {{ missing }}":         "column 6: undefined variable 'missing'",
		"x {{ n +}}":              "column 9: expected a value",
		"{% extends 'x' %}":       "does not support the template tag {% extends %}",
		"{% include 'nope.j2' %}": "column 12: template not found: nope.j2",
		"{% if n %}x":             "column 3: {% if %} is never closed; add {% endif %}",
		"a{% endfor %}":           "column 4: {% endfor %} without an open {% for %}",
		"{% iff n %}":             "unknown template tag {% iff %}; did you mean 'if'?",
		"{{ n ":                   "unclosed {{",
	} {
		if _, err := c.RenderString(src, vars); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("RenderString(%q) err = %v, want %q", src, err, want)
		}
	}
}
