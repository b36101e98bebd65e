package playbook

import (
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/drover/drover/playbook/template"
)

// ListHosts prints what ansible-playbook --list-hosts prints: each play
// with its pattern and the hosts it selects.
func (r *Runner) ListHosts(w io.Writer, pb *Playbook, opts PlayOptions) error {
	fmt.Fprintf(w, "\nplaybook: %s\n", pb.Path)
	run := &playbookRun{r: r, pb: pb, opts: opts, cache: &template.Cache{}, states: map[string]*hostState{}}
	for i, p := range pb.Plays {
		pr := &playRun{run: run, play: p, playVars: map[string]any{}}
		hosts, err := pr.selectHosts()
		if err != nil {
			return err
		}
		fmt.Fprintf(w, "\n  play #%d (%s): %s\tTAGS: [%s]\n", i+1, patternOf(p), playName(p), strings.Join(tagsOf(p.Keywords["tags"]), ","))
		fmt.Fprintf(w, "    pattern: %s\n", pyList(patterns(p)))
		fmt.Fprintf(w, "    hosts (%d):\n", len(hosts))
		for _, h := range hosts {
			fmt.Fprintf(w, "      %s\n", h.Name)
		}
	}
	return nil
}

// ListTasks prints what --list-tasks prints: each play's tasks (blocks
// opened) that the tags select, with their tags.
func (r *Runner) ListTasks(w io.Writer, pb *Playbook, opts PlayOptions) {
	fmt.Fprintf(w, "\nplaybook: %s\n", pb.Path)
	run := &playbookRun{r: r, pb: pb, opts: opts}
	for i, p := range pb.Plays {
		pr := &playRun{run: run, play: p}
		fmt.Fprintf(w, "\n  play #%d (%s): %s\tTAGS: [%s]\n    tasks:\n", i+1, patternOf(p), playName(p), strings.Join(tagsOf(p.Keywords["tags"]), ","))
		for _, list := range [][]*Task{p.PreTasks, p.Tasks, p.PostTasks} {
			walkTasks(list, nil, func(t *Task, chain []*Task) {
				if pr.selectedByTags(t, chain) {
					fmt.Fprintf(w, "      %s\tTAGS: [%s]\n", t.Label(), strings.Join(pr.taskTags(t, chain), ", "))
				}
			})
		}
	}
}

// ListTags prints what --list-tags prints: every tag the selected tasks
// of each play carry.
func (r *Runner) ListTags(w io.Writer, pb *Playbook, opts PlayOptions) {
	fmt.Fprintf(w, "\nplaybook: %s\n", pb.Path)
	run := &playbookRun{r: r, pb: pb, opts: opts}
	for i, p := range pb.Plays {
		pr := &playRun{run: run, play: p}
		seen := map[string]bool{}
		for _, list := range [][]*Task{p.PreTasks, p.Tasks, p.PostTasks} {
			walkTasks(list, nil, func(t *Task, chain []*Task) {
				if !pr.selectedByTags(t, chain) {
					return
				}
				for _, tag := range pr.taskTags(t, chain) {
					seen[tag] = true
				}
			})
		}
		var tags []string
		for t := range seen {
			tags = append(tags, t)
		}
		slices.Sort(tags)
		fmt.Fprintf(w, "\n  play #%d (%s): %s\tTAGS: [%s]\n      TASK TAGS: [%s]\n", i+1, patternOf(p), playName(p), strings.Join(tagsOf(p.Keywords["tags"]), ","), strings.Join(tags, ", "))
	}
}

// walkTasks calls f for every task in list, inside blocks too, with the
// blocks around it.
func walkTasks(list []*Task, chain []*Task, f func(*Task, []*Task)) {
	for _, t := range list {
		if t.IsBlock {
			inner := append(slices.Clone(chain), t)
			for _, part := range [][]*Task{t.Block, t.Rescue, t.Always} {
				walkTasks(part, inner, f)
			}
			continue
		}
		f(t, chain)
	}
}

func patterns(p *Play) []string {
	if _, isList := p.Keywords["hosts"].Value.([]any); isList {
		return stringsOf(p.Keywords["hosts"].Value)
	}
	return []string{template.ToString(p.Keywords["hosts"].Value)}
}

// stringsOf is a list keyword's items as text.
func stringsOf(v any) []string {
	l, _ := v.([]any)
	out := make([]string, 0, len(l))
	for _, e := range l {
		out = append(out, template.ToString(e))
	}
	return out
}

func patternOf(p *Play) string { return strings.Join(patterns(p), ",") }

func playName(p *Play) string {
	if p.Name != "" {
		return p.Name
	}
	return patternOf(p)
}

// pyList prints strings as Python prints a list of them.
func pyList(s []string) string {
	q := make([]string, len(s))
	for i, e := range s {
		q[i] = "'" + strings.ReplaceAll(e, "'", `\'`) + "'"
	}
	return "[" + strings.Join(q, ", ") + "]"
}

func tagsOf(f Field) []string {
	switch x := f.Value.(type) {
	case nil:
		return nil
	case []any:
		return stringsOf(x)
	default:
		return splitComma(template.ToString(x))
	}
}
