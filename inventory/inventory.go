package inventory

import (
	"errors"
	"fmt"
	"net"
	"path"
	"strconv"
	"strings"
)

// Inventory is a set of hosts and groups. It is immutable once built.
type Inventory struct {
	hosts  []*Host
	byName map[string]*Host
	groups map[string]*Group
}

// Host is one target machine and its variables.
type Host struct {
	// Name is the inventory name (inventory_hostname).
	Name string
	// Vars are the host's variables (ansible_host, ansible_port, ...).
	Vars map[string]any
}

// Group is a named set of hosts with variables of its own.
type Group struct {
	Name  string
	Hosts []*Host
	Vars  map[string]any
}

// New returns an empty inventory holding only the implicit groups.
func New() *Inventory {
	return &Inventory{byName: map[string]*Host{}, groups: map[string]*Group{
		"all":       {Name: "all", Vars: map[string]any{}},
		"ungrouped": {Name: "ungrouped", Vars: map[string]any{}},
	}}
}

// ParseHostList reads Ansible's comma-separated host list: "web1,web2,"
// (a single host needs the trailing comma), with host:port and [v6]:port
// forms setting ansible_port.
func ParseHostList(s string) (*Inventory, error) {
	if !strings.Contains(s, ",") {
		return nil, fmt.Errorf("host list %q has no comma; a single host is written %q", s, s+",")
	}
	inv := New()
	for _, item := range strings.Split(s, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		name, port, err := splitHostPort(item)
		if err != nil {
			return nil, fmt.Errorf("host list %q: %w", s, err)
		}
		h := inv.add(name)
		if port != 0 {
			h.Vars["ansible_port"] = port
		}
	}
	return inv, nil
}

// splitHostPort splits host[:port], [v6]:port and bare IPv6 addresses.
func splitHostPort(s string) (string, int, error) {
	if strings.HasPrefix(s, "[") {
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

// add returns the host named name, adding it to all and ungrouped.
func (inv *Inventory) add(name string) *Host {
	if h, ok := inv.byName[name]; ok {
		return h
	}
	h := &Host{Name: name, Vars: map[string]any{}}
	inv.hosts = append(inv.hosts, h)
	inv.byName[name] = h
	inv.groups["all"].Hosts = append(inv.groups["all"].Hosts, h)
	inv.groups["ungrouped"].Hosts = append(inv.groups["ungrouped"].Hosts, h)
	return h
}

// Hosts returns every host in inventory order.
func (inv *Inventory) Hosts() []*Host { return inv.hosts }

// Host returns the host called name.
func (inv *Inventory) Host(name string) (*Host, bool) {
	h, ok := inv.byName[name]
	return h, ok
}

// localhost is the implicit host Ansible adds when a pattern names it.
func localhost() *Host {
	return &Host{Name: "localhost", Vars: map[string]any{"ansible_connection": "local"}}
}

// ErrNoHosts means a pattern selected nothing.
var ErrNoHosts = errors.New("no hosts matched")

// Match returns the hosts a pattern selects, in inventory order: names,
// groups, all or *, globs (web*), with , or : between terms, &term to
// intersect and !term to exclude. "localhost" selects the implicit local
// host when the inventory lacks it.
func (inv *Inventory) Match(pattern string) ([]*Host, error) {
	terms := splitPattern(pattern)
	if len(terms) == 0 {
		return nil, fmt.Errorf("empty host pattern")
	}
	var selected []*Host
	seen := map[*Host]bool{}
	var implicit *Host
	for _, term := range terms {
		op := byte(0)
		if term[0] == '!' || term[0] == '&' {
			op, term = term[0], term[1:]
		}
		matched := inv.matchTerm(term)
		if len(matched) == 0 && term == "localhost" {
			if implicit == nil {
				implicit = localhost()
			}
			matched = []*Host{implicit}
		}
		switch op {
		case '!':
			selected = filter(selected, func(h *Host) bool { return !containsHost(matched, h) })
		case '&':
			selected = filter(selected, func(h *Host) bool { return containsHost(matched, h) })
		default:
			for _, h := range matched {
				if !seen[h] {
					seen[h] = true
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

// splitPattern splits on commas, or on colons when the pattern has no comma.
func splitPattern(p string) []string {
	sep := ","
	if !strings.Contains(p, ",") {
		sep = ":"
	}
	var terms []string
	for _, t := range strings.Split(p, sep) {
		if t = strings.TrimSpace(t); t != "" {
			terms = append(terms, t)
		}
	}
	return terms
}

func (inv *Inventory) matchTerm(term string) []*Host {
	if term == "all" || term == "*" {
		return inv.hosts
	}
	if g, ok := inv.groups[term]; ok {
		return g.Hosts
	}
	if h, ok := inv.byName[term]; ok {
		return []*Host{h}
	}
	var out []*Host
	if strings.ContainsAny(term, "*?[") {
		for _, h := range inv.hosts {
			if ok, _ := path.Match(term, h.Name); ok {
				out = append(out, h)
			}
		}
	}
	return out
}

func filter(hosts []*Host, keep func(*Host) bool) []*Host {
	var out []*Host
	for _, h := range hosts {
		if keep(h) {
			out = append(out, h)
		}
	}
	return out
}

func containsHost(hosts []*Host, h *Host) bool {
	for _, x := range hosts {
		if x == h {
			return true
		}
	}
	return false
}
