package tasks_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"reflect"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/drover/drover/connection"
	"github.com/drover/drover/connection/sshtest"
	"github.com/drover/drover/tasks"
	"github.com/google/go-cmp/cmp"
)

// gather runs setup and returns its ansible_facts.
func gather(t testing.TB, env *tasks.Env, args string) map[string]any {
	t.Helper()
	m, _ := tasks.Lookup("setup")
	a, err := tasks.ParseArgs("setup", args)
	if err != nil {
		t.Fatal(err)
	}
	r, err := m.Run(t.Context(), env, a)
	if err != nil {
		t.Fatalf("setup %s: %v", args, err)
	}
	if r.Failed || r.Changed {
		t.Fatalf("setup %s: %+v", args, r)
	}
	f, ok := r.Data["ansible_facts"].(map[string]any)
	if !ok {
		t.Fatalf("setup %s: no ansible_facts in %v", args, r.Data)
	}
	if _, err := json.Marshal(f); err != nil {
		t.Fatalf("facts do not encode as JSON: %v", err)
	}
	return f
}

// getuser is Python's getpass.getuser().
func getuser(t *testing.T) string {
	for _, k := range []string{"LOGNAME", "USER", "LNAME", "USERNAME"} {
		if v := os.Getenv(k); v != "" {
			return v
		}
	}
	u, err := user.Current()
	if err != nil {
		t.Fatal(err)
	}
	return u.Username
}

func TestSetupLocal(t *testing.T) {
	cc := &countingConn{Conn: connection.NewLocal(nil)}
	before := time.Now().Unix()
	f := gather(t, &tasks.Env{Host: "localhost", Conn: cc}, "")
	if cc.execs != 1 || cc.puts != 0 {
		t.Errorf("setup ran %d commands and %d uploads; want one round trip", cc.execs, cc.puts)
	}
	host, _ := os.Hostname()
	u, _ := user.Current()
	short, _, _ := strings.Cut(host, ".")
	want := map[string]any{
		"ansible_nodename": host, "ansible_hostname": short, "ansible_system": "Linux",
		"ansible_user_id": getuser(t), "ansible_user_uid": os.Getuid(), "ansible_user_gid": os.Getgid(),
		"ansible_user_dir": u.HomeDir, "ansible_real_user_id": os.Getuid(), "ansible_effective_user_id": os.Geteuid(),
		"module_setup": true, "gather_subset": []any{"all"},
	}
	for k, w := range want {
		if diff := cmp.Diff(w, f[k]); diff != "" {
			t.Errorf("%s (-want +got):\n%s", k, diff)
		}
	}
	if env, _ := f["ansible_env"].(map[string]any); env["PATH"] != os.Getenv("PATH") {
		t.Errorf("ansible_env.PATH = %v, want %q", env["PATH"], os.Getenv("PATH"))
	}
	dt, _ := f["ansible_date_time"].(map[string]any)
	if epoch, _ := strconv.ParseInt(fmt.Sprint(dt["epoch"]), 10, 64); epoch < before || epoch > time.Now().Unix() {
		t.Errorf("date_time.epoch = %v, not between %d and now", dt["epoch"], before)
	}
	types := map[string]reflect.Kind{
		"ansible_memtotal_mb": reflect.Int, "ansible_processor_vcpus": reflect.Int, "ansible_mounts": reflect.Slice,
		"ansible_default_ipv4": reflect.Map, "ansible_all_ipv4_addresses": reflect.Slice, "ansible_lsb": reflect.Map,
		"ansible_is_chroot": reflect.Bool, "ansible_selinux": reflect.Map, "ansible_distribution": reflect.String,
		"ansible_userspace_bits": reflect.String, "ansible_pkg_mgr": reflect.String, "ansible_service_mgr": reflect.String,
	}
	for k, kind := range types {
		if v := reflect.ValueOf(f[k]); !v.IsValid() || v.Kind() != kind {
			t.Errorf("%s = %#v, want a %v", k, f[k], kind)
		}
	}
}

