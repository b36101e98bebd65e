package playbook

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/drover/drover/connection"
	"github.com/drover/drover/inventory"
	"github.com/drover/drover/playbook/source"
	"github.com/drover/drover/playbook/template"
	"github.com/drover/drover/playbook/value"
	"github.com/drover/drover/tasks"
)

// keyword finds a keyword on the task, then on its blocks from the
// innermost out, then on the play: Ansible's inheritance.
func (pr *playRun) keyword(t *Task, chain []*Task, name string) (Field, bool) {
	if f, ok := t.Keyword(name); ok {
		return f, true
	}
	for i := len(chain) - 1; i >= 0; i-- {
		if f, ok := chain[i].Keyword(name); ok {
			return f, true
		}
	}
	f, ok := pr.play.Keywords[name]
	return f, ok
}

// conditions are every when: that applies to the task: its own and its
// blocks', all of which must hold.
func conditions(t *Task, chain []*Task) []Field {
	var out []Field
	for _, c := range append(slices.Clone(chain), t) {
		f, ok := c.Keyword("when")
		if !ok {
			continue
		}
		if l, ok := f.Value.([]any); ok {
			for _, e := range l {
				out = append(out, Field{Value: e, Pos: f.Pos})
			}
			continue
		}
		out = append(out, f)
	}
	return out
}

// evalCondition evaluates a when:/changed_when:/failed_when: value: a
// bare expression, a {{ }} template or a YAML boolean.
func (pr *playRun) evalCondition(f Field, scope template.Scope) (bool, error) {
	switch x := f.Value.(type) {
	case bool:
		return x, nil
	case nil:
		return false, nil
	case int64:
		return x != 0, nil
	}
	src := strings.TrimSpace(template.ToString(f.Value))
	braced := false
	if strings.HasPrefix(src, "{{") && strings.HasSuffix(src, "}}") && !strings.Contains(src[2:len(src)-2], "{{") {
		src, braced = strings.TrimSpace(src[2:len(src)-2]), true
	}
	e, err := pr.run.cache.Expr(src)
	if err != nil {
		return false, template.Locate(err, src, f.Pos)
	}
	v, err := e.Eval(scope)
	if err != nil {
		return false, template.Locate(err, src, f.Pos)
	}
	// Ansible templates a condition, then evaluates it in {% if %}: a bare
	// expression once, so that a variable holding "false" is a non-empty
	// string, true; "{{ x }}" twice, its text read again as an expression,
	// so that the same "false" is false.
	if s, ok := v.(string); ok && braced {
		if strings.TrimSpace(s) == "" {
			return false, nil
		}
		again, err := pr.run.cache.Expr(s)
		if err != nil {
			return false, fmt.Errorf("%s: the condition %q gave %q, which is no expression: %w", f.Pos, src, s, err)
		}
		if v, err = again.Eval(scope); err != nil {
			return false, fmt.Errorf("%s: the condition %q gave %q: %w", f.Pos, src, s, err)
		}
	}
	return truthy(v), nil
}

// truthy is Python's truth, for conditions.
func truthy(v any) bool { return template.Truthy(v) }

// outcome is one run of the action on one host (one loop item).
type outcome struct {
	result map[string]any
	status Status
	label  string
}

