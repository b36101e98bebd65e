package playbook

import (
	"context"
	"fmt"
	"maps"
	"math/rand/v2"
	"path"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/drover/drover/inventory"
	"github.com/drover/drover/playbook/source"
	"github.com/drover/drover/playbook/template"
	"github.com/drover/drover/playbook/value"
	"golang.org/x/sync/errgroup"
)

// PlayOptions are a playbook run's settings from the command line.
type PlayOptions struct {
	// Inventory holds the hosts plays select; required.
	Inventory *inventory.Inventory
	// ExtraVars (-e) override every other variable.
	ExtraVars map[string]any
	// Limit (-l) further restricts every play's hosts.
	Limit string
	// Check and Diff are -C and -D.
	Check, Diff bool
	// Tags and SkipTags select tasks (-t, --skip-tags).
	Tags, SkipTags []string
	// Verbosity is the -v count.
	Verbosity int
	// ForceHandlers runs notified handlers on hosts that failed.
	ForceHandlers bool
	// StartAt (--start-at-task) skips the tasks before the first one of
	// that name (a glob).
	StartAt string
}

// playbookRun is the state of one RunPlaybook, apart from the immutable
// Playbook it runs.
type playbookRun struct {
	r     *Runner
	pb    *Playbook
	opts  PlayOptions
	cache *template.Cache
	stats Stats
	// states are the hosts' variables and facts, kept across plays as
	// Ansible keeps facts and set_facts for the whole run.
	states map[string]*hostState
	// aborted is set when any_errors_fatal or max_fail_percentage stops
	// the run.
	aborted atomic.Bool
	// statsMu guards stats and started while hosts of the free strategy
	// run at once.
	statsMu sync.Mutex
	// started turns true at the task --start-at-task names; stepAll once
	// --step was answered "continue".
	started, stepAll bool
}

// reachedStart reports whether --start-at-task lets t run: it and every
// task after it do, the ones before it do not.
func (run *playbookRun) reachedStart(t *Task) bool {
	run.statsMu.Lock()
	defer run.statsMu.Unlock()
	if run.started || run.opts.StartAt == "" {
		return true
	}
	if ok, _ := path.Match(run.opts.StartAt, t.Name); ok || t.Name == run.opts.StartAt {
		run.started = true
	}
	return run.started
}

func (run *playbookRun) forks() int {
	if run.r.Forks > 0 {
		return run.r.Forks
	}
	return 50
}

func (run *playbookRun) report(e Event) {
	if e.Kind == KindResult && !e.Uncounted {
		run.statsMu.Lock()
		run.stats.add(e)
		run.statsMu.Unlock()
	}
	run.r.Reporter.Report(e)
}

// emit delivers an event of the play: straight to the reporter, or, under
// the free strategy, to the one goroutine that reports for all hosts.
func (pr *playRun) emit(e Event) {
	if pr.sink != nil {
		pr.sink <- e
		return
	}
	pr.run.report(e)
}

// RunPlaybook runs the plays in order and returns the counts per host.
// One host failing never stops the others; ctx's error comes back when
// the run was interrupted.
func (r *Runner) RunPlaybook(ctx context.Context, pb *Playbook, opts PlayOptions) (Stats, error) {
	run := &playbookRun{r: r, pb: pb, opts: opts, cache: &template.Cache{}, states: map[string]*hostState{}}
	if opts.Inventory != nil { // group_vars/ and host_vars/ beside the playbook
		if err := opts.Inventory.AddVarsDir(pb.Dir, r.Vault); err != nil {
			return run.stats, err
		}
	}
	r.Reporter.Report(Event{Kind: KindPlaybookStart, Task: pb.Path})
	for _, p := range pb.Plays {
		if err := run.play(ctx, p); err != nil {
			return run.stats, err
		}
		if ctx.Err() != nil {
			return run.stats, ctx.Err()
		}
		if run.aborted.Load() {
			break
		}
	}
	run.r.Reporter.Report(Event{Kind: KindRecap, Stats: &run.stats})
	return run.stats, ctx.Err()
}

