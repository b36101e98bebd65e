package tasks

import (
	"path"
	"regexp"
	"strconv"
	"strings"
)

// pkgMgrs is Ansible's PKG_MGRS: the last one present wins.
var pkgMgrs = [][2]string{
	{"/usr/bin/rpm-ostree", "atomic_container"}, {"/usr/bin/yum", "yum"}, {"/usr/bin/dnf", "dnf"},
	{"/usr/bin/apt-get", "apt"}, {"/usr/bin/zypper", "zypper"}, {"/usr/sbin/urpmi", "urpmi"},
	{"/usr/bin/pacman", "pacman"}, {"/bin/opkg", "opkg"}, {"/usr/pkg/bin/pkgin", "pkgin"},
	{"/opt/local/bin/pkgin", "pkgin"}, {"/opt/tools/bin/pkgin", "pkgin"}, {"/opt/local/bin/port", "macports"},
	{"/usr/local/bin/brew", "homebrew"}, {"/opt/homebrew/bin/brew", "homebrew"}, {"/sbin/apk", "apk"},
	{"/usr/sbin/pkg", "pkgng"}, {"/usr/sbin/swlist", "swdepot"}, {"/usr/bin/emerge", "portage"},
	{"/usr/sbin/pkgadd", "svr4pkg"}, {"/usr/bin/pkg", "pkg5"}, {"/usr/bin/xbps-install", "xbps"},
	{"/usr/local/sbin/pkg", "pkgng"}, {"/usr/bin/swupd", "swupd"}, {"/usr/sbin/sorcery", "sorcery"},
	{"/usr/bin/installp", "installp"}, {"/QOpenSys/pkgs/bin/yum", "yum"},
}

// gatherPkgMgr is Ansible's PkgMgrFactCollector (and, on OpenBSD, its
// OpenBSDPkgMgrFactCollector).
func gatherPkgMgr(o *setupOutput, got map[string]any) map[string]any {
	if o.uname().system == "OpenBSD" {
		return map[string]any{"pkg_mgr": "openbsd_pkg"}
	}
	family, _ := got["os_family"].(string)
	name := "unknown"
	for _, p := range pkgMgrs {
		if family == "Altlinux" && p[0] == "/usr/bin/pkg" {
			continue
		}
		if o.has(p[0]) {
			name = p[1]
		}
	}
	exists := func(mgr string) bool {
		for _, p := range pkgMgrs {
			if p[1] == mgr && o.has(p[0]) {
				return true
			}
		}
		return false
	}
	switch family {
	case "RedHat":
		var ok bool
		if name, ok = o.redHatPkgMgr(name, got, exists); !ok {
			return nil // Ansible's int() of the major version raises
		}
	case "Debian":
		name = "apt"
	case "Altlinux":
		if name == "apt" {
			name = "apt_rpm"
		}
	}
	if name == "apt" && o.has("/usr/bin/rpm") {
		if _, ok := o.section("rpmapt"); ok && o.sections["rpmapt"] != nil {
			name = "apt_rpm"
		}
	}
	return map[string]any{"pkg_mgr": name}
}

// redHatPkgMgr is PkgMgrFactCollector._check_rh_versions.
func (o *setupOutput) redHatPkgMgr(name string, got map[string]any, exists func(string) bool) (string, bool) {
	if o.has("/run/ostree-booted") {
		return "atomic_container", true
	}
	mv, _ := got["distribution_major_version"].(string)
	major, err := strconv.Atoi(strings.TrimSpace(mv))
	switch dist := got["distribution"]; {
	case dist == "Fedora" || dist == "Amazon":
		limit := 23
		if dist == "Amazon" {
			limit = 2022
		}
		switch {
		case err != nil:
			name = "dnf"
		case major < limit && exists("yum"):
			name = "yum"
		case major >= limit && exists("dnf"):
			name = "dnf"
		}
	case err != nil:
		return "", false
	case major < 8:
		name = "yum"
	default:
		name = "dnf"
	}
	return name, true
}

var psPID = regexp.MustCompile(`^ *[0-9]+ `)

// gatherServiceMgr is Ansible's ServiceMgrFactCollector: process 1's name,
// else what the system and its files suggest.
func gatherServiceMgr(o *setupOutput, got map[string]any) map[string]any {
	proc1, ok := o.file("/proc/1/comm")
	if !ok {
		s, ran := o.section("ps1")
		l := strings.Split(strings.TrimRight(s, "\n"), "\n")
		proc1, ok = l[len(l)-1], ran && strings.TrimSpace(s) != "" && !psPID.MatchString(l[len(l)-1])
		if proc1 == "COMMAND" {
			ok = false
		}
	}
	if !ok {
		proc1, ok = o.links["/sbin/init"]
	}
	if ok {
		proc1 = strings.TrimSpace(path.Base(proc1))
		if proc1 == "init" || strings.HasSuffix(proc1, "sh") {
			ok = false
		}
	}
	system, _ := got["system"].(string)
	var name string
	switch {
	case ok:
		name = proc1
		if v, mapped := map[string]string{"procd": "openwrt_init", "runit-init": "runit", "svscan": "svc", "openrc-init": "openrc"}[proc1]; mapped {
			name = v
		}
	case got["distribution"] == "MacOSX":
		name = "launchd" // every macOS drover reaches is past 10.4
	case strings.Contains(system, "BSD") || system == "Bitrig" || system == "DragonFly":
		name = "bsdinit"
	case system == "AIX":
		name = "src"
	case system == "SunOS":
		name = "smf"
	case got["distribution"] == "OpenWrt":
		name = "openwrt_init"
	case system == "Linux":
		name = o.linuxServiceMgr()
	}
	if name == "" {
		name = "service"
	}
	return map[string]any{"service_mgr": name}
}

func (o *setupOutput) linuxServiceMgr() string {
	systemctl := o.bin("systemctl") != ""
	switch {
	case systemctl && (o.has("/run/systemd/system/") || o.has("/dev/.run/systemd/") || o.has("/dev/.systemd/")):
		return "systemd"
	case o.bin("initctl") != "" && o.has("/etc/init/"):
		return "upstart"
	case o.has("/sbin/openrc"):
		return "openrc"
	case systemctl && path.Base(o.links["/sbin/init"]) == "systemd":
		return "systemd"
	case o.has("/etc/init.d/"):
		return "sysvinit"
	}
	return ""
}
