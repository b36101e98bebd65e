package inventory

import (
	"bytes"
	"github.com/drover/drover/playbook/value"
	"math"
	"math/big"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"
)

// ListYAML renders the inventory as `ansible-inventory --list --yaml`:
// the all: tree with children and hosts sorted by name, each host's
// variables shown where it first appears.
func (inv *Inventory) ListYAML() (string, error) {
	seen := map[*Host]bool{}
	var format func(g *Group) *yaml.Node
	format = func(g *Group) *yaml.Node {
		body := mapping()
		children := mapping()
		kids := slices.Clone(g.children)
		slices.SortFunc(kids, func(a, b *Group) int { return strings.Compare(a.Name, b.Name) })
		for _, c := range kids {
			addPair(children, c.Name, format(c))
		}
		if len(children.Content) > 0 {
			addPair(body, "children", children)
		}
		if g.Name != "all" && len(g.hosts) > 0 {
			hosts := mapping()
			sorted := slices.Clone(g.hosts)
			slices.SortFunc(sorted, func(a, b *Host) int { return strings.Compare(a.Name, b.Name) })
			for _, h := range sorted {
				vars := map[string]any{}
				if !seen[h] {
					seen[h] = true
					vars = h.Vars
				}
				addPair(hosts, h.Name, toYAMLNode(vars))
			}
			addPair(body, "hosts", hosts)
		}
		return body
	}
	root := mapping()
	addPair(root, "all", format(inv.groups["all"]))
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(root); err != nil {
		return "", err
	}
	return buf.String(), enc.Close()
}

func mapping() *yaml.Node { return &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"} }

func addPair(m *yaml.Node, key string, val *yaml.Node) {
	m.Content = append(m.Content, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: key}, val)
}

// toYAMLNode renders a variable value, keeping Python's types: exact big
// integers, floats with a dot, .inf, and strings quoted where YAML 1.1
// would read them as something else.
func toYAMLNode(v any) *yaml.Node {
	scalar := func(tag, value string) *yaml.Node {
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: tag, Value: value}
	}
	switch x := v.(type) {
	case map[string]any:
		m := mapping()
		for _, k := range sortedKeys(x) {
			addPair(m, k, toYAMLNode(x[k]))
		}
		if len(m.Content) == 0 {
			m.Style = yaml.FlowStyle
		}
		return m
	case *value.Dict:
		return toYAMLNode(x.Map())
	case value.Unsafe:
		return toYAMLNode(string(x))
	case []any:
		return sequence(x)
	case tuple:
		return sequence(x)
	case string:
		n := scalar("!!str", x)
		if x != "" && (value.Plain11(x) != any(x) || strings.ContainsAny(x[:1], " !&*|>%@`'\"#{[")) {
			n.Style = yaml.SingleQuotedStyle
		}
		return n
	case nil:
		return scalar("!!null", "null")
	case bool:
		if x {
			return scalar("!!bool", "true")
		}
		return scalar("!!bool", "false")
	case float64:
		switch {
		case math.IsInf(x, 1):
			return scalar("!!float", ".inf")
		case math.IsInf(x, -1):
			return scalar("!!float", "-.inf")
		case math.IsNaN(x):
			return scalar("!!float", ".nan")
		}
		return scalar("!!float", pyFloat(x))
	case *big.Int:
		return scalar("!!int", x.String())
	default:
		return scalar("!!int", formatScalar(x))
	}
}

func sequence(items []any) *yaml.Node {
	s := &yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq"}
	for _, it := range items {
		s.Content = append(s.Content, toYAMLNode(it))
	}
	if len(items) == 0 {
		s.Style = yaml.FlowStyle
	}
	return s
}