// execHost runs the task on one host: when, loop, the action,
// changed_when/failed_when, until, register and notify.
func (pr *playRun) execHost(ctx context.Context, t *Task, chain []*Task, hs *hostState, emit func(Event)) {
	start := time.Now()
	base := Event{Host: hs.host.Name, Task: pr.label(t), Module: t.Module, Pos: t.Pos}
	if f, ok := pr.keyword(t, chain, "no_log"); ok && truthy(f.Value) {
		base.NoLog = true
	}
	scope := pr.hostScope(hs, withTask(chain, t), nil)
	if d, err := pr.delegate(t, chain, scope); err == nil && d != nil {
		base.Delegate = d.Name
	}
	items, loopVar, labelField, err := pr.loopItems(t, scope)
	if err != nil {
		pr.finish(t, chain, hs, scope, base, start, outcome{result: failure(err), status: StatusFailed}, emit)
		return
	}
	if items == nil {
		o := pr.once(ctx, t, chain, hs, scope, emit)
		pr.finish(t, chain, hs, scope, base, start, o, emit)
		return
	}
	var results []any
	agg := outcome{status: StatusSkipped, result: map[string]any{"changed": false}}
	anyRan := false
	// As Ansible's loop, an item sees the variables set_fact and
	// include_vars set for the items before it: the accumulating
	// "x: {{ x | default([]) + [item] }}" idiom needs them.
	carried := map[string]any{}
	for i, item := range items {
		extra := maps.Clone(carried)
		extra[loopVar] = item
		if f, ok := t.Keyword("loop_control"); ok {
			if d, ok := f.Value.(*value.Dict); ok {
				if iv, ok := d.Get("index_var"); ok {
					extra[template.ToString(iv)] = int64(i)
				}
				if ext, ok := d.Get("extended"); ok && truthy(ext) {
					info := template.LoopVars(items, i)
					info["allitems"] = items
					extra["ansible_loop"] = info
				}
				if p, ok := d.Get("pause"); ok && i > 0 {
					select {
					case <-ctx.Done():
					case <-time.After(time.Duration(asFloat(p) * float64(time.Second))):
					}
				}
			}
		}
		itemScope := pr.hostScope(hs, withTask(chain, t), extra)
		o := pr.once(ctx, t, chain, hs, itemScope, emit)
		maps.Copy(carried, setVars(t, o.result))
		o.result[loopVar] = item
		o.result["ansible_loop_var"] = loopVar
		o.label = template.ToString(item)
		if labelField != nil {
			if l, err := pr.render(labelField.Value, itemScope, labelField.Pos); err == nil {
				o.label = template.ToString(l)
			}
		}
		ev := base
		ev.Kind, ev.Item, ev.Status, ev.Result = KindItem, o.label, o.status, resultOf(o.result)
		ev.Ignored = o.status == StatusFailed && pr.ignoreErrors(t, chain, scope)
		emit(ev)
		results = append(results, o.result)
		if o.status != StatusSkipped {
			anyRan = true
		}
		switch {
		case o.status == StatusFailed:
			agg.status = StatusFailed
		case o.status == StatusChanged && agg.status != StatusFailed:
			agg.status = StatusChanged
		case o.status == StatusOK && agg.status == StatusSkipped:
			agg.status = StatusOK
		}
		if o.status == StatusChanged {
			agg.result["changed"] = true
		}
	}
	agg.result["results"] = results
	if results == nil {
		agg.result["results"] = []any{}
		agg.result["skipped_reason"] = "No items in the list"
	}
	if !anyRan {
		agg.status = StatusSkipped
		agg.result["skipped"] = true
		if results != nil {
			agg.result["msg"] = "All items skipped"
		}
	} else if agg.status == StatusFailed {
		agg.result["failed"] = true
		agg.result["msg"] = "One or more items failed"
	} else {
		agg.result["msg"] = "All items completed"
		agg.result["skipped"] = false
	}
	pr.finish(t, chain, hs, scope, base, start, agg, emit)
}

// finish registers, notifies and reports a task's result on a host.
func (pr *playRun) finish(t *Task, chain []*Task, hs *hostState, scope template.Scope, ev Event, start time.Time, o outcome, emit func(Event)) {
	if f, ok := t.Keyword("register"); ok {
		hs.staged.setVar(template.ToString(f.Value), o.result)
	}
	ignored := o.status == StatusFailed && pr.ignoreErrors(t, chain, scope)
	if o.status == StatusChanged {
		if f, ok := pr.keyword(t, chain, "notify"); ok {
			switch x := f.Value.(type) {
			case []any:
				for _, n := range x {
					hs.staged.notify = append(hs.staged.notify, template.ToString(n))
				}
			default:
				hs.staged.notify = append(hs.staged.notify, template.ToString(x))
			}
		}
	}
	switch {
	case o.status == StatusUnreachable:
		if f, ok := pr.keyword(t, chain, "ignore_unreachable"); !ok || !truthy(f.Value) {
			hs.staged.unreachable = true
		}
	case o.status == StatusFailed && !ignored:
		hs.staged.failed = true
		hs.staged.failedResult = o.result
		hs.staged.failedTask = map[string]any{"name": t.Name, "action": t.Module}
	}
	ev.Status, ev.Result, ev.Duration, ev.Ignored = o.status, resultOf(o.result), time.Since(start), ignored
	emit(ev)
}

