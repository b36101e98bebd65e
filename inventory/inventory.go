package inventory

import (
	"errors"
	"fmt"
	"github.com/drover/drover/playbook/value"
	"net"
	"os"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/drover/drover/vault"
)

// Inventory is a set of hosts and groups. It is immutable once loaded.
type Inventory struct {
	hosts  []*Host
	byName map[string]*Host
	groups map[string]*Group
	order  []*Group // groups in the order they were created
	warns  []string
	keys   *vault.Keyring
}

// Warnings are problems Ansible also tolerates with a warning, such as an
// unexpected key in a YAML group.
func (inv *Inventory) Warnings() []string { return inv.warns }

func (inv *Inventory) warnf(format string, args ...any) {
	inv.warns = append(inv.warns, fmt.Sprintf(format, args...))
}

// Host is one target machine.
type Host struct {
	// Name is the inventory name (inventory_hostname).
	Name string
	// Vars are the host's variables with its groups' merged in, as Ansible
	// computes them; filled when loading finishes.
	Vars map[string]any

	own     map[string]any
	dirVars []map[string]any // from host_vars/, one per inventory directory
	groups  []*Group         // direct groups
}

// Group is a named set of hosts and child groups with variables.
type Group struct {
	Name string
	// Vars are the group's own variables.
	Vars map[string]any
	// Priority is ansible_group_priority (default 1): among groups of equal
	// depth, a higher priority wins.
	Priority int

	dirVars  []map[string]any // from group_vars/, one per inventory directory
	hosts    []*Host
	hostSet  map[*Host]bool
	children []*Group
	parents  []*Group
}

// Hosts returns the group's direct hosts in inventory order.
func (g *Group) Hosts() []*Host { return g.hosts }

// Children returns the group's direct child groups.
func (g *Group) Children() []*Group { return g.children }

// New returns an empty inventory holding only the implicit groups all and
// ungrouped.
func New() *Inventory {
	inv := &Inventory{byName: map[string]*Host{}, groups: map[string]*Group{}}
	all := inv.group("all")
	all.addChild(inv.group("ungrouped"))
	return inv
}

// group returns the group called name, creating it.
func (inv *Inventory) group(name string) *Group {
	if g, ok := inv.groups[name]; ok {
		return g
	}
	g := &Group{Name: name, Vars: map[string]any{}, Priority: 1}
	inv.groups[name] = g
	inv.order = append(inv.order, g)
	return g
}

// host returns the host called name, creating it.
func (inv *Inventory) host(name string) *Host {
	if h, ok := inv.byName[name]; ok {
		return h
	}
	h := &Host{Name: name, own: map[string]any{}}
	inv.hosts = append(inv.hosts, h)
	inv.byName[name] = h
	return h
}

// addHosts puts the named hosts in g with a port (0: none) and variables.
func (inv *Inventory) addHosts(g *Group, names []string, port int, vars map[string]any) {
	for _, name := range names {
		h := inv.host(name)
		g.addHost(h)
		if port != 0 {
			h.own["ansible_port"] = int64(port)
		}
		for k, v := range vars {
			h.own[k] = v
		}
	}
}

func (g *Group) addHost(h *Host) {
	if g.hostSet == nil {
		g.hostSet = map[*Host]bool{}
	}
	if !g.hostSet[h] {
		g.hostSet[h] = true
		g.hosts = append(g.hosts, h)
		h.groups = append(h.groups, g)
	}
}

// removeHosts drops the hosts for which drop is true from g.
func (g *Group) removeHosts(drop func(*Host) bool) {
	g.hosts = slices.DeleteFunc(g.hosts, func(h *Host) bool {
		if drop(h) {
			delete(g.hostSet, h)
			h.groups = slices.DeleteFunc(h.groups, func(x *Group) bool { return x == g })
			return true
		}
		return false
	})
}

func (g *Group) addChild(c *Group) {
	if !slices.Contains(g.children, c) {
		g.children = append(g.children, c)
		c.parents = append(c.parents, g)
	}
}

