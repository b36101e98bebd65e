// Command drover runs Ansible playbooks and ad hoc modules over SSH, with no
// Python and no agent on the targets.
package main

import (
	"os"
	"runtime/debug"
)

func main() {
	tuneGC()
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

// tuneGC trades memory for CPU: a run's heap is small and short-lived, and
// the collector's work competes with the hosts' when drover shares a
// machine with them, so it collects at five times the live heap instead of
// twice (40 MB peak for 50 hosts gathering facts). No memory limit: past it
// the collector would run without pause on a large inventory. GOGC and
// GOMEMLIMIT still decide when set.
func tuneGC() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(400)
	}
}
