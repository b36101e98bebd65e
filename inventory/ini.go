package inventory

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/drover/drover/playbook/source"
)

// sectionHeader is Ansible's INI section regex: [name] or [name:tag].
var sectionHeader = regexp.MustCompile(`^\[([^:\]\s]+)(?::(\w+))?\]\s*(?:#.*)?$`)

// iniState is the section being read.
type iniState struct {
	group string
	kind  string // "hosts", "vars" or "children"
}

// pending is a group named before it is defined, checked at the end.
type pending struct {
	pos  source.Pos
	kind string
	name string
}

// parseINI adds an INI inventory file to inv.
func (inv *Inventory) parseINI(file string, src []byte) error {
	st := iniState{group: "ungrouped", kind: "hosts"}
	var waiting []pending
	childOf := map[string][]string{}
	varsOf := map[string]map[string]any{}
	for i, raw := range strings.Split(string(src), "\n") {
		pos := source.Pos{File: file, Line: i + 1}
		line := strings.TrimSpace(strings.TrimSuffix(raw, "\r"))
		if line == "" || line[0] == '#' || line[0] == ';' {
			continue
		}
		if line[0] == '[' {
			next, err := inv.section(pos, line)
			if err != nil {
				return err
			}
			st = next
			switch st.kind {
			case "hosts":
				inv.group(st.group)
			case "children":
				inv.group(st.group)
			case "vars":
				waiting = append(waiting, pending{pos, "vars", st.group})
				if varsOf[st.group] == nil {
					varsOf[st.group] = map[string]any{}
				}
			}
			continue
		}
		switch st.kind {
		case "hosts":
			if err := inv.iniHostLine(pos, st.group, line); err != nil {
				return err
			}
		case "vars":
			k, v, ok := strings.Cut(line, "=")
			if !ok {
				return source.Errorf(pos, "expected key=value in [%s:vars], got %q", st.group, line)
			}
			varsOf[st.group][strings.TrimSpace(k)] = parseValue(strings.TrimSpace(v))
		case "children":
			child := strings.TrimSpace(strings.SplitN(line, "#", 2)[0])
			childOf[st.group] = append(childOf[st.group], child)
			waiting = append(waiting, pending{pos, "children", child})
		}
	}
	for _, p := range waiting {
		if _, ok := inv.groups[p.name]; ok {
			continue
		}
		if p.kind == "vars" {
			return source.Errorf(p.pos, "section [%s:vars] is for a group that is not defined; add a [%s] section", p.name, p.name)
		}
		return source.Errorf(p.pos, "[...:children] names group %q, which is not defined; add a [%s] section", p.name, p.name)
	}
	for parent, children := range childOf {
		for _, c := range children {
			if inv.groups[c].ancestorOf(inv.groups[parent]) {
				return source.Errorf(source.Pos{File: file}, "group %s cannot be a child of %s: that makes a cycle", c, parent)
			}
			inv.groups[parent].addChild(inv.groups[c])
		}
	}
	for name, vars := range varsOf {
		for k, v := range vars {
			inv.groups[name].Vars[k] = v
		}
	}
	return nil
}

func (inv *Inventory) section(pos source.Pos, line string) (iniState, error) {
	m := sectionHeader.FindStringSubmatch(line)
	if m == nil {
		return iniState{}, source.Errorf(pos, "invalid section header %q; write [group], [group:vars] or [group:children]", line)
	}
	kind := m[2]
	switch kind {
	case "":
		kind = "hosts"
	case "hosts", "vars", "children":
	default:
		return iniState{}, source.Errorf(pos, "section [%s:%s] has unknown type %q; use vars or children", m[1], kind, kind)
	}
	return iniState{group: m[1], kind: kind}, nil
}

// iniHostLine reads "pattern k=v k=v" into hosts of group.
func (inv *Inventory) iniHostLine(pos source.Pos, group, line string) error {
	tokens, err := shlexComments(line)
	if err != nil {
		return source.Errorf(pos, "%v", err)
	}
	if len(tokens) == 0 {
		return nil
	}
	names, port, err := expandHostPattern(tokens[0])
	if err != nil {
		return source.Errorf(pos, "%v", err)
	}
	vars := map[string]any{}
	for _, t := range tokens[1:] {
		k, v, ok := strings.Cut(t, "=")
		if !ok {
			return source.Errorf(pos, "expected key=value host variable, got %q", t)
		}
		vars[k] = parseValue(v)
	}
	inv.addHosts(inv.group(group), names, port, vars)
	return nil
}

// shlexComments splits like Python's shlex.split(s, comments=True): POSIX
// quoting, and # starting a comment outside quotes.
func shlexComments(s string) ([]string, error) {
	var words []string
	var cur strings.Builder
	inWord := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '#':
			i = len(s)
		case c == ' ' || c == '\t':
			if inWord {
				words = append(words, cur.String())
				cur.Reset()
				inWord = false
			}
		case c == '\\' && i+1 < len(s):
			i++
			cur.WriteByte(s[i])
			inWord = true
		case c == '\'':
			end := strings.IndexByte(s[i+1:], '\'')
			if end < 0 {
				return nil, fmt.Errorf("no closing quotation: unclosed ' in %q", s)
			}
			cur.WriteString(s[i+1 : i+1+end])
			i += end + 1
			inWord = true
		case c == '"':
			closed := false
			for i++; i < len(s); i++ {
				if s[i] == '"' {
					closed = true
					break
				}
				if s[i] == '\\' && i+1 < len(s) && (s[i+1] == '"' || s[i+1] == '\\') {
					i++
				}
				cur.WriteByte(s[i])
			}
			if !closed {
				return nil, fmt.Errorf("no closing quotation: unclosed \" in %q", s)
			}
			inWord = true
		default:
			cur.WriteByte(c)
			inWord = true
		}
	}
	if inWord {
		words = append(words, cur.String())
	}
	return words, nil
}
