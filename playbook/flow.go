package playbook

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strings"

	"github.com/drover/drover/playbook/template"
)

// gatherFacts runs setup on the play's hosts unless gather_facts: false.
func (pr *playRun) gatherFacts(ctx context.Context) error {
	if f, ok := pr.play.Keywords["gather_facts"]; ok && !truthy(f.Value) {
		return nil
	}
	args := map[string]any{}
	if f, ok := pr.play.Keywords["gather_subset"]; ok {
		args["gather_subset"] = f.Value
	}
	setup := &Task{Name: "Gathering Facts", Module: "setup", Args: args, Pos: pr.play.Pos, Keywords: map[string]Field{}}
	pr.runTask(ctx, setup, nil, pr.active())
	return nil
}

// isMeta reports the meta action of a task, if it is one.
func isMeta(t *Task) (string, bool) {
	if shortModule(t.Module) != "meta" {
		return "", false
	}
	return template.ToString(t.Args["_raw_params"]), true
}

// flushHandlers runs the notified handlers in the order they are
// defined, each on the hosts that notified it by name or listen topic.
func (pr *playRun) flushHandlers(ctx context.Context, among []*hostState) {
	for _, h := range pr.play.Handlers {
		if ctx.Err() != nil {
			return
		}
		topics := []string{h.Name}
		if f, ok := h.Keyword("listen"); ok {
			switch x := f.Value.(type) {
			case []any:
				for _, e := range x {
					topics = append(topics, template.ToString(e))
				}
			default:
				topics = append(topics, template.ToString(x))
			}
		}
		var hosts []*hostState
		for _, hs := range among {
			notified := false
			for _, tp := range topics {
				if hs.notified[tp] {
					notified = true
				}
			}
			if !notified || hs.unreachable || hs.endedPlay {
				continue
			}
			if hs.failed && !pr.forceHandlers() {
				continue
			}
			hosts = append(hosts, hs)
		}
		if len(hosts) == 0 {
			continue
		}
		for _, hs := range hosts {
			for _, tp := range topics {
				delete(hs.notified, tp)
			}
		}
		if h.IsBlock {
			pr.runBlock(ctx, h, nil, hosts)
			continue
		}
		if what, ok := isMeta(h); ok {
			pr.runMeta(ctx, h, nil, hosts, what)
			continue
		}
		pr.runTask(ctx, h, nil, hosts)
	}
}

func (pr *playRun) forceHandlers() bool {
	if pr.run.opts.ForceHandlers {
		return true
	}
	f, ok := pr.play.Keywords["force_handlers"]
	return ok && truthy(f.Value)
}

// taskTags are a task's tags: its own, its blocks' and its play's,
// sorted and without repeats.
func (pr *playRun) taskTags(t *Task, chain []*Task) []string {
	tags := tagsOf(pr.play.Keywords["tags"])
	for _, c := range append(slices.Clone(chain), t) {
		f, _ := c.Keyword("tags")
		tags = append(tags, tagsOf(f)...)
	}
	slices.Sort(tags)
	return slices.Compact(tags)
}

// selectedByTags applies --tags and --skip-tags with Ansible's rules: a
// task's tags are its own, its blocks' and its play's; always runs unless
// skipped by name, never only when asked for.
func (pr *playRun) selectedByTags(t *Task, chain []*Task) bool {
	tags := pr.taskTags(t, chain)
	want, skip := pr.run.opts.Tags, pr.run.opts.SkipTags
	has := func(list []string, tag string) bool { return slices.Contains(list, tag) }
	for _, s := range skip {
		if has(tags, s) || (s == "tagged" && len(tags) > 0) || (s == "untagged" && len(tags) == 0) || s == "all" && !has(tags, "always") {
			return false
		}
	}
	if len(want) == 0 || has(want, "all") {
		return !has(tags, "never") || slices.ContainsFunc(tags, func(x string) bool { return x != "never" && has(want, x) })
	}
	if has(tags, "always") && !has(skip, "always") {
		return true
	}
	for _, w := range want {
		if has(tags, w) || (w == "tagged" && len(tags) > 0) || (w == "untagged" && len(tags) == 0) {
			return true
		}
	}
	return false
}

