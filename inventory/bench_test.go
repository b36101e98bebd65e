package inventory

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// writeLargeInventory writes 10,000 hosts in 100 groups under 10 parents,
// with inline vars, group vars and a group_vars directory.
func writeLargeInventory(tb testing.TB) string {
	tb.Helper()
	dir := tb.TempDir()
	var b strings.Builder
	for g := range 100 {
		fmt.Fprintf(&b, "[app%02d]\n", g)
		for h := range 100 {
			fmt.Fprintf(&b, "host%02d-%03d.example.com ansible_host=10.%d.%d.1 rack=%d\n", g, h, g, h, h%10)
		}
		fmt.Fprintf(&b, "[app%02d:vars]\nport=%d\ntier=\"app tier\"\n", g, 8000+g)
	}
	for p := range 10 {
		fmt.Fprintf(&b, "[dc%d:children]\n", p)
		for g := p * 10; g < p*10+10; g++ {
			fmt.Fprintf(&b, "app%02d\n", g)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "hosts"), []byte(b.String()), 0o644); err != nil {
		tb.Fatal(err)
	}
	gv := filepath.Join(dir, "group_vars")
	os.MkdirAll(gv, 0o755)
	os.WriteFile(filepath.Join(gv, "all.yml"), []byte("ntp: pool.ntp.org\nusers: [alice, bob]\n"), 0o644)
	for p := range 10 {
		os.WriteFile(filepath.Join(gv, fmt.Sprintf("dc%d.yml", p)), []byte(fmt.Sprintf("dc: %d\nresolvers: [10.0.0.%d]\n", p, p)), 0o644)
	}
	return filepath.Join(dir, "hosts")
}

// BenchmarkLoad10k loads 10,000 hosts with group vars and group_vars/.
// Goal: well under 300 ms per load.
func BenchmarkLoad10k(b *testing.B) {
	src := writeLargeInventory(b)
	for b.Loop() {
		inv, err := Load(b.Context(), nil, src)
		if err != nil {
			b.Fatal(err)
		}
		if len(inv.Hosts()) != 10000 {
			b.Fatalf("%d hosts", len(inv.Hosts()))
		}
	}
}

// BenchmarkMatch10k selects by pattern in a 10,000-host inventory.
func BenchmarkMatch10k(b *testing.B) {
	inv, err := Load(b.Context(), nil, writeLargeInventory(b))
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := inv.Match("dc3:&app3*:!host33-00*"); err != nil {
			b.Fatal(err)
		}
	}
}
