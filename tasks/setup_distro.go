package tasks

import (
	"path"
	"regexp"
	"slices"
	"strings"
)

// distroInfo holds what the Python distro library (1.8, as Debian's Ansible
// uses) reads: os-release, lsb_release -a, the first distro release file
// in /etc, /etc/debian_version and, off Linux, uname.
type distroInfo struct {
	osRelease, lsb, release map[string]string
	debianVersion           string
	unameID, unameRelease   string
}

func (o *setupOutput) distro(u uname) distroInfo {
	d := distroInfo{osRelease: map[string]string{}, lsb: map[string]string{}, release: map[string]string{}}
	osr := "/etc/os-release"
	if !strings.Contains(o.exists[osr], "f") && strings.Contains(o.exists["/usr/lib/os-release"], "f") {
		osr = "/usr/lib/os-release"
	}
	if s, ok := o.files[osr]; ok {
		d.osRelease = parseOSRelease(s)
	}
	if s, ok := o.section("lsb_release"); ok {
		for _, line := range strings.Split(s, "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok {
				d.lsb[strings.ToLower(strings.ReplaceAll(k, " ", "_"))] = strings.TrimSpace(v)
			}
		}
	}
	d.release = o.distroReleaseFile()
	if s, ok := o.files["/etc/debian_version"]; ok {
		d.debianVersion, _, _ = strings.Cut(s, "\n")
		d.debianVersion = strings.TrimRight(d.debianVersion, " \t\r")
	}
	if m := reUnameRS.FindStringSubmatch(u.system + " " + u.release); m != nil && m[1] != "Linux" {
		d.unameID, d.unameRelease = strings.ToLower(m[1]), m[2]
	}
	return d
}

// parseOSRelease reads os-release as distro does: shell words, each
// VAR=value one a property, and a codename from VERSION when the file has
// no VERSION_CODENAME.
func parseOSRelease(s string) map[string]string {
	props := map[string]string{}
	for _, w := range shlexPOSIX(s) {
		if k, v, ok := strings.Cut(w, "="); ok {
			props[strings.ToLower(k)] = v
		}
	}
	if v, ok := props["version"]; ok {
		if m := reVersionCodename.FindStringSubmatch(v); m != nil {
			props["codename"] = m[1] + m[2]
			props["release_codename"] = props["codename"]
		}
	}
	if v, ok := props["version_codename"]; ok {
		props["codename"] = v
	} else if v, ok := props["ubuntu_codename"]; ok {
		props["codename"] = v
	}
	return props
}

var (
	reUnameRS         = regexp.MustCompile(`^(\S+)\s+([\d.]+)`)
	reVersionCodename = regexp.MustCompile(`\((\D+)\)|,\s*(\D+)`)
	releaseBasename   = regexp.MustCompile(`^(\w+)[-_](release|version)$`)
	releaseContent    = regexp.MustCompile(`^(?:[^)]*\)(.*)\()? *(?:STL )?([\d.+\-a-z]*\d) *(?:esaeler *)?(.+)`)
)

// distroReleaseFile parses the first /etc/*-release (or _release,
// -version, _version) file, in sorted order, that names a distribution.
func (o *setupOutput) distroReleaseFile() map[string]string {
	var names []string
	for p := range o.files {
		if path.Dir(p) == "/etc" {
			names = append(names, path.Base(p))
		}
	}
	slices.Sort(names)
	for _, b := range names {
		m := releaseBasename.FindStringSubmatch(b)
		if m == nil || slices.Contains([]string{"debian_version", "lsb-release", "oem-release", "os-release", "system-release", "plesk-release", "iredmail-release"}, b) {
			continue
		}
		first, _, _ := strings.Cut(o.files["/etc/"+b], "\n")
		info := parseReleaseLine(first)
		if _, ok := info["name"]; !ok {
			continue
		}
		info["id"] = m[1]
		if strings.Contains(strings.ToLower(info["name"]), "cloudlinux") {
			info["id"] = "cloudlinux"
		}
		return info
	}
	return map[string]string{}
}

// parseReleaseLine is distro's _parse_distro_release_content: the line
// is matched backwards, so the version is the last number in it.
func parseReleaseLine(line string) map[string]string {
	info := map[string]string{}
	m := releaseContent.FindStringSubmatch(reverse(strings.TrimSpace(line)))
	switch {
	case m != nil:
		info["name"] = reverse(m[3])
		if m[2] != "" {
			info["version_id"] = reverse(m[2])
		}
		if m[1] != "" {
			info["codename"] = reverse(m[1])
		}
	case line != "":
		info["name"] = strings.TrimSpace(line)
	}
	return info
}

func reverse(s string) string {
	r := []rune(s)
	slices.Reverse(r)
	return string(r)
}

