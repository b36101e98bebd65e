package template

import (
	"strings"
	"testing"
)

func TestLazy(t *testing.T) {
	l := NewLazy(Vars{
		"domain": "example.com",
		"fqdn":   "{{ host }}.{{ domain }}",
		"host":   "web1",
		"urls":   []any{"https://{{ fqdn }}/"},
		"a":      "{{ b }}",
		"b":      "{{ a }}",
	}, nil)
	var c Cache
	got, err := c.RenderString("{{ urls[0] }}", l)
	if err != nil || got != "https://web1.example.com/" {
		t.Fatalf("lazy render: %q, %v", got, err)
	}
	_, err = c.RenderString("{{ a }}", l)
	if err == nil || !strings.Contains(err.Error(), "recursive loop") || !strings.Contains(err.Error(), "a -> b -> a") {
		t.Fatalf("cycle: %v", err)
	}
}
