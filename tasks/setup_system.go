package tasks

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// uname is the host's `uname -snrvm`: POSIX fixes the order, and only the
// version may hold blanks.
type uname struct{ system, node, release, version, machine string }

func (o *setupOutput) uname() uname {
	if o.host == nil {
		u := o.parseUname()
		o.host = &u
	}
	return *o.host
}

func (o *setupOutput) parseUname() uname {
	s, _ := o.section("uname")
	line, _, _ := strings.Cut(s, "\n")
	f := strings.SplitN(line, " ", 4)
	for len(f) < 4 {
		f = append(f, "")
	}
	u := uname{system: f[0], node: f[1], release: f[2], machine: f[3]}
	if i := strings.LastIndexByte(f[3], ' '); i >= 0 {
		u.version, u.machine = f[3][:i], f[3][i+1:]
	}
	return u
}

var solarisI86 = regexp.MustCompile(`i([3456]86|86pc)`)

// gatherPlatform is Ansible's PlatformFactCollector.
func gatherPlatform(o *setupOutput, _ map[string]any) map[string]any {
	u := o.uname()
	f := map[string]any{"system": u.system, "kernel": u.release, "kernel_version": u.version, "machine": u.machine}
	fqdn := o.fqdn(u.node)
	f["fqdn"] = fqdn
	f["hostname"], _, _ = strings.Cut(u.node, ".")
	f["nodename"] = u.node
	_, domain, _ := strings.Cut(fqdn, ".")
	f["domain"] = domain
	bits := o.userspaceBits(u.machine)
	f["userspace_bits"] = bits
	f["architecture"] = u.machine
	if u.machine == "x86_64" || solarisI86.MatchString(u.machine) {
		if u.machine != "x86_64" {
			f["architecture"] = "i386"
		}
		switch bits {
		case "64":
			f["userspace_architecture"] = "x86_64"
		case "32":
			f["userspace_architecture"] = "i386"
		}
	}
	for _, p := range []string{"/var/lib/dbus/machine-id", "/etc/machine-id"} {
		if id, ok := o.file(p); ok {
			f["machine_id"], _, _ = strings.Cut(id, "\n")
			break
		}
	}
	return f
}

// fqdn follows Python's socket.getfqdn(): the first name of the host's
// address that has a dot, else its canonical name, else the node name.
func (o *setupOutput) fqdn(node string) string {
	s, _ := o.section("fqdn")
	line, _, _ := strings.Cut(strings.TrimSpace(s), "\n")
	if names := strings.Fields(line); len(names) > 1 {
		for _, n := range names[1:] {
			if strings.Contains(n, ".") {
				return n
			}
		}
		return names[1]
	}
	if s, ok := o.section("hostnamef"); ok && strings.TrimSpace(s) != "" {
		return strings.TrimSpace(s)
	}
	return node
}

// userspaceBits is getconf LONG_BIT, or a guess from the machine when the
// host has no getconf.
func (o *setupOutput) userspaceBits(machine string) string {
	if s, ok := o.section("getconf"); ok {
		if s = strings.TrimSpace(s); s == "32" || s == "64" {
			return s
		}
	}
	if strings.Contains(machine, "64") || machine == "s390x" {
		return "64"
	}
	return "32"
}

// idInfo is what `id` said: "uid=0(root) gid=0(root) [euid=...] [egid=...] groups=...".
type idInfo struct {
	uid, gid, euid, egid int
	name                 string
	ok                   bool
}

func (o *setupOutput) id() idInfo {
	if s := o.sections["ids"]; s != nil {
		return o.procIDs(s.body)
	}
	s, _ := o.section("id")
	id := idInfo{uid: -1, gid: -1, euid: -1, egid: -1}
	for _, word := range strings.Fields(s) {
		k, v, _ := strings.Cut(word, "=")
		num, name, _ := strings.Cut(v, "(")
		n, err := strconv.Atoi(num)
		if err != nil {
			continue
		}
		switch k {
		case "uid":
			id.uid, id.name, id.ok = n, strings.TrimSuffix(name, ")"), true
		case "gid":
			id.gid = n
		case "euid":
			id.euid = n
		case "egid":
			id.egid = n
		}
	}
	if id.euid < 0 {
		id.euid = id.uid
	}
	return id
}

