package inventory

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func names(hosts []*Host) []string {
	var out []string
	for _, h := range hosts {
		out = append(out, h.Name)
	}
	return out
}

func TestParseHostList(t *testing.T) {
	inv, err := ParseHostList("web1, web2:2222,[::1]:2200,db1,web1,")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"web1", "web2", "::1", "db1"}, names(inv.Hosts())); diff != "" {
		t.Fatalf("hosts (-want +got):\n%s", diff)
	}
	if h, _ := inv.Host("web2"); h.Vars["ansible_port"] != int64(2222) {
		t.Errorf("web2 vars = %v", h.Vars)
	}
	for _, bad := range []string{"web1", "web1:x,", "web1:99999,", ":22,"} {
		if _, err := ParseHostList(bad); err == nil {
			t.Errorf("ParseHostList(%q) succeeded", bad)
		}
	}
}

func TestMatch(t *testing.T) {
	inv, _ := ParseHostList("web1,web2,db1,")
	tests := []struct {
		pattern string
		want    []string
	}{
		{"all", []string{"web1", "web2", "db1"}},
		{"*", []string{"web1", "web2", "db1"}},
		{"web*", []string{"web1", "web2"}},
		{"db1,web1", []string{"db1", "web1"}},
		{"all:!web2", []string{"web1", "db1"}},
		{"web*:&web2", []string{"web2"}},
		{"localhost", []string{"localhost"}},
		{"web1,localhost", []string{"web1", "localhost"}},
	}
	for _, tt := range tests {
		got, err := inv.Match(tt.pattern)
		if err != nil || !cmp.Equal(names(got), tt.want) {
			t.Errorf("Match(%q) = %v, %v; want %v", tt.pattern, names(got), err, tt.want)
		}
	}
	if _, err := inv.Match("nope"); !errors.Is(err, ErrNoHosts) {
		t.Errorf("Match(nope) err = %v", err)
	}
	got, _ := inv.Match("localhost")
	if got[0].Vars["ansible_connection"] != "local" {
		t.Errorf("implicit localhost vars = %v", got[0].Vars)
	}
}

func FuzzParseHostList(f *testing.F) {
	for _, s := range []string{"a,", "a:22,b,", "[::1]:22,", ",", "a:b:c,"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		inv, err := ParseHostList(s)
		if err != nil {
			return
		}
		for _, h := range inv.Hosts() {
			if h.Name == "" || strings.Contains(h.Name, ",") {
				t.Fatalf("host %q from %q", h.Name, s)
			}
		}
	})
}

func TestLimit(t *testing.T) {
	inv, _ := ParseHostList("web1,web2,db1,")
	all, _ := inv.Match("all")
	got, err := inv.Limit(all, "web*:!web2")
	if err != nil || !cmp.Equal(names(got), []string{"web1"}) {
		t.Errorf("Limit = %v, %v", names(got), err)
	}
	retry := filepath.Join(t.TempDir(), "site.retry")
	os.WriteFile(retry, []byte("db1\nweb2\n"), 0o644)
	got, err = inv.Limit(all, "@"+retry)
	if err != nil || !cmp.Equal(names(got), []string{"web2", "db1"}) {
		t.Errorf("Limit @file = %v, %v", names(got), err)
	}
	if _, err := inv.Limit(all, "@/nonexistent"); err == nil {
		t.Error("missing limit file gave no error")
	}
}
