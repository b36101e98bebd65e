package inventory

import (
	"strings"
	"testing"
)

// FuzzParseINI: any text either loads or fails with an error naming the
// file; it never panics.
func FuzzParseINI(f *testing.F) {
	for _, s := range []string{
		"[web]\nw1 a=1\n[web:vars]\nx=y\n[p:children]\nweb\n",
		"h[1:3] v=\"[1,2]\"\n", "[a:vars]\n", "[a]\nb[a:c:2]:22 k='v'\n", "#c\n;c\n[x]\ny # z\n",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		inv := New()
		if err := inv.parseINI("hosts", []byte(s)); err != nil {
			if !strings.HasPrefix(err.Error(), "hosts") {
				t.Fatalf("error without the file name: %v", err)
			}
			return
		}
		inv.finish()
		_ = inv.ListJSON()
	})
}

// FuzzExpandHostPattern: expansion never panics and never yields an empty
// name.
func FuzzExpandHostPattern(f *testing.F) {
	for _, s := range []string{"web[01:10].x", "db-[a:f]", "n[1:10:2]", "r[1:2]-u[08:10]:22", "[:3]", "x[::]"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		names, _, err := expandHostPattern(s)
		if err != nil {
			return
		}
		for _, n := range names {
			if n == "" {
				t.Fatalf("empty host name from %q", s)
			}
		}
	})
}

// FuzzMatch: any pattern selects a subset of the inventory or fails
// cleanly.
func FuzzMatch(f *testing.F) {
	inv, err := ParseHostList("web1,web2,db1,")
	if err != nil {
		f.Fatal(err)
	}
	for _, s := range []string{"all", "web*:&db1", "!web1", "~w.*", "web[0:1]", "all[-1]", "a,b:c", "~("} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, p string) {
		hosts, err := inv.Match(p)
		if err != nil {
			return
		}
		for _, h := range hosts {
			if _, ok := inv.Host(h.Name); !ok && h.Name != "localhost" {
				t.Fatalf("pattern %q selected unknown host %q", p, h.Name)
			}
		}
	})
}
