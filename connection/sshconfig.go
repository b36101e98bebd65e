package connection

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/user"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	sshconfig "github.com/kevinburke/ssh_config"
)

// sshConfig is a parsed ssh_config file. A nil *sshConfig resolves every
// host to "nothing set", so callers fall back to OpenSSH's defaults.
//
// Values are looked up as OpenSSH does: blocks are read top to bottom, the
// first value found for a keyword wins (IdentityFile accumulates), Host
// patterns match the alias given on the command line and `Match host`
// patterns match the HostName set so far. Parsing, Host patterns (with `!`
// negation) and Include come from github.com/kevinburke/ssh_config; the
// block walk is ours because that library matches `Match host` against the
// alias and reads `Match host a,b` as one pattern.
type sshConfig struct {
	path  string
	home  string
	cfg   *sshconfig.Config
	match map[*sshconfig.Host]matchBlock // the Match blocks of cfg

	// The controller side of % tokens.
	localUser string
	localHost string
	uid       string
}

// matchBlock is a `Match all` or `Match host pattern,...` block.
type matchBlock struct {
	all   bool
	hosts *sshconfig.Host // carries the host patterns; only Matches is used
}

// hostSettings are the ssh_config values drover honours for one host. Zero
// values mean "not set".
type hostSettings struct {
	HostName              string        // after %h substitution, lowercased as ssh does; "" when not set
	User                  string        // "" when not set
	Port                  int           // 0 when not set
	IdentityFiles         []string      // every IdentityFile that applies, in order, ~ and tokens expanded
	IdentitiesOnly        bool          //
	ProxyJump             string        // "" when not set or "none"
	StrictHostKeyChecking string        // as written, lowercased: "", "yes", "no", "accept-new", "ask", "off", ...
	UserKnownHostsFiles   []string      // expanded; nil when not set or "none"
	ConnectTimeout        time.Duration // 0 when not set
	ServerAliveInterval   time.Duration // 0 when not set
}

// sshKeywords are the keywords drover reads, lowercased.
var sshKeywords = []string{
	"hostname", "user", "port", "identityfile", "identitiesonly", "proxyjump",
	"stricthostkeychecking", "userknownhostsfile", "connecttimeout", "serveraliveinterval",
}

// loadSSHConfig parses the ssh_config file at path. A missing file is no
// error unless explicit is set. A file that does not parse, or that gives a
// keyword drover reads a value OpenSSH would reject, is an error naming the
// file and line. home is the controller user's home, for ~ and %d.
func loadSSHConfig(path string, explicit bool, home string) (*sshConfig, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) && !explicit {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("connection: read ssh config: %w; check --ssh-config", err)
	}
	cfg, err := sshconfig.DecodeBytes(data)
	if err != nil {
		return nil, fmt.Errorf("connection: ssh config %s%s; fix the file or choose another with --ssh-config", path, parseErrorText(err))
	}
	c := &sshConfig{path: path, home: home, cfg: cfg, match: map[*sshconfig.Host]matchBlock{}}
	c.localUser, c.uid = currentUserAndID()
	c.localHost, _ = os.Hostname()
	if err := c.check(matchLines(data)); err != nil {
		return nil, fmt.Errorf("connection: ssh config %w; fix that line or choose another file with --ssh-config", err)
	}
	return c, nil
}

var parsePos = regexp.MustCompile(`^\((\d+), (\d+)\): (?:ssh_config: )?`)

// parseErrorText turns the library's "(line, col): msg" into ":line:col:
// msg", to follow the file name, and keeps it on one line.
func parseErrorText(err error) string {
	msg := strings.Join(strings.Fields(err.Error()), " ")
	if m := parsePos.FindStringSubmatch(msg); m != nil {
		return ":" + m[1] + ":" + m[2] + ": " + msg[len(m[0]):]
	}
	return ": " + strings.TrimPrefix(msg, "ssh_config: ")
}

var matchLine = regexp.MustCompile(`(?i)^\s*match(\s|=)`)