func (pr *playRun) ignoreErrors(t *Task, chain []*Task, scope template.Scope) bool {
	f, ok := pr.keyword(t, chain, "ignore_errors")
	if !ok {
		return false
	}
	yes, err := pr.evalCondition(f, scope)
	return err == nil && yes
}

// once runs the action a single time (one loop item, or a task without a
// loop) in scope: the host's variables, with a loop item's own on top.
func (pr *playRun) once(ctx context.Context, t *Task, chain []*Task, hs *hostState, scope template.Scope, emit func(Event)) outcome {
	for _, c := range conditions(t, chain) {
		ok, err := pr.evalCondition(c, scope)
		if err != nil {
			return outcome{result: failure(fmt.Errorf("when: %w", err)), status: StatusFailed}
		}
		if !ok {
			return outcome{result: map[string]any{"changed": false, "skipped": true, "skip_reason": "Conditional result was False"}, status: StatusSkipped}
		}
	}
	retries, delay, until := pr.retryPolicy(t, scope)
	var o outcome
	for attempt := 1; ; attempt++ {
		o = pr.attempt(ctx, t, chain, hs, scope)
		if until == nil || o.status == StatusUnreachable {
			break
		}
		// until sees what the attempt registered and, for set_fact and
		// include_vars, the variables it set, as Ansible's retry loop does.
		top := maps.Clone(setVars(t, o.result))
		if top == nil {
			top = map[string]any{}
		}
		if f, ok := t.Keyword("register"); ok {
			top[template.ToString(f.Value)] = o.result
		}
		regScope := overlay{top: top, base: scope}
		done, err := pr.evalCondition(*until, regScope)
		if err != nil {
			o = outcome{result: failure(fmt.Errorf("until: %w", err)), status: StatusFailed}
			break
		}
		o.result["attempts"] = int64(attempt)
		if done {
			break
		}
		if attempt > retries {
			o.status = StatusFailed
			o.result["failed"] = true
			o.result["attempts"] = int64(retries)
			break
		}
		emit(Event{Kind: KindRetry, Host: hs.host.Name, Task: pr.label(t), Module: t.Module, Pos: t.Pos, Retries: retries + 1 - attempt})
		select {
		case <-ctx.Done():
			return outcome{result: failure(ctx.Err()), status: StatusFailed}
		case <-time.After(delay):
		}
	}
	return o
}

// retryPolicy reads until/retries/delay; a nil until means no retries.
func (pr *playRun) retryPolicy(t *Task, scope template.Scope) (int, time.Duration, *Field) {
	f, ok := t.Keyword("until")
	if !ok {
		return 0, 0, nil
	}
	retries, delay := int64(3), int64(5)
	if r, ok := t.Keyword("retries"); ok {
		if v, err := pr.render(r.Value, scope, r.Pos); err == nil {
			retries = asInt(v, retries)
		}
	}
	if d, ok := t.Keyword("delay"); ok {
		if v, err := pr.render(d.Value, scope, d.Pos); err == nil {
			delay = asInt(v, delay)
		}
	}
	return int(retries), time.Duration(delay) * time.Second, &f
}

func asInt(v any, def int64) int64 {
	switch x := v.(type) {
	case int64:
		return x
	case string:
		var n int64
		if _, err := fmt.Sscan(x, &n); err == nil {
			return n
		}
	}
	return def
}

