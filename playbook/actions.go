package playbook

import (
	"context"
	"fmt"
	"github.com/drover/drover/connection"
	"path/filepath"
	"strings"
	"time"

	"github.com/drover/drover/inventory"
	"github.com/drover/drover/playbook/source"
	"github.com/drover/drover/playbook/template"
)

// controllerFunc is an action that runs on the controller alone.
type controllerFunc func(ctx context.Context, pr *playRun, t *Task, hs *hostState, scope template.Scope) (map[string]any, error)

func controllerAction(name string) (controllerFunc, bool) {
	f, ok := map[string]controllerFunc{
		"set_fact":            actSetFact,
		"assert":              actAssert,
		"fail":                actFail,
		"pause":               actPause,
		"include_vars":        actIncludeVars,
		"group_by":            actGroupBy,
		"wait_for_connection": actWaitForConnection,
		"add_host":            actAddHost,
	}[name]
	if !ok && isControllerOnly(name) {
		return func(context.Context, *playRun, *Task, *hostState, template.Scope) (map[string]any, error) {
			return nil, fmt.Errorf("%s is not supported yet", name)
		}, true
	}
	return f, ok
}

func isControllerOnly(name string) bool {
	for _, a := range controllerActions {
		if a == name {
			return true
		}
	}
	return false
}

// overlay is a scope with a few names on top of another: the registered
// result while changed_when and until are judged.
type overlay struct {
	top  map[string]any
	base template.Scope
}

func (o overlay) Lookup(name string) (any, bool) {
	if v, ok := o.top[name]; ok {
		return v, true
	}
	return o.base.Lookup(name)
}

func actSetFact(ctx context.Context, pr *playRun, t *Task, hs *hostState, scope template.Scope) (map[string]any, error) {
	facts := map[string]any{}
	for k, v := range t.Args {
		if k == "cacheable" {
			continue
		}
		if !isIdentifier(k) {
			return nil, fmt.Errorf("the variable name '%s' is not valid; variable names may only contain letters, digits and underscores and must not start with a digit", k)
		}
		r, err := renderValue(pr.run.cache, v, scope)
		if err != nil {
			return nil, err
		}
		facts[k] = r
	}
	cacheable, err := setFactCacheable(t.Args["cacheable"], scope, pr)
	if err != nil {
		return nil, err
	}
	for k, v := range facts {
		if cacheable {
			hs.staged.cacheFact(k, v)
		} else {
			hs.staged.setFact(k, v)
		}
	}
	return map[string]any{"changed": false, "ansible_facts": facts}, nil
}

