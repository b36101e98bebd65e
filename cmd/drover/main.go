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
// machine with them. It collects at four times the live heap, or sooner
// near a soft 80 MiB; GOGC and GOMEMLIMIT still decide when set.
func tuneGC() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(400)
	}
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(80 << 20)
	}
}
