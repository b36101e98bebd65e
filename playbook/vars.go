package playbook

import (
	"strings"

	"github.com/drover/drover/inventory"
	"github.com/drover/drover/playbook/template"
)

// hostScope is what templates see for one host: its inventory variables,
// the magic variables, and the extra variables, which win.
func hostScope(h *inventory.Host, inv *inventory.Inventory, job AdHoc) template.Vars {
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
	for k, v := range job.ExtraVars {
		vars[k] = v
	}
	return vars
}

// renderArgs templates every string in a module's arguments.
func renderArgs(c *template.Cache, args map[string]any, scope template.Scope) (map[string]any, error) {
	out := make(map[string]any, len(args))
	for k, v := range args {
		r, err := renderValue(c, v, scope)
		if err != nil {
			return nil, &argTemplateError{arg: k, err: err}
		}
		out[k] = r
	}
	return out, nil
}

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
		return renderArgs(c, x, scope)
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

func (e evaluator) Eval(expr string) (any, error) {
	x, err := e.cache.Expr(expr)
	if err != nil {
		return nil, err
	}
	return x.Eval(e.scope)
}