// ancestorOf reports whether g is c or one of c's ancestors.
func (g *Group) ancestorOf(c *Group) bool {
	if g == c {
		return true
	}
	for _, p := range c.parents {
		if g.ancestorOf(p) {
			return true
		}
	}
	return false
}

// finish reconciles the inventory as Ansible does after loading: groups
// without parents hang under all, hosts in no group but all go to
// ungrouped, and every host's variables are merged.
func (inv *Inventory) finish() {
	all, ungrouped := inv.groups["all"], inv.groups["ungrouped"]
	for _, g := range inv.order {
		if g != all && len(g.parents) == 0 {
			all.addChild(g)
		}
	}
	all.removeHosts(func(*Host) bool { return true }) // hosts listed under all itself
	for _, h := range inv.hosts {
		if len(h.groups) == 0 {
			ungrouped.addHost(h)
		}
	}
	ungrouped.removeHosts(func(h *Host) bool { return len(h.groups) > 1 })
	for _, g := range inv.order {
		if p, ok := g.Vars["ansible_group_priority"]; ok {
			if n, err := strconv.Atoi(fmt.Sprint(p)); err == nil {
				g.Priority = n
			}
		}
	}
	for _, h := range inv.hosts {
		h.Vars = inv.merge(h)
	}
}

// merge combines variables in Ansible's order: the inventory's group vars
// (all first, then groups shallowest first, then by ansible_group_priority
// and name), then group_vars/ in the same group order, then the host's
// inventory vars, then host_vars/.
func (inv *Inventory) merge(h *Host) map[string]any {
	groups := inv.ancestors(h)
	depth := map[*Group]int{}
	for _, g := range groups {
		depth[g] = g.depth()
	}
	slices.SortStableFunc(groups, func(a, b *Group) int {
		if d := depth[a] - depth[b]; d != 0 {
			return d
		}
		if p := a.Priority - b.Priority; p != 0 {
			return p
		}
		return strings.Compare(a.Name, b.Name)
	})
	vars := map[string]any{}
	set := func(m map[string]any) {
		for k, v := range m {
			vars[k] = v
		}
	}
	for _, g := range groups {
		set(g.Vars)
	}
	for _, g := range groups {
		for _, m := range g.dirVars {
			set(m)
		}
	}
	set(h.own)
	for _, m := range h.dirVars {
		set(m)
	}
	delete(vars, "ansible_group_priority")
	return vars
}

// ancestors returns every group h belongs to, directly or through children,
// including all.
func (inv *Inventory) ancestors(h *Host) []*Group {
	seen := map[*Group]bool{}
	var out []*Group
	var walk func(g *Group)
	walk = func(g *Group) {
		if seen[g] {
			return
		}
		seen[g] = true
		out = append(out, g)
		for _, p := range g.parents {
			walk(p)
		}
	}
	for _, g := range h.groups {
		walk(g)
	}
	walk(inv.groups["all"])
	return out
}

// depth is the length of the longest path from all down to g.
func (g *Group) depth() int {
	d := 0
	for _, p := range g.parents {
		d = max(d, p.depth()+1)
	}
	return d
}

// ParseHostList reads Ansible's comma-separated host list: "web1,web2,"
// (a single host needs the trailing comma), with host:port and [v6]:port
// forms setting ansible_port.
func ParseHostList(s string) (*Inventory, error) {
	inv := New()
	if err := inv.addHostList(s); err != nil {
		return nil, err
	}
	inv.finish()
	return inv, nil
}

func (inv *Inventory) addHostList(s string) error {
	if !strings.Contains(s, ",") {
		return fmt.Errorf("host list %q has no comma; a single host is written %q", s, s+",")
	}
	for _, item := range strings.Split(s, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		name, port, err := splitHostPort(item)
		if err != nil {
			return fmt.Errorf("host list %q: %w", s, err)
		}
		h := inv.host(name)
		inv.groups["ungrouped"].addHost(h)
		if port != 0 {
			h.own["ansible_port"] = int64(port)
		}
	}
	return nil
}

