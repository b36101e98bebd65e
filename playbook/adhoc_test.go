package playbook

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/drover/drover/connection"
	"github.com/drover/drover/inventory"
	"github.com/drover/drover/tasks"
	"github.com/google/go-cmp/cmp"
)

type collect struct{ events []Event }

func (c *collect) Report(e Event) { c.events = append(c.events, e) }

func TestRunAdHoc(t *testing.T) {
	pool, err := connection.NewPool(connection.Config{HomeDir: t.TempDir(), ConnectTimeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	local := &inventory.Host{Name: "localhost", Vars: map[string]any{"ansible_connection": "local"}}
	bad := &inventory.Host{Name: "nohost.invalid", Vars: map[string]any{}}
	failing := &inventory.Host{Name: "local2", Vars: map[string]any{"ansible_connection": "local", "ansible_become_method": "doas", "ansible_become": true}}
	var c collect
	r := &Runner{Pool: pool, Reporter: &c, Forks: 2}
	stats, err := r.RunAdHoc(t.Context(), AdHoc{Hosts: []*inventory.Host{local, bad, failing}, Module: "ping", Args: tasks.Args{}})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]Status{}
	for _, e := range c.events {
		got[e.Host] = e.Status
	}
	want := map[string]Status{"localhost": StatusOK, "nohost.invalid": StatusUnreachable, "local2": StatusFailed}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("statuses (-want +got):\n%s", diff)
	}
	if !stats.AnyUnreachable() || !stats.AnyFailed() || stats.Hosts["localhost"].OK != 1 {
		t.Errorf("stats = %+v", stats.Hosts)
	}
	if _, err := r.RunAdHoc(t.Context(), AdHoc{Module: "nope"}); !errors.As(err, new(*UnknownModuleError)) {
		t.Errorf("unknown module: err = %v", err)
	}
}

func TestTarget(t *testing.T) {
	h := &inventory.Host{Name: "web1", Vars: map[string]any{
		"ansible_host": "10.0.0.5", "ansible_port": 2222, "ansible_user": "app",
		"ansible_ssh_private_key_file": "/k", "ansible_ssh_common_args": "-o ProxyJump=jump@bastion:22",
		"ansible_become": "yes", "ansible_become_pass": "pw",
	}}
	tg, b, err := target(h, ConnOptions{User: "cli", PrivateKeyFile: "/cli", BecomeUser: "root"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := connection.Target{Name: "web1", Host: "10.0.0.5", Port: 2222, User: "app", KeyFiles: []string{"/k", "/cli"}, ProxyJump: "jump@bastion:22"}
	if diff := cmp.Diff(want, tg); diff != "" {
		t.Errorf("target (-want +got):\n%s", diff)
	}
	if b == nil || b.Password != "pw" || b.User != "root" {
		t.Errorf("become = %+v", b)
	}
	for _, bad := range []map[string]any{
		{"ansible_port": "http"},
		{"ansible_connection": "winrm"},
		{"ansible_ssh_extra_args": "-o Compression=yes"},
	} {
		if _, _, err := target(&inventory.Host{Name: "x", Vars: bad}, ConnOptions{}, nil); err == nil || !strings.Contains(err.Error(), "host x") {
			t.Errorf("vars %v: err = %v", bad, err)
		}
	}
	if j, err := proxyJump("-J a@b -C"); err == nil {
		t.Errorf("unsupported -C accepted: %q", j)
	}
	if j, _ := proxyJump("-Jbastion"); j != "bastion" {
		t.Errorf("-Jbastion gave %q", j)
	}
}

// TestRunAdHocTemplates: arguments and connection variables are templated
// per host, lazily, and omit drops an argument.
func TestRunAdHocTemplates(t *testing.T) {
	pool, err := connection.NewPool(connection.Config{HomeDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	h := &inventory.Host{Name: "web1.example.com", Vars: map[string]any{
		"ansible_connection": "{{ 'loc' ~ 'al' }}", "greeting": "hello {{ inventory_hostname_short }}",
	}}
	var c collect
	r := &Runner{Pool: pool, Reporter: &c}
	args := tasks.Args{"msg": "{{ greeting }} {{ extra }}"}
	if _, err := r.RunAdHoc(t.Context(), AdHoc{Hosts: []*inventory.Host{h}, Module: "debug", Args: args, ExtraVars: map[string]any{"extra": "!"}}); err != nil {
		t.Fatal(err)
	}
	if len(c.events) != 1 || c.events[0].Result.Data["msg"] != "hello web1 !" {
		t.Fatalf("events = %+v", c.events[0].Result)
	}
	c.events = nil
	dest := t.TempDir() + "/f"
	args = tasks.Args{"content": "x", "dest": dest, "mode": "{{ nope | default(omit) }}"}
	if _, err := r.RunAdHoc(t.Context(), AdHoc{Hosts: []*inventory.Host{h}, Module: "copy", Args: args}); err != nil {
		t.Fatal(err)
	}
	if c.events[0].Status != StatusChanged {
		t.Fatalf("copy with omitted mode: %+v", c.events[0].Result)
	}
}