// matchLines returns the line numbers of the Match directives in data, in
// order: the library keeps no position for them.
func matchLines(data []byte) []int {
	var lines []int
	for i, l := range strings.Split(string(data), "\n") {
		if matchLine.MatchString(l) {
			lines = append(lines, i+1)
		}
	}
	return lines
}

// check records the Match blocks and validates every value drover reads,
// returning the first problem as "file:line: ...".
func (c *sshConfig) check(matchAt []int) error {
	nMatch := 0
	for _, h := range c.cfg.Hosts {
		words, ok := matchWords(h)
		if ok {
			line := 0
			if nMatch < len(matchAt) {
				line = matchAt[nMatch]
			}
			nMatch++
			m, err := parseMatch(words)
			if err != nil {
				return fmt.Errorf("%s:%d: %w", c.path, line, err)
			}
			c.match[h] = m
		}
		for _, n := range h.Nodes {
			kv, ok := n.(*sshconfig.KV)
			if !ok {
				continue
			}
			if msg := checkValue(strings.ToLower(kv.Key), kv.Value); msg != "" {
				return fmt.Errorf("%s:%d: %s %q: %s", c.path, kv.Pos().Line, kv.Key, kv.Value, msg)
			}
		}
	}
	return nil
}

// matchWords returns the words after "Match" when h is a Match block. The
// library marks Match blocks only in their printed form.
func matchWords(h *sshconfig.Host) ([]string, bool) {
	head, _, _ := strings.Cut(h.String(), "\n")
	words := strings.Fields(head)
	if len(words) < 2 || !strings.EqualFold(words[0], "match") {
		return nil, false
	}
	words = words[1:]
	if words[0] == "=" {
		words = words[1:]
	}
	return words, true
}

// matchCriteria are the Match criteria of ssh_config(5); only all and host
// are supported.
var matchCriteria = map[string]bool{
	"all": true, "canonical": true, "final": true, "exec": true, "localnetwork": true, "host": true,
	"originalhost": true, "tagged": true, "command": true, "user": true, "localuser": true, "version": true,
	"sessiontype": true,
}

func parseMatch(words []string) (matchBlock, error) {
	crit := strings.ToLower(words[0])
	switch {
	case crit == "all" && len(words) == 1:
		return matchBlock{all: true}, nil
	case crit == "host" && len(words) == 2:
		h := &sshconfig.Host{}
		for _, p := range strings.Split(strings.ToLower(words[1]), ",") { // ssh lowercases both sides
			if p == "" {
				continue
			}
			pat, err := sshconfig.NewPattern(p)
			if err != nil {
				return matchBlock{}, fmt.Errorf("pattern %q of Match host: %w", p, err)
			}
			h.Patterns = append(h.Patterns, pat)
		}
		return matchBlock{hosts: h}, nil
	}
	for _, w := range words[1:] {
		if matchCriteria[strings.ToLower(w)] {
			return matchBlock{}, fmt.Errorf("%q: drover supports only \"Match all\" and \"Match host PATTERNS\" on their own; use a Host block", "Match "+strings.Join(words, " "))
		}
	}
	return matchBlock{}, fmt.Errorf("%q: want \"Match all\" or \"Match host PATTERN[,PATTERN...]\"", "Match "+strings.Join(words, " "))
}

// checkValue returns why value is not valid for key, or "".
func checkValue(key, value string) string {
	if value == "" {
		return "missing value"
	}
	switch key {
	case "port":
		if n, err := strconv.Atoi(value); err != nil || n <= 0 || n > 65535 {
			return "want a port number (1-65535)"
		}
	case "connecttimeout", "serveraliveinterval":
		if _, err := parseSSHTime(value); err != nil {
			return "want a time such as 10, 30s or 1m"
		}
	case "identitiesonly":
		if _, ok := parseFlag(value); !ok {
			return "want yes or no"
		}
	case "stricthostkeychecking":
		switch strings.ToLower(value) {
		case "yes", "no", "ask", "off", "accept-new", "true", "false":
		default:
			return "want yes, no, ask, off or accept-new"
		}
	case "hostname", "user", "proxyjump": // IdentityFile may be a quoted path with spaces
		if strings.ContainsAny(value, " \t") {
			return "want one value"
		}
	}
	return ""
}