// splitHostPort splits host[:port], [v6]:port and bare IPv6 addresses.
func splitHostPort(s string) (string, int, error) {
	if strings.HasPrefix(s, "[") && strings.Contains(s, "]:") {
		host, port, err := net.SplitHostPort(s)
		if err != nil {
			return "", 0, fmt.Errorf("bad host %q: %w", s, err)
		}
		n, err := strconv.Atoi(port)
		if host == "" || err != nil || n <= 0 || n > 65535 {
			return "", 0, fmt.Errorf("bad host %q: want [address]:port with a port from 1 to 65535", s)
		}
		return host, n, nil
	}
	if strings.Count(s, ":") != 1 {
		return s, 0, nil // a name, or a bare IPv6 address
	}
	host, port, _ := strings.Cut(s, ":")
	n, err := strconv.Atoi(port)
	if host == "" || err != nil || n <= 0 || n > 65535 {
		return "", 0, fmt.Errorf("bad host %q: want host or host:port with a port from 1 to 65535", s)
	}
	return host, n, nil
}

// Hosts returns every host in inventory order.
func (inv *Inventory) Hosts() []*Host { return inv.hosts }

// Host returns the host called name.
func (inv *Inventory) Host(name string) (*Host, bool) {
	h, ok := inv.byName[name]
	return h, ok
}

// Group returns the group called name.
func (inv *Inventory) Group(name string) (*Group, bool) {
	g, ok := inv.groups[name]
	return g, ok
}

// GroupNames returns the names of the groups h belongs to, directly or
// through its groups' parents, sorted, without all (group_names).
func (inv *Inventory) GroupNames(h *Host) []string {
	var out []string
	for _, g := range inv.ancestors(h) {
		if g.Name != "all" {
			out = append(out, g.Name)
		}
	}
	slices.Sort(out)
	return out
}

// groupHosts returns the hosts of g and of its descendants as Ansible
// lists them: g's own hosts, then level by level down the child groups.
// Ansible orders groups within a level by Python set iteration; drover uses
// the order the groups were defined in, which is stable.
func (inv *Inventory) groupHosts(g *Group) []*Host {
	var out []*Host
	seenHost := map[*Host]bool{}
	seenGroup := map[*Group]bool{g: true}
	level := []*Group{g}
	for depth := 0; len(level) > 0; depth++ {
		var next []*Group
		for _, grp := range level {
			for _, h := range grp.hosts {
				if !seenHost[h] {
					seenHost[h] = true
					out = append(out, h)
				}
			}
			for _, c := range grp.children {
				if !seenGroup[c] {
					seenGroup[c] = true
					next = append(next, c)
				}
			}
		}
		if depth > 0 { // g's own children keep their order
			slices.SortStableFunc(next, func(a, b *Group) int { return slices.Index(inv.order, a) - slices.Index(inv.order, b) })
		}
		level = next
	}
	return out
}

// HostOrLocalhost is Host, or for "localhost" when the inventory has no such
// host, the implicit localhost, which Ansible's hostvars always hold.
func (inv *Inventory) HostOrLocalhost(name string) (*Host, bool) {
	if h, ok := inv.byName[name]; ok || name != "localhost" {
		return h, ok
	}
	return inv.localhost(), true
}

// localhost is the implicit host Ansible adds when a pattern names it. It
// is in no group, but it takes the all group's variables, as Ansible's
// does.
func (inv *Inventory) localhost() *Host {
	vars := map[string]any{}
	if all, ok := inv.groups["all"]; ok {
		for _, m := range append([]map[string]any{all.Vars}, all.dirVars...) {
			for k, v := range m {
				vars[k] = v
			}
		}
	}
	vars["ansible_connection"] = "local"
	return &Host{Name: "localhost", Vars: vars, own: vars}
}

// ErrNoHosts means a pattern selected nothing.
var ErrNoHosts = errors.New("no hosts matched")

