package connection

import (
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

const sshConfigDir = "testdata/sshconfig"

// sshConfigAliases are the aliases resolved from testdata/sshconfig/config.
var sshConfigAliases = []string{"web1", "web3", "db1", "bastion", "a.corp", "bad.corp", "other1", "skip.other", "zzz"}

func loadTestSSHConfig(t *testing.T, home string) *sshConfig {
	t.Helper()
	c, err := loadSSHConfig(filepath.Join(sshConfigDir, "config"), true, home)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestSSHConfigResolve(t *testing.T) {
	home := "/home/me"
	c := loadTestSSHConfig(t, home)
	me, uid := currentUserAndID()
	host, _ := os.Hostname()
	short, _, _ := strings.Cut(host, ".")
	mine := home + "/.ssh/id_" + me
	tests := []struct {
		alias string
		want  hostSettings
	}{
		{"web1", hostSettings{HostName: "web1.example.com", User: "deploy", Port: 2222, IdentitiesOnly: true,
			IdentityFiles:  []string{home + "/.ssh/id_web", "/keys/deploy@web1.example.com:2222", home + "/.ssh/id_all_web", mine},
			ConnectTimeout: 90 * time.Second, ServerAliveInterval: 15 * time.Second, StrictHostKeyChecking: "yes"}},
		{"web3", hostSettings{User: "other", IdentityFiles: []string{home + "/.ssh/id_all_web", mine},
			ConnectTimeout: 90 * time.Second, ServerAliveInterval: 15 * time.Second, StrictHostKeyChecking: "yes"}},
		{"db1", hostSettings{HostName: "db1.internal", User: "internal", ProxyJump: "bastion", StrictHostKeyChecking: "accept-new",
			UserKnownHostsFiles: []string{home + "/.ssh/known_db", "/tmp/known_db1_db1.internal_22_internal_" + host + "_" + short + "_" + uid + "_" + me + "_" + home + "_%"},
			ConnectTimeout:      3 * time.Second, ServerAliveInterval: 7 * time.Second, IdentityFiles: []string{mine}}},
		{"bastion", hostSettings{User: "fallback", StrictHostKeyChecking: "no", ServerAliveInterval: 15 * time.Second, IdentityFiles: []string{mine}}},
		{"a.corp", hostSettings{User: "corp", StrictHostKeyChecking: "yes", ServerAliveInterval: 15 * time.Second, IdentityFiles: []string{mine}}},
		{"bad.corp", hostSettings{User: "fallback", StrictHostKeyChecking: "yes", ServerAliveInterval: 15 * time.Second, IdentityFiles: []string{mine}}},
		{"other1", hostSettings{HostName: "o1.other", Port: 2200, User: "fallback", StrictHostKeyChecking: "yes", ServerAliveInterval: 15 * time.Second, IdentityFiles: []string{mine}}},
		{"skip.other", hostSettings{User: "fallback", StrictHostKeyChecking: "yes", ServerAliveInterval: 15 * time.Second, IdentityFiles: []string{mine}}},
		{"zzz", hostSettings{User: "fallback", StrictHostKeyChecking: "yes", ServerAliveInterval: 15 * time.Second, IdentityFiles: []string{mine}}},
	}
	for _, tt := range tests {
		t.Run(tt.alias, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, c.resolve(tt.alias)); diff != "" {
				t.Errorf("resolve(%q) (-want +got):\n%s", tt.alias, diff)
			}
		})
	}
	var none *sshConfig
	if diff := cmp.Diff(hostSettings{}, none.resolve("web1")); diff != "" {
		t.Errorf("nil config (-want +got):\n%s", diff)
	}
}

// TestSSHConfigMatchesOpenSSH resolves the test config with `ssh -G`, the
// authority on ssh_config semantics, and compares.
func TestSSHConfigMatchesOpenSSH(t *testing.T) {
	if _, err := exec.LookPath("ssh"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("ssh client missing under CI: %v", err)
		}
		t.Skipf("ssh client missing: %v", err)
	}
	u, err := user.Current()
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(sshConfigDir, "config")
	c := loadTestSSHConfig(t, u.HomeDir)
	for _, alias := range sshConfigAliases {
		t.Run(alias, func(t *testing.T) {
			out, err := exec.Command("ssh", "-G", "-F", path, alias).Output()
			if err != nil {
				t.Fatalf("ssh -G %s: %v", alias, err)
			}
			g := map[string][]string{}
			for line := range strings.Lines(string(out)) {
				if k, v, ok := strings.Cut(strings.TrimSpace(line), " "); ok {
					g[k] = append(g[k], v)
				}
			}
			ssh := func(k string) string { return strings.Join(g[k], "\n") }
			s := c.resolve(alias)
			tk := c.tokens(alias, s)
			var files []string
			for _, f := range g["identityfile"] { // ssh -G prints them unexpanded
				files = append(files, tk.expand(f))
			}
			got := map[string]string{
				"hostname":              orDefault(s.HostName, alias),
				"user":                  orDefault(s.User, u.Username),
				"port":                  strconv.Itoa(firstPositive(s.Port, 22)),
				"proxyjump":             s.ProxyJump,
				"identitiesonly":        map[bool]string{true: "yes", false: "no"}[s.IdentitiesOnly],
				"identityfile":          strings.Join(s.IdentityFiles, "\n"),
				"userknownhostsfile":    strings.Join(s.UserKnownHostsFiles, " "),
				"connecttimeout":        seconds(s.ConnectTimeout, "none"),
				"serveraliveinterval":   seconds(s.ServerAliveInterval, "0"),
				"stricthostkeychecking": strconv.Itoa(int(policyFromSSHConfig(s.StrictHostKeyChecking))),
			}
			want := map[string]string{
				"hostname":              ssh("hostname"),
				"user":                  ssh("user"),
				"port":                  ssh("port"),
				"proxyjump":             ssh("proxyjump"),
				"identitiesonly":        ssh("identitiesonly"),
				"identityfile":          strings.Join(files, "\n"),
				"userknownhostsfile":    ssh("userknownhostsfile"),
				"connecttimeout":        ssh("connecttimeout"),
				"serveraliveinterval":   ssh("serveraliveinterval"),
				"stricthostkeychecking": strconv.Itoa(int(policyFromSSHConfig(ssh("stricthostkeychecking")))),
			}
			if s.UserKnownHostsFiles == nil { // not set: ssh shows its default; "none": ssh shows none
				delete(got, "userknownhostsfile")
				delete(want, "userknownhostsfile")
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("ssh -G (-) and resolve (+) differ:\n%s", diff)
			}
		})
	}
}