func TestSetupSubsetsAndFilter(t *testing.T) {
	env := localEnv()
	keys := func(f map[string]any) []string {
		var k []string
		for n := range f {
			k = append(k, n)
		}
		sort.Strings(k)
		return k
	}
	min := gather(t, env, "gather_subset=min")
	for _, k := range []string{"ansible_distribution", "ansible_user_id", "ansible_env", "ansible_date_time", "ansible_pkg_mgr", "ansible_lsb"} {
		if _, ok := min[k]; !ok {
			t.Errorf("gather_subset=min lacks %s", k)
		}
	}
	for _, k := range []string{"ansible_mounts", "ansible_default_ipv4", "ansible_virtualization_type", "ansible_is_chroot"} {
		if _, ok := min[k]; ok {
			t.Errorf("gather_subset=min has %s", k)
		}
	}
	if diff := cmp.Diff(keys(min), keys(gather(t, env, "gather_subset=!all"))); diff != "" {
		t.Errorf("!all and min differ:\n%s", diff)
	}
	if got := keys(gather(t, env, "gather_subset=!all,!min")); !slices.Equal(got, []string{"gather_subset", "module_setup"}) {
		t.Errorf("!all,!min gives %v", got)
	}
	for _, k := range keys(gather(t, env, "filter=ansible_distribution*")) {
		if !strings.HasPrefix(k, "ansible_distribution") {
			t.Errorf("filter=ansible_distribution* keeps %s", k)
		}
	}
	f := gather(t, env, `{"gather_subset": ["!all", "!min", "hardware"], "filter": ["*_mb", "processor_count"]}`)
	if got := keys(f); !slices.Equal(got, []string{"ansible_memfree_mb", "ansible_memory_mb", "ansible_memtotal_mb", "ansible_processor_count", "ansible_swapfree_mb", "ansible_swaptotal_mb"}) {
		t.Errorf("hardware with filter gives %v", got)
	}
	if f := gather(t, env, "gather_subset=network"); f["ansible_interfaces"] == nil {
		t.Errorf("gather_subset=network has no interfaces")
	}
}

func TestSetupArgErrors(t *testing.T) {
	m, _ := tasks.Lookup("setup")
	for _, args := range []string{"gather_subset=bogus", "gather_timeout=soon", "gather_subsets=all"} {
		a, _ := tasks.ParseArgs("setup", args)
		_, err := m.Run(t.Context(), localEnv(), a)
		var argErr *tasks.ArgError
		if !errors.As(err, &argErr) {
			t.Errorf("setup %s: err = %v, want an ArgError", args, err)
		}
	}
}

func TestSetupLocalFacts(t *testing.T) {
	dir := t.TempDir()
	files := map[string]string{
		"app.fact":  `{"version": 3, "name": "web"}`,
		"ini.fact":  "[main]\nKey = value\n",
		"bad.fact":  "neither json nor ini",
		"run.fact":  "#!/bin/sh\necho '{\"pid\": '$$'}'\n",
		"fail.fact": "#!/bin/sh\necho oops >&2\nexit 2\n",
	}
	for name, content := range files {
		mode := os.FileMode(0o644)
		if strings.HasPrefix(content, "#!") {
			mode = 0o755
		}
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), mode); err != nil {
			t.Fatal(err)
		}
	}
	local, _ := gather(t, localEnv(), "gather_subset=!all,!min,local fact_path="+dir)["ansible_local"].(map[string]any)
	if diff := cmp.Diff(map[string]any{"version": 3, "name": "web"}, local["app"]); diff != "" {
		t.Errorf("app.fact:\n%s", diff)
	}
	if diff := cmp.Diff(map[string]any{"main": map[string]any{"key": "value"}}, local["ini"]); diff != "" {
		t.Errorf("ini.fact:\n%s", diff)
	}
	if want := "error loading facts as JSON or ini - please check content: " + dir + "/bad.fact"; local["bad"] != want {
		t.Errorf("bad.fact = %v", local["bad"])
	}
	if run, _ := local["run"].(map[string]any); run["pid"] == nil {
		t.Errorf("run.fact = %v", local["run"])
	}
	if want := fmt.Sprintf("Failure executing fact script (%s/fail.fact), rc: 2, err: oops\n", dir); local["fail"] != want {
		t.Errorf("fail.fact = %q, want %q", local["fail"], want)
	}
}

