package inventory

import (
	"strings"
)

// ListJSON renders the inventory as `ansible-inventory --list` prints it:
// every group with its hosts and children, and _meta.hostvars.
func (inv *Inventory) ListJSON() string {
	out := map[string]any{}
	seen := map[*Group]bool{}
	var visit func(g *Group)
	visit = func(g *Group) {
		entry := map[string]any{}
		if g.Name != "all" && len(g.hosts) > 0 {
			entry["hosts"] = hostNames(g.hosts)
		}
		if len(g.children) > 0 {
			var kids []string
			for _, c := range g.children {
				kids = append(kids, c.Name)
			}
			entry["children"] = kids
		}
		if len(entry) > 0 {
			out[g.Name] = entry
		}
		for _, c := range g.children {
			if !seen[c] {
				seen[c] = true
				visit(c)
			}
		}
	}
	visit(inv.groups["all"])
	hostvars := map[string]any{}
	for _, h := range inv.hosts {
		if len(h.Vars) > 0 {
			hostvars[h.Name] = h.Vars
		}
	}
	out["_meta"] = map[string]any{"hostvars": hostvars}
	return pyJSON(out)
}

// HostJSON renders one host's variables as `ansible-inventory --host`.
func (inv *Inventory) HostJSON(h *Host) string { return pyJSON(h.Vars) }

// Graph renders the group tree below group as `ansible-inventory --graph`;
// with vars it lists variables too.
func (inv *Inventory) Graph(g *Group, vars bool) string {
	var b strings.Builder
	inv.graph(&b, g, 0, vars)
	return b.String()
}

func (inv *Inventory) graph(b *strings.Builder, g *Group, depth int, vars bool) {
	line := func(s string, d int) {
		if d > 0 {
			s = strings.Repeat("  |", d) + "--" + s
		}
		b.WriteString(s + "\n")
	}
	line("@"+g.Name+":", depth)
	for _, c := range g.children {
		inv.graph(b, c, depth+1, vars)
	}
	if g.Name != "all" {
		for _, h := range g.hosts {
			line(h.Name, depth+1)
			if vars {
				showVars(line, h.Vars, depth+2)
			}
		}
	}
	if vars {
		groupVars := map[string]any{}
		for _, m := range append([]map[string]any{g.Vars}, g.dirVars...) {
			for k, v := range m {
				groupVars[k] = v
			}
		}
		showVars(line, groupVars, depth+1)
	}
}

func showVars(line func(string, int), vars map[string]any, depth int) {
	for _, k := range sortedKeys(vars) {
		line("{"+k+" = "+pyRepr(vars[k])+"}", depth)
	}
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sortStrings(keys)
	return keys
}

func hostNames(hosts []*Host) []string {
	out := make([]string, len(hosts))
	for i, h := range hosts {
		out[i] = h.Name
	}
	return out
}
