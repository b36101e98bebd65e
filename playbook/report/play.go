package report

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/aymanbagabas/go-udiff"
	"github.com/drover/drover/playbook"
)

// Play prints a playbook run as ansible-playbook's default callback does:
// PLAY and TASK banners, one line per host result (with the result when
// it is verbose or a debug), and the PLAY RECAP.
type Play struct {
	W io.Writer
	// Color adds ANSI colours.
	Color bool
	// Verbosity is the -v count: at 1 and above every result is shown.
	Verbosity int
	// Live shows, on a terminal, which hosts a slow task still waits for,
	// on a line that the next output replaces.
	Live bool
	// Profile ends the output with the tasks by the time they took
	// (--profile).
	Profile bool

	liveShown bool
	current   *timing
	timings   []*timing
}

// timing is how long one task took, from its banner to the next.
type timing struct {
	name  string
	start time.Time
	took  time.Duration
}

var _ playbook.Reporter = (*Play)(nil)

// bannerWidth is Ansible's line width when stdout is not a terminal.
const bannerWidth = 79

// Report prints one event.
func (p *Play) Report(e playbook.Event) {
	if e.Kind == playbook.KindWaiting {
		p.waiting(e)
		return
	}
	if p.liveShown {
		fmt.Fprint(p.W, "\r\x1b[K")
		p.liveShown = false
	}
	switch e.Kind {
	case playbook.KindTaskStart, playbook.KindHandlerStart, playbook.KindRecap, playbook.KindPlayStart:
		p.timeTask(e)
	}
	switch e.Kind {
	case playbook.KindPlayStart:
		p.banner("PLAY [" + e.Task + "]")
	case playbook.KindNoHosts:
		p.line("skipping: no hosts matched", colorSkip)
	case playbook.KindTaskStart:
		p.banner("TASK [" + e.Task + "]")
	case playbook.KindHandlerStart:
		p.banner("RUNNING HANDLER [" + e.Task + "]")
	case playbook.KindItem:
		p.item(e)
	case playbook.KindResult:
		p.result(e)
	case playbook.KindNoMoreHosts:
		p.banner("NO MORE HOSTS LEFT")
	case playbook.KindRetry:
		p.line(fmt.Sprintf("FAILED - RETRYING: [%s]: %s (%d retries left).", hostLabel(e), e.Task, e.Retries), colorWarnRetry)
	case playbook.KindRecap:
		p.recap(e.Stats)
		if p.Profile {
			p.profile()
		}
	}
}

// waiting redraws the live line: the hosts a slow task still runs on.
func (p *Play) waiting(e playbook.Event) {
	if !p.Live || len(e.Waiting) == 0 {
		return
	}
	hosts := strings.Join(e.Waiting, ", ")
	if len(e.Waiting) > 5 {
		hosts = strings.Join(e.Waiting[:5], ", ") + fmt.Sprintf(" and %d more", len(e.Waiting)-5)
	}
	line := fmt.Sprintf("  %s: waiting for %s (%ds)", e.Task, hosts, int(e.Duration.Seconds()))
	if len(line) > bannerWidth {
		line = line[:bannerWidth-1] + "…"
	}
	fmt.Fprint(p.W, "\r\x1b[K"+line)
	p.liveShown = true
}

// timeTask closes the running task's timing and opens the next one's.
func (p *Play) timeTask(e playbook.Event) {
	now := time.Now()
	if p.current != nil {
		p.current.took = now.Sub(p.current.start)
		p.current = nil
	}
	if e.Kind == playbook.KindTaskStart || e.Kind == playbook.KindHandlerStart {
		p.current = &timing{name: e.Task, start: now}
		p.timings = append(p.timings, p.current)
	}
}

