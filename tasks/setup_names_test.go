package tasks

import (
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/drover/drover/connection"
	"github.com/drover/drover/connection/sshtest"
)

// namesOutput is a parsed answer with the given sections and files.
func namesOutput(sections map[string]*setupSection, files map[string]string) *setupOutput {
	return &setupOutput{sections: sections, files: files, exists: map[string]string{}, links: map[string]string{}}
}

func TestNsswitchFirst(t *testing.T) {
	tests := []struct {
		conf string
		want bool
	}{
		{"passwd:         files\nhosts: files dns\n", true},
		{"passwd: files systemd # comment\n", true},
		{"  passwd:files\n", true},
		{"passwd: compat\n", true},
		{"passwd: sss files\n", false},
		{"passwd: files [NOTFOUND=return] sss\n", false},
		{"passwd: files\npasswd: sss\n", false},
		{"# passwd: files\n", false},
		{"passwd:\n", false},
		{"passwdx: files\n", false},
		{"", false},
	}
	for _, tt := range tests {
		if got := nsswitchFirst(tt.conf, "passwd", "files", "compat"); got != tt.want {
			t.Errorf("nsswitchFirst(%q) = %v, want %v", tt.conf, got, tt.want)
		}
	}
}

func TestPasswdFromFile(t *testing.T) {
	const ns = "passwd: files systemd\n"
	ids := &setupSection{body: "Uid:\t1000\t1000\t1000\t1000\nGid:\t1000\t1000\t1000\t1000"}
	tests := []struct {
		name, nsswitch, passwd, logname string
		want                            string // "" for pending
	}{
		{"by name and uid", ns, "root:x:0:0:root:/root:/bin/bash\nu:x:1000:1000:U,,,:/home/u:/bin/sh\n", "u",
			"u:x:1000:1000:U,,,:/home/u:/bin/sh\nu:x:1000:1000:U,,,:/home/u:/bin/sh\n"},
		{"name only", ns, "# c\n\nv:x:2000:2000::/home/v:/bin/sh\n", "v", "v:x:2000:2000::/home/v:/bin/sh\n"},
		{"first of two", ns, "v:x:2000:2000::/a:/bin/sh\nv:x:2001:2001::/b:/bin/sh\n", "v", "v:x:2000:2000::/a:/bin/sh\n"},
		{"not in the file", ns, "root:x:0:0:root:/root:/bin/bash\n", "u", ""},
		{"sss first", "passwd: sss files\n", "u:x:1000:1000::/h:/bin/sh\n", "u", ""},
		{"nis line", "passwd: compat\n", "u:x:1000:1000::/h:/bin/sh\n+@admins\n", "u", ""},
		{"leading blank", ns, " u:x:1000:1000::/h:/bin/sh\n", "u", ""},
		{"field too many", ns, "u:x:1000:1000::/h:/bin/sh:x\n", "u", ""},
		{"uid no number", ns, "u:x:a:1000::/h:/bin/sh\n", "u", ""},
		{"no name", ns, "u:x:1000:1000::/h:/bin/sh\n", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := namesOutput(map[string]*setupSection{"passwdgo": {}, "ids": ids, "logname": {body: tt.logname + "\n"}},
				map[string]string{"/etc/nsswitch.conf": tt.nsswitch, "/etc/passwd": strings.TrimSuffix(tt.passwd, "\n")})
			pending := o.passwdFromFile()
			if pending != (tt.want == "") {
				t.Fatalf("pending = %v", pending)
			}
			if s := o.sections["passwd"]; !pending && (s == nil || s.body != tt.want) {
				t.Errorf("passwd section = %+v, want %q", s, tt.want)
			}
		})
	}
}