// sshEnv starts an sshd and returns an Env that logs in to it as user.
func sshEnv(t testing.TB, user string) (*tasks.Env, *sshtest.Server) {
	t.Helper()
	return tasks.SSHTestEnv(t, user)
}

func TestSetupSSH(t *testing.T) {
	users := sshtest.TestUsers(t)
	env, _ := sshEnv(t, users.Login)
	f := gather(t, env, "")
	u, err := user.Lookup(users.Login)
	if err != nil {
		t.Fatal(err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	want := map[string]any{"ansible_user_id": users.Login, "ansible_user_uid": uid, "ansible_user_dir": u.HomeDir}
	for k, w := range want {
		if diff := cmp.Diff(w, f[k]); diff != "" {
			t.Errorf("%s (-want +got):\n%s", k, diff)
		}
	}
	if e, _ := f["ansible_env"].(map[string]any); e["SSH_CONNECTION"] == nil {
		t.Errorf("ansible_env lacks SSH_CONNECTION: %v", e)
	}
	if !users.Root {
		t.Log("not root: no become test")
		return
	}
	env.Become = &connection.Become{}
	f = gather(t, env, "gather_subset=!all filter=ansible_user_*,ansible_env")
	if f["ansible_user_id"] != "root" || f["ansible_user_uid"] != 0 || f["ansible_user_dir"] != "/root" {
		t.Errorf("with become: user_id %v uid %v dir %v", f["ansible_user_id"], f["ansible_user_uid"], f["ansible_user_dir"])
	}
	if e, _ := f["ansible_env"].(map[string]any); e["SUDO_USER"] != users.Login {
		t.Errorf("with become: SUDO_USER = %v", e["SUDO_USER"])
	}
	// su runs on a terminal, which carries the script on its input and
	// turns the output's line ends into \r\n.
	root, _ := sshEnv(t, "root")
	root.Become = &connection.Become{Method: "su", User: users.Plain}
	f = gather(t, root, "")
	if f["ansible_user_id"] != users.Plain || f["ansible_distribution"] == nil || f["ansible_mounts"] == nil {
		t.Errorf("with su to %s: user_id %v, distribution %v", users.Plain, f["ansible_user_id"], f["ansible_distribution"])
	}
}

func TestSetupLocalBecome(t *testing.T) {
	sshtest.RequireRoot(t)
	users := sshtest.TestUsers(t)
	env := localEnv()
	env.Become = &connection.Become{User: users.Plain}
	f := gather(t, env, "gather_subset=!all,!min,user")
	if f["ansible_user_id"] != users.Plain {
		t.Errorf("become %s locally: user_id = %v", users.Plain, f["ansible_user_id"])
	}
}

// BenchmarkSetupLocal is one full setup on the local connection: the
// round trip, the script's work and the parse.
func BenchmarkSetupLocal(b *testing.B) {
	env := &tasks.Env{Host: "localhost", Conn: connection.NewLocal(nil)}
	for b.Loop() {
		gather(b, env, "")
	}
}

// BenchmarkSetupSSH is one full setup over an open SSH connection to a
// real sshd on loopback.
func BenchmarkSetupSSH(b *testing.B) {
	env, _ := sshEnv(b, sshtest.TestUsers(b).Login)
	gather(b, env, "") // connect outside the timing
	b.ResetTimer()
	for b.Loop() {
		gather(b, env, "")
	}
}

// BenchmarkSetupSSHMin is gather_subset=min over SSH, the set many
// playbooks ask for.
func BenchmarkSetupSSHMin(b *testing.B) {
	env, _ := sshEnv(b, sshtest.TestUsers(b).Login)
	gather(b, env, "gather_subset=min")
	b.ResetTimer()
	for b.Loop() {
		gather(b, env, "gather_subset=min")
	}
}

// ansibleFacts runs `ansible PATTERN -m setup` with extra arguments and
// returns the facts of the one host. Under CI=true a missing ansible fails
// the test.
func ansibleFacts(t *testing.T, pattern string, args ...string) map[string]any {
	t.Helper()
	if testing.Short() {
		t.Skip("runs ansible")
	}
	path, err := exec.LookPath("ansible")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("ansible is required under CI=true: %v", err)
		}
		t.Skipf("ansible not installed: %v", err)
	}
	// Set for drover's run too, so that both see the same environment.
	t.Setenv("ANSIBLE_LOCALHOST_WARNING", "false")
	t.Setenv("ANSIBLE_INVENTORY_UNPARSED_WARNING", "false")
	out, err := exec.Command(path, append([]string{pattern, "-m", "setup"}, args...)...).Output()
	i := strings.Index(string(out), " | SUCCESS =>")
	if err != nil || i < 0 {
		t.Fatalf("ansible %s -m setup: %v\n%s", pattern, err, out)
	}
	var r struct {
		Facts map[string]any `json:"ansible_facts"`
	}
	d := json.NewDecoder(strings.NewReader(string(out[i+len(" | SUCCESS =>"):])))
	d.UseNumber()
	if err := d.Decode(&r); err != nil {
		t.Fatalf("ansible's JSON: %v", err)
	}
	return jsonNumbers(r.Facts).(map[string]any)
}

