// Package bench times drover against ansible-playbook and against bare
// golang.org/x/crypto/ssh, the floor, on real sshd hosts in one run.
//
//	DROVER_BENCH=1 go test -run TestBenchTable -v -timeout 30m ./examples/bench/
//
// DROVER_BENCH_RUNS sets the runs per scenario (3), and DROVER_BENCH_ONLY
// keeps the scenarios whose name holds it ("gather_facts").
//
// It prints a Markdown table: the median wall time of each tool per
// scenario, the ratios, and drover's peak memory. drover runs twice per
// round: with --persist 0, opening every connection as the floor does, and
// as it runs by default, reusing the connections an earlier run left open,
// as ansible-playbook does with ControlPersist.
package bench_test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/drover/drover/connection/sshtest"
	"github.com/drover/drover/tasks"
	"golang.org/x/crypto/ssh"
)

func TestMain(m *testing.M) { os.Exit(sshtest.Main(m)) }

// scenario is one row of the table.
type scenario struct {
	name  string
	hosts int
	tasks int    // command tasks per host
	adhoc string // a module run ad hoc instead of a playbook
	facts bool   // gather_facts on, no tasks
}

var scenarios = []scenario{
	{name: "1 host × 50 command tasks", hosts: 1, tasks: 50},
	{name: "50 hosts × 10 command tasks", hosts: 50, tasks: 10},
	{name: "ad hoc ping, 50 hosts", hosts: 50, adhoc: "ping"},
	{name: "gather_facts, 50 hosts", hosts: 50, facts: true},
}

func TestBenchTable(t *testing.T) {
	if os.Getenv("DROVER_BENCH") == "" {
		t.Skip("set DROVER_BENCH=1 to run the benchmark (it takes minutes)")
	}
	dir := t.TempDir()
	drover := filepath.Join(dir, "drover")
	if out, err := exec.Command("go", "build", "-o", drover, "../../cmd/drover").CombinedOutput(); err != nil {
		t.Fatalf("build drover: %v\n%s", err, out)
	}
	users := sshtest.TestUsers(t)
	key, signer := sshtest.ClientKey(t)
	servers := make([]*sshtest.Server, 50)
	var known strings.Builder
	var inv strings.Builder
	inv.WriteString("[bench]\n")
	for i := range servers {
		servers[i] = sshtest.Start(t, sshtest.Options{Config: []string{"MaxStartups 100:30:200"}})
		known.WriteString(servers[i].KnownHostsLine() + "\n")
		fmt.Fprintf(&inv, "h%02d ansible_host=%s ansible_port=%d\n", i, servers[i].Host, servers[i].Port)
	}
	fmt.Fprintf(&inv, "[bench:vars]\nansible_user=%s\nansible_ssh_private_key_file=%s\n", users.Login, key)
	knownFile := filepath.Join(dir, "known_hosts")
	os.WriteFile(knownFile, []byte(known.String()), 0o600)
	invFile := filepath.Join(dir, "inventory.ini")
	os.WriteFile(invFile, []byte(inv.String()), 0o644)
	// drover keeps connections for the next run as Ansible's ControlPersist
	// does (both 60s): the first scenarios open them, later ones reuse them.
	t.Cleanup(func() { stopPersistDaemon(filepath.Join(dir, "run", "drover")) })
	env := append(os.Environ(), "HOME="+dir, "XDG_RUNTIME_DIR="+filepath.Join(dir, "run"), "DROVER_PERSIST=60s", "ANSIBLE_HOME="+filepath.Join(dir, "ansible"), "ANSIBLE_NOCOLOR=1",
		"ANSIBLE_PIPELINING=true", "ANSIBLE_FORKS=50", "ANSIBLE_RETRY_FILES_ENABLED=false",
		"ANSIBLE_SSH_ARGS=-o UserKnownHostsFile="+knownFile+" -o StrictHostKeyChecking=yes -o ControlMaster=auto -o ControlPersist=60s -o ControlPath="+dir+"/cp-%h-%p")

	runs := 3
	if n, err := strconv.Atoi(os.Getenv("DROVER_BENCH_RUNS")); err == nil && n > 0 {
		runs = n
	}
	cold := append(slices.Clone(env), "DROVER_PERSIST=0")
	fmt.Printf("median of %d runs each\n\n", runs)
	fmt.Println("| scenario | bare x/crypto/ssh | drover, new connections | drover | ansible-playbook | new connections / bare | ansible / drover | drover peak RSS |")
	fmt.Println("|---|---|---|---|---|---|---|---|")
	for _, sc := range scenarios {
		if only := os.Getenv("DROVER_BENCH_ONLY"); only != "" && !strings.Contains(sc.name, only) {
			continue
		}
		limit := fmt.Sprintf("bench[0:%d]", sc.hosts-1)
		var droverArgs, ansibleArgs []string
		ansibleBin := "ansible-playbook"
		if sc.adhoc != "" {
			droverArgs = []string{"exec", "bench", "-l", limit, "-i", invFile, "--known-hosts", knownFile, "-f", "50", "-m", sc.adhoc}
			ansibleBin, ansibleArgs = "ansible", []string{"bench", "-l", limit, "-i", invFile, "-f", "50", "-m", sc.adhoc}
		} else {
			play := filepath.Join(dir, strings.ReplaceAll(sc.name, " ", "_")+".yml")
			os.WriteFile(play, []byte(playbook(sc)), 0o644)
			droverArgs = []string{"play", play, "-l", limit, "-i", invFile, "--known-hosts", knownFile, "-f", "50"}
			ansibleArgs = []string{play, "-l", limit, "-i", invFile, "-f", "50"}
		}
		var bare, fresh, kept, ans []time.Duration
		var rss int64
		for range runs { // interleaved, so a busy moment hits every tool alike
			bare = append(bare, floor(t, servers[:sc.hosts], users.Login, signer, sc))
			d, _ := timeCmd(t, cold, drover, droverArgs...)
			fresh = append(fresh, d)
			d, r := timeCmd(t, env, drover, droverArgs...)
			kept, rss = append(kept, d), max(rss, r)
			a, _ := timeCmd(t, env, ansibleBin, ansibleArgs...)
			ans = append(ans, a)
		}
		b, f, k, a := median(bare), median(fresh), median(kept), median(ans)
		fmt.Printf("| %s | %s | %s | %s | %s | %.2f× | %.1f× | %d MB |\n", sc.name, ms(b), ms(f), ms(k), ms(a), float64(f)/float64(b), float64(a)/float64(k), rss/1024)
	}
}

