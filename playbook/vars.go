package playbook

import (
	"fmt"
	"strings"

	"github.com/drover/drover/inventory"
	"github.com/drover/drover/playbook/template"
	"github.com/drover/drover/playbook/value"
)

// hostScope is what templates see for one host: its inventory variables,
// the magic variables, and the extra variables, which win.
func hostScope(h *inventory.Host, inv *inventory.Inventory, job AdHoc, cache *template.Cache) *template.Lazy {
	vars := template.Vars{}
	for k, v := range h.Vars {
		vars[k] = inventory.Native(v)
	}
	short, _, _ := strings.Cut(h.Name, ".")
	vars["inventory_hostname"] = h.Name
	vars["inventory_hostname_short"] = short
	vars["ansible_check_mode"] = job.Check
	vars["ansible_diff_mode"] = job.Diff
	vars["ansible_verbosity"] = int64(job.Verbosity)
	if inv != nil {
		names := []any{}
		for _, g := range inv.GroupNames(h) {
			names = append(names, g)
		}
		vars["group_names"] = names
		vars["groups"] = inv.GroupsMap()
	}
	vars["omit"] = template.Omit
	for k, v := range job.ExtraVars {
		vars[k] = v
	}
	return template.NewLazy(vars, cache)
}

// renderArgs templates every string in module's arguments (module may be
// "" for a nested dict).
func renderArgs(c *template.Cache, module string, args map[string]any, scope template.Scope) (map[string]any, error) {
	out := make(map[string]any, len(args))
	for k, v := range args {
		r, err := renderValue(c, v, scope)
		if err != nil {
			return nil, &argTemplateError{arg: k, err: err}
		}
		if r == template.Omit {
			continue // "{{ x | default(omit) }}" drops the argument
		}
		if jsonArgs[shortModule(module)] == k {
			switch r.(type) {
			case *value.Dict, []any:
				r = template.DumpJSON(r) // in its order, which Plain's map loses
			}
		}
		out[k] = value.Plain(r)
	}
	return out, nil
}

// jsonArgs are the arguments that Ansible's action plugins write as JSON
// when given a list or dict: copy's content.
var jsonArgs = map[string]string{"copy": "content"}

func renderValue(c *template.Cache, v any, scope template.Scope) (any, error) {
	switch x := v.(type) {
	case string:
		return c.RenderString(x, scope)
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			r, err := renderValue(c, e, scope)
			if err != nil {
				return nil, err
			}
			out[i] = r
		}
		return out, nil
	case map[string]any:
		return renderArgs(c, "", x, scope)
	case *value.Dict: // keeps its order: set_fact and vars of dicts
		out := value.NewDict(x.Len())
		for k, e := range x.All() {
			r, err := renderValue(c, e, scope)
			if err != nil {
				return nil, &argTemplateError{arg: k, err: err}
			}
			if r != template.Omit {
				out.Set(k, r)
			}
		}
		return out, nil
	}
	return v, nil
}

// argTemplateError is a module argument whose template failed.
type argTemplateError struct {
	arg string
	err error
}

func (e *argTemplateError) Error() string { return "argument " + e.arg + ": " + e.err.Error() }
func (e *argTemplateError) Unwrap() error { return e.err }

// evaluator lets modules evaluate expressions in a host's scope.
type evaluator struct {
	cache *template.Cache
	scope template.Scope
}

// Eval gives what Ansible's templating of "{{ expr }}" gives (debug's
// var=): a bare variable keeps its type, anything else follows the
// native-type rule of playbook strings (r.rc is the text "3").
func (e evaluator) Eval(expr string) (any, error) {
	v, err := e.cache.RenderString("{{ "+expr+" }}", e.scope)
	return value.Plain(v), err
}

// connectionVars renders a host's ansible_* variables through its scope,
// so ansible_host: "{{ inventory_hostname }}.example.com" works.
func connectionVars(h *inventory.Host, scope template.Scope) (*inventory.Host, error) {
	out := &inventory.Host{Name: h.Name, Vars: map[string]any{}}
	for k := range h.Vars {
		if !strings.HasPrefix(k, "ansible_") {
			continue
		}
		v, _ := scope.Lookup(k)
		if u, ok := v.(*template.Undefined); ok {
			return nil, fmt.Errorf("host %s: variable %s: %s", h.Name, k, u.Hint)
		}
		out.Vars[k] = v
	}
	return out, nil
}
