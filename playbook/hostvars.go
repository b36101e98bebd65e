package playbook

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/drover/drover/connection"
	"github.com/drover/drover/inventory"
	"github.com/drover/drover/vault"
)

// ConnOptions are the command line's connection settings; a host's
// ansible_* variables override them, as in Ansible.
type ConnOptions struct {
	User           string
	PrivateKeyFile string
	Password       string
	// Connection is "ssh", "local" or "" (ssh, but local for localhost
	// when the inventory says so).
	Connection     string
	Become         bool
	BecomeMethod   string
	BecomeUser     string
	BecomePassword string
	// Port is the play's port: keyword, used when a host sets no
	// ansible_port; 0 means ssh_config's or 22.
	Port int
}

// target maps a host's variables onto how to reach it and whom to become.
func target(h *inventory.Host, o ConnOptions, keys *vault.Keyring) (connection.Target, *connection.Become, error) {
	v := hostVars{h: h, keys: keys}
	if err := v.decrypt(); err != nil {
		return connection.Target{}, nil, err
	}
	t := connection.Target{Name: h.Name, Host: v.str("ansible_host", "ansible_ssh_host")}
	t.User = orDefault(v.str("ansible_user", "ansible_ssh_user"), o.User)
	t.Password = orDefault(v.str("ansible_password", "ansible_ssh_pass", "ansible_ssh_password"), o.Password)
	if key := v.str("ansible_ssh_private_key_file", "ansible_private_key_file"); key != "" {
		t.KeyFiles = append(t.KeyFiles, key)
	}
	if o.PrivateKeyFile != "" {
		t.KeyFiles = append(t.KeyFiles, o.PrivateKeyFile)
	}
	t.Port = o.Port
	if p := v.str("ansible_port", "ansible_ssh_port"); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n <= 0 || n > 65535 {
			return t, nil, fmt.Errorf("host %s: ansible_port %q is not a port number", h.Name, p)
		}
		t.Port = n
	}
	switch conn := orDefault(v.str("ansible_connection"), o.Connection); conn {
	case "local":
		t.Local = true
	case "", "ssh", "smart", "paramiko":
	default:
		return t, nil, fmt.Errorf("host %s: connection %q is not supported; use ssh or local", h.Name, conn)
	}
	for _, name := range []string{"ansible_ssh_common_args", "ansible_ssh_extra_args"} {
		jump, err := proxyJump(v.str(name))
		if err != nil {
			return t, nil, fmt.Errorf("host %s: %s: %w", h.Name, name, err)
		}
		if jump != "" {
			t.ProxyJump = jump
		}
	}
	return t, become(v, o), nil
}

func become(v hostVars, o ConnOptions) *connection.Become {
	on := o.Become
	if s := v.str("ansible_become"); s != "" {
		on = isTrue(s)
	}
	if !on {
		return nil
	}
	return &connection.Become{
		Method:   orDefault(v.str("ansible_become_method"), o.BecomeMethod),
		User:     orDefault(v.str("ansible_become_user"), o.BecomeUser),
		Password: orDefault(v.str("ansible_become_password", "ansible_become_pass"), o.BecomePassword),
		Exe:      v.str("ansible_become_exe"),
		Flags:    v.str("ansible_become_flags"),
	}
}

// proxyJump finds the jump host in ssh arguments: -J HOST, -JHOST or
// -o ProxyJump=HOST. Other options are not supported yet.
func proxyJump(args string) (string, error) {
	f := strings.Fields(args)
	jump := ""
	for i := 0; i < len(f); i++ {
		a := strings.Trim(f[i], `'"`)
		switch {
		case a == "-J" && i+1 < len(f):
			i++
			jump = strings.Trim(f[i], `'"`)
		case strings.HasPrefix(a, "-J"):
			jump = a[2:]
		case a == "-o" && i+1 < len(f):
			i++
			k, val, _ := strings.Cut(strings.Trim(f[i], `'"`), "=")
			if !strings.EqualFold(k, "ProxyJump") {
				return "", fmt.Errorf("ssh option %q is not supported; only -J and -o ProxyJump= are (put other options in ~/.ssh/config)", f[i])
			}
			jump = val
		default:
			return "", fmt.Errorf("ssh argument %q is not supported; only -J and -o ProxyJump= are (put other options in ~/.ssh/config)", a)
		}
	}
	return jump, nil
}

// hostVars reads connection variables as text, opening !vault values.
type hostVars struct {
	h     *inventory.Host
	keys  *vault.Keyring
	plain map[string]string // decrypted !vault connection variables
}

// decrypt opens the !vault values among the ansible_* variables, the only
// ones a connection reads.
func (v *hostVars) decrypt() error {
	for k, x := range v.h.Vars {
		s, ok := x.(vault.String)
		if !ok || !strings.HasPrefix(k, "ansible_") {
			continue
		}
		plain, err := s.Decrypt(v.keys)
		if err != nil {
			return fmt.Errorf("host %s: variable %s: %w", v.h.Name, k, err)
		}
		if v.plain == nil {
			v.plain = map[string]string{}
		}
		v.plain[k] = plain
	}
	return nil
}

func (v hostVars) str(names ...string) string {
	for _, n := range names {
		if p, ok := v.plain[n]; ok {
			return p
		}
		if x, ok := v.h.Vars[n]; ok && x != nil {
			return fmt.Sprint(x)
		}
	}
	return ""
}

func isTrue(s string) bool {
	switch strings.ToLower(s) {
	case "yes", "y", "true", "on", "1":
		return true
	}
	return false
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
