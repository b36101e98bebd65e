package tasks

import (
	"regexp"
	"strings"
)

// distFiles is DistributionFiles.OSDIST_LIST: the files tried in order;
// the first one whose parser accepts it names the distribution.
var distFiles = []struct {
	path, name string
	allowEmpty bool
}{
	{"/etc/altlinux-release", "Altlinux", false},
	{"/etc/oracle-release", "OracleLinux", false},
	{"/etc/slackware-version", "Slackware", false},
	{"/etc/centos-release", "CentOS", false},
	{"/etc/redhat-release", "RedHat", false},
	{"/etc/vmware-release", "VMwareESX", true},
	{"/etc/openwrt_release", "OpenWrt", false},
	{"/etc/os-release", "Amazon", false},
	{"/etc/system-release", "Amazon", false},
	{"/etc/alpine-release", "Alpine", false},
	{"/etc/arch-release", "Archlinux", true},
	{"/etc/os-release", "Archlinux", false},
	{"/etc/os-release", "SUSE", false},
	{"/etc/SuSE-release", "SUSE", false},
	{"/etc/gentoo-release", "Gentoo", false},
	{"/etc/os-release", "Debian", false},
	{"/etc/lsb-release", "Debian", false},
	{"/etc/lsb-release", "Mandriva", false},
	{"/etc/sourcemage-release", "SMGL", false},
	{"/usr/lib/os-release", "ClearLinux", false},
	{"/etc/coreos/update.conf", "Coreos", false},
	{"/etc/os-release", "Flatcar", false},
	{"/etc/os-release", "NA", false},
}

var distSearch = map[string]string{"OracleLinux": "Oracle Linux", "RedHat": "Red Hat", "Altlinux": "ALT", "SMGL": "Source Mage GNU/Linux"}

// distributionFiles is DistributionFiles.process_dist_files.
func (o *setupOutput) distributionFiles(d distroInfo) map[string]any {
	f := d.guess()
	for _, df := range distFiles {
		if !o.has(df.path) || !df.allowEmpty && !o.nonEmpty(df.path) {
			continue
		}
		if df.allowEmpty {
			f["distribution"], f["distribution_file_path"], f["distribution_file_variety"] = df.name, df.path, df.name
			break
		}
		data, _ := o.file(df.path)
		parsed, facts := parseDistFile(df.name, strings.Trim(data, lsbStripQuotes), df.path, f, d, o)
		if parsed {
			f["distribution"], f["distribution_file_path"], f["distribution_file_variety"] = df.name, df.path, df.name
			f["distribution_file_parsed"] = true
			for k, v := range facts {
				f[k] = v
			}
			break
		}
	}
	return f
}

func group(re *regexp.Regexp, s string, n int) (string, bool) {
	m := re.FindStringSubmatch(s)
	if m == nil || n >= len(m) {
		return "", false
	}
	return m[n], true
}

var (
	reDebianRelease  = regexp.MustCompile(`PRETTY_NAME=[^(]+ \(?([^)]+?)\)`)
	reDebianMinor    = regexp.MustCompile(`(\d+)\.(\d+)`)
	reDistribRelease = regexp.MustCompile(`DISTRIB_RELEASE=(.*)`)
	reDevuanRelease  = regexp.MustCompile(`PRETTY_NAME="?[^("]+ \(?([^) "]+)\)?`)
	reQuotedVersion  = regexp.MustCompile(`VERSION_ID="(.*)"`)
	reVersionID      = regexp.MustCompile(`VERSION_ID=(.*)`)
	reCumulusRelease = regexp.MustCompile(`VERSION="(.*)"`)
	reCodename       = regexp.MustCompile(`VERSION_CODENAME="?([^"]+)"?`)
	reSlackware      = regexp.MustCompile(`\w+[.]\w+\+?`)
	reOpenWrtVersion = regexp.MustCompile(`DISTRIB_RELEASE="(.*)"`)
	reOpenWrtRelease = regexp.MustCompile(`DISTRIB_CODENAME="(.*)"`)
	reSUSEName       = regexp.MustCompile(`^NAME=(.*)`)
	reSUSEVersion    = regexp.MustCompile(`^VERSION_ID="?([0-9]+\.?[0-9]*)"?`)
	reSUSERelease    = regexp.MustCompile(`^VERSION_ID="?[0-9]+\.?([0-9]*)"?`)
	reNAName         = regexp.MustCompile(`^NAME=(.*)`)
	reNAVersion      = regexp.MustCompile(`^VERSION=(.*)`)
	reCoreosGroup    = regexp.MustCompile(`^GROUP=(.*)`)
	reFlatcarVersion = regexp.MustCompile(`VERSION=(.*)`)
	reClearName      = regexp.MustCompile(`NAME="(.*)"`)
	reClearID        = regexp.MustCompile(`ID=(.*)`)
)