// parseFlag reads an OpenSSH yes/no flag.
func parseFlag(v string) (bool, bool) {
	switch strings.ToLower(v) {
	case "yes", "true":
		return true, true
	case "no", "false":
		return false, true
	}
	return false, false
}

// parseSSHTime reads an OpenSSH time value: seconds, or a sequence such as
// 1h30m with the units s, m, h, d and w. "" and "none" mean not set.
func parseSSHTime(v string) (time.Duration, error) {
	if v == "" || strings.EqualFold(v, "none") {
		return 0, nil
	}
	units := map[byte]time.Duration{'s': time.Second, 'm': time.Minute, 'h': time.Hour, 'd': 24 * time.Hour, 'w': 7 * 24 * time.Hour}
	var total time.Duration
	for rest := v; rest != ""; {
		i := 0
		for i < len(rest) && '0' <= rest[i] && rest[i] <= '9' {
			i++
		}
		if i == 0 || i > 9 {
			return 0, fmt.Errorf("invalid time %q", v)
		}
		n, _ := strconv.Atoi(rest[:i])
		unit := time.Second
		if i < len(rest) {
			u, ok := units[rest[i]|0x20] // ASCII lower case
			if !ok {
				return 0, fmt.Errorf("invalid time %q", v)
			}
			unit = u
			i++
		}
		total += time.Duration(n) * unit
		rest = rest[i:]
	}
	return total, nil
}

// resolve returns the settings that apply to alias, the name ssh would be
// given on its command line (ansible_host, else the inventory name). %r and
// %p in file names take ssh_config's User and Port, else the controller's
// user and 22: values from the inventory are not known here.
func (c *sshConfig) resolve(alias string) hostSettings {
	if c == nil {
		return hostSettings{}
	}
	v := c.lookup(alias)
	first := func(key string) string {
		if vals := v[key]; len(vals) > 0 {
			return vals[0]
		}
		return ""
	}
	s := hostSettings{
		HostName:              hostNameFor(first("hostname"), alias),
		User:                  first("user"),
		StrictHostKeyChecking: strings.ToLower(first("stricthostkeychecking")),
	}
	s.Port, _ = strconv.Atoi(first("port"))
	s.IdentitiesOnly, _ = parseFlag(first("identitiesonly"))
	if pj := first("proxyjump"); !strings.EqualFold(pj, "none") {
		s.ProxyJump = pj
	}
	s.ConnectTimeout, _ = parseSSHTime(first("connecttimeout"))
	s.ServerAliveInterval, _ = parseSSHTime(first("serveraliveinterval"))
	tk := c.tokens(alias, s)
	for _, f := range v["identityfile"] {
		s.IdentityFiles = append(s.IdentityFiles, tk.expand(f))
	}
	if files := first("userknownhostsfile"); !strings.EqualFold(files, "none") {
		for _, f := range strings.Fields(files) {
			s.UserKnownHostsFiles = append(s.UserKnownHostsFiles, tk.expand(f))
		}
	}
	return s
}

// hostNameFor expands HostName's %h and %% tokens, the only ones it takes,
// and lowercases the result as ssh does.
func hostNameFor(v, alias string) string {
	if v == "" {
		return ""
	}
	r := strings.NewReplacer("%%", "%", "%h", alias)
	return strings.ToLower(r.Replace(v))
}