// jsonNumbers turns json.Numbers into ints or floats, as drover types them.
func jsonNumbers(v any) any {
	switch x := v.(type) {
	case json.Number:
		if n, err := strconv.Atoi(string(x)); err == nil {
			return n
		}
		f, _ := x.Float64()
		return f
	case []any:
		for i := range x {
			x[i] = jsonNumbers(x[i])
		}
	case map[string]any:
		for k := range x {
			x[k] = jsonNumbers(x[k])
		}
	}
	return v
}

// How a fact is compared with Ansible's.
const (
	same      = "same"      // equal values
	unordered = "unordered" // equal as sets: Ansible's order is Python set or directory order
	volatile  = "volatile"  // same type and keys; the value moves between two runs
	dateTime  = "date_time" // the stable fields equal, the clock within a minute
	mounts    = "mounts"    // same mounts with the same static fields
	envVars   = "env"       // the same variables but those the shells set
)

// crossChecked are the facts the brief lists, and how each is compared.
var crossChecked = map[string]string{
	"hostname": same, "fqdn": same, "nodename": same, "domain": same, "os_family": same, "distribution": same,
	"distribution_version": same, "distribution_major_version": same, "distribution_release": same, "system": same,
	"kernel": same, "kernel_version": same, "architecture": same, "machine": same, "userspace_bits": same,
	"default_ipv4": same, "all_ipv4_addresses": unordered, "memtotal_mb": same, "memfree_mb": volatile,
	"processor_vcpus": same, "processor_cores": same, "processor_count": same, "processor_threads_per_core": same,
	"env": envVars, "user_id": same, "user_uid": same, "user_gid": same, "user_dir": same, "user_shell": same,
	"pkg_mgr": same, "service_mgr": same, "date_time": dateTime, "lsb": same, "mounts": mounts, "selinux": same,
	"is_chroot": same, "virtualization_type": same, "virtualization_role": same,
}