// attempt runs the action once and judges its result with changed_when
// and failed_when.
func (pr *playRun) attempt(ctx context.Context, t *Task, chain []*Task, hs *hostState, scope template.Scope) outcome {
	if f, ok := pr.keyword(t, chain, "timeout"); ok {
		if n := asInt(f.Value, 0); n > 0 {
			tctx, cancel := context.WithTimeout(ctx, time.Duration(n)*time.Second)
			defer cancel()
			res, status := pr.action(tctx, t, chain, hs, scope)
			if tctx.Err() == context.DeadlineExceeded && ctx.Err() == nil {
				res, status = map[string]any{"changed": false, "failed": true, "msg": fmt.Sprintf("The %s action failed to execute in the expected time frame (%d) and was terminated", t.Module, n)}, StatusFailed
			}
			return pr.judge(t, res, status, scope)
		}
	}
	res, status := pr.action(ctx, t, chain, hs, scope)
	return pr.judge(t, res, status, scope)
}

// judge applies changed_when and failed_when to an action's result.
func (pr *playRun) judge(t *Task, res map[string]any, status Status, scope template.Scope) outcome {
	if status == StatusUnreachable {
		return outcome{result: res, status: status}
	}
	if _, ok := res["failed"]; !ok {
		res["failed"] = false // Ansible registers it on every result of an action that ran
	}
	var judge template.Scope = scope
	if f, ok := t.Keyword("register"); ok {
		judge = overlay{top: map[string]any{template.ToString(f.Value): res}, base: scope}
	}
	if f, ok := t.Keyword("changed_when"); ok {
		yes, err := pr.allConditions(f, judge)
		if err != nil {
			return outcome{result: failure(fmt.Errorf("changed_when: %w", err)), status: StatusFailed}
		}
		res["changed"] = yes
		if status != StatusFailed {
			status = map[bool]Status{true: StatusChanged, false: StatusOK}[yes]
		}
	}
	if f, ok := t.Keyword("failed_when"); ok {
		yes, err := pr.allConditions(f, judge)
		if err != nil {
			return outcome{result: failure(fmt.Errorf("failed_when: %w", err)), status: StatusFailed}
		}
		res["failed_when_result"] = yes
		switch {
		case yes:
			res["failed"] = true
			status = StatusFailed
		case status == StatusFailed:
			res["failed"] = false
			status = map[bool]Status{true: StatusChanged, false: StatusOK}[truthy(res["changed"])]
		}
	}
	return outcome{result: res, status: status}
}

// allConditions evaluates a condition or a list of them (all must hold).
func (pr *playRun) allConditions(f Field, scope template.Scope) (bool, error) {
	l, ok := f.Value.([]any)
	if !ok {
		return pr.evalCondition(f, scope)
	}
	for _, e := range l {
		yes, err := pr.evalCondition(Field{Value: e, Pos: f.Pos}, scope)
		if err != nil || !yes {
			return false, err
		}
	}
	return true, nil
}

// render templates a keyword's value in scope, errors placed at pos.
func (pr *playRun) render(v any, scope template.Scope, at source.Pos) (any, error) {
	s, ok := v.(string)
	if !ok {
		return renderValue(pr.run.cache, v, scope)
	}
	r, err := pr.run.cache.RenderString(s, scope)
	if err != nil {
		return nil, template.Locate(err, s, at)
	}
	return r, nil
}