// profile prints the slowest tasks, as Ansible's profile_tasks does.
func (p *Play) profile() {
	sorted := slices.Clone(p.timings)
	slices.SortStableFunc(sorted, func(a, b *timing) int { return int(b.took - a.took) })
	var total time.Duration
	for _, t := range p.timings {
		total += t.took
	}
	fmt.Fprintf(p.W, "%s\n", strings.Repeat("=", bannerWidth))
	for _, t := range sorted[:min(len(sorted), 20)] {
		took := fmt.Sprintf(" %.2fs", t.took.Seconds())
		name := t.name + " "
		fmt.Fprintf(p.W, "%s%s%s\n", name, strings.Repeat("-", max(bannerWidth-len([]rune(name))-len(took), 3)), took)
	}
	fmt.Fprintf(p.W, "total: %.2fs over %d tasks\n", total.Seconds(), len(p.timings))
}

func (p *Play) banner(msg string) {
	stars := max(bannerWidth-len([]rune(msg)), 3)
	fmt.Fprintf(p.W, "\n%s %s\n", msg, strings.Repeat("*", stars))
}

func (p *Play) line(s, color string) {
	if p.Color {
		s = color + s + colorReset
	}
	fmt.Fprintln(p.W, s)
}

func hostLabel(e playbook.Event) string {
	if e.Delegate != "" && e.Delegate != e.Host {
		return e.Host + " -> " + e.Delegate
	}
	return e.Host
}

// shown is the result as the callback displays it: internal keys gone,
// a debug's result reduced to its message or variable.
func shown(e playbook.Event) (map[string]any, bool) {
	res := e.Result.Map()
	verboseAlways := moduleName(e.Module) == "debug" && (e.Status == playbook.StatusOK || e.Status == playbook.StatusChanged)
	if v, ok := res["_ansible_verbose_always"].(bool); ok {
		verboseAlways = v
	}
	for k := range res {
		if strings.HasPrefix(k, "_ansible") || strings.HasPrefix(k, "_drover") {
			delete(res, k)
		}
	}
	delete(res, "failed") // callbacks get Ansible's clean_copy, without these
	delete(res, "skipped")
	delete(res, "diff") // shown as a diff instead
	if e.NoLog {
		res = map[string]any{"censored": "the output has been hidden due to the fact that 'no_log: true' was specified for this result", "changed": res["changed"]}
		return res, false
	}
	if moduleName(e.Module) == "debug" {
		if _, ok := res["msg"]; ok {
			for k := range res {
				if !slices.Contains([]string{"msg", "exception", "warnings", "deprecations"}, k) {
					delete(res, k)
				}
			}
		} else {
			for _, k := range []string{"changed", "failed", "skipped", "invocation", "skip_reason"} {
				delete(res, k)
			}
		}
	}
	return res, verboseAlways
}

func (p *Play) verbose(always bool) bool { return p.Verbosity > 0 || always }

// dumpFor is _dump_results: indented when verbose-always or at -vvv.
func (p *Play) dumpFor(res map[string]any, always bool) string {
	if always || p.Verbosity > 2 {
		return dump(res, false)
	}
	return compactJSON(res)
}

// diffs prints a result's --diff changes as Ansible does: unified diffs
// with three lines of context, each followed by a blank line.
func (p *Play) diffs(e playbook.Event) {
	if e.Result == nil || e.NoLog {
		return
	}
	list, _ := e.Result.Data["diff"].([]any)
	for _, d := range list {
		m, _ := d.(map[string]any)
		before, ok1 := m["before"].(string)
		after, ok2 := m["after"].(string)
		if !ok1 || !ok2 || before == after {
			continue
		}
		bh, _ := m["before_header"].(string)
		ah, _ := m["after_header"].(string)
		text := udiff.Unified("before: "+bh, "after: "+ah, before, after)
		for _, l := range strings.SplitAfter(text, "\n") {
			switch {
			case l == "":
			case p.Color && strings.HasPrefix(l, "+"):
				fmt.Fprint(p.W, colorOK+strings.TrimSuffix(l, "\n")+colorReset+"\n")
			case p.Color && strings.HasPrefix(l, "-"):
				fmt.Fprint(p.W, colorError+strings.TrimSuffix(l, "\n")+colorReset+"\n")
			case p.Color && strings.HasPrefix(l, "@@"):
				fmt.Fprint(p.W, colorSkip+strings.TrimSuffix(l, "\n")+colorReset+"\n")
			default:
				fmt.Fprint(p.W, l)
			}
		}
		fmt.Fprintln(p.W)
	}
}