func TestFQDNFromHosts(t *testing.T) {
	const ns = "hosts: files dns\n"
	tests := []struct {
		name, nsswitch, hosts, node string
		want                        string // "" for pending
	}{
		{"first line of the address", ns, "127.0.0.1 localhost\n127.0.0.1 vm\n", "vm", "127.0.0.1 localhost\n"},
		{"own line", ns, "127.0.0.1 localhost\n127.0.1.1 web1.example.com web1 # here\n", "web1", "127.0.1.1 web1.example.com web1\n"},
		{"ignoring case", ns, "10.0.0.5 WEB1.example.com WEB1\n", "web1", "10.0.0.5 WEB1.example.com WEB1\n"},
		{"ipv6", ns, "::1 localhost\nfe80:0::1 h6\n", "h6", "fe80::1 h6\n"},
		{"v4 is not v4-in-v6", ns, "::ffff:10.0.0.1 a\n10.0.0.1 h\n", "h", "10.0.0.1 h\n"},
		{"two lines", ns, "127.0.1.1 h\n::1 h\n", "h", ""},
		{"not there", ns, "127.0.0.1 localhost\n", "h", ""},
		{"dns first", "hosts: dns files\n", "127.0.1.1 h\n", "h", ""},
		{"address glibc reads alone", ns, "127.1 h\n", "h", ""},
		{"zone", ns, "fe80::1%eth0 h\n", "h", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := namesOutput(map[string]*setupSection{"fqdngo": {}, "uname": {body: "Linux " + tt.node + " 6.1 #1 x86_64\n"}},
				map[string]string{"/etc/nsswitch.conf": tt.nsswitch, "/etc/hosts": strings.TrimSuffix(tt.hosts, "\n")})
			pending := o.fqdnFromHosts()
			if pending != (tt.want == "") {
				t.Fatalf("pending = %v", pending)
			}
			if s := o.sections["fqdn"]; !pending && (s == nil || s.body != tt.want) {
				t.Errorf("fqdn section = %+v, want %q", s, tt.want)
			}
		})
	}
}

func TestCapsFromStatus(t *testing.T) {
	status := func(inh, prm, eff string) string {
		return "Name:\tgrep\nCapInh:\t" + inh + "\nCapPrm:\t" + prm + "\nCapEff:\t" + eff + "\nCapBnd:\t000001ffffffffff"
	}
	const none, all = "0000000000000000", "000001ffffffffff"
	tests := []struct {
		name, status, last, want string // want "" for pending
	}{
		{"none", status(none, none, none), "40", "Current: =\n"},
		{"all", status(none, all, all), "40", "Current: =ep\n"},
		{"all but one", status(none, "000001fffeffffff", "000001fffeffffff"), "40", ""},
		{"all of an older kernel", status(none, all, all), "39", ""},
		{"permitted, not effective", status(none, all, none), "40", ""},
		{"inheritable", status("0000000000000001", none, none), "40", ""},
		{"no status", "", "40", ""},
		{"no cap_last_cap", status(none, all, all), "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := namesOutput(map[string]*setupSection{"capsgo": {}},
				map[string]string{"/proc/self/status": tt.status, "/proc/sys/kernel/cap_last_cap": tt.last})
			pending := o.capsFromStatus()
			if pending != (tt.want == "") {
				t.Fatalf("pending = %v", pending)
			}
			if s := o.sections["capsh"]; !pending && (s == nil || s.body != tt.want) {
				t.Errorf("capsh section = %+v, want %q", s, tt.want)
			}
		})
	}
}

func TestLongBitFromMaps(t *testing.T) {
	for line, want := range map[string]string{
		"55d0c8a00000-55d0c8a04000 r--p 00000000 fe:00 123 /usr/bin/dash": "64",
		"00400000-00452000 r-xp 00000000 fe:00 1 /bin/sh":                 "",
		"08048000-08050000 r-xp 00000000 fe:00 1 /bin/sh":                 "",
		"zzzzzzzzzzzz-1 r--p": "",
	} {
		o := namesOutput(map[string]*setupSection{"longbit": {body: line + "\n"}}, nil)
		pending := o.longBitFromMaps()
		if pending != (want == "") {
			t.Errorf("%q: pending = %v", line, pending)
			continue
		}
		if got, _ := o.section("getconf"); !pending && strings.TrimSpace(got) != want {
			t.Errorf("%q: getconf = %q", line, got)
		}
	}
}