// action runs the task's module or controller action and returns its
// result as Ansible registers it.
func (pr *playRun) action(ctx context.Context, t *Task, chain []*Task, hs *hostState, scope template.Scope) (map[string]any, Status) {
	name := shortModule(t.Module)
	if f, ok := pr.keyword(t, chain, "delegate_facts"); ok && truthy(f.Value) {
		if d, err := pr.delegate(t, chain, scope); err == nil && d != nil {
			hs.staged.delegate = d.Name
		}
	}
	if act, ok := controllerAction(name); ok {
		res, err := act(ctx, pr, t, hs, scope)
		if err != nil {
			return failure(err), StatusFailed
		}
		return res, statusOf(res)
	}
	mod, ok := tasks.Lookup(t.Module)
	if !ok {
		return failure(&UnknownModuleError{Name: t.Module}), StatusFailed
	}
	args, err := renderArgs(pr.run.cache, t.Module, t.Args, scope)
	if err != nil {
		return failure(errAt(t.ArgsPos, err)), StatusFailed
	}
	tgt, become, err := pr.targetOf(t, chain, hs, scope)
	if err != nil {
		return failure(err), StatusFailed
	}
	var conn connection.Conn
	if tasks.NeedsConnection(t.Module) {
		if conn, err = pr.run.r.Pool.Conn(ctx, tgt); err != nil {
			return unreachableResult(err), StatusUnreachable
		}
	}
	check := pr.run.opts.Check
	if f, ok := pr.keyword(t, chain, "check_mode"); ok {
		check = truthy(f.Value)
	}
	diff := pr.run.opts.Diff
	if f, ok := pr.keyword(t, chain, "diff"); ok {
		diff = truthy(f.Value)
	}
	environment, err := pr.environment(t, chain, scope)
	if err != nil {
		return failure(err), StatusFailed
	}
	env := &tasks.Env{Host: hs.host.Name, Conn: conn, Become: become, Check: check, Diff: diff, Log: pr.run.r.Log, Files: pr.run.files(),
		Eval: evaluator{cache: pr.run.cache, scope: scope}, Verbosity: pr.run.opts.Verbosity, Environment: environment}
	res, err := mod.Run(ctx, env, args)
	switch {
	case err == nil:
	case errors.Is(err, connection.ErrUnreachable):
		return unreachableResult(err), StatusUnreachable
	default:
		return failure(err), StatusFailed
	}
	m := registerable(res.Map()).(map[string]any)
	if name == "setup" {
		if f, ok := m["ansible_facts"].(map[string]any); ok {
			hs.staged.setFacts(f)
		}
	}

	return m, statusOf(m)
}

// environment merges the environment: keywords of the play, the blocks
// and the task, inner ones winning, each a mapping or a list of them.
func (pr *playRun) environment(t *Task, chain []*Task, scope template.Scope) (map[string]string, error) {
	fields := []Field{}
	if f, ok := pr.play.Keywords["environment"]; ok {
		fields = append(fields, f)
	}
	for _, c := range append(slices.Clone(chain), t) {
		if f, ok := c.Keyword("environment"); ok {
			fields = append(fields, f)
		}
	}
	var out map[string]string
	for _, f := range fields {
		v, err := pr.render(f.Value, scope, f.Pos)
		if err != nil {
			return nil, err
		}
		list, ok := v.([]any)
		if !ok {
			list = []any{v}
		}
		for _, e := range list {
			d, ok := e.(*value.Dict)
			if m, isMap := e.(map[string]any); isMap {
				d, ok = value.DictOf(m), true
			}
			if !ok {
				return nil, fmt.Errorf("%s: environment must be a mapping of variable names to values", f.Pos)
			}
			if out == nil {
				out = map[string]string{}
			}
			for k, x := range d.All() {
				out[k] = template.ToString(x)
			}
		}
	}
	return out, nil
}

// targetOf is how to reach the host a task runs on (or its delegate),
// and whom to become there.
func (pr *playRun) targetOf(t *Task, chain []*Task, hs *hostState, scope template.Scope) (connection.Target, *connection.Become, error) {
	opts, err := pr.connOptions(t, chain, scope)
	if err != nil {
		return connection.Target{}, nil, err
	}
	connHost, connScope := hs.host, scope
	d, err := pr.delegate(t, chain, scope)
	if err != nil {
		return connection.Target{}, nil, err
	}
	if d != nil { // the delegate's own connection variables reach it
		connHost = d
		connScope = template.NewLazyScope(layers{newHostState(d).inventory, pr.run.opts.ExtraVars}, pr.run.cache)
	}
	connVars, err := connectionVars(connHost, connScope)
	if err != nil {
		return connection.Target{}, nil, err
	}
	tg, become, err := target(connVars, opts, pr.run.r.Vault)
	if tg.Local {
		tg.Dir = pr.run.pb.Dir // where Ansible runs a playbook's local commands
	}
	return tg, become, err
}

