package tasks

import (
	"net/netip"
	"strconv"
	"strings"
)

// The sections here are ones setup.sh answers from files instead of
// running a command, where the files settle the answer: the shell checks
// the cheap half of each rule and Go the whole, and where Go finds that the
// files do not settle it, setup_followup.sh runs the command after all.

// longBitFromMaps gives getconf LONG_BIT from the longbit section, the
// shell's first /proc/self/maps line: an address beyond 32 bits makes it a
// 64-bit program, as the host's getconf then is.
func (o *setupOutput) longBitFromMaps() (pending bool) {
	s := o.sections["longbit"]
	if s == nil || o.sections["getconf"] != nil {
		return false
	}
	addr, _, _ := strings.Cut(strings.TrimSpace(s.body), "-")
	if len(addr) <= 8 || len(addr) > 16 || !isHex(addr) {
		return true
	}
	o.sections["getconf"] = &setupSection{body: "64\n", rc: 0}
	return false
}

func isHex(s string) bool {
	_, err := strconv.ParseUint(s, 16, 64)
	return err == nil
}

// nsswitchFirst is whether name service looks a database up in one of
// sources first, and stops there on success: nsswitch.conf names the
// database on one line, whose first source is one of them and is not
// followed by a [STATUS=ACTION] that could make it read on.
func nsswitchFirst(conf, db string, sources ...string) bool {
	var services []string
	found := 0
	for _, line := range strings.Split(conf, "\n") {
		line, _, _ = strings.Cut(line, "#")
		name, rest, ok := strings.Cut(strings.TrimLeft(line, " \t"), ":")
		if !ok || name != db {
			continue
		}
		found++
		services = strings.Fields(rest)
	}
	if found != 1 || len(services) == 0 {
		return false
	}
	if len(services) > 1 && strings.HasPrefix(services[1], "[") {
		return false
	}
	for _, s := range sources {
		if services[0] == s {
			return true
		}
	}
	return false
}

// passwdFromFile gives getent passwd's answer for the user's name from
// /etc/passwd, when name service reads it first and it holds the name. Any
// line glibc would read differently from Go (NIS's + and -, leading
// blanks, a field too many or too few, an id that is no number) leaves it
// to getent.
func (o *setupOutput) passwdFromFile() (pending bool) {
	if o.sections["passwdgo"] == nil || o.sections["passwd"] != nil {
		return false
	}
	if !nsswitchFirst(o.files["/etc/nsswitch.conf"], "passwd", "files", "compat") {
		return true
	}
	logname, _ := o.section("logname")
	name := strings.TrimSpace(logname)
	uid := -1
	if id := o.id(); id.ok {
		uid = id.uid
	}
	var byName, byUID string
	for _, line := range strings.Split(o.files["/etc/passwd"], "\n") {
		if line == "" || line[0] == '#' {
			continue
		}
		f := strings.Split(line, ":")
		if len(f) != 7 || f[0] == "" || strings.ContainsAny(line[:1], " \t+-") || !isDigits(f[2]) || !isDigits(f[3]) {
			return true
		}
		if f[0] == name && byName == "" {
			byName = line
		}
		if n, err := strconv.Atoi(f[2]); err == nil && n == uid && byUID == "" {
			byUID = line
		}
	}
	if name == "" || byName == "" {
		return true
	}
	body := byName + "\n"
	if byUID != "" {
		body += byUID + "\n"
	}
	o.sections["passwd"] = &setupSection{body: body, rc: 0}
	return false
}

// fqdnFromHosts gives what getent ahosts and getent hosts would have told
// Python's getfqdn, when name service reads /etc/hosts first and it names
// the node on one line alone: that line's address, then the first line
// with that address, whose names getent hosts prints. A line whose address
// glibc may read where Go cannot leaves it to getent.
func (o *setupOutput) fqdnFromHosts() (pending bool) {
	if o.sections["fqdngo"] == nil || o.sections["fqdn"] != nil {
		return false
	}
	if !nsswitchFirst(o.files["/etc/nsswitch.conf"], "hosts", "files") {
		return true
	}
	node := o.uname().node
	if node == "" {
		return true
	}
	type entry struct {
		addr  netip.Addr
		names []string
	}
	var entries []entry
	var addr netip.Addr
	matches := 0
	for _, line := range strings.Split(o.files["/etc/hosts"], "\n") {
		line, _, _ = strings.Cut(line, "#")
		f := strings.Fields(line)
		if len(f) < 2 {
			continue
		}
		a, err := netip.ParseAddr(f[0])
		if err != nil || a.Zone() != "" {
			return true
		}
		entries = append(entries, entry{a, f[1:]})
		for _, n := range f[1:] {
			if strings.EqualFold(n, node) {
				matches++
				addr = a
				break
			}
		}
	}
	if matches != 1 {
		return true
	}
	for _, e := range entries {
		if e.addr == addr {
			o.sections["fqdn"] = &setupSection{body: addr.String() + " " + strings.Join(e.names, " ") + "\n", rc: -1}
			return false
		}
	}
	return true
}

// capsFromStatus gives capsh --print's "Current:" line from grep's
// capabilities, which are capsh's, where libcap writes them as Go does: none
// ("="), or every capability the kernel has, effective and permitted ("=ep").
func (o *setupOutput) capsFromStatus() (pending bool) {
	if o.sections["capsgo"] == nil || o.sections["capsh"] != nil {
		return false
	}
	caps := map[string]uint64{}
	for _, line := range strings.Split(o.files["/proc/self/status"], "\n") {
		k, v, ok := strings.Cut(line, ":")
		if !ok || (k != "CapInh" && k != "CapPrm" && k != "CapEff") {
			continue
		}
		v = strings.TrimSpace(v)
		n, err := strconv.ParseUint(v, 16, 64)
		if err != nil || len(v) != 16 {
			return true
		}
		caps[k] = n
	}
	inh, hasInh := caps["CapInh"]
	prm, hasPrm := caps["CapPrm"]
	eff, hasEff := caps["CapEff"]
	if !hasInh || !hasPrm || !hasEff || inh != 0 || prm != eff {
		return true
	}
	current := "="
	if prm != 0 {
		last, err := strconv.Atoi(strings.TrimSpace(o.files["/proc/sys/kernel/cap_last_cap"]))
		if err != nil || last < 1 || last > 62 || prm != 1<<(last+1)-1 {
			return true
		}
		current = "=ep"
	}
	o.sections["capsh"] = &setupSection{body: "Current: " + current + "\n", rc: 0}
	return false
}