// playRun is the state of one play.
type playRun struct {
	run        *playbookRun
	play       *Play
	labels     sync.Map     // *Task to the name its banner showed, for its other events
	hosts      []*hostState // the current batch, in inventory order
	all        []*hostState // every host of the play
	matched    []*hostState // every host the play's pattern matched, failed ones too
	states     map[string]*hostState
	allNames   []any
	groups     map[string]any
	playVars   map[string]any
	ended      atomic.Bool // meta: end_play
	batchEnded atomic.Bool // meta: end_batch, for the current batch
	// sink, under the free strategy, carries every event to the goroutine
	// that reports them; mu guards what hosts read of one another then
	// (their results, the inventory) against a host committing its own.
	sink chan Event
	mu   sync.RWMutex
}

func names(hosts []*hostState) []any {
	out := make([]any, 0, len(hosts))
	for _, hs := range hosts {
		if !hs.failed && !hs.unreachable {
			out = append(out, hs.name)
		}
	}
	return out
}

func (run *playbookRun) play(ctx context.Context, p *Play) error {
	pr := &playRun{run: run, play: p, states: run.states, groups: groupsOf(run.opts.Inventory), playVars: map[string]any{}}
	if f, ok := p.Keywords["vars"]; ok {
		d, ok := f.Value.(*value.Dict)
		if !ok && f.Value != nil {
			return fmt.Errorf("%s: vars: must be a mapping of names to values", f.Pos)
		}
		if d != nil {
			pr.playVars = maps.Clone(d.Map())
		}
	}
	if err := pr.promptVars(ctx); err != nil {
		return err
	}
	if err := pr.loadVarsFiles(); err != nil {
		return err
	}
	hosts, err := pr.selectHosts()
	if err != nil {
		return err
	}
	name := pr.templatedName(p.Name, template.NewLazyScope(layers{pr.playVars, run.opts.ExtraVars}, run.cache))
	if name == "" {
		name = template.ToString(p.Keywords["hosts"].Value)
		if l, ok := p.Keywords["hosts"].Value.([]any); ok {
			name = joinAny(l, ",")
		}
	}
	if len(hosts) == 0 {
		run.r.Reporter.Report(Event{Kind: KindPlayStart, Task: name, Pos: p.Pos})
		run.r.Reporter.Report(Event{Kind: KindNoHosts, Pos: p.Pos})
		return nil
	}
	hosts = pr.ordered(hosts)
	for _, h := range hosts {
		hs, ok := run.states[h.Name]
		if !ok {
			hs = newHostState(h)
			run.states[h.Name] = hs
		}
		pr.matched = append(pr.matched, hs)
		if hs.failed || hs.unreachable {
			continue // a host that failed or was unreachable stays out for the rest of the run, as in Ansible
		}
		hs.endedPlay = false
		pr.all = append(pr.all, hs)
		pr.allNames = append(pr.allNames, h.Name)
	}
	batches, err := pr.batches()
	if err != nil {
		return err
	}
	for _, batch := range batches {
		run.r.Reporter.Report(Event{Kind: KindPlayStart, Task: name, Pos: p.Pos})
		pr.hosts = batch
		pr.batchEnded.Store(false)
		if err := pr.gatherFacts(ctx); err != nil {
			return err
		}
		if pr.strategy() == "free" {
			pr.runFree(ctx)
		} else {
			for _, list := range [][]*Task{p.PreTasks, p.Tasks, p.PostTasks} {
				if len(list) == 0 {
					continue
				}
				pr.runList(ctx, list, nil, pr.hosts)
				pr.flushHandlers(ctx, pr.hosts)
				if ctx.Err() != nil || pr.ended.Load() || run.aborted.Load() {
					break
				}
			}
		}
		if ctx.Err() != nil || pr.ended.Load() || run.aborted.Load() || len(pr.active()) == 0 && len(batches) > 1 {
			break // a serial batch whose hosts all failed ends the play, as in Ansible
		}
	}
	return ctx.Err()
}

func joinAny(l []any, sep string) string {
	s := ""
	for i, v := range l {
		if i > 0 {
			s += sep
		}
		s += template.ToString(v)
	}
	return s
}

// ordered applies the play's order: inventory (the default),
// reverse_inventory, sorted, reverse_sorted or shuffle.
func (pr *playRun) ordered(hosts []*inventory.Host) []*inventory.Host {
	f, ok := pr.play.Keywords["order"]
	if !ok {
		return hosts
	}
	out := slices.Clone(hosts)
	byName := func(a, b *inventory.Host) int { return strings.Compare(a.Name, b.Name) }
	switch template.ToString(f.Value) {
	case "reverse_inventory":
		slices.Reverse(out)
	case "sorted":
		slices.SortStableFunc(out, byName)
	case "reverse_sorted":
		slices.SortStableFunc(out, byName)
		slices.Reverse(out)
	case "shuffle":
		rand.Shuffle(len(out), func(i, j int) { out[i], out[j] = out[j], out[i] })
	}
	return out
}