// Match returns the hosts a pattern selects, in inventory order: names,
// groups, all or *, globs (web*), regexes (~web\d+), subscripts (web[0],
// web[1:3], web[-1]); terms separated by , or :, with &term to intersect
// and !term to exclude. "localhost" selects the implicit local host when
// the inventory lacks it.
func (inv *Inventory) Match(pattern string) ([]*Host, error) {
	terms := splitPattern(pattern)
	if len(terms) == 0 {
		return nil, fmt.Errorf("empty host pattern")
	}
	// Ansible applies plain terms first, then &, then !.
	slices.SortStableFunc(terms, func(a, b string) int { return termRank(a) - termRank(b) })
	var selected []*Host
	var implicit *Host
	for i, term := range terms {
		op := byte(0)
		if term[0] == '!' || term[0] == '&' {
			op, term = term[0], term[1:]
			if i == 0 {
				selected = inv.hosts // only & and ! terms: all is implied
			}
		}
		matched, err := inv.matchTerm(term)
		if err != nil {
			return nil, err
		}
		if len(matched) == 0 && term == "localhost" {
			if implicit == nil {
				implicit = inv.localhost()
			}
			matched = []*Host{implicit}
		}
		switch op {
		case '!':
			selected = slices.DeleteFunc(slices.Clone(selected), func(h *Host) bool { return slices.Contains(matched, h) })
		case '&':
			selected = slices.DeleteFunc(slices.Clone(selected), func(h *Host) bool { return !slices.Contains(matched, h) })
		default:
			for _, h := range matched {
				if !slices.Contains(selected, h) {
					selected = append(selected, h)
				}
			}
		}
	}
	if len(selected) == 0 {
		return nil, fmt.Errorf("%w: %q", ErrNoHosts, pattern)
	}
	return selected, nil
}

func termRank(t string) int {
	switch t[0] {
	case '&':
		return 1
	case '!':
		return 2
	}
	return 0
}

// splitPattern splits on commas, or on colons when the pattern has no
// comma (Ansible's legacy separator) and is not an IPv6 address.
func splitPattern(p string) []string {
	var terms []string
	sep := ","
	if !strings.Contains(p, ",") && !strings.Contains(p, "::") {
		sep = ":"
		// host[1:3] subscripts hold colons too: keep bracketed parts whole.
		return splitOutsideBrackets(p)
	}
	for _, t := range strings.Split(p, sep) {
		if t = strings.TrimSpace(t); t != "" {
			terms = append(terms, t)
		}
	}
	return terms
}

func splitOutsideBrackets(p string) []string {
	var terms []string
	depth, start := 0, 0
	for i := 0; i <= len(p); i++ {
		if i < len(p) {
			switch p[i] {
			case '[':
				depth++
				continue
			case ']':
				depth--
				continue
			}
			if p[i] != ':' || depth > 0 {
				continue
			}
		}
		if t := strings.TrimSpace(p[start:i]); t != "" {
			terms = append(terms, t)
		}
		start = i + 1
	}
	return terms
}

// subscript matches "name[...]" at the end of a term.
var subscript = regexp.MustCompile(`^(.+)\[(-?\d*)(?::(-?\d*))?\]$`)

func (inv *Inventory) matchTerm(term string) ([]*Host, error) {
	if strings.HasPrefix(term, "~") {
		re, err := regexp.Compile("^(?:" + term[1:] + ")")
		if err != nil {
			return nil, fmt.Errorf("host pattern %q: bad regular expression: %w", term, err)
		}
		return inv.matchFunc(func(name string) bool { return re.MatchString(name) }), nil
	}
	if m := subscript.FindStringSubmatch(term); m != nil && !inv.isName(term) {
		hosts, err := inv.matchTerm(m[1])
		if err != nil {
			return nil, err
		}
		return slice(hosts, m[2], m[3], strings.Contains(term[len(m[1]):], ":"))
	}
	return inv.matchFunc(func(name string) bool {
		if name == term {
			return true
		}
		ok, _ := path.Match(term, name)
		return ok && strings.ContainsAny(term, "*?[")
	}), nil
}

func (inv *Inventory) isName(term string) bool {
	_, h := inv.byName[term]
	_, g := inv.groups[term]
	return h || g
}

