package inventory

import (
	"fmt"
	"github.com/drover/drover/playbook/value"
	"strings"

	"github.com/drover/drover/playbook/source"
	"gopkg.in/yaml.v3"
)

// parseYAML adds a YAML inventory (all: {hosts, vars, children}) to inv.
func (inv *Inventory) parseYAML(file string, src []byte) error {
	var doc yaml.Node
	if err := yaml.Unmarshal(src, &doc); err != nil {
		return fmt.Errorf("%s: %w", file, err)
	}
	if len(doc.Content) == 0 {
		return nil // an empty file is an empty inventory
	}
	root := doc.Content[0]
	if root.Kind != yaml.MappingNode {
		return source.Errorf(nodePos(file, root), "a YAML inventory is a mapping of group names, like all: {hosts: ..., children: ...}")
	}
	for i := 0; i+1 < len(root.Content); i += 2 {
		if err := inv.yamlGroup(file, root.Content[i].Value, root.Content[i+1], nil); err != nil {
			return err
		}
	}
	return nil
}

func nodePos(file string, n *yaml.Node) source.Pos {
	return source.Pos{File: file, Line: n.Line, Col: n.Column}
}

func (inv *Inventory) yamlGroup(file, name string, n *yaml.Node, parent *Group) error {
	g := inv.group(name)
	if parent != nil {
		if g.ancestorOf(parent) {
			return source.Errorf(nodePos(file, n), "group %s cannot be a child of %s: that makes a cycle", name, parent.Name)
		}
		parent.addChild(g)
	}
	for n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	if n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
		return nil
	}
	if n.Kind != yaml.MappingNode {
		inv.warnf("%s: skipping group %s: it is not a mapping with hosts, vars or children", nodePos(file, n), name)
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		key, val := n.Content[i], n.Content[i+1]
		if isNull(val) {
			continue
		}
		var err error
		switch key.Value {
		case "hosts":
			err = inv.yamlHosts(file, g, val)
		case "vars":
			err = yamlVars(file, val, g.Vars)
		case "children":
			err = inv.yamlChildren(file, g, val)
		default:
			inv.warnf("%s: skipping unexpected key %q in group %s; only vars, children and hosts are valid", nodePos(file, key), key.Value, name)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

func isNull(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.Tag == "!!null"
}

func (inv *Inventory) yamlHosts(file string, g *Group, n *yaml.Node) error {
	if n.Kind != yaml.MappingNode {
		return source.Errorf(nodePos(file, n), "hosts of group %s must be a mapping of host names to their variables", g.Name)
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		key, val := n.Content[i], n.Content[i+1]
		names, port, err := expandHostPattern(key.Value)
		if err != nil {
			return source.Errorf(nodePos(file, key), "%v", err)
		}
		vars := map[string]any{}
		if !isNull(val) {
			if err := yamlVars(file, val, vars); err != nil {
				return err
			}
		}
		inv.addHosts(g, names, port, vars)
	}
	return nil
}

func (inv *Inventory) yamlChildren(file string, g *Group, n *yaml.Node) error {
	if n.Kind != yaml.MappingNode {
		return source.Errorf(nodePos(file, n), "children of group %s must be a mapping of group names", g.Name)
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if err := inv.yamlGroup(file, n.Content[i].Value, n.Content[i+1], g); err != nil {
			return err
		}
	}
	return nil
}

func yamlVars(file string, n *yaml.Node, into map[string]any) error {
	v, err := value.DecodeYAML(file, n)
	if err != nil {
		return err
	}
	d, ok := v.(*value.Dict)
	if !ok {
		return source.Errorf(nodePos(file, n), "variables must be a mapping of names to values")
	}
	for k, e := range d.All() {
		into[k] = e
	}
	return nil
}

// looksLikeYAMLInventory reports whether src parses as a YAML mapping,
// which tells a YAML inventory from an INI one without an extension.
func looksLikeYAMLInventory(src []byte) bool {
	var doc yaml.Node
	if yaml.Unmarshal(src, &doc) != nil || len(doc.Content) == 0 {
		return false
	}
	root := doc.Content[0]
	if root.Kind != yaml.MappingNode {
		return false
	}
	for i := 0; i+1 < len(root.Content); i += 2 {
		v := root.Content[i+1]
		if !isNull(v) && v.Kind != yaml.MappingNode {
			return false
		}
	}
	return !strings.HasPrefix(strings.TrimSpace(string(src)), "[")
}