// TestNamesMatchCommands checks, on this host, each section Go derives
// from files against the command setup.sh spared: for every user and every
// name /etc/passwd and /etc/hosts hold, and for capsh as root and as nobody.
func TestNamesMatchCommands(t *testing.T) {
	for _, tool := range []string{"getent", "getconf", "capsh", "sh"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("no %s", tool)
		}
	}
	nsswitch, _ := os.ReadFile("/etc/nsswitch.conf")
	passwd, _ := os.ReadFile("/etc/passwd")
	hosts, _ := os.ReadFile("/etc/hosts")
	files := map[string]string{"/etc/nsswitch.conf": strings.TrimSuffix(string(nsswitch), "\n"),
		"/etc/passwd": strings.TrimSuffix(string(passwd), "\n"), "/etc/hosts": strings.TrimSuffix(string(hosts), "\n")}

	derived := 0
	for _, line := range strings.Split(files["/etc/passwd"], "\n") {
		f := strings.Split(line, ":")
		if len(f) != 7 {
			continue
		}
		ids := &setupSection{body: "Uid:\t" + f[2] + "\t" + f[2] + "\t" + f[2] + "\t" + f[2] + "\nGid:\t0\t0\t0\t0"}
		o := namesOutput(map[string]*setupSection{"passwdgo": {}, "ids": ids, "logname": {body: f[0]}}, files)
		if o.passwdFromFile() {
			continue
		}
		derived++
		want, _ := exec.Command("getent", "passwd", f[0], f[2]).Output()
		if got := o.sections["passwd"].body; got != string(want) {
			t.Errorf("passwd %s: derived %q, getent %q", f[0], got, want)
		}
	}
	for _, line := range strings.Split(files["/etc/hosts"], "\n") {
		line, _, _ = strings.Cut(line, "#")
		f := strings.Fields(line)
		for i := 1; i < len(f); i++ {
			o := namesOutput(map[string]*setupSection{"fqdngo": {}, "uname": {body: "Linux " + f[i] + " 6.1 #1 x86_64\n"}}, files)
			if o.fqdnFromHosts() {
				continue
			}
			derived++
			out, _ := exec.Command("getent", "ahosts", f[i]).Output()
			want, _ := exec.Command("getent", "hosts", strings.Fields(string(out) + " -")[0]).Output()
			if got, w := strings.Fields(o.sections["fqdn"].body), strings.Fields(string(want)); strings.Join(got, " ") != strings.Join(w, " ") {
				t.Errorf("fqdn of %s: derived %q, getent %q", f[i], got, w)
			}
		}
	}
	if derived == 0 {
		t.Log("this host's name service settles no name from its files")
	}

	maps, err := exec.Command("sh", "-c", "IFS= read -r l </proc/self/maps; echo \"$l\"").Output()
	if err != nil {
		t.Fatal(err)
	}
	o := namesOutput(map[string]*setupSection{"longbit": {body: string(maps)}}, nil)
	if !o.longBitFromMaps() {
		want, _ := exec.Command("getconf", "LONG_BIT").Output()
		if got, _ := o.section("getconf"); got != string(want) {
			t.Errorf("getconf: derived %q, getconf LONG_BIT %q", got, want)
		}
	}

	// capsh as this user, as nobody where this is root, and as root of a
	// user namespace, which has every capability.
	prefixes := [][]string{nil}
	if exec.Command("unshare", "-U", "-r", "true").Run() == nil {
		prefixes = append(prefixes, []string{"unshare", "-U", "-r"})
	}
	if os.Getuid() == 0 {
		if _, err := exec.LookPath("setpriv"); err == nil {
			prefixes = append(prefixes, []string{"setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"})
		}
	}
	for _, p := range prefixes {
		run := func(args ...string) string {
			all := append(append([]string{}, p...), args...)
			out, err := exec.Command(all[0], all[1:]...).Output()
			if err != nil {
				t.Fatalf("%v: %v", all, err)
			}
			return string(out)
		}
		last, _ := os.ReadFile("/proc/sys/kernel/cap_last_cap")
		o := namesOutput(map[string]*setupSection{"capsgo": {}}, map[string]string{
			"/proc/self/status": run("grep", "", "/proc/self/status"), "/proc/sys/kernel/cap_last_cap": strings.TrimSpace(string(last))})
		if o.capsFromStatus() {
			t.Logf("capsh %v: not derived", p)
			continue
		}
		var current string
		for _, line := range strings.Split(run("capsh", "--print"), "\n") {
			if strings.HasPrefix(line, "Current:") {
				current = line + "\n"
			}
		}
		if got := o.sections["capsh"].body; got != current {
			t.Errorf("capsh %v: derived %q, capsh --print %q", p, got, current)
		}
	}
}