func isIdentifier(s string) bool {
	if s == "" || s[0] >= '0' && s[0] <= '9' {
		return false
	}
	for _, c := range s {
		if !(c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

func actAssert(ctx context.Context, pr *playRun, t *Task, hs *hostState, scope template.Scope) (map[string]any, error) {
	that, ok := t.Args["that"]
	if !ok {
		return nil, fmt.Errorf("assert needs that: (a condition or a list of them)")
	}
	conds, ok := that.([]any)
	if !ok {
		conds = []any{that}
	}
	quiet := truthy(t.Args["quiet"])
	for _, c := range conds {
		yes, err := pr.evalCondition(Field{Value: c, Pos: t.ArgsPos}, scope)
		if err != nil {
			return nil, err
		}
		if !yes {
			res := map[string]any{"changed": false, "failed": true, "assertion": template.ToString(c), "evaluated_to": false, "_ansible_verbose_always": true}
			msg := "Assertion failed"
			if m, ok := firstArg(t.Args, "fail_msg", "msg"); ok {
				r, err := renderValue(pr.run.cache, m, scope)
				if err != nil {
					return nil, err
				}
				msg = template.ToString(r)
			}
			res["msg"] = msg
			return res, nil
		}
	}
	msg := "All assertions passed"
	if m, ok := firstArg(t.Args, "success_msg"); ok {
		r, err := renderValue(pr.run.cache, m, scope)
		if err != nil {
			return nil, err
		}
		msg = template.ToString(r)
	}
	return map[string]any{"changed": false, "msg": msg, "_ansible_verbose_always": !quiet}, nil
}

func firstArg(args map[string]any, names ...string) (any, bool) {
	for _, n := range names {
		if v, ok := args[n]; ok {
			return v, true
		}
	}
	return nil, false
}

func actFail(ctx context.Context, pr *playRun, t *Task, hs *hostState, scope template.Scope) (map[string]any, error) {
	msg := any("Failed as requested from task")
	if m, ok := t.Args["msg"]; ok {
		r, err := renderValue(pr.run.cache, m, scope)
		if err != nil {
			return nil, err
		}
		msg = r
	}
	return map[string]any{"changed": false, "failed": true, "msg": msg}, nil
}

func actPause(ctx context.Context, pr *playRun, t *Task, hs *hostState, scope template.Scope) (map[string]any, error) {
	var d time.Duration
	for name, unit := range map[string]time.Duration{"seconds": time.Second, "minutes": time.Minute} {
		if v, ok := t.Args[name]; ok {
			r, err := renderValue(pr.run.cache, v, scope)
			if err != nil {
				return nil, err
			}
			d = time.Duration(asInt(r, 0)) * unit
		}
	}
	start := time.Now()
	_, timed := firstArg(t.Args, "seconds", "minutes")
	input := ""
	if !timed { // a prompt waits for the user, on a terminal only
		text := "Press enter to continue, Ctrl+C to interrupt"
		if p, ok := t.Args["prompt"]; ok {
			r, err := renderValue(pr.run.cache, p, scope)
			if err != nil {
				return nil, err
			}
			text = template.ToString(r)
		}
		if pr.run.r.Prompt != nil {
			answer, err := pr.run.r.Prompt(ctx, "[pause]\n"+text+":\n", false)
			if err != nil {
				return nil, err
			}
			input = answer
		}
		res := map[string]any{"changed": false, "start": start.Format("2006-01-02 15:04:05.000000"), "stop": time.Now().Format("2006-01-02 15:04:05.000000"),
			"delta": int64(time.Since(start) / time.Second), "echo": true, "stdout": "Paused for " + fmt.Sprintf("%.2f", time.Since(start).Minutes()) + " minutes", "user_input": input}
		if pr.run.r.Prompt == nil {
			res["_drover_prompt"] = text // printed as Ansible prints a prompt it does not wait on
		}
		return res, nil
	}
	select {
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-time.After(d):
	}
	return map[string]any{"changed": false, "start": start.Format("2006-01-02 15:04:05.000000"), "stop": time.Now().Format("2006-01-02 15:04:05.000000"),
		"delta": int64(d / time.Second), "echo": true, "stdout": fmt.Sprintf("Paused for %v seconds", int64(d/time.Second)), "user_input": input}, nil
}

func actIncludeVars(ctx context.Context, pr *playRun, t *Task, hs *hostState, scope template.Scope) (map[string]any, error) {
	file, ok := firstArg(t.Args, "file", "_raw_params")
	if !ok {
		return nil, fmt.Errorf("include_vars needs file: (a vars file); dir: is not supported yet")
	}
	r, err := renderValue(pr.run.cache, file, scope)
	if err != nil {
		return nil, err
	}
	path := template.ToString(r)
	if !filepath.IsAbs(path) {
		cands := []string{filepath.Join(filepath.Dir(t.Pos.File), "vars", path), filepath.Join(filepath.Dir(t.Pos.File), path), filepath.Join(pr.run.pb.Dir, path)}
		path = cands[len(cands)-1]
		for _, c := range cands {
			if fileExists(c) {
				path = c
				break
			}
		}
	}
	vars, err := inventory.ReadVarsFile(path, pr.run.r.Vault)
	if err != nil {
		return nil, err
	}
	facts := map[string]any{}
	for k, v := range vars {
		facts[k] = v
	}
	if name, ok := t.Args["name"]; ok {
		facts = map[string]any{template.ToString(name): vars}
	}
	if hs.staged.includeVars == nil {
		hs.staged.includeVars = map[string]any{}
	}
	for k, v := range facts {
		hs.staged.includeVars[k] = v
	}
	return map[string]any{"changed": false, "ansible_facts": facts, "ansible_included_var_files": []any{path}}, nil
}

// inventoryChange is an add_host or group_by waiting for the end of the
// task, when the runner applies it to the run's inventory.
type inventoryChange struct {
	host            string
	groups, parents []string
	vars            map[string]any
}

func actGroupBy(ctx context.Context, pr *playRun, t *Task, hs *hostState, scope template.Scope) (map[string]any, error) {
	key, ok := firstArg(t.Args, "key", "_raw_params")
	if !ok {
		return nil, fmt.Errorf("group_by needs key: (the group's name)")
	}
	r, err := renderValue(pr.run.cache, key, scope)
	if err != nil {
		return nil, err
	}
	name := strings.ReplaceAll(template.ToString(r), " ", "_")
	parents, err := listArg(pr, t.Args["parents"], scope)
	if err != nil {
		return nil, err
	}
	hs.staged.inventory = append(hs.staged.inventory, inventoryChange{host: hs.host.Name, groups: []string{name}, parents: parents})
	return map[string]any{"changed": true, "add_group": name, "parent_groups": anyList(parents)}, nil
}

func actAddHost(ctx context.Context, pr *playRun, t *Task, hs *hostState, scope template.Scope) (map[string]any, error) {
	name, ok := firstArg(t.Args, "name", "host", "hostname")
	if !ok {
		return nil, fmt.Errorf("add_host needs name: (the new host)")
	}
	r, err := renderValue(pr.run.cache, name, scope)
	if err != nil {
		return nil, err
	}
	host := template.ToString(r)
	var groups []string
	if g, ok := firstArg(t.Args, "groups", "group", "groupname"); ok {
		if groups, err = listArg(pr, g, scope); err != nil {
			return nil, err
		}
	}
	vars := map[string]any{}
	for k, v := range t.Args {
		switch k {
		case "name", "host", "hostname", "groups", "group", "groupname":
			continue
		}
		rv, err := renderValue(pr.run.cache, v, scope)
		if err != nil {
			return nil, err
		}
		vars[k] = rv
	}
	if h, p, ok := strings.Cut(host, ":"); ok && !strings.Contains(p, ":") {
		host, vars["ansible_port"] = h, p
	}
	hs.staged.inventory = append(hs.staged.inventory, inventoryChange{host: host, groups: groups, vars: vars})
	return map[string]any{"changed": true, "add_host": map[string]any{"host_name": host, "groups": anyList(groups), "host_vars": vars}}, nil
}

// listArg reads a list argument given as a list or comma-separated text.
func listArg(pr *playRun, v any, scope template.Scope) ([]string, error) {
	if v == nil {
		return nil, nil
	}
	r, err := renderValue(pr.run.cache, v, scope)
	if err != nil {
		return nil, err
	}
	if l, ok := r.([]any); ok {
		var out []string
		for _, e := range l {
			out = append(out, template.ToString(e))
		}
		return out, nil
	}
	return splitComma(template.ToString(r)), nil
}

func anyList(s []string) []any {
	out := make([]any, len(s))
	for i, e := range s {
		out[i] = e
	}
	return out
}

// errAt places an error at a playbook position unless it has one.
func errAt(pos source.Pos, err error) error {
	if strings.HasPrefix(err.Error(), pos.File+":") {
		return err
	}
	return &source.Error{Pos: pos, Msg: err.Error()}
}

// actWaitForConnection retries a trivial command on the host until it
// answers: Ansible's wait_for_connection, with its timeout, delay and
// sleep (seconds).
func actWaitForConnection(ctx context.Context, pr *playRun, t *Task, hs *hostState, scope template.Scope) (map[string]any, error) {
	num := func(name string, def int64) (time.Duration, error) {
		v, ok := t.Args[name]
		if !ok {
			return time.Duration(def) * time.Second, nil
		}
		r, err := renderValue(pr.run.cache, v, scope)
		if err != nil {
			return 0, err
		}
		return time.Duration(asFloat(r) * float64(time.Second)), nil
	}
	timeout, err := num("timeout", 600)
	if err != nil {
		return nil, err
	}
	delay, err := num("delay", 0)
	if err != nil {
		return nil, err
	}
	sleep, err := num("sleep", 1)
	if err != nil {
		return nil, err
	}
	tgt, become, err := pr.targetOf(t, nil, hs, scope)
	if err != nil {
		return nil, err
	}
	start := time.Now()
	wait := func(d time.Duration) error {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(d):
			return nil
		}
	}
	if err := wait(delay); err != nil {
		return nil, err
	}
	for {
		conn, err := pr.run.r.Pool.Conn(ctx, tgt)
		if err == nil {
			if err = conn.Exec(ctx, &connection.Cmd{Line: "true", Become: become}); err == nil {
				return map[string]any{"changed": false, "elapsed": int64(time.Since(start).Seconds())}, nil
			}
		}
		if time.Since(start)+sleep > timeout {
			return map[string]any{"changed": false, "failed": true, "elapsed": int64(time.Since(start).Seconds()),
				"msg": "timed out waiting for ping module test: " + err.Error()}, nil
		}
		if err := wait(sleep); err != nil {
			return nil, err
		}
	}
}

// setFactCacheable reads set_fact's cacheable as Ansible's boolean() does,
// leniently: only its true words are true.
func setFactCacheable(v any, scope template.Scope, pr *playRun) (bool, error) {
	if v == nil {
		return false, nil
	}
	r, err := renderValue(pr.run.cache, v, scope)
	if err != nil {
		return false, fmt.Errorf("cacheable: %w", err)
	}
	switch b := r.(type) {
	case bool:
		return b, nil
	case int:
		return b == 1, nil
	case string:
		switch strings.ToLower(strings.TrimSpace(b)) {
		case "yes", "y", "true", "t", "on", "1", "1.0":
			return true, nil
		}
	}
	return false, nil
}
