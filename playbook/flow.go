package playbook

import (
	"context"
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