// strategy is the play's strategy: linear (the default) or free.
func (pr *playRun) strategy() string {
	if f, ok := pr.play.Keywords["strategy"]; ok {
		return template.ToString(f.Value)
	}
	return "linear"
}

// runFree is the free strategy: every host goes through the play's tasks
// at its own pace, forks at a time, and one goroutine reports for all.
func (pr *playRun) runFree(ctx context.Context) {
	pr.sink = make(chan Event)
	var g errgroup.Group
	g.SetLimit(pr.run.forks())
	go func() {
		for _, hs := range pr.active() {
			g.Go(func() error {
				one := []*hostState{hs}
				for _, list := range [][]*Task{pr.play.PreTasks, pr.play.Tasks, pr.play.PostTasks} {
					pr.runList(ctx, list, nil, one)
					pr.flushHandlers(ctx, one)
				}
				return nil
			})
		}
		_ = g.Wait()
		close(pr.sink)
	}()
	// Banners come lazily, as Ansible's default callback prints them under
	// the free strategy: before a result of another task than the last
	// one shown, so a task that shows no result (a meta that ran) has none.
	type taskKey struct {
		pos  source.Pos
		name string
	}
	starts := map[taskKey]Event{}
	var shown *taskKey
	for e := range pr.sink {
		k := taskKey{e.Pos, e.Task}
		switch e.Kind {
		case KindTaskStart, KindHandlerStart:
			starts[k] = e
			continue
		case KindResult, KindItem, KindRetry:
			if b, ok := starts[k]; ok && (shown == nil || *shown != k) {
				pr.run.report(b)
				shown = &k
			}
		}
		pr.run.report(e)
	}
	pr.sink = nil
}

// selectHosts applies the play's hosts: pattern (templated with the extra
// vars, as Ansible allows) and the --limit.
func (pr *playRun) selectHosts() ([]*inventory.Host, error) {
	f := pr.play.Keywords["hosts"]
	var pattern string
	switch x := f.Value.(type) {
	case []any:
		pattern = joinAny(x, ",")
	default:
		pattern = template.ToString(x)
	}
	rendered, err := pr.run.cache.RenderString(pattern, layers{pr.playVars, pr.run.opts.ExtraVars})
	if err != nil {
		return nil, template.Locate(err, pattern, f.Pos)
	}
	inv := pr.run.opts.Inventory
	hosts, err := inv.Match(template.ToString(rendered))
	if err != nil {
		return nil, fmt.Errorf("%s: hosts: %w", f.Pos, err)
	}
	if pr.run.opts.Limit != "" {
		if hosts, err = inv.Limit(hosts, pr.run.opts.Limit); err != nil {
			return nil, err
		}
	}
	return hosts, nil
}

// runList runs tasks in order on those of hosts still in the play, each
// task on all of them before the next (the linear strategy; under the
// free strategy hosts holds one host).
func (pr *playRun) runList(ctx context.Context, list []*Task, chain []*Task, hosts []*hostState) {
	for _, t := range list {
		if ctx.Err() != nil || pr.ended.Load() || pr.run.aborted.Load() || pr.batchEnded.Load() {
			return
		}
		if !t.IsBlock && !pr.run.reachedStart(t) {
			continue
		}
		if !t.IsBlock && pr.run.r.Step != nil && !pr.run.stepAll {
			run, all := pr.run.r.Step(ctx, t.Label())
			pr.run.stepAll = all
			if !run {
				continue
			}
		}
		active := pr.stillIn(hosts)
		if len(active) == 0 {
			return
		}
		if !pr.selectedByTags(t, chain) {
			continue
		}
		if what, ok := isMeta(t); ok {
			pr.runMeta(ctx, t, chain, active, what)
			continue
		}
		if t.IsBlock {
			pr.runBlock(ctx, t, chain, active)
			continue
		}
		pr.runTask(ctx, t, chain, active)
	}
}

