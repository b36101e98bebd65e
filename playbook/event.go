package playbook

import (
	"time"

	"github.com/drover/drover/playbook/source"
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

// Kind says what an event reports. The zero value is a host's result, so
// ad hoc runs, which report nothing else, need not set it.
type Kind int

// The kinds of events, in the order a run produces them.
const (
	KindResult        Kind = iota // a task's result on one host (Host, Status, Result)
	KindPlayStart                 // a play begins (Task holds the play's name)
	KindTaskStart                 // a task begins on the play's hosts
	KindHandlerStart              // a notified handler begins
	KindItem                      // one loop item's result on one host
	KindNoHosts                   // a play matched no hosts
	KindRecap                     // the run ended (Stats)
	KindPlaybookStart             // a playbook begins (Task holds its path)
	KindNoMoreHosts               // any_errors_fatal or max_fail_percentage stopped the run
	KindWaiting                   // a task still runs on Waiting, Duration after it began
	KindRetry                     // an until: task failed its condition and runs again (Retries left)
)

// Event is one thing that happened in a run; most are one task's result
// on one host.
type Event struct {
	Kind   Kind
	Host   string
	Task   string
	Module string
	// Pos is where the task (or play) is written, for task events.
	Pos source.Pos
	// Item is the loop item's label, for KindItem.
	Item string
	// Ignored marks a failure that ignore_errors let pass; Delegate names
	// the host a delegated task ran on.
	Ignored  bool
	Delegate string
	// NoLog hides the result in every output.
	NoLog bool
	// Uncounted marks a result the recap does not count: a meta task
	// skipped by its when, which Ansible shows but does not count.
	Uncounted bool
	// Retries is how many more attempts an until: task has, for KindRetry.
	Retries int
	// Waiting are the hosts a slow task still runs on, for KindWaiting.
	Waiting []string
	// Stats are the final counts, for KindRecap.
	Stats  *Stats
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
	OK, Changed, Failed, Skipped, Unreachable, Rescued, Ignored int
}

// host returns the counts of name, creating them at zero.
func (s *Stats) host(name string) *HostStats {
	if s.Hosts == nil {
		s.Hosts = map[string]*HostStats{}
	}
	h := s.Hosts[name]
	if h == nil {
		h = &HostStats{}
		s.Hosts[name] = h
	}
	return h
}

func (s *Stats) add(e Event) {
	h := s.host(e.Host)
	if e.Ignored { // Ansible counts an ignored failure as ok too
		h.Ignored++
		h.OK++
		if e.Result != nil && e.Result.Changed {
			h.Changed++
		}
		return
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