func median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}

func playbook(sc scenario) string {
	var b strings.Builder
	b.WriteString("- hosts: bench\n")
	if sc.facts {
		b.WriteString("  gather_facts: true\n  tasks: []\n")
		return b.String()
	}
	b.WriteString("  gather_facts: false\n  tasks:\n")
	for i := range sc.tasks {
		fmt.Fprintf(&b, "    - command: echo %d\n", i)
	}
	return b.String()
}

// timeCmd runs a command and returns its wall time and peak RSS in KB.
func timeCmd(t *testing.T, env []string, name string, args ...string) (time.Duration, int64) {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Env = env
	start := time.Now()
	out, err := cmd.CombinedOutput()
	d := time.Since(start)
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, tail(string(out)))
	}
	var rss int64
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		rss = ru.Maxrss
	}
	return d, rss
}

// floor is the same work done with bare x/crypto/ssh: connect to every
// host at once, then run the commands one after another on each.
func floor(t *testing.T, servers []*sshtest.Server, user string, signer ssh.Signer, sc scenario) time.Duration {
	t.Helper()
	commands := sc.tasks
	line := "echo 0"
	if sc.adhoc != "" || sc.facts {
		commands = 1
	}
	var stdin string
	if sc.facts { // drover's own fact script: the same work on the host
		var err error
		if line, stdin, err = tasks.GatherCommand(); err != nil {
			t.Fatal(err)
		}
	}
	start := time.Now()
	var wg sync.WaitGroup
	errs := make(chan error, len(servers))
	for _, s := range servers {
		wg.Go(func() {
			c, err := ssh.Dial("tcp", s.Addr, &ssh.ClientConfig{User: user, Auth: []ssh.AuthMethod{ssh.PublicKeys(signer)},
				HostKeyCallback: ssh.FixedHostKey(s.HostKey), Timeout: 10 * time.Second})
			if err != nil {
				errs <- err
				return
			}
			defer c.Close()
			for range commands {
				sess, err := c.NewSession()
				if err != nil {
					errs <- err
					return
				}
				sess.Stdin = strings.NewReader(stdin)
				if _, err := sess.CombinedOutput(line); err != nil {
					errs <- err
				}
				sess.Close()
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("bare ssh: %v", err)
	}
	return time.Since(start)
}

func ms(d time.Duration) string {
	return strconv.FormatFloat(float64(d.Microseconds())/1000, 'f', 0, 64) + " ms"
}

func tail(s string) string {
	if len(s) > 2000 {
		return "..." + s[len(s)-2000:]
	}
	return s
}

// stopPersistDaemon ends the connection daemon drover started in dir; its
// lock file holds its pid.
func stopPersistDaemon(dir string) {
	data, _ := os.ReadFile(filepath.Join(dir, "persist-v1.lock"))
	if pid, err := strconv.Atoi(strings.TrimSpace(string(data))); err == nil && pid > 0 {
		syscall.Kill(pid, syscall.SIGTERM)
	}
}
