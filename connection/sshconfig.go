package connection

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/user"
	"strconv"
	"strings"
	"time"

	sshconfig "github.com/kevinburke/ssh_config"
)

// sshConfig is a parsed ssh_config file. A nil *sshConfig resolves every
// host to OpenSSH's defaults.
type sshConfig struct {
	path string
	cfg  *sshconfig.Config
	home string
}

// hostSettings are the ssh_config values drover honours for one host. Zero
// values mean "not set".
type hostSettings struct {
	HostName              string
	User                  string
	Port                  int
	IdentityFiles         []string
	IdentitiesOnly        bool
	ProxyJump             string
	StrictHostKeyChecking string
	UserKnownHostsFiles   []string
	ConnectTimeout        time.Duration
	ServerAliveInterval   time.Duration
}

// loadSSHConfig parses path. A missing file is no error unless explicit.
func loadSSHConfig(path string, explicit bool, home string) (*sshConfig, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) && !explicit {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read ssh config %s: %w", path, err)
	}
	cfg, err := sshconfig.DecodeBytes(data)
	if err != nil {
		return nil, fmt.Errorf("ssh config %s:%s; fix the file or pass another with --ssh-config", path, strings.TrimSpace(err.Error()))
	}
	c := &sshConfig{path: path, cfg: cfg, home: home}
	if err := c.validate(); err != nil {
		return nil, err
	}
	return c, nil
}

// validate checks the values drover reads, so a typo stops the run with
// the file and line instead of silently meaning something else.
func (c *sshConfig) validate() error {
	var errs []error
	for _, h := range c.cfg.Hosts {
		for _, n := range h.Nodes {
			kv, ok := n.(*sshconfig.KV)
			if !ok {
				continue
			}
			if msg := checkValue(strings.ToLower(kv.Key), kv.Value); msg != "" {
				errs = append(errs, fmt.Errorf("ssh config %s:%d: %s %q: %s", c.path, kv.Pos().Line, kv.Key, kv.Value, msg))
			}
		}
	}
	return errors.Join(errs...)
}

func checkValue(key, value string) string {
	switch key {
	case "port":
		if n, err := strconv.Atoi(value); err != nil || n <= 0 || n > 65535 {
			return "want a port number (1-65535)"
		}
	case "connecttimeout", "serveraliveinterval":
		if n, err := strconv.Atoi(value); err != nil || n < 0 {
			return "want a number of seconds"
		}
	case "identitiesonly":
		if v := strings.ToLower(value); v != "yes" && v != "no" {
			return "want yes or no"
		}
	case "stricthostkeychecking":
		switch strings.ToLower(value) {
		case "yes", "no", "ask", "off", "accept-new":
		default:
			return "want yes, no, ask, off or accept-new"
		}
	}
	if value == "" {
		return "missing value"
	}
	return ""
}

// resolve returns the settings that apply to alias, the name given on the
// command line (ansible_host or the inventory name).
func (c *sshConfig) resolve(alias string) hostSettings {
	if c == nil {
		return hostSettings{}
	}
	get := func(key string) string {
		v, _ := c.cfg.Get(alias, key)
		return v
	}
	var s hostSettings
	s.HostName = expandTokens(get("HostName"), tokens{host: alias})
	s.User = get("User")
	s.Port, _ = strconv.Atoi(get("Port"))
	s.IdentitiesOnly = strings.EqualFold(get("IdentitiesOnly"), "yes")
	s.ProxyJump = get("ProxyJump")
	s.StrictHostKeyChecking = strings.ToLower(get("StrictHostKeyChecking"))
	if n, err := strconv.Atoi(get("ConnectTimeout")); err == nil {
		s.ConnectTimeout = time.Duration(n) * time.Second
	}
	if n, err := strconv.Atoi(get("ServerAliveInterval")); err == nil {
		s.ServerAliveInterval = time.Duration(n) * time.Second
	}
	tk := tokens{host: orDefault(s.HostName, alias), port: s.Port, user: s.User, home: c.home}
	files, _ := c.cfg.GetAll(alias, "IdentityFile")
	for _, f := range files {
		s.IdentityFiles = append(s.IdentityFiles, expandTokens(f, tk))
	}
	for _, f := range strings.Fields(get("UserKnownHostsFile")) {
		s.UserKnownHostsFiles = append(s.UserKnownHostsFiles, expandTokens(f, tk))
	}
	return s
}

// policyFromSSHConfig maps StrictHostKeyChecking to a policy.
func policyFromSSHConfig(v string) HostKeyPolicy {
	switch strings.ToLower(v) {
	case "accept-new":
		return HostKeyAcceptNew
	case "no", "off":
		return HostKeyOff
	default:
		return HostKeyStrict
	}
}

// tokens are the values of ssh_config's % tokens.
type tokens struct {
	host string
	port int
	user string
	home string
}

// expandTokens expands ~ and the % tokens OpenSSH allows in file names.
func expandTokens(s string, t tokens) string {
	if !strings.ContainsAny(s, "%~") {
		return s
	}
	if t.home != "" {
		s = expandHome(s, t.home)
	}
	var b bytes.Buffer
	for i := 0; i < len(s); i++ {
		if s[i] != '%' || i+1 == len(s) {
			b.WriteByte(s[i])
			continue
		}
		i++
		switch s[i] {
		case '%':
			b.WriteByte('%')
		case 'h':
			b.WriteString(t.host)
		case 'p':
			b.WriteString(strconv.Itoa(firstPositive(t.port, defaultSSHPort)))
		case 'r':
			b.WriteString(t.user)
		case 'd':
			b.WriteString(t.home)
		case 'u':
			if u, err := user.Current(); err == nil {
				b.WriteString(u.Username)
			}
		default:
			b.WriteByte('%')
			b.WriteByte(s[i])
		}
	}
	return b.String()
}