// procIDs reads the ids section, the Uid and Gid lines of the shell's
// /proc/self/status ("Uid: REAL EFFECTIVE SAVED FS"), for what `id` would
// say. The only other thing id prints that Go reads, the uid's name, is
// the name of getent's entry for the uid: setup.sh asks for that uid alone
// when no variable names the user, the only time the name is read.
func (o *setupOutput) procIDs(s string) idInfo {
	id := idInfo{uid: -1, gid: -1, euid: -1, egid: -1}
	for _, line := range strings.Split(s, "\n") {
		f := strings.Fields(line)
		if len(f) != 5 {
			continue
		}
		r, err1 := strconv.Atoi(f[1])
		e, err2 := strconv.Atoi(f[2])
		if err1 != nil || err2 != nil {
			continue
		}
		switch f[0] {
		case "Uid:":
			id.uid, id.euid, id.ok = r, e, true
		case "Gid:":
			id.gid, id.egid = r, e
		}
	}
	for _, line := range o.lines("passwd") {
		if e := strings.Split(line, ":"); len(e) == 7 && e[2] == strconv.Itoa(id.uid) {
			id.name = e[0]
			break
		}
	}
	return id
}

// gatherUser is Ansible's UserFactCollector: user_id is getpass.getuser()
// (LOGNAME, USER, LNAME or USERNAME before the uid's name) and the passwd
// entry is that name's, or the uid's.
func gatherUser(o *setupOutput, _ map[string]any) map[string]any {
	id := o.id()
	logname, _ := o.section("logname")
	user := strings.TrimSpace(logname)
	if user == "" {
		user = id.name
	}
	f := map[string]any{"user_id": user}
	if !id.ok {
		return f
	}
	f["real_user_id"], f["effective_user_id"] = id.uid, id.euid
	f["real_group_id"], f["effective_group_id"] = id.gid, id.gid // Ansible reports getgid() for both
	var lines []string
	if s, ok := o.section("passwd"); ok || s != "" {
		lines = strings.Split(s, "\n")
	} else {
		lines = o.fileLines("/etc/passwd")
	}
	var byName, byUID []string
	for _, line := range lines {
		e := strings.Split(line, ":")
		if len(e) != 7 {
			continue
		}
		if e[0] == user && byName == nil {
			byName = e
		}
		if e[2] == strconv.Itoa(id.uid) && byUID == nil {
			byUID = e
		}
	}
	e := byName
	if e == nil {
		e = byUID
	}
	if e == nil {
		return f
	}
	f["user_uid"], f["user_gid"] = atoiDefault(e[2], -1), atoiDefault(e[3], -1)
	f["user_gecos"], f["user_dir"], f["user_shell"] = e[4], e[5], e[6]
	return f
}

// gatherEnv is Ansible's EnvFactCollector: the environment the script
// started with, from `env -0`, or from `env` where lines without = continue
// the value before them.
func gatherEnv(o *setupOutput, _ map[string]any) map[string]any {
	return map[string]any{"env": o.env()}
}

func (o *setupOutput) env() map[string]any {
	if o.environ == nil {
		o.environ = o.parseEnv()
	}
	return o.environ
}

func (o *setupOutput) parseEnv() map[string]any {
	env := map[string]any{}
	if s, ok := o.sections["export"]; ok {
		return parseDashExports(s.body)
	}
	if s, ok := o.sections["env"]; ok {
		last := ""
		for _, line := range strings.Split(strings.TrimSuffix(s.body, "\n"), "\n") {
			if k, v, ok := strings.Cut(line, "="); ok && k != "" {
				env[k], last = v, k
			} else if last != "" {
				env[last] = env[last].(string) + "\n" + line
			}
		}
		return env
	}
	s, _ := o.section("env0")
	for _, entry := range strings.Split(s, "\x00") {
		if k, v, ok := strings.Cut(entry, "="); ok && k != "" {
			env[k] = v
		}
	}
	return env
}