// TestDerivedSampleNames checks that the fuzzer's seed derives every
// section, so that fuzzing starts from the derivations, not their gates.
func TestDerivedSampleNames(t *testing.T) {
	o, err := parseSetupOutput(derivedSample, "N0")
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"getconf", "passwd", "fqdn", "capsh"} {
		if o.sections[name] == nil || slices.Contains(o.pending, name) {
			t.Errorf("%s: section %v, pending %v", name, o.sections[name], o.pending)
		}
	}
}

// TestSetupOneRoundTripSSH checks that on the test hosts, as a user and as
// root through sudo, Go settles every section setup.sh left to it, so that
// gathering facts takes the one command.
func TestSetupOneRoundTripSSH(t *testing.T) {
	users := sshtest.TestUsers(t)
	user, _ := SSHTestEnv(t, users.Login)
	conn := user.Conn
	envs := map[string]*Env{"user": {Host: "sshd", Conn: conn}}
	if users.Root {
		envs["sudo"] = &Env{Host: "sshd", Conn: conn, Become: &connection.Become{}}
	}
	for name, env := range envs {
		a := setupArgs{subset: []string{"all"}, timeout: 10, factPath: "/etc/ansible/facts.d"}
		chosen, err := chooseCollectors(a.subset)
		if err != nil {
			t.Fatal(err)
		}
		out, err := run(t.Context(), env, setupCommand("NRT", a, chosen, time.Now()), strings.NewReader(setupScript))
		if err != nil {
			t.Fatal(err)
		}
		o, err := parseSetupOutput(out.stdout, "NRT")
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		var fromFiles []string
		for _, c := range []string{"longbit", "passwdgo", "fqdngo", "capsgo"} {
			if o.sections[c] != nil {
				fromFiles = append(fromFiles, c)
			}
		}
		t.Logf("%s: answered from files: %v", name, fromFiles)
		if len(o.pending) > 0 {
			t.Errorf("%s: Go could not settle %v", name, o.pending)
		}
	}
}

// SSHTestEnv starts an sshd and returns an Env that logs in to it as user,
// for this package's tests and its external ones.
func SSHTestEnv(t testing.TB, user string) (*Env, *sshtest.Server) {
	t.Helper()
	s := sshtest.Start(t, sshtest.Options{})
	key, _ := sshtest.ClientKey(t)
	pool, err := connection.NewPool(connection.Config{KnownHostsFiles: []string{s.WriteKnownHosts(t)},
		HostKeyPolicy: connection.HostKeyStrict, HomeDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pool.Close() })
	conn, err := pool.Conn(t.Context(), connection.Target{Name: "sshd", Host: s.Host, Port: s.Port, User: user, KeyFiles: []string{key}})
	if err != nil {
		t.Fatal(err)
	}
	return &Env{Host: "sshd", Conn: conn}, s
}