// otherFacts are the rest of what Ansible gathers; drover must match them
// too, except those it does not gather (no Python, no per-device probes).
var otherFacts = map[string]string{
	"all_ipv6_addresses": unordered, "interfaces": unordered, "virtualization_tech_guest": unordered,
	"virtualization_tech_host": unordered, "memory_mb": volatile, "loadavg": volatile, "uptime_seconds": volatile,
	"python": "not gathered", "python_version": "not gathered", "devices": "not gathered", "device_links": "not gathered",
}

// TestSetupMatchesAnsible gathers facts with Ansible and with drover on
// this machine and compares them fact by fact.
func TestSetupMatchesAnsible(t *testing.T) {
	want := ansibleFacts(t, "localhost")
	got := gather(t, localEnv(), "")
	t.Logf("ansible localhost -m setup vs drover (local connection):\n%s", crossCheck(t, want, got, nil))
}

// TestSetupMatchesAnsibleSSH compares Ansible's and drover's facts over
// SSH to a real sshd as a user who is not root: no DMI serials, no
// /proc/1/root, no LVM.
func TestSetupMatchesAnsibleSSH(t *testing.T) {
	users := sshtest.TestUsers(t)
	if !users.Root {
		t.Skip("needs the harness's test users (root)")
	}
	env, s := sshEnv(t, users.Login)
	key, _ := sshtest.ClientKey(t)
	t.Setenv("ANSIBLE_HOST_KEY_CHECKING", "False")
	args := []string{"-i", s.Host + ",", "-e", "ansible_port=" + strconv.Itoa(s.Port), "-u", users.Login,
		"--private-key", key, "-e", "ansible_python_interpreter=/usr/bin/python3"}
	// Each SSH session has its own client port; Ansible's ssh asks for a
	// terminal (SSH_TTY, TERM) and sets LC_CTYPE, which drover does not;
	// sudo records the command it ran.
	ignore := map[string]bool{"SSH_CLIENT": true, "SSH_CONNECTION": true, "SSH_TTY": true, "TERM": true, "LC_CTYPE": true, "SUDO_COMMAND": true}
	for _, become := range []bool{false, true} {
		t.Run(fmt.Sprintf("become=%v", become), func(t *testing.T) {
			a := args
			env.Become = nil
			if become {
				a, env.Become = append(a, "-b"), &connection.Become{}
			}
			want := ansibleFacts(t, "all", a...)
			got := gather(t, env, "")
			t.Logf("ansible -m setup vs drover, both over SSH as %s, become=%v:\n%s", users.Login, become, crossCheck(t, want, got, ignore))
		})
	}
}

