package playbook_test

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/drover/drover/connection"
	"github.com/drover/drover/connection/sshtest"
	"github.com/drover/drover/inventory"
	"github.com/drover/drover/playbook"
	"github.com/drover/drover/playbook/report"
)

func TestMain(m *testing.M) { os.Exit(sshtest.Main(m)) }

// sshHosts starts three sshd servers and writes testdata/sshcompat's
// inventory for them, with a known_hosts file both tools trust.
func sshHosts(t *testing.T) (inv, known string) {
	t.Helper()
	users := sshtest.TestUsers(t)
	key, _ := sshtest.ClientKey(t)
	dir := t.TempDir()
	src, err := os.ReadFile("testdata/sshcompat/inventory.ini")
	if err != nil {
		t.Fatal(err)
	}
	text := strings.NewReplacer("{{USER}}", users.Login, "{{KEY}}", key).Replace(string(src))
	var lines []string
	for i := 1; i <= 3; i++ {
		s := sshtest.Start(t, sshtest.Options{})
		n := strconv.Itoa(i)
		text = strings.NewReplacer("{{ADDR"+n+"}}", s.Host, "{{PORT"+n+"}}", strconv.Itoa(s.Port)).Replace(text)
		lines = append(lines, s.KnownHostsLine())
	}
	inv, known = filepath.Join(dir, "inventory.ini"), filepath.Join(dir, "known_hosts")
	os.WriteFile(inv, []byte(text), 0o644)
	os.WriteFile(known, []byte(strings.Join(lines, "\n")+"\n"), 0o600)
	return inv, known
}

// sortResults makes a multi-host run's output comparable: hosts answer a
// task in any order, so each banner's result entries are sorted. An entry
// is a status line with what belongs to it: the JSON after it,
// "...ignoring", and the diff printed before it.
func sortResults(out string) string {
	sections := strings.Split(out, "\n\n")
	status := regexp.MustCompile(`^(ok|changed|fatal|failed|skipping): \[`)
	for i := 0; i < len(sections); i++ {
		lines := strings.Split(sections[i], "\n")
		if !strings.HasSuffix(lines[0], "*") || len(lines) == 1 {
			continue // not a banner's section, or nothing under it
		}
		// A diff ends with a blank line: the host's entry goes on in the
		// sections that follow, up to its status line.
		for !slices.ContainsFunc(lines[1:], status.MatchString) && i+1 < len(sections) && len(lines) > 1 {
			lines = append(lines, "")
			lines = append(lines, strings.Split(sections[i+1], "\n")...)
			sections = append(sections[:i+1], sections[i+2:]...)
		}
		var entries []string
		pending := ""
		for _, l := range lines[1:] {
			switch {
			case status.MatchString(l):
				entries = append(entries, pending+l)
				pending = ""
			case len(entries) > 0 && pending == "" && (strings.HasPrefix(l, " ") || l == "}" || l == "...ignoring"):
				entries[len(entries)-1] += "\n" + l
			default:
				pending += l + "\n"
			}
		}
		slices.Sort(entries)
		parts := append([]string{lines[0]}, entries...)
		if pending != "" {
			parts = append(parts, strings.TrimSuffix(pending, "\n"))
		}
		sections[i] = strings.Join(parts, "\n")
	}
	return strings.Join(sections, "\n\n")
}

// TestSSHPlaybooksMatchAnsible runs testdata/sshcompat's playbooks on
// three real sshd hosts with drover and with ansible-playbook, and
// requires the same output (the recorded .golden, which CI re-checks).
func TestSSHPlaybooksMatchAnsible(t *testing.T) {
	inv, known := sshHosts(t)
	files, _ := filepath.Glob("testdata/sshcompat/*.yml")
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".yml")
		t.Run(name, func(t *testing.T) {
			golden := strings.TrimSuffix(f, ".yml") + ".golden"
			ansible := sortResults(ansibleOverSSH(t, f, inv, known))
			if *update {
				os.WriteFile(golden, []byte(ansible), 0o644)
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run with -update)", err)
			}
			if ansible != string(want) {
				t.Errorf("%s: ansible-playbook now prints something else than recorded:\n%s", f, lineDiff(string(want), ansible))
			}
			if got := sortResults(droverOverSSH(t, f, inv, known)); got != string(want) {
				t.Errorf("%s: drover's output differs from ansible-playbook's:\n%s", f, lineDiff(string(want), got))
			}
		})
	}
}

func ansibleOverSSH(t *testing.T, play, inv, known string) string {
	t.Helper()
	bin, err := exec.LookPath("ansible-playbook")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("ansible-playbook not found")
		}
		t.Skip("ansible-playbook not found")
	}
	abs, _ := filepath.Abs(play)
	cmd := exec.Command(bin, "-i", inv, abs)
	cmd.Dir = t.TempDir()
	cmd.Env = append(os.Environ(), "ANSIBLE_HOME="+t.TempDir(), "ANSIBLE_NOCOLOR=1", "ANSIBLE_RETRY_FILES_ENABLED=false",
		"ANSIBLE_PIPELINING=true", "ANSIBLE_SSH_ARGS=-o UserKnownHostsFile="+known+" -o StrictHostKeyChecking=yes -o ControlMaster=auto -o ControlPersist=30s -o ControlPath="+t.TempDir()+"/cp-%h-%p")
	out, _ := cmd.Output()
	return normalize(string(out))
}

func droverOverSSH(t *testing.T, play, invPath, known string) string {
	t.Helper()
	pb, err := playbook.Load(play)
	if err != nil {
		t.Fatal(err)
	}
	inv, err := inventory.Load(t.Context(), nil, invPath)
	if err != nil {
		t.Fatal(err)
	}
	pool, err := connection.NewPool(connection.Config{KnownHostsFiles: []string{known}})
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	var out bytes.Buffer
	r := &playbook.Runner{Pool: pool, Reporter: &report.Play{W: &out}}
	if _, err := r.RunPlaybook(t.Context(), pb, playbook.PlayOptions{Inventory: inv}); err != nil {
		t.Fatal(err)
	}
	return normalize(out.String())
}