// playbookFiles finds a relative controller file (copy's src, a script)
// as Ansible does: in the playbook's files/ directory, then beside it.
type playbookFiles struct{ dirs []string }

func (p playbookFiles) Open(name string) (fs.File, error) {
	var err error
	for _, d := range p.dirs {
		var f *os.File
		if f, err = os.Open(filepath.Join(d, name)); err == nil {
			return f, nil
		}
	}
	return nil, err
}

func (run *playbookRun) files() fs.FS {
	return playbookFiles{dirs: []string{filepath.Join(run.pb.Dir, "files"), run.pb.Dir}}
}

// delegate is the host delegate_to names, or nil.
func (pr *playRun) delegate(t *Task, chain []*Task, scope template.Scope) (*inventory.Host, error) {
	f, ok := pr.keyword(t, chain, "delegate_to")
	if !ok || f.Value == nil {
		return nil, nil
	}
	v, err := pr.render(f.Value, scope, f.Pos)
	if err != nil {
		return nil, err
	}
	name := template.ToString(v)
	if name == "" {
		return nil, nil
	}
	if inv := pr.run.opts.Inventory; inv != nil {
		if hosts, err := inv.Match(name); err == nil && len(hosts) == 1 && hosts[0].Name == name {
			return hosts[0], nil
		}
	}
	return &inventory.Host{Name: name, Vars: map[string]any{}}, nil
}

// connOptions are the command line's connection settings with the task's
// become and remote_user keywords applied.
func (pr *playRun) connOptions(t *Task, chain []*Task, scope template.Scope) (ConnOptions, error) {
	o := pr.run.r.Conn
	for _, k := range []string{"become", "become_user", "become_method", "remote_user", "connection", "port"} {
		f, ok := pr.keyword(t, chain, k)
		if !ok {
			continue
		}
		v, err := pr.render(f.Value, scope, f.Pos)
		if err != nil {
			return o, err
		}
		switch k {
		case "become":
			o.Become = truthy(v) && template.ToString(v) != "False"
		case "become_user":
			o.BecomeUser = template.ToString(v)
		case "become_method":
			o.BecomeMethod = template.ToString(v)
		case "remote_user":
			o.User = template.ToString(v)
		case "connection":
			o.Connection = template.ToString(v)
		case "port":
			o.Port = int(asInt(v, 0))
		}
	}
	return o, nil
}

// setVars are the variables a set_fact or include_vars result sets, which
// Ansible hands on within the task: to the next loop items, and to until.
func setVars(t *Task, result map[string]any) map[string]any {
	if m := shortModule(t.Module); m != "set_fact" && m != "include_vars" {
		return nil
	}
	facts, _ := result["ansible_facts"].(map[string]any)
	return facts
}

func shortModule(name string) string {
	return strings.TrimPrefix(strings.TrimPrefix(name, "ansible.builtin."), "ansible.legacy.")
}

func statusOf(m map[string]any) Status {
	switch {
	case truthy(m["failed"]):
		return StatusFailed
	case truthy(m["skipped"]):
		return StatusSkipped
	case truthy(m["changed"]):
		return StatusChanged
	}
	return StatusOK
}

func failure(err error) map[string]any {
	return map[string]any{"changed": false, "failed": true, "msg": err.Error()}
}

func unreachableResult(err error) map[string]any {
	return map[string]any{"changed": false, "unreachable": true, "msg": "Failed to connect to the host via ssh: " + err.Error()}
}

// registerable turns a module's Go values ([]string lines, ints) into the
// values templates read, so a registered r.stdout_lines is a list.
func registerable(v any) any {
	switch x := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = registerable(e)
		}
		return out
	case []string:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = e
		}
		return out
	case []map[string]any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = registerable(e)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = registerable(e)
		}
		return out
	case int:
		return int64(x)
	case int32:
		return int64(x)
	case uint32:
		return int64(x)
	}
	return v
}

