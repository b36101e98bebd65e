package sshtest

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"golang.org/x/crypto/ssh"
)

// Users are the accounts every [Server] accepts.
type Users struct {
	// Login logs in with the client key and has passwordless sudo. Not
	// root, it is the current user and has no sudo.
	Login string
	// SudoPass logs in with the client key; its sudo asks for SudoPassword.
	SudoPass     string
	SudoPassword string
	// Plain logs in with the client key or PlainPassword and has no sudo
	// rights.
	Plain         string
	PlainPassword string
	// Root reports whether the accounts above are real, distinct users
	// (the tests run as root).
	Root bool
}

// state is what one test process sets up once and Main tears down.
type state struct {
	dir            string
	keyPath        string
	signer         ssh.Signer
	authorizedKeys string
	users          Users
	created        []string
	sudoers        string
}

var shared struct {
	once sync.Once
	st   *state
	err  error
	main bool // Main is in charge of cleaning up
}

// strict reports whether skipping is forbidden.
func strict() bool {
	return os.Getenv("CI") == "true" || os.Getenv("DROVER_TEST_REQUIRE_SSHD") == "1"
}

func skipOrFail(t testing.TB, format string, args ...any) {
	t.Helper()
	if strict() {
		t.Fatalf("sshtest: "+format+" (skipping is not allowed under CI=true or DROVER_TEST_REQUIRE_SSHD=1)", args...)
	}
	t.Skipf("sshtest: "+format, args...)
}

func requireSSHD(t testing.TB) {
	t.Helper()
	if testing.Short() && !strict() {
		t.Skip("sshtest: real sshd tests skipped under -short")
	}
	if _, err := os.Stat(SSHD); err != nil {
		skipOrFail(t, "%s not found; install openssh-server", SSHD)
	}
}

// RequireRoot skips a test that needs root (become, test users), or fails
// it where skipping is not allowed.
func RequireRoot(t testing.TB) {
	t.Helper()
	if os.Geteuid() != 0 {
		skipOrFail(t, "needs root to create test users and sudo rules")
	}
}

// setup prepares the process-wide state on first use.
func setup(t testing.TB) *state {
	t.Helper()
	shared.once.Do(func() { shared.st, shared.err = newState() })
	if shared.err != nil {
		t.Fatalf("sshtest: %v", shared.err)
	}
	if !shared.main {
		t.Log("sshtest: TestMain does not call sshtest.Main; test users will be left behind")
	}
	return shared.st
}

func newState() (*state, error) {
	dir, err := os.MkdirTemp("", "drover-sshtest-")
	if err != nil {
		return nil, err
	}
	// sshd reads authorized_keys as the logging-in user.
	if err := os.Chmod(dir, 0o755); err != nil {
		return nil, err
	}
	st := &state{dir: dir, keyPath: filepath.Join(dir, "id_ed25519"), authorizedKeys: filepath.Join(dir, "authorized_keys")}
	if err := st.writeClientKey(); err != nil {
		return nil, err
	}
	if os.Geteuid() != 0 {
		u, err := user.Current()
		if err != nil {
			return nil, err
		}
		st.users = Users{Login: u.Username}
		return st, nil
	}
	if err := os.MkdirAll("/run/sshd", 0o755); err != nil {
		return nil, err
	}
	if err := st.createUsers(); err != nil {
		st.teardown()
		return nil, err
	}
	return st, nil
}

func (st *state) writeClientKey() error {
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return err
	}
	block, err := ssh.MarshalPrivateKey(priv, "drover test key")
	if err != nil {
		return err
	}
	if err := os.WriteFile(st.keyPath, pem.EncodeToMemory(block), 0o600); err != nil {
		return err
	}
	sshPub, err := ssh.NewPublicKey(pub)
	if err != nil {
		return err
	}
	if st.signer, err = ssh.NewSignerFromKey(priv); err != nil {
		return err
	}
	if err := os.WriteFile(st.keyPath+".pub", ssh.MarshalAuthorizedKey(sshPub), 0o644); err != nil {
		return err
	}
	return os.WriteFile(st.authorizedKeys, ssh.MarshalAuthorizedKey(sshPub), 0o644)
}

func (st *state) createUsers() error {
	prefix := fmt.Sprintf("dt%d", os.Getpid())
	st.users = Users{
		Login: prefix + "l", SudoPass: prefix + "s", Plain: prefix + "p",
		SudoPassword: randomHex(), PlainPassword: randomHex(), Root: true,
	}
	var chpasswd strings.Builder
	for _, name := range []string{st.users.Login, st.users.SudoPass, st.users.Plain} {
		_ = exec.Command("userdel", "-r", name).Run() // a stale account from a crashed run
		if out, err := exec.Command("useradd", "-m", "-s", "/bin/sh", name).CombinedOutput(); err != nil {
			return fmt.Errorf("useradd %s: %v: %s", name, err, out)
		}
		st.created = append(st.created, name)
	}
	fmt.Fprintf(&chpasswd, "%s:%s\n%s:%s\n%s:%s\n", st.users.Login, randomHex(),
		st.users.SudoPass, st.users.SudoPassword, st.users.Plain, st.users.PlainPassword)
	cmd := exec.Command("chpasswd")
	cmd.Stdin = strings.NewReader(chpasswd.String())
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("chpasswd: %v: %s", err, out)
	}
	return st.writeSudoers()
}

func (st *state) writeSudoers() error {
	u := st.users
	rules := fmt.Sprintf(`Defaults:%[1]s !lecture, !requiretty
Defaults:%[2]s !lecture, !requiretty, timestamp_timeout=0
%[1]s ALL=(ALL:ALL) NOPASSWD: ALL
%[2]s ALL=(ALL:ALL) ALL
`, u.Login, u.SudoPass)
	tmp := filepath.Join(st.dir, "sudoers")
	if err := os.WriteFile(tmp, []byte(rules), 0o440); err != nil {
		return err
	}
	if out, err := exec.Command("visudo", "-cf", tmp).CombinedOutput(); err != nil {
		return fmt.Errorf("visudo -cf: %v: %s", err, out)
	}
	st.sudoers = fmt.Sprintf("/etc/sudoers.d/drover-test-%d", os.Getpid())
	return os.WriteFile(st.sudoers, []byte(rules), 0o440)
}

func (st *state) teardown() {
	for _, name := range st.created {
		_ = exec.Command("userdel", "-r", name).Run()
	}
	if st.sudoers != "" {
		_ = os.Remove(st.sudoers)
	}
	_ = os.RemoveAll(st.dir)
}

func randomHex() string {
	var b [12]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err)
	}
	return hex.EncodeToString(b[:])
}

// ClientKey returns the path of an unencrypted ed25519 private key (mode
// 0600) that every server accepts for every test user, and its signer.
func ClientKey(t testing.TB) (string, ssh.Signer) {
	t.Helper()
	st := setup(t)
	return st.keyPath, st.signer
}

// TestUsers returns the accounts the servers accept.
func TestUsers(t testing.TB) Users {
	t.Helper()
	return setup(t).users
}

// Main runs the tests, then removes the test users, sudo rules and keys.
// Test packages that use servers call it from TestMain:
//
//	func TestMain(m *testing.M) { os.Exit(sshtest.Main(m)) }
func Main(m *testing.M) int {
	shared.main = true
	code := m.Run()
	if shared.st != nil {
		shared.st.teardown()
	}
	return code
}