// crossCheck compares every fact and returns the table of results; the
// listed facts and the others drover gathers must match.
func crossCheck(t *testing.T, want, got map[string]any, ignoreEnv map[string]bool) string {
	t.Helper()
	var names []string
	for k := range want {
		names = append(names, strings.TrimPrefix(k, "ansible_"))
	}
	for k := range got {
		if n := strings.TrimPrefix(k, "ansible_"); want[k] == nil && !slices.Contains(names, n) {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	var table strings.Builder
	fmt.Fprintf(&table, "%-36s %-12s %s\n", "fact", "compared", "result")
	for _, n := range names {
		how, listed := crossChecked[n]
		if !listed {
			how = otherFacts[n]
			if how == "" {
				how = same
			}
		}
		a, inA := want["ansible_"+n]
		d, inD := got["ansible_"+n]
		if n == "gather_subset" || n == "module_setup" {
			a, inA = want[n], true
			d, inD = got[n], true
		}
		result := compareFact(how, a, d, inA, inD, ignoreEnv)
		mark := ""
		if listed {
			mark = " *"
		}
		fmt.Fprintf(&table, "%-36s %-12s %s\n", n+mark, how, result)
		if result != "match" && how != "not gathered" {
			t.Errorf("%s: %s\n  ansible: %s\n  drover:  %s", n, result, brief(a), brief(d))
		}
	}
	for n := range crossChecked {
		if _, ok := want["ansible_"+n]; !ok {
			t.Errorf("ansible gave no %s; the cross-check cannot vouch for it", n)
		}
	}
	table.WriteString("(* the facts the brief lists)\n")
	return table.String()
}

func brief(v any) string {
	b, _ := json.Marshal(v)
	if len(b) > 300 {
		return string(b[:300]) + "..."
	}
	return string(b)
}

func compareFact(how string, a, d any, inA, inD bool, ignoreEnv map[string]bool) string {
	switch {
	case how == "not gathered":
		if inD {
			return "gathered after all"
		}
		return "not gathered"
	case !inA && !inD:
		return "match"
	case !inA:
		return "only drover has it"
	case !inD:
		return "missing"
	case reflect.TypeOf(a) != reflect.TypeOf(d):
		return fmt.Sprintf("type %T, ansible's %T", d, a)
	}
	var ok bool
	switch how {
	case unordered:
		ok = cmp.Diff(a, d, cmp.Transformer("sort", sortedStrings)) == ""
	case volatile:
		ok = sameShape(a, d)
	case dateTime:
		ok = sameDateTime(a.(map[string]any), d.(map[string]any))
	case mounts:
		ok = sameMounts(a.([]any), d.([]any))
	case envVars:
		ok = sameEnv(a.(map[string]any), d.(map[string]any), ignoreEnv)
	default:
		ok = reflect.DeepEqual(a, d)
	}
	if ok {
		return "match"
	}
	return "differs"
}

func sortedStrings(l []any) []string {
	out := make([]string, len(l))
	for i, v := range l {
		out[i] = fmt.Sprint(v)
	}
	sort.Strings(out)
	return out
}

// sameShape reports whether a and d have the same types and keys.
func sameShape(a, d any) bool {
	if reflect.TypeOf(a) != reflect.TypeOf(d) {
		return false
	}
	am, ok := a.(map[string]any)
	if !ok {
		return true
	}
	dm := d.(map[string]any)
	if len(am) != len(dm) {
		return false
	}
	for k, v := range am {
		if w, ok := dm[k]; !ok || !sameShape(v, w) {
			return false
		}
	}
	return true
}

func sameDateTime(a, d map[string]any) bool {
	if !sameShape(a, d) {
		return false
	}
	for _, k := range []string{"date", "year", "month", "day", "weekday", "weekday_number", "weeknumber", "tz", "tz_dst", "tz_offset"} {
		if a[k] != d[k] {
			return false
		}
	}
	ae, _ := strconv.ParseFloat(a["epoch"].(string), 64)
	de, _ := strconv.ParseFloat(d["epoch"].(string), 64)
	return math.Abs(ae-de) < 60 && a["epoch"] == a["epoch_int"] && d["epoch"] == d["epoch_int"]
}

func sameMounts(a, d []any) bool {
	key := func(l []any) map[string]map[string]any {
		m := map[string]map[string]any{}
		for _, x := range l {
			if mm, ok := x.(map[string]any); ok {
				m[fmt.Sprint(mm["mount"])] = mm
			}
		}
		return m
	}
	am, dm := key(a), key(d)
	if len(am) != len(dm) {
		return false
	}
	for mount, x := range am {
		y, ok := dm[mount]
		if !ok || !sameShape(x, y) {
			return false
		}
		for _, k := range []string{"device", "fstype", "options", "uuid", "block_size", "block_total", "size_total", "inode_total"} {
			if x[k] != y[k] {
				return false
			}
		}
	}
	return true
}

// sameEnv compares the environments but for the variables the shell or
// the Python interpreter between sets themselves.
func sameEnv(a, d map[string]any, ignore map[string]bool) bool {
	skip := map[string]bool{"_": true, "SHLVL": true, "PWD": true, "OLDPWD": true}
	maps.Copy(skip, ignore)
	for k, v := range a {
		if !skip[k] && d[k] != v {
			return false
		}
	}
	for k := range d {
		if _, ok := a[k]; !ok && !skip[k] {
			return false
		}
	}
	return true
}