func (p *Play) result(e playbook.Event) {
	p.diffs(e)
	if e.Result != nil {
		if prompt, ok := e.Result.Data["_drover_prompt"].(string); ok {
			fmt.Fprintf(p.W, "[pause]\n%s:\n", prompt)
		}
	}
	res, always := shown(e)
	label := hostLabel(e)
	isLoop := e.Result != nil && e.Result.Data["results"] != nil && !e.NoLog // a censored loop prints as one result
	switch {
	case e.Status == playbook.StatusUnreachable:
		p.line(fmt.Sprintf("fatal: [%s]: UNREACHABLE! => %s", label, p.dumpFor(res, always)), colorUnreachable)
		return
	case e.Status == playbook.StatusFailed:
		if !isLoop {
			delete(res, "results")
			p.line(fmt.Sprintf("fatal: [%s]: FAILED! => %s", label, p.dumpFor(res, always)), colorError)
		}
		if e.Ignored {
			p.line("...ignoring", colorSkip)
		}
		return
	case e.Status == playbook.StatusSkipped:
		if items, _ := e.Result.Data["results"].([]any); isLoop && len(items) > 0 {
			return
		}
		msg := "skipping: [" + e.Host + "]" // Ansible names no delegate on a skip
		if p.verbose(always) {
			msg += " => " + p.dumpFor(res, always)
		}
		p.line(msg, colorSkip)
		return
	}
	if isLoop {
		return
	}
	msg, color := "ok: ["+label+"]", colorOK
	if e.Status == playbook.StatusChanged {
		msg, color = "changed: ["+label+"]", colorChanged
	}
	if p.verbose(always) {
		msg += " => " + p.dumpFor(res, always)
	}
	p.line(msg, color)
}

func (p *Play) item(e playbook.Event) {
	p.diffs(e)
	res, always := shown(e)
	if e.NoLog {
		e.Item = "None" // the label is censored too
	}
	label := hostLabel(e)
	switch e.Status {
	case playbook.StatusFailed:
		p.line(fmt.Sprintf("failed: [%s] (item=%s) => %s", label, e.Item, p.dumpFor(res, always)), colorError)
		return
	case playbook.StatusSkipped:
		msg := fmt.Sprintf("skipping: [%s] => (item=%s) ", label, e.Item)
		if p.verbose(always) {
			msg += " => " + p.dumpFor(res, always)
		}
		p.line(msg, colorSkip)
		return
	}
	msg, color := "ok: ["+label+"]", colorOK
	if e.Status == playbook.StatusChanged {
		msg, color = "changed: ["+label+"]", colorChanged
	}
	msg += " => (item=" + e.Item + ")"
	if p.verbose(always) {
		msg += " => " + p.dumpFor(res, always)
	}
	p.line(msg, color)
}

func (p *Play) recap(s *playbook.Stats) {
	p.banner("PLAY RECAP")
	var names []string
	for n := range s.Hosts {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		h := s.Hosts[n]
		fmt.Fprintf(p.W, "%-26s : %s %s %s %s %s %s %s\n", n,
			p.count("ok", h.OK, colorOK), p.count("changed", h.Changed, colorChanged),
			p.count("unreachable", h.Unreachable, colorUnreachable), p.count("failed", h.Failed, colorError),
			p.count("skipped", h.Skipped, colorSkip), p.count("rescued", h.Rescued, colorOK), p.count("ignored", h.Ignored, colorWarn))
	}
	fmt.Fprintln(p.W)
}

func (p *Play) count(name string, n int, color string) string {
	s := fmt.Sprintf("%s=%-4d", name, n)
	if p.Color && n > 0 {
		return color + s + colorReset
	}
	return s
}