func splitComma(s string) []string {
	var out []string
	for _, part := range strings.Split(s, ",") {
		if part = strings.TrimSpace(part); part != "" {
			out = append(out, part)
		}
	}
	return out
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// perHostMeta are the meta actions Ansible's linear strategy runs for each
// host of the batch, each with its own banner; the others run once, for the
// first host, whose when decides for every host of the play.
var perHostMeta = map[string]bool{"noop": true, "flush_handlers": true, "end_host": true, "reset_connection": true, "role_complete": true}

// metaSkipReasons are what Ansible says of a meta task its when skipped,
// after "<action> conditional evaluated to False"; %s is the host.
var metaSkipReasons = map[string]string{
	"flush_handlers":    ", not running handlers for %s",
	"clear_facts":       ", not clearing facts and fact cache for %s",
	"clear_host_errors": ", not clearing host error state for %s",
	"end_batch":         ", continuing current batch",
	"end_play":          ", continuing play",
	"end_host":          ", continuing execution for %s",
}

// runMeta runs a meta task as Ansible's linear strategy does: a banner per
// host it runs for, a skip line (not counted in the recap) where its when
// is false, and no line where it ran.
func (pr *playRun) runMeta(ctx context.Context, t *Task, chain []*Task, hosts []*hostState, what string) {
	if !perHostMeta[what] {
		hosts = hosts[:1]
	}
	var flush []*hostState
	banner := KindTaskStart
	if t.IsHandler {
		banner = KindHandlerStart
	}
	for _, hs := range hosts {
		pr.emit(Event{Kind: banner, Task: pr.taskBanner(t, chain, []*hostState{hs}), Module: t.Module, Pos: t.Pos})
		if what == "noop" || what == "reset_connection" || what == "refresh_inventory" {
			continue // they take no when
		}
		base := Event{Kind: KindResult, Host: hs.host.Name, Task: pr.label(t), Module: t.Module, Pos: t.Pos}
		if ok, err := pr.metaWhen(t, chain, hs); err != nil {
			ev := base
			ev.Status, ev.Result = StatusFailed, resultOf(failure(fmt.Errorf("when: %w", err)))
			pr.emit(ev)
			pr.mu.Lock()
			hs.failed, hs.failedResult = true, ev.Result
			pr.mu.Unlock()
			continue
		} else if !ok {
			msg := what
			if what == "end_host" {
				msg = "end_host conditional evaluated to false, continuing execution for " + hs.host.Name
			}
			reason := what + " conditional evaluated to False" + metaSkipReasons[what]
			if strings.Contains(reason, "%s") {
				reason = fmt.Sprintf(reason, hs.host.Name)
			}
			ev := base
			ev.Status, ev.Uncounted = StatusSkipped, true
			ev.Result = resultOf(map[string]any{"msg": msg, "skipped": true, "skip_reason": reason})
			pr.emit(ev)
			continue
		}
		pr.mu.Lock()
		switch what {
		case "flush_handlers":
			flush = append(flush, hs)
		case "end_host":
			hs.endedPlay = true
		case "end_play":
			pr.ended.Store(true)
			for _, h := range pr.all {
				if !h.unreachable {
					h.endedPlay = true
				}
			}
		case "end_batch":
			pr.batchEnded.Store(true)
		case "clear_facts":
			for _, h := range pr.matched {
				h.facts, h.factLayer = map[string]any{}, map[string]any{}
			}
		case "clear_host_errors":
			// A host that failed in this play stays out of it, but comes
			// back in the plays that follow, as in Ansible.
			for _, h := range pr.matched {
				if h.failed || h.unreachable {
					h.failed, h.unreachable = false, false
					h.endedPlay = true
				}
			}
		}
		pr.mu.Unlock()
	}
	if len(flush) > 0 {
		pr.flushHandlers(ctx, flush)
	}
}

// metaWhen is a meta task's when for one host.
func (pr *playRun) metaWhen(t *Task, chain []*Task, hs *hostState) (bool, error) {
	scope := pr.hostScope(hs, withTask(chain, t), nil)
	for _, c := range conditions(t, chain) {
		ok, err := pr.evalCondition(c, scope)
		if err != nil || !ok {
			return false, err
		}
	}
	return true, nil
}
