package playbook

import (
	"maps"
	"strings"

	"github.com/drover/drover/inventory"
)

// hostState is one host's part of a run: its variables beyond the
// inventory, facts, and whether it is still in the play. A task's
// goroutine for the host only stages changes; commit applies them once
// every host has finished the task, so hosts never see each other half
// way (hostvars, ansible_play_hosts).
type hostState struct {
	host        *inventory.Host
	name        any // host.Name, boxed once for the lists of a play's hosts
	inventory   map[string]any
	facts       map[string]any // ansible_facts, without the ansible_ prefix
	factLayer   map[string]any // the same facts as top-level ansible_* variables
	vars        map[string]any // set_fact and register
	includeVars map[string]any

	failed, unreachable, endedPlay bool
	failedTask, failedResult       any
	notified                       map[string]bool

	staged staged
}

// staged are the changes one task made on its host.
type staged struct {
	vars, facts, includeVars map[string]any
	notify                   []string
	failed, unreachable      bool
	failedTask, failedResult any
	inventory                []inventoryChange
	setFacts_                map[string]any // the set_fact part of vars
	cached                   map[string]any // set_fact cacheable: facts under their own names
	delegate                 string         // delegate_facts: the host the facts go to
}

func newHostState(h *inventory.Host) *hostState {
	inv := make(map[string]any, len(h.Vars))
	for k, v := range h.Vars {
		inv[k] = inventory.Native(v)
	}
	return &hostState{host: h, name: h.Name, inventory: inv, facts: map[string]any{}, factLayer: map[string]any{},
		vars: map[string]any{}, includeVars: map[string]any{}, notified: map[string]bool{}}
}

func (hs *hostState) factVars() map[string]any { return hs.factLayer }

// withAll is m with add's entries, as a new map when there are any.
func withAll(m, add map[string]any) map[string]any {
	if len(add) == 0 {
		return m
	}
	out := maps.Clone(m)
	maps.Copy(out, add)
	return out
}

// setVar stages a set_fact or register.
func (s *staged) setVar(name string, v any) {
	if s.vars == nil {
		s.vars = map[string]any{}
	}
	s.vars[name] = v
}

// setFact stages a set_fact: a variable that delegate_facts may hand to
// the delegate instead.
func (s *staged) setFact(name string, v any) {
	s.setVar(name, v)
	if s.setFacts_ == nil {
		s.setFacts_ = map[string]any{}
	}
	s.setFacts_[name] = v
}

// cacheFact stages a set_fact with cacheable: a variable and also a fact
// (ansible_facts.name, and name at the facts' precedence), which outlives
// the variable's later changes and goes with meta: clear_facts.
func (s *staged) cacheFact(name string, v any) {
	s.setFact(name, v)
	if s.cached == nil {
		s.cached = map[string]any{}
	}
	s.cached[name] = v
}

// setFacts stages gathered facts.
func (s *staged) setFacts(f map[string]any) {
	if s.facts == nil {
		s.facts = map[string]any{}
	}
	maps.Copy(s.facts, f)
}

// commit applies what the last task staged. Maps are replaced, never
// changed in place: another host may be reading the old ones through
// hostvars.
func (hs *hostState) commit() {
	s := hs.staged
	hs.staged = staged{}
	hs.vars = withAll(hs.vars, s.vars)
	hs.includeVars = withAll(hs.includeVars, s.includeVars)
	if len(s.facts) > 0 || len(s.cached) > 0 {
		hs.facts, hs.factLayer = maps.Clone(hs.facts), maps.Clone(hs.factLayer)
		for k, v := range s.facts {
			k = strings.TrimPrefix(k, "ansible_")
			hs.facts[k] = v
			hs.factLayer["ansible_"+k] = v
		}
		maps.Copy(hs.facts, s.cached)
		maps.Copy(hs.factLayer, s.cached)
	}
	for _, n := range s.notify {
		hs.notified[n] = true
	}
	if s.failed {
		hs.failed = true
		hs.failedTask, hs.failedResult = s.failedTask, s.failedResult
	}
	if s.unreachable {
		hs.unreachable = true
	}
}