func seconds(d time.Duration, zero string) string {
	if d == 0 {
		return zero
	}
	return strconv.Itoa(int(d / time.Second))
}

func TestSSHConfigIncludeAndEnv(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) string {
		t.Helper()
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	write("conf.d/10-app.conf", "Host app\n  User appuser\n  IdentityFile ${DROVER_TEST_KEYS}/app\n")
	write("conf.d/20-all.conf", "Host *\n  IdentityFile ~/included\n")
	main := write("config", "Include "+dir+"/conf.d/*.conf\n\nHost app\n  User ignored\n  IdentityFile ${DROVER_TEST_UNSET}/k\n  IdentityFile \"/with space/k\"\n")
	t.Setenv("DROVER_TEST_KEYS", "/srv/keys")
	c, err := loadSSHConfig(main, true, "/home/me")
	if err != nil {
		t.Fatal(err)
	}
	want := hostSettings{User: "appuser", IdentityFiles: []string{"/srv/keys/app", "/home/me/included", "${DROVER_TEST_UNSET}/k", "/with space/k"}}
	if diff := cmp.Diff(want, c.resolve("app")); diff != "" {
		t.Errorf("resolve(app) (-want +got):\n%s", diff)
	}
}

func TestSSHConfigErrors(t *testing.T) {
	tests := []struct{ file, want string }{
		{"bad-port", `:2: Port "abc": want a port number (1-65535)`},
		{"bad-timeout", `:3: ConnectTimeout "soon": want a time`},
		{"bad-policy", `:2: StrictHostKeyChecking "maybe": want yes, no, ask, off or accept-new`},
		{"bad-flag", `:2: IdentitiesOnly "sometimes": want yes or no`},
		{"missing-value", `:2: User "": missing value`},
		{"two-values", `:2: HostName "two words": want one value`},
		{"match-criteria", `:4: "Match host a user b": drover supports only "Match all" and "Match host PATTERNS"`},
		{"match-exec", `:2:7: Match Exec is not supported`},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			path := filepath.Join(sshConfigDir, tt.file)
			_, err := loadSSHConfig(path, false, "/home/me")
			if err == nil {
				t.Fatal("got no error")
			}
			msg := err.Error()
			if !strings.Contains(msg, path+tt.want) || !strings.Contains(msg, "--ssh-config") || strings.Contains(msg, "\n") {
				t.Errorf("got %q, want one line with %q and advice", msg, path+tt.want)
			}
		})
	}

	missing := filepath.Join(t.TempDir(), "config")
	if c, err := loadSSHConfig(missing, false, "/home/me"); err != nil || c != nil {
		t.Errorf("missing default file: got %v, %v, want nil, nil", c, err)
	}
	if _, err := loadSSHConfig(missing, true, "/home/me"); err == nil || !strings.Contains(err.Error(), missing) {
		t.Errorf("missing explicit file: got %v, want an error naming it", err)
	}
}

func TestSSHConfigPolicy(t *testing.T) {
	tests := map[string]HostKeyPolicy{
		"": HostKeyStrict, "yes": HostKeyStrict, "ask": HostKeyStrict, "true": HostKeyStrict, "Yes": HostKeyStrict,
		"accept-new": HostKeyAcceptNew, "no": HostKeyOff, "off": HostKeyOff, "false": HostKeyOff,
	}
	for v, want := range tests {
		if got := policyFromSSHConfig(v); got != want {
			t.Errorf("policyFromSSHConfig(%q): got %d, want %d", v, got, want)
		}
	}
}

func TestSSHConfigTime(t *testing.T) {
	tests := []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"", 0, true}, {"none", 0, true}, {"0", 0, true}, {"10", 10 * time.Second, true}, {"10S", 10 * time.Second, true},
		{"1m30s", 90 * time.Second, true}, {"1h2m", 62 * time.Minute, true}, {"1w", 7 * 24 * time.Hour, true},
		{"-1", 0, false}, {"1x", 0, false}, {"m", 0, false}, {"1 2", 0, false},
	}
	for _, tt := range tests {
		got, err := parseSSHTime(tt.in)
		if got != tt.want || (err == nil) != tt.ok {
			t.Errorf("parseSSHTime(%q): got %v, %v; want %v, ok=%v", tt.in, got, err, tt.want, tt.ok)
		}
	}
}
