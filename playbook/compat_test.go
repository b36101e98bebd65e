package playbook_test

import (
	"bytes"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/drover/drover/connection"
	"github.com/drover/drover/inventory"
	"github.com/drover/drover/playbook"
	"github.com/drover/drover/playbook/report"
)

var update = flag.Bool("update", false, "regenerate testdata/compat/*.golden from the real ansible-playbook")

// volatile are the parts of a run's output that differ from run to run.
var (
	volatile  = regexp.MustCompile(`"(delta|start|end)": "[^"]*"`)
	sshError  = regexp.MustCompile(`(UNREACHABLE! => \{"changed": false, "msg": )"(?:[^"\\]|\\.)*"`) // each tool words it its own way
	diffAfter = regexp.MustCompile(`(?m)^\+\+\+ after: .*$`)                                         // Ansible names a temporary file there
)

func normalize(out string) string {
	if wd, err := os.Getwd(); err == nil { // the checkout's place differs from machine to machine
		out = strings.ReplaceAll(out, wd, "$PKG")
	}
	out = diffAfter.ReplaceAllString(out, "+++ after: ...")
	out = sshError.ReplaceAllString(out, `$1"..."`)
	return volatile.ReplaceAllString(out, `"$1": "..."`)
}

// runAnsiblePlaybook runs the real ansible-playbook on a file and returns
// its normalized output.
func runAnsiblePlaybook(t *testing.T, path string) string {
	t.Helper()
	bin, err := exec.LookPath("ansible-playbook")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("ansible-playbook not found; CI must re-check the recorded results")
		}
		t.Skip("ansible-playbook not found")
	}
	abs, _ := filepath.Abs(path)
	args := append([]string{abs}, testArgs(t, path)...)
	if inv := inventoryFor(path); inv != "" {
		args = append(args, "-i", inv)
	}
	cmd := exec.Command(bin, args...)
	cmd.Dir = t.TempDir()
	tmp := t.TempDir()
	cmd.Env = append(os.Environ(), "COMPAT_TMP="+tmp, "ANSIBLE_HOME="+t.TempDir(), "ANSIBLE_LOCALHOST_WARNING=false",
		"ANSIBLE_INVENTORY_UNPARSED_WARNING=false", "ANSIBLE_NOCOLOR=1", "ANSIBLE_RETRY_FILES_ENABLED=false")
	out, _ := cmd.Output() // failing hosts exit non-zero; the output is what counts
	return sortResults(normalize(strings.ReplaceAll(string(out), tmp, "$COMPAT_TMP")))
}

// testArgs reads a playbook's first line, "# args: ...", the
// ansible-playbook options the test runs it with.
func testArgs(t *testing.T, path string) []string {
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	first, _, _ := strings.Cut(string(data), "\n")
	rest, ok := strings.CutPrefix(first, "# args:")
	if !ok {
		return nil
	}
	return strings.Fields(rest)
}

// playOptions maps testArgs onto drover's options.
func playOptions(t *testing.T, args []string) playbook.PlayOptions {
	var o playbook.PlayOptions
	for i := 0; i < len(args); i++ {
		next := func() string {
			i++
			if i >= len(args) {
				t.Fatalf("args: %s needs a value", args[i-1])
			}
			return args[i]
		}
		switch args[i] {
		case "-C", "--check":
			o.Check = true
		case "-D", "--diff":
			o.Diff = true
		case "-t", "--tags":
			o.Tags = append(o.Tags, strings.Split(next(), ",")...)
		case "--skip-tags":
			o.SkipTags = append(o.SkipTags, strings.Split(next(), ",")...)
		case "-l", "--limit":
			o.Limit = next()
		case "--start-at-task":
			o.StartAt = next()
		case "-e":
			k, v, _ := strings.Cut(next(), "=")
			if o.ExtraVars == nil {
				o.ExtraVars = map[string]any{}
			}
			o.ExtraVars[k] = v
		default:
			t.Fatalf("args: %s is not known to the test", args[i])
		}
	}
	return o
}