// resultOf wraps a registered result for events.
func resultOf(m map[string]any) *tasks.Result {
	r := &tasks.Result{Data: map[string]any{}}
	for k, v := range m {
		r.Data[k] = value.Plain(v)
	}
	r.Changed, r.Failed, r.Skipped = truthy(m["changed"]), truthy(m["failed"]), truthy(m["skipped"])
	if msg, ok := m["msg"].(string); ok {
		r.Msg = msg
	}
	return r
}

// loopItems reads loop: or with_*: into the items to run with, the loop
// variable's name and the label template; nil items mean no loop.
func (pr *playRun) loopItems(t *Task, scope template.Scope) ([]any, string, *Field, error) {
	loopVar := "item"
	var label *Field
	if f, ok := t.Keyword("loop_control"); ok {
		if d, ok := f.Value.(*value.Dict); ok {
			if v, ok := d.Get("loop_var"); ok {
				loopVar = template.ToString(v)
			}
			if v, ok := d.Get("label"); ok {
				label = &Field{Value: v, Pos: f.Pos}
			}
		}
	}
	var f Field
	var lookup string
	if lf, ok := t.Keyword("loop"); ok {
		f = lf
	} else {
		for k, v := range t.Keywords {
			if name, ok := strings.CutPrefix(k, "with_"); ok {
				f, lookup = v, name
			}
		}
		if lookup == "" {
			return nil, loopVar, nil, nil
		}
	}
	v, err := pr.render(f.Value, scope, f.Pos)
	if err != nil {
		return nil, loopVar, nil, err
	}
	items, err := pr.withLookup(lookup, v)
	if err != nil {
		return nil, loopVar, nil, fmt.Errorf("%s: %w", f.Pos, err)
	}
	if items == nil {
		items = []any{}
	}
	return items, loopVar, label, nil
}

func asFloat(v any) float64 {
	switch x := v.(type) {
	case int64:
		return float64(x)
	case float64:
		return x
	}
	f, _ := strconv.ParseFloat(template.ToString(v), 64)
	return f
}

// withLookup turns a loop's value (lookup "") or a with_<lookup> value
// into items, as those lookups do.
func (pr *playRun) withLookup(lookup string, v any) ([]any, error) {
	switch lookup {
	case "":
		l, ok := v.([]any)
		if !ok {
			return nil, fmt.Errorf("loop: needs a list, got %s; use query() or | dict2items for other values", typeNameOf(v))
		}
		return l, nil
	case "fileglob":
		return pr.fileglob(v)
	}
	return template.ListLookup(lookup, v)
}

// fileglob lists the controller's files matching each pattern, relative
// to the playbook's files/ directory or the playbook's own, as Ansible's
// fileglob lookup finds them.
func (pr *playRun) fileglob(v any) ([]any, error) {
	patterns, ok := v.([]any)
	if !ok {
		patterns = []any{v}
	}
	out := []any{}
	for _, p := range patterns {
		pat := template.ToString(p)
		dirs := []string{""}
		if !filepath.IsAbs(pat) {
			dirs = []string{filepath.Join(pr.run.pb.Dir, "files"), pr.run.pb.Dir}
		}
		for _, d := range dirs {
			matches, err := filepath.Glob(filepath.Join(d, pat))
			if err != nil {
				return nil, fmt.Errorf("with_fileglob %q: %w", pat, err)
			}
			var files []string
			for _, m := range matches {
				if fi, err := os.Stat(m); err == nil && fi.Mode().IsRegular() {
					files = append(files, m)
				}
			}
			if len(files) > 0 {
				slices.Sort(files)
				for _, f := range files {
					out = append(out, f)
				}
				break
			}
		}
	}
	return out, nil
}

func typeNameOf(v any) string {
	switch v.(type) {
	case string:
		return "a string"
	case *value.Dict, map[string]any:
		return "a dict"
	case nil:
		return "None"
	}
	return fmt.Sprintf("%T", v)
}

// withTask is the chain of blocks with the task itself last, whose vars
// are the innermost layer.
func withTask(chain []*Task, t *Task) []*Task {
	return append(slices.Clone(chain), t)
}