// matchFunc returns the hosts of every group whose name matches, and every
// host whose name matches, in inventory order.
func (inv *Inventory) matchFunc(match func(string) bool) []*Host {
	var out []*Host
	add := func(hs []*Host) {
		for _, h := range hs {
			if !slices.Contains(out, h) {
				out = append(out, h)
			}
		}
	}
	for _, g := range inv.order {
		if match(g.Name) {
			add(inv.groupHosts(g))
		}
	}
	for _, h := range inv.hosts {
		if match(h.Name) {
			add([]*Host{h})
		}
	}
	return out
}

// slice applies a subscript: [i], or [a:b] with b inclusive as Ansible has it.
func slice(hosts []*Host, a, b string, isRange bool) ([]*Host, error) {
	n := len(hosts)
	idx := func(s string, def int) int {
		if s == "" {
			return def
		}
		i, _ := strconv.Atoi(s)
		if i < 0 {
			i += n
		}
		return i
	}
	if !isRange {
		i := idx(a, 0)
		if i < 0 || i >= n {
			return nil, nil
		}
		return []*Host{hosts[i]}, nil
	}
	start, end := idx(a, 0), idx(b, n-1)
	start, end = max(start, 0), min(end, n-1)
	if start > end {
		return nil, nil
	}
	return hosts[start : end+1], nil
}

// Limit narrows hosts to those the --limit pattern selects, keeping their
// order. "@file" reads the pattern from a file, one term per line, as
// Ansible's retry files hold them.
func (inv *Inventory) Limit(hosts []*Host, limit string) ([]*Host, error) {
	if strings.HasPrefix(limit, "@") {
		data, err := os.ReadFile(limit[1:])
		if err != nil {
			return nil, fmt.Errorf("--limit %s: %w", limit, err)
		}
		var terms []string
		for _, line := range strings.Split(string(data), "\n") {
			if line = strings.TrimSpace(line); line != "" {
				terms = append(terms, line)
			}
		}
		limit = strings.Join(terms, ",")
	}
	allowed, err := inv.Match(limit)
	if err != nil && !errors.Is(err, ErrNoHosts) {
		return nil, err
	}
	return slices.DeleteFunc(slices.Clone(hosts), func(h *Host) bool { return !slices.Contains(allowed, h) }), nil
}

// Native returns v with inventory-only types made plain for templates:
// tuples become lists.
func Native(v any) any {
	switch x := v.(type) {
	case tuple:
		return Native([]any(x))
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = Native(e)
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = Native(e)
		}
		return out
	case *value.Dict:
		out := value.NewDict(x.Len())
		for k, e := range x.All() {
			out.Set(k, Native(e))
		}
		return out
	}
	return v
}

// GroupsMap is Ansible's groups variable: every group's hosts by name.
func (inv *Inventory) GroupsMap() map[string]any {
	out := map[string]any{}
	for _, g := range inv.order {
		var names []any
		for _, h := range inv.groupHosts(g) {
			names = append(names, h.Name)
		}
		if names == nil {
			names = []any{}
		}
		out[g.Name] = names
	}
	return out
}

// AddHost puts a host (created when new) into groups (created as
// children of parents, or of all, when new) with extra variables, for the
// add_host and group_by actions. It is the one change an inventory takes
// after Load: the playbook runner calls it between tasks, from its single
// goroutine, as Ansible changes its in-memory inventory.
func (inv *Inventory) AddHost(name string, groups, parents []string, vars map[string]any) *Host {
	h := inv.host(name)
	for k, v := range vars {
		h.own[k] = v
	}
	all := inv.groups["all"]
	for _, gn := range groups {
		_, existed := inv.groups[gn]
		g := inv.group(gn)
		if !existed {
			if len(parents) == 0 {
				all.addChild(g)
			}
			for _, pn := range parents {
				p, ok := inv.groups[pn]
				if !ok {
					p = inv.group(pn)
					all.addChild(p)
				}
				p.addChild(g)
			}
		}
		g.addHost(h)
	}
	if ungrouped := inv.groups["ungrouped"]; len(h.groups) == 0 {
		ungrouped.addHost(h)
	} else if len(h.groups) > 1 {
		ungrouped.removeHosts(func(x *Host) bool { return x == h })
	}
	h.Vars = inv.merge(h)
	return h
}