// active are the hosts of the batch still in the play.
func (pr *playRun) active() []*hostState { return pr.stillIn(pr.hosts) }

// stillIn are those of hosts that have not failed, become unreachable or
// ended the play.
func (pr *playRun) stillIn(hosts []*hostState) []*hostState {
	pr.mu.RLock()
	defer pr.mu.RUnlock()
	var out []*hostState
	for _, hs := range hosts {
		if !hs.failed && !hs.unreachable && !hs.endedPlay {
			out = append(out, hs)
		}
	}
	return out
}

// setFailed changes a host's failed mark, which other hosts may read.
func (pr *playRun) setFailed(hs *hostState, failed bool) {
	pr.mu.Lock()
	hs.failed = failed
	pr.mu.Unlock()
}

// runBlock runs a block's tasks; the hosts that fail there run its rescue,
// and every host that entered runs its always.
func (pr *playRun) runBlock(ctx context.Context, b *Task, chain []*Task, hosts []*hostState) {
	inner := append(slices.Clone(chain), b)
	pr.runList(ctx, b.Block, inner, hosts)
	var failed []*hostState
	for _, hs := range hosts {
		if hs.failed && !hs.unreachable {
			failed = append(failed, hs)
		}
	}
	if len(b.Rescue) > 0 && len(failed) > 0 {
		for _, hs := range failed {
			hs.staged.setVar("ansible_failed_task", hs.failedTask)
			hs.staged.setVar("ansible_failed_result", hs.failedResult)
			pr.mu.Lock()
			hs.commit()
			hs.failed = false
			pr.mu.Unlock()
			pr.run.statsMu.Lock()
			pr.run.stats.host(hs.host.Name).Rescued++
			pr.run.stats.host(hs.host.Name).Failed--
			pr.run.statsMu.Unlock()
		}
		pr.runList(ctx, b.Rescue, inner, failed)
	}
	if len(b.Always) > 0 {
		var still, reached []*hostState
		for _, hs := range hosts {
			if hs.unreachable {
				continue
			}
			reached = append(reached, hs)
			if hs.failed {
				still = append(still, hs)
				pr.setFailed(hs, false)
			}
		}
		pr.runList(ctx, b.Always, inner, reached)
		for _, hs := range still {
			pr.setFailed(hs, true)
		}
	}
}

// templatedName is a play's or task's name as its banner shows it: the
// templates in it rendered, or, where one fails (an undefined variable, a
// loop's item), the name as written, as Ansible does.
func (pr *playRun) templatedName(name string, scope template.Scope) string {
	if !template.IsTemplate(name) {
		return name
	}
	v, err := pr.run.cache.RenderString(name, scope)
	if err != nil {
		return name
	}
	return template.ToString(v)
}

// taskBanner is the name a task's banner shows: rendered with the
// variables of the first of hosts, as Ansible's linear strategy does. The
// task's other events carry it too (label).
func (pr *playRun) taskBanner(t *Task, chain []*Task, hosts []*hostState) string {
	name := t.Label()
	if template.IsTemplate(t.Name) && len(hosts) > 0 {
		name = pr.templatedName(t.Name, pr.hostScope(hosts[0], withTask(chain, t), nil))
	}
	pr.labels.Store(t, name)
	return name
}

// label is the name t's banner showed last, else its name as written.
func (pr *playRun) label(t *Task) string {
	if v, ok := pr.labels.Load(t); ok {
		return v.(string)
	}
	return t.Label()
}