// distFile is what a parse_distribution_file_NAME method is given: the
// file's content (stripped of quotes at its ends), its path, the facts so
// far, and the host's distro data.
type distFile struct {
	data, path string
	got        map[string]any
	d          distroInfo
	o          *setupOutput
}

// distParsers are Ansible's parse_distribution_file_NAME methods; a name
// without one (Gentoo) never matches, as in Ansible.
var distParsers = map[string]func(distFile) (bool, map[string]any){
	"Archlinux": func(df distFile) (bool, map[string]any) {
		return strings.Contains(df.data, "Arch Linux"), map[string]any{}
	},
	"Slackware": parseSlackware,
	"Amazon":    func(df distFile) (bool, map[string]any) { return parseAmazon(df.data, df.path) },
	"OpenWrt":   func(df distFile) (bool, map[string]any) { return parseDistribRelease(df.data, "OpenWrt") },
	"Mandriva":  func(df distFile) (bool, map[string]any) { return parseDistribRelease(df.data, "Mandriva") },
	"Alpine": func(df distFile) (bool, map[string]any) {
		return true, map[string]any{"distribution": "Alpine", "distribution_version": df.data}
	},
	"SUSE":       parseSUSEFile,
	"Debian":     func(df distFile) (bool, map[string]any) { return parseDebian(df.data, df.path, df.o) },
	"NA":         parseNA,
	"Coreos":     parseCoreos,
	"Flatcar":    parseFlatcar,
	"ClearLinux": parseClearLinux,
	"CentOS":     parseCentOS,
}

// parseDistFile is DistributionFiles._parse_dist_file.
func parseDistFile(name, data, path string, got map[string]any, d distroInfo, o *setupOutput) (bool, map[string]any) {
	if s, ok := distSearch[name]; ok {
		f := map[string]any{}
		if strings.Contains(data, s) {
			f["distribution"], f["distribution_file_search_string"] = name, s
		} else if w := strings.Fields(data); len(w) > 0 {
			f["distribution"] = w[0]
		}
		return true, f
	}
	if p, ok := distParsers[name]; ok {
		return p(distFile{data: data, path: path, got: got, d: d, o: o})
	}
	return false, map[string]any{}
}

func parseSlackware(df distFile) (bool, map[string]any) {
	f := map[string]any{}
	if !strings.Contains(df.data, "Slackware") {
		return false, f
	}
	f["distribution"] = "Slackware"
	if v := reSlackware.FindString(df.data); v != "" {
		f["distribution_version"] = v
	}
	return true, f
}

// parseDistribRelease reads OpenWrt's and Mandriva's DISTRIB_ lines.
func parseDistribRelease(data, name string) (bool, map[string]any) {
	f := map[string]any{}
	if !strings.Contains(data, name) {
		return false, f
	}
	f["distribution"] = name
	if v, ok := group(reOpenWrtVersion, data, 1); ok {
		f["distribution_version"] = v
	}
	if v, ok := group(reOpenWrtRelease, data, 1); ok {
		f["distribution_release"] = v
	}
	return true, f
}

func parseSUSEFile(df distFile) (bool, map[string]any) {
	ok, f := parseSUSE(df.data, df.path)
	if ok && strings.HasSuffix(df.o.links["/etc/products.d/baseproduct"], "SLES_SAP.prod") {
		f["distribution"] = "SLES_SAP"
	}
	return ok, f
}

func parseNA(df distFile) (bool, map[string]any) {
	f := map[string]any{}
	for _, line := range strings.Split(df.data, "\n") {
		if v, ok := group(reNAName, line, 1); ok {
			f["distribution"] = strings.Trim(v, `"`)
		}
		if v, ok := group(reNAVersion, line, 1); ok && df.got["distribution_version"] == "NA" {
			f["distribution_version"] = strings.Trim(v, `"`)
		}
	}
	return true, f
}