func (d distroInfo) id() string {
	norm := func(id string, table map[string]string) string {
		id = strings.ReplaceAll(strings.ToLower(id), " ", "_")
		if v, ok := table[id]; ok {
			return v
		}
		return id
	}
	switch {
	case d.osRelease["id"] != "":
		return norm(d.osRelease["id"], map[string]string{"ol": "oracle", "opensuse-leap": "opensuse"})
	case d.lsb["distributor_id"] != "":
		return norm(d.lsb["distributor_id"], map[string]string{"enterpriseenterpriseas": "oracle", "enterpriseenterpriseserver": "oracle",
			"redhatenterpriseworkstation": "rhel", "redhatenterpriseserver": "rhel", "redhatenterprisecomputenode": "rhel"})
	case d.release["id"] != "":
		return norm(d.release["id"], map[string]string{"redhat": "rhel"})
	}
	return norm(d.unameID, nil)
}

func (d distroInfo) version(best bool) string {
	versions := []string{d.osRelease["version_id"], d.lsb["release"], d.release["version_id"],
		parseReleaseLine(d.osRelease["pretty_name"])["version_id"], parseReleaseLine(d.lsb["description"])["version_id"], d.unameRelease}
	if id := d.id(); id == "debian" || slices.Contains(strings.Fields(d.osRelease["id_like"]), "debian") {
		versions = append(versions, d.debianVersion)
	}
	version := ""
	for _, v := range versions {
		if best && (strings.Count(v, ".") > strings.Count(version, ".") || version == "") {
			version = v
		} else if !best && v != "" {
			return v
		}
	}
	return version
}

// codename is Ansible's get_distribution_codename; ok is false for None.
func (d distroInfo) codename() (string, bool) {
	if v, ok := d.osRelease["version_codename"]; ok {
		return v, true
	}
	if v, ok := d.osRelease["ubuntu_codename"]; ok {
		return v, true
	}
	if v, ok := d.lsb["codename"]; ok && d.id() == "ubuntu" {
		return v, true
	}
	c, ok := d.osRelease["codename"]
	if !ok {
		c = d.lsb["codename"]
		if c == "" {
			c = d.release["codename"]
		}
	}
	return c, c != ""
}

// guess is DistributionFiles._guess_distribution.
func (d distroInfo) guess() map[string]any {
	id := d.id()
	name := pyCapitalize(id)
	switch name {
	case "Amzn":
		name = "Amazon"
	case "Rhel":
		name = "Redhat"
	case "":
		name = "OtherLinux"
	}
	version := d.version(false)
	switch id {
	case "centos":
		parts := strings.Split(d.version(true), ".")
		version = strings.Join(parts[:min(2, len(parts))], ".")
	case "debian":
		version = d.version(true)
	}
	if version == "" {
		version = "NA"
	}
	release, ok := d.codename()
	if !ok {
		release = "NA"
	}
	major, _, _ := strings.Cut(version, ".")
	if major == "" {
		major = "NA"
	}
	return map[string]any{"distribution": name, "distribution_version": version, "distribution_release": release, "distribution_major_version": major}
}

// pyCapitalize is Python's str.capitalize.
func pyCapitalize(s string) string {
	if s == "" {
		return s
	}
	r := []rune(strings.ToLower(s))
	r[0] = []rune(strings.ToUpper(string(r[0])))[0]
	return string(r)
}

// osFamilies is Distribution.OS_FAMILY_MAP, inverted.
var osFamilies = func() map[string]string {
	m := map[string]string{}
	for family, names := range map[string][]string{
		"RedHat": {"RedHat", "RHEL", "Fedora", "CentOS", "Scientific", "SLC", "Ascendos", "CloudLinux", "PSBM", "OracleLinux", "OVS",
			"OEL", "Amazon", "Virtuozzo", "XenServer", "Alibaba", "EulerOS", "openEuler", "AlmaLinux", "Rocky", "TencentOS",
			"EuroLinux", "Kylin Linux Advanced Server"},
		"Debian": {"Debian", "Ubuntu", "Raspbian", "Neon", "KDE neon", "Linux Mint", "SteamOS", "Devuan", "Kali", "Cumulus Linux",
			"Pop!_OS", "Parrot", "Pardus GNU/Linux", "Uos", "Deepin", "OSMC"},
		"Suse":       {"SuSE", "SLES", "SLED", "openSUSE", "openSUSE Tumbleweed", "SLES_SAP", "SUSE_LINUX", "openSUSE Leap"},
		"Archlinux":  {"Archlinux", "Antergos", "Manjaro"},
		"Mandrake":   {"Mandrake", "Mandriva"},
		"Solaris":    {"Solaris", "Nexenta", "OmniOS", "OpenIndiana", "SmartOS"},
		"Slackware":  {"Slackware"},
		"Altlinux":   {"Altlinux"},
		"SGML":       {"SGML"},
		"Gentoo":     {"Gentoo", "Funtoo"},
		"Alpine":     {"Alpine"},
		"AIX":        {"AIX"},
		"HP-UX":      {"HPUX"},
		"Darwin":     {"MacOSX"},
		"FreeBSD":    {"FreeBSD", "TrueOS"},
		"ClearLinux": {"Clear Linux OS", "Clear Linux Mix"},
		"DragonFly":  {"DragonflyBSD", "DragonFlyBSD", "Gentoo/DragonflyBSD", "Gentoo/DragonFlyBSD"},
		"NetBSD":     {"NetBSD"},
	} {
		for _, n := range names {
			m[n] = family
		}
	}
	return m
}()

