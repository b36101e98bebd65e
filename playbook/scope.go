package playbook

import (
	"maps"
	"slices"
	"strings"

	"github.com/drover/drover/inventory"
	"github.com/drover/drover/playbook/template"
	"github.com/drover/drover/playbook/value"
)

// layers is a scope of raw variables searched from the highest
// precedence down, so a task's variables are never copied into one map:
// each layer is a map owned by whoever set it (the inventory, the play,
// a block, the host's set_facts).
type layers []map[string]any

// Lookup returns the value from the highest layer that has name.
func (l layers) Lookup(name string) (any, bool) {
	for i := len(l) - 1; i >= 0; i-- {
		if v, ok := l[i][name]; ok {
			return v, true
		}
	}
	return nil, false
}

// hostScope builds what a task's templates see on one host: Ansible's
// precedence from inventory variables up to extra vars, and the magic
// variables.
func (pr *playRun) hostScope(hs *hostState, chain []*Task, extra map[string]any) *template.Lazy {
	l := layers{hs.inventory, hs.factVars(), pr.playVars}
	for _, t := range chain {
		if f, ok := t.Keyword("vars"); ok {
			if d, ok := f.Value.(*value.Dict); ok {
				l = append(l, d.Map())
			}
		}
	}
	magic := pr.magic(hs)
	all := &allVars{}
	magic["vars"] = all
	l = append(l, hs.includeVars, hs.vars, magic, extra, pr.run.opts.ExtraVars)
	lazy := template.NewLazyScope(l, pr.run.cache).WithVault(pr.run.r.Vault)
	all.scope, all.layers = lazy, l
	return lazy
}

// allVars is Ansible's vars: every variable of the host's scope, by name,
// as in vars['ansible_' + iface].
type allVars struct {
	scope  *template.Lazy
	layers layers
}

var _ template.Mapping = (*allVars)(nil)

func (a *allVars) Get(name string) (any, bool) { return a.scope.Lookup(name) }

func (a *allVars) Keys() []string {
	seen := map[string]bool{}
	for _, l := range a.layers {
		for k := range l {
			seen[k] = true
		}
	}
	delete(seen, "vars") // as Ansible's vars do not hold themselves
	return slices.Sorted(maps.Keys(seen))
}

// magic are the variables Ansible defines for every host.
func (pr *playRun) magic(hs *hostState) map[string]any {
	h := hs.host
	short, _, _ := strings.Cut(h.Name, ".")
	pr.mu.RLock()
	defer pr.mu.RUnlock()
	m := map[string]any{
		"inventory_hostname":       h.Name,
		"inventory_hostname_short": short,
		"ansible_check_mode":       pr.run.opts.Check,
		"ansible_diff_mode":        pr.run.opts.Diff,
		"ansible_verbosity":        int64(pr.run.opts.Verbosity),
		"ansible_forks":            int64(pr.run.forks()),
		"omit":                     template.Omit,
		"playbook_dir":             pr.run.pb.Dir,
		"ansible_play_name":        pr.play.Name,
		"ansible_play_hosts":       pr.namesOf(func() []*hostState { return pr.all }),
		"ansible_play_batch":       pr.namesOf(func() []*hostState { return pr.hosts }),
		"play_hosts":               pr.namesOf(func() []*hostState { return pr.hosts }),
		"ansible_play_hosts_all":   pr.allNames,
		"hostvars":                 hostvars{pr: pr},
		"groups":                   pr.groups,
		"ansible_facts":            hs.facts,
		"ansible_version":          ansibleVersion,
		"ansible_run_tags":         stringList(sortedUnique(pr.run.opts.Tags), "all"),
		"ansible_skip_tags":        stringList(sortedUnique(pr.run.opts.SkipTags)),
	}
	if pr.run.opts.Limit != "" {
		m["ansible_limit"] = pr.run.opts.Limit
	}
	if inv := pr.run.opts.Inventory; inv != nil {
		names := []any{}
		for _, g := range inv.GroupNames(h) {
			names = append(names, g)
		}
		m["group_names"] = names
	}
	return m
}

// namesOf is the names of the hosts still in the play among hosts(), built
// when a template asks: built for every host's scope, the lists made each
// task cost time in the square of the hosts.
func (pr *playRun) namesOf(hosts func() []*hostState) template.Thunk {
	return func() any {
		pr.mu.RLock()
		defer pr.mu.RUnlock()
		return names(hosts())
	}
}

// ansibleVersion is the Ansible release whose behaviour drover follows.
var ansibleVersion = map[string]any{"full": "2.14.18", "major": int64(2), "minor": int64(14), "revision": int64(18), "string": "2.14.18"}

// sortedUnique is how Ansible hands tags to plays: a set, listed sorted.
func sortedUnique(s []string) []string {
	s = slices.Clone(s)
	slices.Sort(s)
	return slices.Compact(s)
}

func stringList(s []string, def ...string) []any {
	if len(s) == 0 {
		s = def
	}
	out := make([]any, len(s))
	for i, x := range s {
		out[i] = x
	}
	return out
}

// hostvars is Ansible's hostvars: every host of the inventory, each with
// its variables and facts, looked up only when a template asks.
type hostvars struct{ pr *playRun }

var _ template.Mapping = hostvars{}

func (hv hostvars) Get(name string) (any, bool) {
	hs, ok := hv.pr.states[name]
	if !ok {
		h, found := hv.pr.run.opts.Inventory.HostOrLocalhost(name)
		if !found {
			return nil, false
		}
		hs = newHostState(h)
	}
	return hostVarsOf{pr: hv.pr, hs: hs}, true
}

// Keys lists the inventory's hosts, then the implicit localhost when the
// inventory has none, as Ansible's hostvars do.
func (hv hostvars) Keys() []string {
	var out []string
	for _, h := range hv.pr.run.opts.Inventory.Hosts() {
		out = append(out, h.Name)
	}
	if !slices.Contains(out, "localhost") {
		out = append(out, "localhost")
	}
	return out
}

// hostVarsOf is one host's entry of hostvars.
type hostVarsOf struct {
	pr *playRun
	hs *hostState
}

var _ template.Mapping = hostVarsOf{}

func (h hostVarsOf) layers() layers {
	h.pr.mu.RLock()
	l := layers{h.hs.inventory, h.hs.factVars(), h.hs.includeVars, h.hs.vars}
	h.pr.mu.RUnlock()
	magic := h.pr.magic(h.hs)
	for _, k := range playMagic {
		delete(magic, k)
	}
	return append(l, magic, h.pr.run.opts.ExtraVars)
}

// playMagic are the magic variables of the play rather than of a host,
// which Ansible's hostvars do not hold.
var playMagic = []string{"ansible_play_batch", "ansible_play_hosts", "ansible_play_hosts_all", "ansible_play_name", "play_hosts"}

func (h hostVarsOf) Get(name string) (any, bool) {
	return template.NewLazyScope(h.layers(), h.pr.run.cache).Lookup(name)
}

func (h hostVarsOf) Keys() []string {
	seen := map[string]bool{}
	for _, l := range h.layers() {
		for k := range l {
			seen[k] = true
		}
	}
	delete(seen, "hostvars") // as Ansible's hostvars do not nest themselves
	keys := make([]string, 0, len(seen))
	for k := range seen {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// groupsOf is Ansible's groups variable.
func groupsOf(inv *inventory.Inventory) map[string]any {
	if inv == nil {
		return map[string]any{}
	}
	return inv.GroupsMap()
}