func parseCoreos(df distFile) (bool, map[string]any) {
	f := map[string]any{}
	if strings.ToLower(pyCapitalize(df.d.id())) != "coreos" || df.data == "" {
		return false, f
	}
	if v, ok := group(reCoreosGroup, df.data, 1); ok {
		f["distribution_release"] = strings.Trim(v, `"`)
	}
	return true, f
}

func parseFlatcar(df distFile) (bool, map[string]any) {
	f := map[string]any{}
	if strings.ToLower(df.d.id()) != "flatcar" || df.data == "" {
		return false, f
	}
	if v, ok := group(reFlatcarVersion, df.data, 1); ok {
		v = strings.Trim(v, `"`)
		f["distribution_major_version"], _, _ = strings.Cut(v, ".")
		f["distribution_version"] = v
	}
	return true, f
}

func parseClearLinux(df distFile) (bool, map[string]any) {
	f := map[string]any{}
	if v, ok := group(reClearName, df.data, 1); ok {
		if !strings.Contains(v, "Clear Linux") {
			return false, f
		}
		f["distribution"] = v
	}
	if v, ok := group(reVersionID, df.data, 1); ok {
		f["distribution_major_version"], f["distribution_version"] = v, v
	}
	if v, ok := group(reClearID, df.data, 1); ok {
		f["distribution_release"] = v
	}
	return true, f
}

func parseCentOS(df distFile) (bool, map[string]any) {
	switch {
	case strings.Contains(df.data, "CentOS Stream"):
		return true, map[string]any{"distribution_release": "Stream"}
	case strings.Contains(df.data, "TencentOS Server"):
		return true, map[string]any{"distribution": "TencentOS"}
	}
	return false, map[string]any{}
}

func parseAmazon(data, path string) (bool, map[string]any) {
	f := map[string]any{}
	if !strings.Contains(data, "Amazon") {
		return false, f
	}
	f["distribution"] = "Amazon"
	if path == "/etc/os-release" {
		if v, ok := group(reQuotedVersion, data, 1); ok {
			f["distribution_version"] = v
			parts := strings.Split(v, ".")
			major, minor := parts[0], "NA"
			if len(parts) > 1 {
				minor = parts[1]
			}
			f["distribution_major_version"], f["distribution_minor_version"] = major, minor
		}
		return true, f
	}
	version := "NA"
	for _, w := range strings.Fields(data) {
		if isDigits(w) {
			version = w
			break
		}
	}
	f["distribution_version"] = version
	return true, f
}

func parseSUSE(data, path string) (bool, map[string]any) {
	f := map[string]any{}
	lower := strings.ToLower(data)
	if !strings.Contains(lower, "suse") {
		return false, f
	}
	if path == "/etc/os-release" {
		for _, line := range strings.Split(data, "\n") {
			if v, ok := group(reSUSEName, line, 1); ok {
				f["distribution"] = strings.Trim(v, `"`)
			}
			if v, ok := group(reSUSEVersion, line, 1); ok {
				f["distribution_version"] = v
				f["distribution_major_version"], _, _ = strings.Cut(v, ".")
			}
			if strings.Contains(lower, "open") {
				if v, ok := group(reSUSERelease, line, 1); ok {
					f["distribution_release"] = v
				}
			} else if strings.Contains(lower, "enterprise") && strings.Contains(line, "VERSION_ID") {
				v, _ := group(reSUSERelease, line, 1)
				if v == "" {
					v = "0" // no minor number: the first release
				}
				f["distribution_release"] = v
			}
		}
	}
	return true, f
}