// parseDashExports reads dash's `export -p`: "export NAME='VALUE'" for
// each exported variable, where VALUE's runs of quotes are written in
// double quotes ('it'"'"'s'), and "export NAME" for one exported but
// unset, which its children do not get.
func parseDashExports(s string) map[string]any {
	env := map[string]any{}
	for s != "" {
		rest, ok := strings.CutPrefix(s, "export ")
		if !ok {
			break
		}
		i := strings.IndexAny(rest, "=\n")
		if i < 0 {
			break
		}
		if rest[i] == '\n' {
			s = rest[i+1:]
			continue
		}
		name, rest := rest[:i], rest[i+1:]
		var v strings.Builder
		for rest != "" && (rest[0] == '\'' || rest[0] == '"') {
			end := strings.IndexByte(rest[1:], rest[0])
			if end < 0 {
				return env // cut short: keep what is whole
			}
			v.WriteString(rest[1 : end+1])
			rest = rest[end+2:]
		}
		env[name] = v.String()
		s, _ = strings.CutPrefix(rest, "\n")
	}
	return env
}

// dateLine is one line of `date '+%s %N %z %Z'` (%N only from GNU date).
type dateLine struct {
	t      time.Time
	offset int // seconds east of UTC
	zone   string
	ok     bool
}

func parseDateLine(line string) dateLine {
	f := strings.Fields(line)
	if len(f) == 3 {
		f = []string{f[0], "0", f[1], f[2]}
	}
	if len(f) != 4 {
		return dateLine{}
	}
	sec, err1 := strconv.ParseInt(f[0], 10, 64)
	nsec, err2 := strconv.ParseInt(f[1], 10, 64)
	z := f[2]
	if err1 != nil || err2 != nil || nsec < 0 || nsec > 999_999_999 || len(z) != 5 || (z[0] != '+' && z[0] != '-') {
		return dateLine{}
	}
	hh, err1 := strconv.Atoi(z[1:3])
	mm, err2 := strconv.Atoi(z[3:5])
	if err1 != nil || err2 != nil {
		return dateLine{}
	}
	off := hh*3600 + mm*60
	if z[0] == '-' {
		off = -off
	}
	return dateLine{t: time.Unix(sec, nsec).In(time.FixedZone(f[3], off)), offset: off, zone: f[3], ok: true}
}

// gatherDateTime is Ansible's DateTimeFactCollector, computed from the
// host's clock and zone. tz_dst is CPython's time.tzname[1]: the zone's
// name at T_JUL, or at T_JAN where the zone is further east in January.
func gatherDateTime(o *setupOutput, _ map[string]any) map[string]any {
	lines := o.lines("date")
	if len(lines) == 0 {
		return nil
	}
	now := parseDateLine(lines[0])
	if !now.ok {
		return nil
	}
	t, utc := now.t, now.t.UTC()
	us := fmt.Sprintf("%06d", t.Nanosecond()/1000)
	epoch := strconv.FormatInt(t.Unix(), 10)
	tzDST := now.zone
	if len(lines) >= 3 {
		if jan, jul := parseDateLine(lines[1]), parseDateLine(lines[2]); jan.ok && jul.ok {
			tzDST = jul.zone
			if jan.offset > jul.offset {
				tzDST = jan.zone
			}
		}
	}
	return map[string]any{"date_time": map[string]any{
		"year":                t.Format("2006"),
		"month":               t.Format("01"),
		"weekday":             t.Weekday().String(),
		"weekday_number":      strconv.Itoa(int(t.Weekday())),
		"weeknumber":          fmt.Sprintf("%02d", (t.YearDay()+6-(int(t.Weekday())+6)%7)/7),
		"day":                 t.Format("02"),
		"hour":                t.Format("15"),
		"minute":              t.Format("04"),
		"second":              t.Format("05"),
		"epoch":               epoch,
		"epoch_int":           epoch,
		"date":                t.Format("2006-01-02"),
		"time":                t.Format("15:04:05"),
		"iso8601_micro":       utc.Format("2006-01-02T15:04:05.") + us + "Z",
		"iso8601":             utc.Format("2006-01-02T15:04:05Z"),
		"iso8601_basic":       t.Format("20060102T150405") + us,
		"iso8601_basic_short": t.Format("20060102T150405"),
		"tz":                  now.zone,
		"tz_dst":              tzDST,
		"tz_offset":           t.Format("-0700"),
	}}
}

