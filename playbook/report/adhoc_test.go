package report

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/drover/drover/playbook"
	"github.com/drover/drover/tasks"
)

var update = flag.Bool("update", false, "rewrite the golden files")

func rc(n int) *int { return &n }

// events covers every way a result prints.
var events = []playbook.Event{
	{Host: "web1", Module: "command", Status: playbook.StatusChanged, Result: &tasks.Result{Changed: true, RC: rc(0), Stdout: "line 1\nline 2", Data: map[string]any{"cmd": []any{"cat", "f"}}}},
	{Host: "web2", Module: "ansible.builtin.shell", Status: playbook.StatusFailed, Result: &tasks.Result{Changed: true, Failed: true, RC: rc(3), Stdout: "out", Stderr: "err", Msg: "non-zero return code"}},
	{Host: "web3", Module: "ping", Status: playbook.StatusOK, Result: &tasks.Result{Data: map[string]any{"ping": "pong"}}},
	{Host: "web4", Module: "copy", Status: playbook.StatusChanged, Result: &tasks.Result{Changed: true, Data: map[string]any{"dest": "/etc/<app>&.conf", "mode": "0644"}}},
	{Host: "web5", Module: "copy", Status: playbook.StatusFailed, Result: &tasks.Result{Failed: true, Msg: "Destination directory /nope does not exist"}},
	{Host: "web6", Module: "ping", Status: playbook.StatusUnreachable, Result: &tasks.Result{Msg: "Failed to connect to the host via ssh: connection refused"}},
	{Host: "web7", Module: "command", Status: playbook.StatusSkipped, Result: &tasks.Result{Skipped: true}},
}

func TestAdHocGolden(t *testing.T) {
	for _, tc := range []struct {
		name string
		r    AdHoc
	}{
		{"minimal", AdHoc{}},
		{"oneline", AdHoc{OneLine: true}},
		{"color", AdHoc{Color: true}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			tc.r.W = &buf
			for _, e := range events {
				tc.r.Report(e)
			}
			golden := filepath.Join("testdata", tc.name+".golden")
			if *update {
				os.WriteFile(golden, buf.Bytes(), 0o644)
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatal(err)
			}
			if buf.String() != string(want) {
				t.Errorf("output differs from %s:\n%s", golden, buf.String())
			}
		})
	}
}