func parseDebian(data, path string, o *setupOutput) (bool, map[string]any) {
	f := map[string]any{}
	setVersion := func(re *regexp.Regexp) {
		if v, ok := group(re, data, 1); ok {
			f["distribution_version"] = v
			f["distribution_major_version"], _, _ = strings.Cut(v, ".")
		}
	}
	switch {
	case strings.Contains(data, "Debian") || strings.Contains(data, "Raspbian"):
		f["distribution"] = "Debian"
		if v, ok := group(reDebianRelease, data, 1); ok {
			f["distribution_release"] = v
		}
		for _, line := range o.fileLines("/etc/debian_version") {
			if m := reDebianMinor.FindStringSubmatch(strings.TrimSpace(line)); m != nil {
				f["distribution_minor_version"] = m[2]
			}
		}
	case strings.Contains(data, "Ubuntu"):
		f["distribution"] = "Ubuntu"
	case strings.Contains(data, "SteamOS"):
		f["distribution"] = "SteamOS"
	case (path == "/etc/lsb-release" || path == "/etc/os-release") && (strings.Contains(data, "Kali") || strings.Contains(data, "Parrot")):
		f["distribution"] = "Parrot"
		if strings.Contains(data, "Kali") {
			f["distribution"] = "Kali"
		}
		if v, ok := group(reDistribRelease, data, 1); ok {
			f["distribution_release"] = v
		}
	case strings.Contains(data, "Devuan"):
		f["distribution"] = "Devuan"
		if v, ok := group(reDevuanRelease, data, 1); ok {
			f["distribution_release"] = v
		}
		if v, ok := group(reQuotedVersion, data, 1); ok {
			f["distribution_version"], f["distribution_major_version"] = v, v
		}
	case strings.Contains(data, "Cumulus"):
		f["distribution"] = "Cumulus Linux"
		if v, ok := group(reVersionID, data, 1); ok {
			if parts := strings.Split(v, "."); len(parts) == 3 { // Ansible fails on other shapes
				f["distribution_version"], f["distribution_major_version"] = v, parts[0]
			}
		}
		if v, ok := group(reCumulusRelease, data, 1); ok {
			f["distribution_release"] = v
		}
	case strings.Contains(data, "Mint"):
		f["distribution"] = "Linux Mint"
		setVersion(reQuotedVersion)
	case strings.Contains(data, "UOS") || strings.Contains(data, "Uos") || strings.Contains(data, "uos"):
		f["distribution"] = "Uos"
		if v, ok := group(reCodename, data, 1); ok {
			f["distribution_release"] = v
		}
		setVersion(reQuotedVersion)
	case strings.Contains(data, "Deepin") || strings.Contains(data, "deepin"):
		f["distribution"] = "Deepin"
		if v, ok := group(reCodename, data, 1); ok {
			f["distribution_release"] = v
		}
		setVersion(reQuotedVersion)
	default:
		return false, f
	}
	return true, f
}

func isDigits(s string) bool {
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return s != ""
}

var (
	reFreeBSD  = regexp.MustCompile(`(\d+)\.(\d+)-(RELEASE|STABLE|CURRENT|RC|PRERELEASE).*`)
	reOpenBSD  = regexp.MustCompile(`^OpenBSD\s[0-9]+.[0-9]+-(\S+)\s.*`)
	reDragonFl = regexp.MustCompile(`v(\d+)\.(\d+)\.(\d+)-(RELEASE|STABLE|CURRENT).*`)
	reNetBSD   = regexp.MustCompile(`^NetBSD\s(\d+)\.(\d+)\s\((GENERIC)\).*`)
)

// bsdDistribution is Distribution.get_distribution_SYSTEM for the systems
// other than Linux that drover knows (AIX, HP-UX and SunOS keep uname's).
func (o *setupOutput) bsdDistribution(u uname) map[string]any {
	f := map[string]any{}
	kern, _ := o.section("kernver")
	switch u.system {
	case "Darwin":
		f["distribution"] = "MacOSX"
		if w := strings.Fields(func() string { s, _ := o.section("swvers"); return s }()); len(w) > 0 {
			v := w[len(w)-1]
			f["distribution_major_version"], _, _ = strings.Cut(v, ".")
			f["distribution_version"] = v
		}
	case "FreeBSD":
		if strings.Contains(u.version, "trueos") {
			f["distribution"] = "TrueOS"
		}
		if m := reFreeBSD.FindStringSubmatch(u.release); m != nil {
			f["distribution_major_version"], f["distribution_version"] = m[1], m[1]+"."+m[2]
		}
	case "OpenBSD":
		f["distribution_version"], f["distribution_release"] = u.release, "release"
		if m := reOpenBSD.FindStringSubmatch(kern); m != nil {
			f["distribution_release"] = m[1]
		}
	case "DragonFly":
		if m := reDragonFl.FindStringSubmatch(kern); m != nil {
			f["distribution_major_version"], f["distribution_version"] = m[1], m[1]+"."+m[2]+"."+m[3]
		}
	case "NetBSD":
		if m := reNetBSD.FindStringSubmatch(kern); m != nil {
			f["distribution_major_version"], f["distribution_version"] = m[1], m[1]+"."+m[2]
		} else {
			f["distribution_major_version"], _, _ = strings.Cut(u.release, ".")
			f["distribution_version"] = u.release
		}
	}
	return f
}
