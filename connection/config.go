package connection

import (
	"context"
	"time"

	"github.com/sirupsen/logrus"
)

// Target says where and how to reach one host. Fields left empty are taken
// from ssh_config, then from OpenSSH's defaults.
type Target struct {
	// Name is the host's inventory name, used in messages and as the
	// ssh_config Host alias when Host is empty.
	Name string
	// Host is the address or name to connect to (ansible_host).
	Host string
	// Port is the SSH port (ansible_port); zero means ssh_config or 22.
	Port int
	// User is the login user (ansible_user, -u); empty means ssh_config or
	// the controller's user.
	User string
	// Password is the login password (ansible_password, -k). It is offered
	// for both password and keyboard-interactive authentication.
	Password string
	// KeyFiles are private keys to offer (--private-key,
	// ansible_ssh_private_key_file), before the default identities.
	KeyFiles []string
	// ProxyJump is a comma-separated chain of jump hosts in ssh's
	// [user@]host[:port] form; empty means ssh_config's ProxyJump.
	ProxyJump string
	// Local selects the local connection (ansible_connection=local).
	Local bool
	// Dir is where local commands run; empty means the controller's working
	// directory. Ansible runs a playbook's local commands in its directory.
	Dir string
}

// HostKeyPolicy says what to do with a host key that known_hosts does not
// list. A key that differs from a recorded one always fails.
type HostKeyPolicy int

const (
	// HostKeyDefault follows ssh_config's StrictHostKeyChecking for the
	// host, and HostKeyStrict where it says nothing.
	HostKeyDefault HostKeyPolicy = iota
	// HostKeyStrict refuses unknown keys.
	HostKeyStrict
	// HostKeyAcceptNew records unknown keys in the user's known_hosts and
	// trusts them (trust on first use).
	HostKeyAcceptNew
	// HostKeyOff trusts any key and records nothing.
	HostKeyOff
)

// Prompter asks the person at the terminal for a secret, such as a key's
// passphrase. It must be safe for concurrent use; the pool calls it at most
// once per key file in a run.
type Prompter interface {
	Prompt(ctx context.Context, question string) (string, error)
}

// Config sets up a [Pool]. The zero value is valid: every field documents its
// default.
type Config struct {
	// HostKeyPolicy applies to unknown host keys; default HostKeyDefault.
	HostKeyPolicy HostKeyPolicy
	// KnownHostsFiles are read in addition to ~/.ssh/known_hosts and
	// /etc/ssh/ssh_known_hosts (--known-hosts, DROVER_KNOWN_HOSTS).
	KnownHostsFiles []string
	// UserKnownHosts is the file accept-new writes to; default
	// ~/.ssh/known_hosts (or ssh_config's UserKnownHostsFile).
	UserKnownHosts string
	// SSHConfigFile is the ssh_config to read; default ~/.ssh/config.
	// Missing default files are ignored; a missing explicit file is an error.
	SSHConfigFile string
	// MaxSessions caps concurrent sessions on one connection; default 6.
	// sshd refuses channels near its MaxSessions (10) while earlier sessions
	// are still closing.
	MaxSessions int
	// MaxDials caps connections being opened at once across the pool;
	// default 20, below sshd's MaxStartups 10:30:100 refusal curve.
	MaxDials int
	// ConnectTimeout bounds TCP connect plus SSH handshake and
	// authentication; default 10s (or ssh_config's ConnectTimeout).
	ConnectTimeout time.Duration
	// KeepAlive is the interval of keepalive@openssh.com probes; default 15s
	// (or ssh_config's ServerAliveInterval). Three unanswered probes close
	// the connection.
	KeepAlive time.Duration
	// HomeDir is the controller user's home; default os.UserHomeDir().
	HomeDir string
	// AgentSocket is the ssh-agent socket; default $SSH_AUTH_SOCK.
	AgentSocket string
	// Prompter asks for key passphrases; nil means passphrase-protected
	// keys are skipped with a warning in the log.
	Prompter Prompter
	// Persist, when set, keeps connections open between runs through a
	// connection daemon; nil connects directly and closes with the pool.
	Persist *Persist
	// Logger receives diagnostics; nil discards them. At debug level every
	// remote command and its duration is logged (never secrets).
	Logger logrus.FieldLogger
}
