package playbook

import (
	"time"

	"github.com/drover/drover/tasks"
)

// Status is the outcome of a task on one host.
type Status int

// The statuses, in Ansible's names.
const (
	StatusOK Status = iota
	StatusChanged
	StatusFailed
	StatusSkipped
	StatusUnreachable
)

func (s Status) String() string {
	return [...]string{"ok", "changed", "failed", "skipped", "unreachable"}[s]
}

// Event is one task's result on one host.
type Event struct {
	Host   string
	Task   string
	Module string
	Status Status
	// Result is the module's report; for an unreachable host it carries
	// the reason in Msg.
	Result   *tasks.Result
	Duration time.Duration
}

// Reporter receives events. The runner calls it from one goroutine.
type Reporter interface {
	Report(Event)
}

// Stats counts results per host, for the recap and the exit code.
type Stats struct {
	Hosts map[string]*HostStats
}

// HostStats are one host's counts.
type HostStats struct {
	OK, Changed, Failed, Skipped, Unreachable int
}

func (s *Stats) add(e Event) {
	if s.Hosts == nil {
		s.Hosts = map[string]*HostStats{}
	}
	h := s.Hosts[e.Host]
	if h == nil {
		h = &HostStats{}
		s.Hosts[e.Host] = h
	}
	switch e.Status {
	case StatusOK:
		h.OK++
	case StatusChanged:
		h.OK++
		h.Changed++
	case StatusFailed:
		h.Failed++
	case StatusSkipped:
		h.Skipped++
	case StatusUnreachable:
		h.Unreachable++
	}
}

// AnyUnreachable reports whether some host was unreachable.
func (s Stats) AnyUnreachable() bool {
	for _, h := range s.Hosts {
		if h.Unreachable > 0 {
			return true
		}
	}
	return false
}

// AnyFailed reports whether some host failed.
func (s Stats) AnyFailed() bool {
	for _, h := range s.Hosts {
		if h.Failed > 0 {
			return true
		}
	}
	return false
}