// lookup collects the values of sshKeywords that apply to alias: the first
// value of each keyword, every IdentityFile. Keys are lowercased.
func (c *sshConfig) lookup(alias string) map[string][]string {
	v := map[string][]string{}
	add := func(key, val string) {
		if key == "identityfile" || len(v[key]) == 0 {
			v[key] = append(v[key], val)
		}
	}
	for _, h := range c.cfg.Hosts {
		if !c.matches(h, alias, v) {
			continue
		}
		for _, n := range h.Nodes {
			switch n := n.(type) {
			case *sshconfig.KV:
				if k := strings.ToLower(n.Key); slices.Contains(sshKeywords, k) {
					add(k, n.Value)
				}
			case *sshconfig.Include:
				// Included files are matched by the library (against the
				// alias, also for Match host).
				for _, k := range sshKeywords {
					if k == "identityfile" {
						files, _ := n.GetAll(alias, k)
						v[k] = append(v[k], files...)
					} else if val := n.Get(alias, k); val != "" {
						add(k, val)
					}
				}
			}
		}
	}
	return v
}

// matches reports whether block h applies to alias, given the values found
// so far.
func (c *sshConfig) matches(h *sshconfig.Host, alias string, found map[string][]string) bool {
	m, ok := c.match[h]
	switch {
	case !ok:
		return h.Matches(alias)
	case m.all:
		return true
	}
	host := alias
	if hn := found["hostname"]; len(hn) > 0 {
		host = hostNameFor(hn[0], alias)
	}
	return m.hosts.Matches(host)
}

// tokens are the values of the % tokens OpenSSH expands in file names.
type tokens struct {
	alias, host, remoteUser, port string
	localUser, localHost, uid     string
	home                          string
}

func (c *sshConfig) tokens(alias string, s hostSettings) tokens {
	return tokens{
		alias:      alias,
		host:       orDefault(s.HostName, strings.ToLower(alias)),
		remoteUser: orDefault(s.User, c.localUser),
		port:       strconv.Itoa(firstPositive(s.Port, defaultSSHPort)),
		localUser:  c.localUser,
		localHost:  c.localHost,
		uid:        c.uid,
		home:       c.home,
	}
}

// expand expands a leading ~, then the tokens %%, %d, %h, %i, %L, %l, %n,
// %p, %r and %u, then ${VAR} environment references, as OpenSSH does for
// IdentityFile and UserKnownHostsFile. Unknown tokens and unset variables
// are left as written, so the file name in a later error shows them.
func (t tokens) expand(s string) string {
	if t.home != "" {
		s = expandHome(s, t.home)
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		switch {
		case s[i] == '%' && i+1 < len(s):
			if v, ok := t.token(s[i+1]); ok {
				b.WriteString(v)
				i++
				continue
			}
		case s[i] == '$' && i+1 < len(s) && s[i+1] == '{':
			if end := strings.IndexByte(s[i:], '}'); end > 0 {
				if v, ok := os.LookupEnv(s[i+2 : i+end]); ok {
					b.WriteString(v)
					i += end
					continue
				}
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

func (t tokens) token(c byte) (string, bool) {
	switch c {
	case '%':
		return "%", true
	case 'd':
		return t.home, true
	case 'h':
		return t.host, true
	case 'i':
		return t.uid, true
	case 'L':
		short, _, _ := strings.Cut(t.localHost, ".")
		return short, true
	case 'l':
		return t.localHost, true
	case 'n':
		return t.alias, true
	case 'p':
		return t.port, true
	case 'r':
		return t.remoteUser, true
	case 'u':
		return t.localUser, true
	}
	return "", false
}

func currentUserAndID() (name, uid string) {
	uid = strconv.Itoa(os.Getuid())
	if u, err := user.Current(); err == nil {
		return u.Username, uid
	}
	return os.Getenv("USER"), uid
}

// policyFromSSHConfig maps a StrictHostKeyChecking value to a policy: yes
// and ask (drover never asks) are strict, accept-new is accept-new, no and
// off turn checking off. Anything else, including "", is strict.
func policyFromSSHConfig(v string) HostKeyPolicy {
	switch strings.ToLower(v) {
	case "accept-new":
		return HostKeyAcceptNew
	case "no", "off", "false":
		return HostKeyOff
	default:
		return HostKeyStrict
	}
}