// inventoryFor is the inventory beside a compat playbook (name.ini), if
// any; without one the playbook runs on the implicit localhost.
func inventoryFor(play string) string {
	if layout, _ := filepath.Abs(filepath.Join(filepath.Dir(play), "inventory", "hosts.ini")); fileExists(layout) {
		return layout
	}
	inv, _ := filepath.Abs(strings.TrimSuffix(play, ".yml") + ".ini")
	if _, err := os.Stat(inv); err != nil {
		return ""
	}
	return inv
}

// runDrover runs a playbook file through drover's runner and text report.
func runDrover(t *testing.T, path string) string {
	t.Helper()
	pb, err := playbook.Load(path)
	if err != nil {
		t.Fatalf("load %s: %v", path, err)
	}
	pool, err := connection.NewPool(connection.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	inv := inventory.New()
	if p := inventoryFor(path); p != "" {
		if inv, err = inventory.Load(t.Context(), nil, p); err != nil {
			t.Fatal(err)
		}
	}
	tmp := t.TempDir() // the playbook's files, apart from other runs'
	t.Setenv("COMPAT_TMP", tmp)
	var out bytes.Buffer
	r := &playbook.Runner{Pool: pool, Reporter: &report.Play{W: &out}}
	opts := playOptions(t, testArgs(t, path))
	opts.Inventory = inv
	if _, err := r.RunPlaybook(t.Context(), pb, opts); err != nil {
		t.Fatalf("run %s: %v", path, err)
	}
	return sortResults(normalize(strings.ReplaceAll(out.String(), tmp, "$COMPAT_TMP")))
}

// TestPlaybooksMatchAnsible runs every playbook of testdata/compat through
// drover and requires the output ansible-playbook gave on it (the
// .golden files): the same banners, per-host statuses, debug output and
// recap.
func TestPlaybooksMatchAnsible(t *testing.T) {
	files, _ := filepath.Glob("testdata/compat/*.yml")
	if len(files) == 0 {
		t.Fatal("no playbooks in testdata/compat")
	}
	layouts, _ := filepath.Glob("testdata/layout/*/site.yml") // playbooks beside group_vars/, inventories with their own
	files = append(files, layouts...)
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".yml")
		if name == "site" {
			name = filepath.Base(filepath.Dir(f))
		}
		t.Run(name, func(t *testing.T) {
			golden := strings.TrimSuffix(f, ".yml") + ".golden"
			if *update {
				if err := os.WriteFile(golden, []byte(runAnsiblePlaybook(t, f)), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test -run TestPlaybooksMatchAnsible -update)", err)
			}
			if got := runDrover(t, f); got != string(want) {
				t.Errorf("%s: drover's output differs from ansible-playbook's:\n%s", f, lineDiff(string(want), got))
			}
		})
	}
}

// TestPlaybookGoldensStillHold re-runs ansible-playbook on every compat
// playbook and requires the recorded output.
func TestPlaybookGoldensStillHold(t *testing.T) {
	if *update {
		t.Skip("just regenerated")
	}
	files, _ := filepath.Glob("testdata/compat/*.yml")
	layouts, _ := filepath.Glob("testdata/layout/*/site.yml")
	for _, f := range append(files, layouts...) {
		want, err := os.ReadFile(strings.TrimSuffix(f, ".yml") + ".golden")
		if err != nil {
			t.Fatal(err)
		}
		if got := runAnsiblePlaybook(t, f); got != string(want) {
			t.Errorf("%s: ansible-playbook now prints something else than recorded:\n%s", f, lineDiff(string(want), got))
		}
	}
}

// lineDiff shows the first lines where two outputs part.
func lineDiff(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	var b strings.Builder
	shown := 0
	for i := 0; i < max(len(w), len(g)) && shown < 12; i++ {
		var wl, gl string
		if i < len(w) {
			wl = w[i]
		}
		if i < len(g) {
			gl = g[i]
		}
		if wl != gl {
			b.WriteString("line " + strconv.Itoa(i+1) + ":\n  ansible: " + wl + "\n  drover:  " + gl + "\n")
			shown++
		}
	}
	return b.String()
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}