// gatherDistribution is Ansible's DistributionFactCollector.
func gatherDistribution(o *setupOutput, _ map[string]any) map[string]any {
	u := o.uname()
	f := map[string]any{"distribution": u.system, "distribution_release": u.release, "distribution_version": u.version}
	switch u.system {
	case "Linux":
		for k, v := range o.distributionFiles(o.distro(u)) {
			f[k] = v
		}
	default:
		for k, v := range o.bsdDistribution(u) {
			f[k] = v
		}
	}
	name, _ := f["distribution"].(string)
	f["os_family"] = name
	if fam, ok := osFamilies[name]; ok {
		f["os_family"] = fam
	}
	return f
}

// lsbStripQuotes are the characters Ansible strips from lsb values.
const lsbStripQuotes = `'"\`

// gatherLSB is Ansible's LSBFactCollector: lsb_release -a, else
// /etc/lsb-release, where a line without = makes Ansible's parser fail and
// the fact vanish.
func gatherLSB(o *setupOutput, _ map[string]any) map[string]any {
	lsb := map[string]any{}
	if s, ok := o.section("lsb_release"); ok && o.sections["lsb_release"] != nil {
		for _, line := range strings.Split(s, "\n") {
			_, value, ok := strings.Cut(line, ":")
			if !ok {
				continue
			}
			value = strings.TrimSpace(value)
			switch {
			case strings.Contains(line, "LSB Version:"), strings.Contains(line, "Release:"):
				lsb["release"] = value
			case strings.Contains(line, "Distributor ID:"):
				lsb["id"] = value
			case strings.Contains(line, "Description:"):
				lsb["description"] = value
			case strings.Contains(line, "Codename:"):
				lsb["codename"] = value
			}
		}
	}
	if len(lsb) == 0 && o.has("/etc/lsb-release") {
		for _, line := range o.fileLines("/etc/lsb-release") {
			_, value, ok := strings.Cut(line, "=")
			if !ok {
				return nil
			}
			value = strings.TrimSpace(value)
			for _, k := range [][2]string{{"DISTRIB_ID", "id"}, {"DISTRIB_RELEASE", "release"}, {"DISTRIB_DESCRIPTION", "description"}, {"DISTRIB_CODENAME", "codename"}} {
				if strings.Contains(line, k[0]) {
					lsb[k[1]] = value
					break
				}
			}
		}
	}
	if r, ok := lsb["release"].(string); ok {
		lsb["major_release"], _, _ = strings.Cut(r, ".")
	}
	for k, v := range lsb {
		if s := v.(string); s != "" {
			lsb[k] = strings.Trim(s, lsbStripQuotes)
		}
	}
	return map[string]any{"lsb": lsb}
}

// shlexPOSIX splits s as Python's shlex in POSIX mode with whitespace_split:
// quotes group and vanish, a backslash escapes outside quotes (and only \
// and " inside double quotes), and # starts a comment outside quotes.
func shlexPOSIX(s string) []string {
	var words []string
	var cur strings.Builder
	inWord := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\r' || c == '\n':
			if inWord {
				words, inWord = append(words, cur.String()), false
				cur.Reset()
			}
		case c == '#':
			for i < len(s) && s[i] != '\n' {
				i++
			}
			if inWord {
				words, inWord = append(words, cur.String()), false
				cur.Reset()
			}
		case c == '\\':
			inWord = true
			if i+1 < len(s) {
				i++
				cur.WriteByte(s[i])
			}
		case c == '\'' || c == '"':
			inWord = true
			for i++; i < len(s) && s[i] != c; i++ {
				if c == '"' && s[i] == '\\' && i+1 < len(s) && (s[i+1] == '\\' || s[i+1] == '"') {
					i++
				}
				cur.WriteByte(s[i])
			}
		default:
			inWord = true
			cur.WriteByte(c)
		}
	}
	if inWord {
		words = append(words, cur.String())
	}
	return words
}