// gatherCmdline is Ansible's CmdLineFactCollector: /proc/cmdline split as
// shlex.split(posix=False) splits, into a dict and into proc_cmdline, where
// a repeated key collects its values in a list.
func gatherCmdline(o *setupOutput, _ map[string]any) map[string]any {
	data, ok := o.file("/proc/cmdline")
	if !ok {
		return nil
	}
	words, ok := shlexNonPOSIX(data)
	cmdline, proc := map[string]any{}, map[string]any{}
	for _, w := range words {
		k, v, hasValue := strings.Cut(w, "=")
		if !hasValue {
			cmdline[k], proc[k] = true, true
			continue
		}
		cmdline[k] = v
		switch old := proc[k].(type) {
		case nil:
			proc[k] = v
		case []any:
			proc[k] = append(old, v)
		default:
			proc[k] = []any{old, v}
		}
	}
	if !ok { // shlex raised: Ansible keeps empty dicts
		cmdline, proc = map[string]any{}, map[string]any{}
	}
	return map[string]any{"cmdline": cmdline, "proc_cmdline": proc}
}

// shlexNonPOSIX splits s as Python's shlex.split(s, posix=False): on
// blanks, except that a word starting with a quote runs to the closing
// quote, quotes included. ok is false for an unclosed quote.
func shlexNonPOSIX(s string) (words []string, ok bool) {
	const blanks = " \t\r\n"
	for i := 0; i < len(s); {
		switch c := s[i]; {
		case strings.IndexByte(blanks, c) >= 0:
			i++
		case c == '"' || c == '\'':
			end := strings.IndexByte(s[i+1:], c)
			if end < 0 {
				return nil, false
			}
			words = append(words, s[i:i+end+2])
			i += end + 2
		default:
			j := i
			for j < len(s) && strings.IndexByte(blanks, s[j]) < 0 {
				j++
			}
			words = append(words, s[i:j])
			i = j
		}
	}
	return words, true
}

// gatherLoadavg is Ansible's LoadAvgFactCollector.
func gatherLoadavg(o *setupOutput, _ map[string]any) map[string]any {
	f := strings.Fields(func() string { s, _ := o.file("/proc/loadavg"); return s }())
	if len(f) < 3 {
		return nil
	}
	avg := map[string]any{}
	for i, k := range []string{"1m", "5m", "15m"} {
		v, err := strconv.ParseFloat(f[i], 64)
		if err != nil {
			return nil
		}
		avg[k] = v
	}
	return map[string]any{"loadavg": avg}
}

// gatherSSHPubKeys is Ansible's SshPubKeyFactCollector, including its
// stop at the first algorithm found again in a later directory.
func gatherSSHPubKeys(o *setupOutput, _ map[string]any) map[string]any {
	f := map[string]any{}
	for _, dir := range []string{"/etc/ssh", "/etc/openssh", "/etc"} {
		for _, algo := range []string{"dsa", "rsa", "ecdsa", "ed25519"} {
			name := "ssh_host_key_" + algo + "_public"
			if _, ok := f[name]; ok {
				return f
			}
			data, ok := o.file(dir + "/ssh_host_" + algo + "_key.pub")
			if w := strings.Fields(data); ok && len(w) >= 2 {
				f[name], f[name+"_keytype"] = w[1], w[0]
			}
		}
	}
	return f
}

// gatherChroot is Ansible's ChrootFactCollector: / is not the root of
// process 1; when /proc/1/root is out of reach, its inode is not the one
// a file system root has.
func gatherChroot(o *setupOutput, _ map[string]any) map[string]any {
	if v, ok := o.env()["debian_chroot"].(string); ok && v != "" {
		return map[string]any{"is_chroot": true}
	}
	if same, ok := o.sections["rootsame"]; ok {
		return map[string]any{"is_chroot": strings.TrimSpace(same.body) != "1"}
	}
	stat, _ := o.section("chroot")
	roots := strings.Split(strings.TrimSpace(stat), "\n")
	if _, ok := o.section("chroot"); ok && len(roots) == 2 {
		return map[string]any{"is_chroot": roots[0] != roots[1]}
	}
	_, ino, _ := strings.Cut(roots[0], " ") // stat printed "DEV INO" for / before failing
	if ino == "" {
		ls, _ := o.section("chrootino")
		ino, _, _ = strings.Cut(strings.TrimSpace(ls), " ")
	}
	if ino == "" {
		return nil
	}
	rootIno := "2"
	fs, _ := o.section("chrootfs")
	if o.sections["chrootfs"] == nil {
		fs = o.statfsType("/") // setup.sh asked statfs of the mounts for it
	}
	switch {
	case strings.Contains(fs, "btrfs"):
		rootIno = "256"
	case strings.Contains(fs, "xfs"):
		rootIno = "128"
	}
	return map[string]any{"is_chroot": ino != rootIno}
}