// runTask runs one task on hosts, forks at a time, reporting each
// host's result as it comes.
func (pr *playRun) runTask(ctx context.Context, t *Task, chain []*Task, hosts []*hostState) {
	kind := KindTaskStart
	if t.IsHandler {
		kind = KindHandlerStart
	}
	pr.emit(Event{Kind: kind, Task: pr.taskBanner(t, chain, hosts), Module: t.Module, Pos: t.Pos})
	all := hosts
	runOnce := false
	if f, ok := pr.keyword(t, chain, "run_once"); ok && truthy(f.Value) {
		runOnce, hosts = true, hosts[:1]
	}
	if m := shortModule(t.Module); m == "add_host" || m == "pause" {
		hosts = hosts[:1] // Ansible's add_host and pause bypass the host loop
	}
	events := make(chan Event)
	var g errgroup.Group // not WithContext: a failing host must not cancel the others
	limit := pr.run.forks()
	if f, ok := pr.keyword(t, chain, "throttle"); ok {
		if n := asInt(f.Value, 0); n > 0 {
			limit = min(limit, int(n))
		}
	}
	g.SetLimit(limit)
	go func() {
		for _, hs := range hosts {
			if ctx.Err() != nil {
				break
			}
			g.Go(func() error {
				pr.execHost(ctx, t, chain, hs, func(e Event) { events <- e })
				return nil
			})
		}
		_ = g.Wait()
		close(events)
	}()
	pending := map[string]bool{}
	for _, hs := range hosts {
		pending[hs.host.Name] = true
	}
	started := time.Now()
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for open := true; open; {
		select {
		case e, ok := <-events:
			if !ok {
				open = false
				break
			}
			if e.Kind == KindResult {
				delete(pending, e.Host)
			}
			if ctx.Err() == nil {
				pr.emit(e)
			}
		case <-tick.C: // a slow task: say whom it still waits for
			waiting := slices.Sorted(maps.Keys(pending))
			pr.emit(Event{Kind: KindWaiting, Task: pr.label(t), Pos: t.Pos, Waiting: waiting, Duration: time.Since(started)})
		}
	}
	if runOnce { // the one result stands for every host of the batch
		for _, hs := range all[1:] {
			for k, v := range hosts[0].staged.vars {
				hs.staged.setVar(k, v)
			}
		}
	}
	failed := 0
	for _, hs := range all {
		if hs.staged.failed {
			failed++
		}
		pr.mu.Lock()
		for _, c := range hs.staged.inventory {
			pr.applyInventory(c)
		}
		pr.delegateFacts(hs)
		hs.commit()
		pr.mu.Unlock()
	}
	pr.checkFatal(t, chain, failed)
}

// delegateFacts moves what a delegate_facts task gathered or set from the
// host it ran for to its delegate, as Ansible does.
func (pr *playRun) delegateFacts(hs *hostState) {
	s := &hs.staged
	if s.delegate == "" || s.delegate == hs.host.Name {
		return
	}
	to, ok := pr.run.states[s.delegate]
	if !ok {
		h, found := pr.run.opts.Inventory.Host(s.delegate)
		if !found {
			return
		}
		to = newHostState(h)
		pr.run.states[s.delegate] = to
	}
	for k, v := range s.setFacts_ {
		to.staged.setFact(k, v)
		delete(s.vars, k)
	}
	for k, v := range s.cached {
		to.staged.cacheFact(k, v)
	}
	s.cached = nil
	if s.facts != nil {
		to.staged.setFacts(s.facts)
		s.facts = nil
	}
	to.commit()
}

// applyInventory makes an add_host or group_by real: the host joins its
// groups, and a new host gets its state for the plays that follow.
func (pr *playRun) applyInventory(c inventoryChange) {
	inv := pr.run.opts.Inventory
	h := inv.AddHost(c.host, c.groups, c.parents, c.vars)
	if hs, ok := pr.run.states[h.Name]; ok {
		for k, v := range h.Vars {
			hs.inventory[k] = inventory.Native(v)
		}
	}
	pr.groups = groupsOf(inv)
}

// checkFatal stops the run after a task that failed on some host when
// any_errors_fatal is set, or on more hosts than max_fail_percentage
// allows.
func (pr *playRun) checkFatal(t *Task, chain []*Task, failed int) {
	if failed == 0 {
		return
	}
	stop, banners := false, 1
	if f, ok := pr.keyword(t, chain, "any_errors_fatal"); ok && truthy(f.Value) {
		stop = true
	}
	if f, ok := pr.play.Keywords["max_fail_percentage"]; ok {
		n := 0
		pr.mu.RLock()
		for _, hs := range pr.hosts {
			if hs.failed {
				n++
			}
		}
		pr.mu.RUnlock()
		limit := asInt(f.Value, 100)
		if p, ok := f.Value.(float64); ok {
			limit = int64(p)
		}
		if float64(n)*100/float64(len(pr.hosts)) > float64(limit) && !stop {
			stop, banners = true, 2 // Ansible's strategy and its playbook loop each say so
		}
	}
	if stop {
		pr.run.aborted.Store(true)
		for range banners {
			pr.emit(Event{Kind: KindNoMoreHosts})
		}
	}
}
