package report

import (
	"encoding/json"
	"io"

	"github.com/drover/drover/playbook"
)

// JSON writes every event as one JSON object per line (--output json):
// enough to rebuild the text output, for tools that follow a run.
type JSON struct {
	W io.Writer
}

var _ playbook.Reporter = (*JSON)(nil)

// jsonEvent is the line format; empty fields are left out.
type jsonEvent struct {
	Event      string         `json:"event"`
	Playbook   string         `json:"playbook,omitempty"`
	Play       string         `json:"play,omitempty"`
	Task       string         `json:"task,omitempty"`
	Module     string         `json:"module,omitempty"`
	Path       string         `json:"path,omitempty"`
	Host       string         `json:"host,omitempty"`
	Delegate   string         `json:"delegate_to,omitempty"`
	Item       string         `json:"item,omitempty"`
	Status     string         `json:"status,omitempty"`
	Changed    *bool          `json:"changed,omitempty"`
	Ignored    bool           `json:"ignored,omitempty"`
	DurationMS *float64       `json:"duration_ms,omitempty"`
	Result     map[string]any `json:"result,omitempty"`
	Stats      map[string]any `json:"stats,omitempty"`
	Waiting    []string       `json:"waiting_for,omitempty"`
}

var eventNames = map[playbook.Kind]string{
	playbook.KindPlaybookStart: "playbook_start", playbook.KindPlayStart: "play_start", playbook.KindNoHosts: "play_no_hosts",
	playbook.KindTaskStart: "task_start", playbook.KindHandlerStart: "handler_start", playbook.KindItem: "item_result",
	playbook.KindResult: "task_result", playbook.KindRecap: "recap", playbook.KindNoMoreHosts: "no_more_hosts",
	playbook.KindWaiting: "waiting", playbook.KindRetry: "retry",
}

// Report writes one event.
func (j *JSON) Report(e playbook.Event) {
	out := jsonEvent{Event: eventNames[e.Kind]}
	if e.Pos.File != "" {
		out.Path = e.Pos.String()
	}
	switch e.Kind {
	case playbook.KindPlaybookStart:
		out.Playbook = e.Task
	case playbook.KindPlayStart, playbook.KindNoHosts:
		out.Play = e.Task
	case playbook.KindTaskStart, playbook.KindHandlerStart:
		out.Task, out.Module = e.Task, e.Module
	case playbook.KindResult, playbook.KindItem:
		out.Task, out.Module, out.Host, out.Item, out.Ignored = e.Task, e.Module, e.Host, e.Item, e.Ignored
		out.Status = e.Status.String()
		if e.Delegate != e.Host {
			out.Delegate = e.Delegate
		}
		if e.Result != nil {
			changed := e.Result.Changed
			out.Changed = &changed
			res, _ := shown(e)
			out.Result = res
		}
		if e.Kind == playbook.KindResult {
			ms := float64(e.Duration.Microseconds()) / 1000
			out.DurationMS = &ms
		}
	case playbook.KindWaiting:
		out.Task, out.Waiting = e.Task, e.Waiting
		ms := float64(e.Duration.Milliseconds())
		out.DurationMS = &ms
	case playbook.KindRecap:
		out.Stats = map[string]any{}
		for name, h := range e.Stats.Hosts {
			out.Stats[name] = map[string]int{"ok": h.OK, "changed": h.Changed, "unreachable": h.Unreachable, "failed": h.Failed,
				"skipped": h.Skipped, "rescued": h.Rescued, "ignored": h.Ignored}
		}
	}
	line, err := json.Marshal(out)
	if err != nil {
		line, _ = json.Marshal(jsonEvent{Event: out.Event, Task: out.Task, Host: out.Host, Status: "unprintable result: " + err.Error()})
	}
	j.W.Write(append(line, '\n'))
}