// chrootInoFromFdinfo turns the rootino section (the inode number fdinfo
// shows for / opened) into the chrootino section `ls -di /` would have
// given, where / is on a file system whose stat reports the kernel's inode
// number unchanged (ext*, xfs, btrfs; setup.sh chose by mtab, stat -f's type
// decides). It reports whether ls must run.
func (o *setupOutput) chrootInoFromFdinfo() (pending bool) {
	s := o.sections["rootino"]
	if s == nil || o.sections["chrootino"] != nil {
		return false
	}
	fs, _ := o.section("chrootfs")
	if o.sections["chrootfs"] == nil {
		fs = o.statfsType("/")
	}
	switch strings.TrimSpace(fs) {
	case "ext2/ext3", "xfs", "btrfs":
		o.sections["chrootino"] = &setupSection{body: strings.TrimSpace(s.body) + " /\n", rc: 0}
		return false
	}
	return true
}

// gatherSELinux reads selinuxfs and /etc/selinux/config for what Ansible
// asks libselinux. No Python binding is needed, so selinux_python_present
// is true: the facts are as reliable as the binding's.
func gatherSELinux(o *setupOutput, _ map[string]any) map[string]any {
	f := map[string]any{"selinux_python_present": true}
	enforce, ok := o.file("/sys/fs/selinux/enforce")
	if !ok {
		f["selinux"] = map[string]any{"status": "disabled"}
		return f
	}
	s := map[string]any{"status": "enabled", "policyvers": "unknown", "config_mode": "unknown", "mode": "unknown", "type": "unknown"}
	if v, ok := o.file("/sys/fs/selinux/policyvers"); ok {
		if n, err := strconv.Atoi(v); err == nil {
			s["policyvers"] = n
		}
	}
	s["mode"] = map[string]string{"1": "enforcing", "0": "permissive"}[enforce]
	if s["mode"] == "" {
		s["mode"] = "unknown"
	}
	for _, line := range o.fileLines("/etc/selinux/config") {
		k, v, _ := strings.Cut(strings.TrimSpace(line), "=")
		switch v = strings.Trim(strings.TrimSpace(v), `"'`); k {
		case "SELINUX":
			if v == "enforcing" || v == "permissive" || v == "disabled" {
				s["config_mode"] = v
			}
		case "SELINUXTYPE":
			s["type"] = v
		}
	}
	f["selinux"] = s
	return f
}

// gatherAppArmor is Ansible's ApparmorFactCollector.
func gatherAppArmor(o *setupOutput, _ map[string]any) map[string]any {
	status := "disabled"
	if o.has("/sys/kernel/security/apparmor") {
		status = "enabled"
	}
	return map[string]any{"apparmor": map[string]any{"status": status}}
}

// gatherFIPS is Ansible's FipsFactCollector.
func gatherFIPS(o *setupOutput, _ map[string]any) map[string]any {
	v, _ := o.file("/proc/sys/crypto/fips_enabled")
	return map[string]any{"fips": v == "1"}
}

// gatherCaps is Ansible's SystemCapabilitiesFactCollector, from capsh.
func gatherCaps(o *setupOutput, _ map[string]any) map[string]any {
	f := map[string]any{"system_capabilities_enforced": "N/A", "system_capabilities": "N/A"}
	out, ok := o.section("capsh")
	if !ok || o.sections["capsh"] == nil {
		return f
	}
	enforced, caps := "NA", []any{}
	for _, line := range strings.Split(out, "\n") {
		if !strings.HasPrefix(line, "Current:") {
			continue
		}
		if strings.TrimSpace(strings.Split(line, ":")[1]) == "=ep" {
			enforced = "False"
			continue
		}
		enforced, caps = "True", []any{}
		if _, list, ok := strings.Cut(line, "="); ok {
			for _, c := range strings.Split(strings.SplitN(list, "=", 2)[0], ",") {
				caps = append(caps, strings.TrimSpace(c))
			}
		}
	}
	f["system_capabilities_enforced"], f["system_capabilities"] = enforced, caps
	return f
}
