package playbook_test

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/drover/drover/connection"
	"github.com/drover/drover/inventory"
	"github.com/drover/drover/playbook"
	"github.com/drover/drover/playbook/report"
)

// BenchmarkManyHosts runs a play of controller-side tasks over many local
// hosts, reading the magic variables and another host's variables through
// hostvars, as inventories of hundreds of hosts do. Compare µs/host across
// the sizes: it grows only by what reading the play's host list (as long
// as the play) costs, where building every magic variable for every
// host's scope made it grow with the hosts (104 → 367 µs/host from 100 to
// 400 hosts, before).
func BenchmarkManyHosts(b *testing.B) {
	for _, n := range []int{100, 400} {
		b.Run(fmt.Sprintf("hosts=%d", n), func(b *testing.B) {
			dir := b.TempDir()
			var inv strings.Builder
			inv.WriteString("[web]\n")
			for i := range n {
				fmt.Fprintf(&inv, "h%04d ansible_connection=local idx=%d\n", i, i)
			}
			invPath := filepath.Join(dir, "hosts.ini")
			os.WriteFile(invPath, []byte(inv.String()), 0o644)
			play := "- hosts: web\n  gather_facts: false\n  tasks:\n" +
				"    - debug: msg=\"{{ inventory_hostname }} of {{ ansible_play_hosts | length }}\"\n" +
				"    - debug: msg=\"{{ hostvars[groups.web[0]].idx }}\"\n" +
				"    - set_fact: x=\"{{ idx | int + 1 }}\"\n" +
				"    - debug: var=x\n"
			playPath := filepath.Join(dir, "site.yml")
			os.WriteFile(playPath, []byte(play), 0o644)
			pb, err := playbook.Load(playPath)
			if err != nil {
				b.Fatal(err)
			}
			iv, err := inventory.Load(b.Context(), nil, invPath)
			if err != nil {
				b.Fatal(err)
			}
			pool, err := connection.NewPool(connection.Config{})
			if err != nil {
				b.Fatal(err)
			}
			defer pool.Close()
			b.ResetTimer()
			for range b.N {
				r := &playbook.Runner{Pool: pool, Reporter: &report.Play{W: io.Discard}}
				if _, err := r.RunPlaybook(b.Context(), pb, playbook.PlayOptions{Inventory: iv}); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N*n), "µs/host")
		})
	}
}
