package tasks

import (
	"context"
	"encoding/json"
	"io/fs"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/drover/drover/connection"
	"github.com/google/go-cmp/cmp"
)

// sampleFiles are the files of a made-up two-socket Ubuntu host.
var sampleFiles = map[string]string{
	"/etc/os-release": `PRETTY_NAME="Ubuntu 22.04.4 LTS"
NAME="Ubuntu"
VERSION_ID="22.04"
VERSION="22.04.4 LTS (Jammy Jellyfish)"
VERSION_CODENAME=jammy
ID=ubuntu
ID_LIKE=debian
UBUNTU_CODENAME=jammy`,
	"/etc/lsb-release":  "DISTRIB_ID=Ubuntu\nDISTRIB_RELEASE=22.04\nDISTRIB_CODENAME=jammy\nDISTRIB_DESCRIPTION=\"Ubuntu 22.04.4 LTS\"",
	"/etc/machine-id":   "0123456789abcdef0123456789abcdef",
	"/proc/1/comm":      "systemd",
	"/proc/cmdline":     `BOOT_IMAGE=/vmlinuz root=UUID=abcd ro console=tty0 console=ttyS0 quiet "a b"`,
	"/proc/loadavg":     "0.52 0.58 0.59 1/123 4567",
	"/proc/uptime":      "12345.67 23456.78",
	"/etc/resolv.conf":  "# comment\nnameserver 10.0.0.2\nnameserver 10.0.0.3\nsearch example.com lan\noptions edns0 ndots:2",
	"/proc/meminfo":     "MemTotal:        8048576 kB\nMemFree:         1048576 kB\nBuffers:          102400 kB\nCached:          2097152 kB\nSwapCached:            0 kB\nSwapTotal:       2097152 kB\nSwapFree:        2097152 kB",
	"/proc/self/status": "Name:\tgrep\nCpus_allowed_list:\t0-3,6\nVxID: 0",
	"/proc/cpuinfo": strings.Repeat("processor\t: 0\nvendor_id\t: GenuineIntel\nmodel name\t: Intel(R) Xeon(R)\nphysical id\t: 0\nsiblings\t: 4\ncore id\t\t: 0\ncpu cores\t: 2\nflags\t\t: fpu vme\n\n", 2) +
		strings.Repeat("processor\t: 1\nvendor_id\t: GenuineIntel\nmodel name\t: Intel(R) Xeon(R)\nphysical id\t: 1\nsiblings\t: 4\ncore id\t\t: 0\ncpu cores\t: 2\n\n", 2),
	"/etc/mtab":                                "proc /proc proc rw 0 0\n/dev/sda1 / ext4 rw,relatime 0 0\n/dev/sdb1 /mnt/my\\040disk xfs ro 0 0\nserver:/export /nfs nfs rw 0 0\n/dev/sda1 /srv ext4 rw 0 0",
	"/sys/class/net/eth0/address":              "52:54:00:12:34:56",
	"/sys/class/net/eth0/mtu":                  "1500",
	"/sys/class/net/eth0/operstate":            "up",
	"/sys/class/net/eth0/type":                 "1",
	"/sys/class/net/eth0/speed":                "1000",
	"/sys/class/net/eth0/flags":                "0x1103",
	"/sys/class/net/lo/address":                "00:00:00:00:00:00",
	"/sys/class/net/lo/mtu":                    "65536",
	"/sys/class/net/lo/operstate":              "unknown",
	"/sys/class/net/lo/type":                   "772",
	"/sys/class/net/lo/flags":                  "0x9",
	"/etc/ssh/ssh_host_ed25519_key.pub":        "ssh-ed25519 AAAAC3Nz root@host",
	"/sys/devices/virtual/dmi/id/product_name": "KVM",
	"/sys/devices/virtual/dmi/id/sys_vendor":   "QEMU",
	"/sys/devices/virtual/dmi/id/chassis_type": "1",
}

// sampleOutput is what setup.sh might print on that host, with noise from
// a login script before it, a marker-like line in a file and an empty file.
func sampleOutput(nonce string) string {
	m := "\n@@" + nonce + " "
	var b strings.Builder
	b.WriteString("Welcome to host!\n@@fake start\n")
	sec := func(header, body string) { b.WriteString(m + header + "\n" + body) }
	sec("start", "")
	sec("env0", "HOME=/home/deploy\x00PATH=/usr/bin:/bin\x00MULTI=a\nb\x00EMPTY=\x00")
	sec("fact /etc/ansible/facts.d/app.fact", "")
	b.WriteString(`{"version": 3, "ratio": 1.5, "tags": ["a"]}` + "\n")
	sec("fact /etc/ansible/facts.d/ini.fact", "")
	b.WriteString("[db]\nHost = db1\nurl = %(host)s:5432\n\n[DEFAULT]\nenv=prod\n")
	sec("factx /etc/ansible/facts.d/broken.fact", "")
	b.WriteString("partial")
	sec("facterr 3", "boom\n")
	sec("uname", "Linux web1.example.com 5.15.0-101-generic #111-Ubuntu SMP Tue Mar 5 20:16:58 UTC 2024 x86_64\n")
	sec("bins", "/usr/sbin/ip\n/usr/bin/getent\n/usr/bin/systemctl\n")
	sec("getconf", "64\n")
	sec("rc 0", "")
	sec("fqdn", "10.0.0.5       web1.example.com web1\n")
	sec("id", "uid=1000(deploy) gid=1000(deploy) groups=1000(deploy),27(sudo)\n")
	sec("logname", "deploy\n")
	sec("passwd", "deploy:x:1000:1000:Deploy User,,,:/home/deploy:/bin/bash\n")
	sec("rc 0", "")
	sec("date", "1700000000 123456789 +0100 CET\n1672531200 000000000 +0100 CET\n1688310000 000000000 +0200 CEST\n")
	sec("chroot", "2049 2\n2049 2\n")
	sec("rc 0", "")
	sec("statfs", "4096 4096 1000 250 500 100\t/\n4096 4096 2000 2000 10 10\t/mnt/my disk\n")
	sec("rc 0", "")
	sec("lsblk", "/dev/sda1 1111-2222\n/dev/sdb1\n")
	sec("rc 0", "")
	sec("findmnt", "/    /dev/sda1          ext4 rw\n/srv /dev/sda1[/srv]    ext4 rw\n")
	sec("rc 0", "")
	sec("route4", "8.8.8.8 via 10.0.0.1 dev eth0 src 10.0.0.5 uid 1000 \n    cache \n")
	sec("rc 0", "")
	sec("route6", "")
	sec("rc 2", "")
	sec("addr", `1: lo: <LOOPBACK,UP,LOWER_UP> mtu 65536 qdisc noqueue state UNKNOWN group default qlen 1000
    link/loopback 00:00:00:00:00:00 brd 00:00:00:00:00:00
    inet 127.0.0.1/8 scope host lo
       valid_lft forever preferred_lft forever
    inet6 ::1/128 scope host
2: eth0@if9: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc fq_codel state UP group default qlen 1000
    link/ether 52:54:00:12:34:56 brd ff:ff:ff:ff:ff:ff
    inet 10.0.0.5/24 brd 10.0.0.255 scope global eth0
    inet 10.0.0.9/24 scope global eth0:1
    inet6 fe80::5054:ff:fe12:3456/64 scope link
`)
	sec("rc 0", "")
	sec("addr2", "2: eth0@if9: <BROADCAST> mtu 1500\n    inet 10.0.0.6/24 brd 10.0.0.255 scope global secondary eth0\n")
	sec("rc 0", "")
	sec("exists", "d /sys/fs/selinux\nf /usr/bin/apt-get\nd /run/systemd/system/\nd /sys/class/net/eth0\nd /sys/class/net/lo\ndl /sys/class/net/eth0/device\nf /etc/empty\n")
	var names []string
	for p := range sampleFiles {
		names = append(names, p)
	}
	slices.Sort(names)
	for _, p := range names {
		b.WriteString("fs " + p + "\n")
	}
	names = append(names, "/etc/empty")
	sec("files", strings.Join(names, "\n")+"\n")
	b.WriteString(m[:len(m)-1] + " grep\n")
	for _, p := range names {
		for _, line := range strings.Split(sampleFiles[p], "\n") {
			if p != "/etc/empty" {
				b.WriteString(p + ":" + line + "\n")
			}
		}
		if p == "/etc/os-release" {
			b.WriteString("/etc/os-release:@@" + nonce + "x not a marker\n")
		}
	}
	sec("symlinks", "/sys/class/net/eth0/device\n")
	sec("links", "lrwxrwxrwx 1 root root 0 Jan  1 00:00 /sys/class/net/eth0/device -> ../../../0000:00:03.0\n")
	sec("rc 0", "")
	sec("end", "")
	return b.String()
}

func allCollectors(t testing.TB) []*setupCollector {
	t.Helper()
	c, err := chooseCollectors([]string{"all"})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestParseSetupOutput(t *testing.T) {
	o, err := parseSetupOutput(sampleOutput("N0"), "N0")
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := o.file("/etc/machine-id"); got != sampleFiles["/etc/machine-id"] {
		t.Errorf("machine-id = %q", got)
	}
	if got := o.files["/etc/os-release"]; !strings.HasSuffix(got, "UBUNTU_CODENAME=jammy\n@@N0x not a marker") {
		t.Errorf("os-release lost lines: %q", got)
	}
	if got, ok := o.files["/etc/empty"]; !ok || got != "" {
		t.Errorf("empty file = %q, %v", got, ok)
	}
	if o.links["/sys/class/net/eth0/device"] != "../../../0000:00:03.0" {
		t.Errorf("links = %v", o.links)
	}
	if s := o.sections["route6"]; s == nil || s.rc != 2 {
		t.Errorf("route6 status = %+v", s)
	}
	for _, cut := range []int{10, len(sampleOutput("N0")) - 10} {
		if _, err := parseSetupOutput(sampleOutput("N0")[:cut], "N0"); err != errSetupTruncated {
			t.Errorf("cut at %d: err = %v", cut, err)
		}
	}
	if _, err := parseSetupOutput(sampleOutput("N0"), "N1"); err != errSetupTruncated {
		t.Errorf("wrong nonce: err = %v", err)
	}
}

func sampleFacts(t *testing.T) map[string]any {
	t.Helper()
	o, err := parseSetupOutput(sampleOutput("N0"), "N0")
	if err != nil {
		t.Fatal(err)
	}
	facts := gatherFacts(o, allCollectors(t), setupArgs{subset: []string{"all"}})
	if _, err := json.Marshal(facts); err != nil {
		t.Fatalf("facts do not marshal: %v", err)
	}
	return facts
}

func TestSetupSampleFacts(t *testing.T) {
	f := sampleFacts(t)
	want := map[string]any{
		"ansible_hostname": "web1", "ansible_nodename": "web1.example.com", "ansible_fqdn": "web1.example.com",
		"ansible_domain": "example.com", "ansible_kernel": "5.15.0-101-generic", "ansible_architecture": "x86_64",
		"ansible_kernel_version": "#111-Ubuntu SMP Tue Mar 5 20:16:58 UTC 2024", "ansible_userspace_bits": "64",
		"ansible_distribution": "Ubuntu", "ansible_distribution_version": "22.04", "ansible_distribution_major_version": "22",
		"ansible_distribution_release": "jammy", "ansible_os_family": "Debian", "ansible_pkg_mgr": "apt",
		"ansible_service_mgr": "systemd", "ansible_user_id": "deploy", "ansible_user_uid": 1000, "ansible_user_gid": 1000,
		"ansible_user_dir": "/home/deploy", "ansible_user_shell": "/bin/bash", "ansible_user_gecos": "Deploy User,,,",
		"ansible_memtotal_mb": 7859, "ansible_memfree_mb": 1024, "ansible_swaptotal_mb": 2048,
		"ansible_processor_count": 2, "ansible_processor_cores": 2, "ansible_processor_threads_per_core": 2,
		"ansible_processor_vcpus": 8, "ansible_processor_nproc": 5, "ansible_uptime_seconds": 12345,
		"ansible_is_chroot": false, "ansible_virtualization_type": "kvm", "ansible_virtualization_role": "guest",
		"ansible_all_ipv4_addresses": []any{"10.0.0.5", "10.0.0.9", "10.0.0.6"},
		"ansible_all_ipv6_addresses": []any{"fe80::5054:ff:fe12:3456"},
		"ansible_interfaces":         []any{"eth0", "eth0_1", "lo"},
		"ansible_default_ipv4": map[string]any{"address": "10.0.0.5", "alias": "eth0", "broadcast": "10.0.0.255", "gateway": "10.0.0.1",
			"interface": "eth0", "macaddress": "52:54:00:12:34:56", "mtu": 1500, "netmask": "255.255.255.0", "network": "10.0.0.0",
			"prefix": "24", "type": "ether"},
		"ansible_default_ipv6": map[string]any{},
		"ansible_dns": map[string]any{"nameservers": []any{"10.0.0.2", "10.0.0.3"}, "search": []any{"example.com", "lan"},
			"options": map[string]any{"edns0": true, "ndots": "2"}},
		"ansible_lsb":                         map[string]any{"id": "Ubuntu", "release": "22.04", "major_release": "22", "codename": "jammy", "description": "Ubuntu 22.04.4 LTS"},
		"ansible_selinux":                     map[string]any{"status": "disabled"},
		"ansible_ssh_host_key_ed25519_public": "AAAAC3Nz", "ansible_ssh_host_key_ed25519_public_keytype": "ssh-ed25519",
		"ansible_form_factor": "Other", "ansible_product_name": "KVM", "ansible_bios_vendor": "NA",
		"ansible_local": map[string]any{
			"app":    map[string]any{"version": 3, "ratio": 1.5, "tags": []any{"a"}},
			"ini":    map[string]any{"db": map[string]any{"host": "db1", "url": "db1:5432", "env": "prod"}},
			"broken": "Failure executing fact script (/etc/ansible/facts.d/broken.fact), rc: 3, err: boom\n",
		},
		"gather_subset": []any{"all"}, "module_setup": true,
	}
	for k, w := range want {
		if diff := cmp.Diff(w, f[k]); diff != "" {
			t.Errorf("%s (-want +got):\n%s", k, diff)
		}
	}
	dt := f["ansible_date_time"].(map[string]any)
	wantDT := map[string]any{"date": "2023-11-14", "time": "23:13:20", "hour": "23", "tz": "CET", "tz_dst": "CEST",
		"tz_offset": "+0100", "epoch": "1700000000", "iso8601": "2023-11-14T22:13:20Z", "iso8601_micro": "2023-11-14T22:13:20.123456Z",
		"iso8601_basic": "20231114T231320123456", "weekday": "Tuesday", "weekday_number": "2", "weeknumber": "46"}
	for k, w := range wantDT {
		if dt[k] != w {
			t.Errorf("date_time.%s = %v, want %v", k, dt[k], w)
		}
	}
	mounts := f["ansible_mounts"].([]any)
	if len(mounts) != 4 {
		t.Fatalf("mounts = %v", mounts)
	}
	root, disk, nfs, srv := mounts[0].(map[string]any), mounts[1].(map[string]any), mounts[2].(map[string]any), mounts[3].(map[string]any)
	if root["uuid"] != "1111-2222" || root["size_total"] != 4096000 || root["size_available"] != 1024000 || root["inode_used"] != 400 {
		t.Errorf("root mount = %v", root)
	}
	if disk["mount"] != "/mnt/my disk" || disk["uuid"] != "N/A" || disk["block_used"] != 0 {
		t.Errorf("escaped mount = %v", disk)
	}
	if _, ok := nfs["size_total"]; ok || nfs["device"] != "server:/export" {
		t.Errorf("nfs mount = %v", nfs)
	}
	if srv["options"] != "rw,bind" {
		t.Errorf("bind mount options = %v", srv["options"])
	}
	env := f["ansible_env"].(map[string]any)
	if env["MULTI"] != "a\nb" || env["EMPTY"] != "" || env["HOME"] != "/home/deploy" {
		t.Errorf("env = %v", env)
	}
	if c := f["ansible_cmdline"].(map[string]any); c["console"] != "ttyS0" || c["quiet"] != true || c[`"a b"`] != true {
		t.Errorf("cmdline = %v", c)
	}
	if c := f["ansible_proc_cmdline"].(map[string]any); cmp.Diff([]any{"tty0", "ttyS0"}, c["console"]) != "" {
		t.Errorf("proc_cmdline = %v", c)
	}
	eth0 := f["ansible_eth0"].(map[string]any)
	if eth0["pciid"] != "0000:00:03.0" || eth0["speed"] != 1000 || eth0["promisc"] != true || eth0["active"] != true {
		t.Errorf("eth0 = %v", eth0)
	}
	if sec := eth0["ipv4_secondaries"].([]any); len(sec) != 1 || sec[0].(map[string]any)["address"] != "10.0.0.6" {
		t.Errorf("eth0 secondaries = %v", eth0["ipv4_secondaries"])
	}
}

func TestChooseCollectors(t *testing.T) {
	names := func(subset ...string) string {
		c, err := chooseCollectors(subset)
		if err != nil {
			return "error: " + err.Error()
		}
		var out []string
		for _, x := range c {
			out = append(out, x.name)
		}
		return strings.Join(out, " ")
	}
	const min = "platform distribution lsb selinux apparmor fips python caps pkg_mgr service_mgr cmdline date_time env ssh_pub_keys user dns local"
	tests := []struct {
		subset []string
		want   string
	}{
		{[]string{"min"}, min},
		{[]string{"!all"}, min},
		{[]string{"!all", "!min"}, ""},
		{[]string{"!all", "!min", "network"}, "platform distribution network"},
		{[]string{"!all", "mounts"}, "platform distribution lsb selinux apparmor fips python caps pkg_mgr service_mgr cmdline date_time env ssh_pub_keys user hardware dns local"},
		// min is always added, so exclusions alone leave min (as Ansible 2.14 does).
		{[]string{"!hardware", "!network"}, min},
		{[]string{"all", "!hardware", "!network", "!virtual", "!facter", "!ohai"}, "platform distribution lsb selinux apparmor chroot fips python caps pkg_mgr service_mgr cmdline date_time env loadavg ssh_pub_keys user dns fibre_channel_wwn iscsi nvme local"},
		{[]string{"!min", "hardware"}, "platform hardware"},
	}
	for _, tt := range tests {
		if got := names(tt.subset...); got != tt.want {
			t.Errorf("gather_subset %v:\n got %s\nwant %s", tt.subset, got, tt.want)
		}
	}
	if got := names("bogus"); !strings.Contains(got, "bad subset 'bogus'") || !strings.Contains(got, "all, all_ipv4_addresses, all_ipv6_addresses, apparmor") {
		t.Errorf("bad subset: %s", got)
	}
}

func TestFactFilter(t *testing.T) {
	tests := []struct {
		patterns []string
		name     string
		want     bool
	}{
		{nil, "ansible_hostname", true},
		{[]string{"ansible_host*"}, "ansible_hostname", true},
		{[]string{"ansible_host*"}, "gather_subset", false},
		{[]string{"hostname"}, "ansible_hostname", true},
		{[]string{"*_mb"}, "ansible_memtotal_mb", true},
		{[]string{"ansible_[!d]*"}, "ansible_distribution", false},
		{[]string{"ansible_[!d]*"}, "ansible_env", true},
		{[]string{"ansible_e[nx]v"}, "ansible_env", true},
		{[]string{"ansible_[x"}, "ansible_[x", true},
		{[]string{"facter_*"}, "ansible_facter_x", false},
		{[]string{"?odule_setup"}, "module_setup", true},
	}
	for _, tt := range tests {
		if got := factFilter(tt.patterns)(tt.name); got != tt.want {
			t.Errorf("filter %v on %s = %v, want %v", tt.patterns, tt.name, got, tt.want)
		}
	}
}

func TestParseINI(t *testing.T) {
	tests := []struct {
		text    string
		want    map[string]any
		wantErr bool
	}{
		{"[a]\nk = v\n  more\n\n[b]\nx: 1", map[string]any{"a": map[string]any{"k": "v\nmore"}, "b": map[string]any{"x": "1"}}, false},
		{"; c\n[a]\n# c\nK=%%x", map[string]any{"a": map[string]any{"k": "%x"}}, false},
		{"k=v", nil, true},
		{"[a]\nk=v\n[a]\n", nil, true},
		{"[a]\nk=v\nk=w", nil, true},
		{"[a]\njunk", nil, true},
	}
	for _, tt := range tests {
		got, err := parseINI(tt.text)
		if (err != nil) != tt.wantErr {
			t.Errorf("parseINI(%q) error = %v", tt.text, err)
			continue
		}
		if diff := cmp.Diff(tt.want, got); !tt.wantErr && diff != "" {
			t.Errorf("parseINI(%q) (-want +got):\n%s", tt.text, diff)
		}
	}
	if got := parseLocalFact("/x.fact", "[a]\nk=%(nope)s"); !strings.HasPrefix(got.(string), "Failed to convert (/x.fact) to JSON") {
		t.Errorf("interpolation error: %v", got)
	}
	if got := parseLocalFact("/x.fact", "what"); got != "error loading facts as JSON or ini - please check content: /x.fact" {
		t.Errorf("bad fact: %v", got)
	}
}

func TestShlexPOSIX(t *testing.T) {
	got := shlexPOSIX(`A="x y" B='q "r"' C=a\ b D="e\"f\g" # comment E=no` + "\nF=ok#c")
	want := []string{"A=x y", `B=q "r"`, "C=a b", `D=e"f\g`, "F=ok"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("shlexPOSIX (-want +got):\n%s", diff)
	}
}

// runScript runs setup.sh with every collector through conn and returns its output.
func runScript(t testing.TB, conn connection.Conn, nonce string) string {
	t.Helper()
	env := &Env{Conn: conn}
	line := setupCommand(nonce, setupArgs{factPath: "/nonexistent", timeout: 10}, allCollectors(t), time.Now())
	out, err := run(context.Background(), env, line, strings.NewReader(setupScript))
	if err != nil || out.rc != 0 {
		t.Fatalf("setup.sh: rc=%d err=%v stderr=%s", out.rc, err, out.stderr)
	}
	return out.stdout
}

// TestSetupScriptShells runs the script under every POSIX shell on this
// machine: dash and bash must give the same facts.
func TestSetupScriptShells(t *testing.T) {
	var base map[string]any
	for _, sh := range []string{"dash", "bash", "busybox"} {
		path, err := exec.LookPath(sh)
		if err != nil {
			t.Logf("%s: not installed", sh)
			continue
		}
		args := []string{}
		if sh == "busybox" {
			args = append(args, "sh")
		} else if sh == "bash" {
			args = append(args, "--posix")
		}
		args = append(args, "-s")
		args = append(args, setupScriptArgs("NSH", setupArgs{factPath: "/nonexistent", timeout: 10}, allCollectors(t), time.Now())...)
		cmd := exec.Command(path, args...)
		cmd.Stdin = strings.NewReader(setupScript)
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("%s: %v", sh, err)
		}
		o, err := parseSetupOutput(string(out), "NSH")
		if err != nil {
			t.Fatalf("%s: %v\n%s", sh, err, out)
		}
		f := gatherFacts(o, allCollectors(t), setupArgs{subset: []string{"all"}})
		for _, volatile := range []string{"ansible_date_time", "ansible_memfree_mb", "ansible_memory_mb", "ansible_mounts", "ansible_uptime_seconds", "ansible_loadavg", "ansible_env"} {
			delete(f, volatile)
		}
		if base == nil {
			base = f
			continue
		}
		if diff := cmp.Diff(base, f); diff != "" {
			t.Errorf("%s gives other facts than dash (-dash +%s):\n%s", sh, sh, diff)
		}
	}
}

// TestSetupCommandLoginShells runs gather's command line as each login shell
// on this machine would: dash reads the script itself, and the others start
// sh; all must answer alike.
func TestSetupCommandLoginShells(t *testing.T) {
	line := setupCommand("NLS", setupArgs{factPath: "/nonexistent", timeout: 10}, allCollectors(t), time.Now())
	var base map[string]any
	for _, sh := range [][]string{{"dash"}, {"bash"}, {"busybox", "sh"}, {"zsh"}, {"mksh"}, {"tcsh"}, {"csh"}, {"fish"}} {
		path, err := exec.LookPath(sh[0])
		if err != nil {
			continue
		}
		cmd := exec.Command(path, append(sh[1:], "-c", line)...)
		cmd.Stdin = strings.NewReader(setupScript)
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("%s: %v", sh[0], err)
		}
		o, err := parseSetupOutput(string(out), "NLS")
		if err != nil {
			t.Fatalf("%s: %v\n%s", sh[0], err, out)
		}
		f := gatherFacts(o, allCollectors(t), setupArgs{subset: []string{"all"}})
		for _, volatile := range []string{"ansible_date_time", "ansible_memfree_mb", "ansible_memory_mb", "ansible_mounts", "ansible_uptime_seconds", "ansible_loadavg", "ansible_env"} {
			delete(f, volatile)
		}
		if base == nil {
			base = f
		} else if diff := cmp.Diff(base, f); diff != "" {
			t.Errorf("%s gives other facts than dash (-dash +%s):\n%s", sh[0], sh[0], diff)
		}
	}
	if base == nil {
		t.Skip("no dash")
	}
	// dash, with sh being dash, starts no second shell.
	strace, err := exec.LookPath("strace")
	dash, err2 := exec.LookPath("dash")
	if err != nil || err2 != nil || !sameFile("/bin/sh", "/bin/dash") {
		return
	}
	trace := filepath.Join(t.TempDir(), "trace")
	cmd := exec.Command(strace, "-f", "-e", "trace=execve", "-o", trace, dash, "-c", line)
	cmd.Stdin = strings.NewReader(setupScript)
	if err := cmd.Run(); err != nil {
		t.Skipf("strace: %v", err)
	}
	data, _ := os.ReadFile(trace)
	if n := strings.Count(string(data), "bin/sh\""); n != 0 {
		t.Errorf("dash started sh %d times:\n%s", n, data)
	}
}

func sameFile(a, b string) bool {
	fa, err1 := os.Stat(a)
	fb, err2 := os.Stat(b)
	return err1 == nil && err2 == nil && os.SameFile(fa, fb)
}

// TestDistributionGolden runs the distribution and lsb collectors on the
// release files of many distributions; want.json holds what Ansible's own
// code computes for the same files (testdata/setup/distro/ansible_oracle.py).
func TestDistributionGolden(t *testing.T) {
	dirs, err := filepath.Glob("testdata/setup/distro/*/root")
	if err != nil || len(dirs) == 0 {
		t.Fatalf("no fixtures: %v", err)
	}
	for _, root := range dirs {
		name := filepath.Base(filepath.Dir(root))
		t.Run(name, func(t *testing.T) {
			o := &setupOutput{sections: map[string]*setupSection{"uname": {body: "Linux host 6.1.0 #1 SMP x86_64\n", rc: -1}},
				files: map[string]string{}, exists: map[string]string{}, links: map[string]string{}}
			err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
				if err != nil || d.IsDir() {
					return err
				}
				data, err := os.ReadFile(p)
				rel := "/" + filepath.ToSlash(strings.TrimPrefix(p, root+string(filepath.Separator)))
				o.files[rel] = strings.TrimSuffix(string(data), "\n")
				o.exists[rel] = "f"
				if len(data) > 0 {
					o.exists[rel] = "fs"
				}
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
			got := gatherDistribution(o, nil)
			maps.Copy(got, gatherLSB(o, nil))
			var want map[string]any
			data, err := os.ReadFile(filepath.Join(filepath.Dir(root), "want.json"))
			if err == nil {
				err = json.Unmarshal(data, &want)
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("facts differ from Ansible's (-ansible +drover):\n%s", diff)
			}
		})
	}
}

// liveOutput is setup.sh's answer on this machine, or the sample where
// the script cannot run.
func liveOutput(tb testing.TB, nonce string) string {
	tb.Helper()
	if _, err := exec.LookPath("sh"); err != nil {
		return sampleOutput(nonce)
	}
	return runScript(tb, connection.NewLocal(nil), nonce)
}

// FuzzSetupOutput feeds the parser what a broken or hostile host might
// print: it must never panic, and the facts must always encode as JSON.
func FuzzSetupOutput(f *testing.F) {
	f.Add(sampleOutput("N0"))
	f.Add(liveOutput(f, "N0"))
	f.Add("\n@@N0 start\n@@N0 end\n")
	f.Add("\n@@N0 start\n\n@@N0 files\n/a\n/b\n\n@@N0 grep\n/b:x\n/a:y\n\n@@N0 rc x\n\n@@N0 end")
	f.Add(derivedSample)
	all := allCollectors(f)
	f.Fuzz(func(t *testing.T, out string) {
		o, err := parseSetupOutput(out, "N0")
		if err != nil {
			return
		}
		facts := gatherFacts(o, all, setupArgs{subset: []string{"all"}, filter: []string{"*"}})
		if _, err := json.Marshal(facts); err != nil {
			t.Fatalf("facts do not encode: %v", err)
		}
	})
}

// derivedSample holds the sections Go derives others from: setup.sh's
// stand-ins for the commands it no longer runs.
var derivedSample = "\n@@N0 start\n\n@@N0 export\nexport A='x'\"'\"'y'\nexport B\n\n@@N0 uname\nLinux h 6.1 #1 x86_64\n" +
	"\n@@N0 bins\n/usr/bin/lsb_release\n\n@@N0 lsbmin /usr/bin/lsb_release\n\n@@N0 ids\nUid:\t1\t2\t2\t2\nGid:\t3\t3\t3\t3\n" +
	"\n@@N0 logname\nu\n\n@@N0 longbit\n55d0c8a00000-55d0c8a04000 r--p 0 fe:00 1 /bin/dash\n" +
	"\n@@N0 rootino\n2\n\n@@N0 statfs\n1 2 3 4 5 6 ext2/ext3\t/\n\n@@N0 findmntinfo\n" +
	"\n@@N0 ipbatch\n8.8.8.8 via 1.1.1.1 dev e src 2.2.2.2\n1: e: <UP> mtu 1\n    inet 2.2.2.2/8 scope global secondary e\n" +
	"\n@@N0 exists\nd /sys/class/net/e\nf /etc/os-release\n\n@@N0 files\n/etc/nsswitch.conf\n/etc/passwd\n/etc/hosts\n/proc/self/status\n" +
	"/proc/sys/kernel/cap_last_cap\n/etc/os-release\n/proc/self/mountinfo\n/usr/bin/lsb_release\n" +
	"\n@@N0 grep\n/etc/nsswitch.conf:passwd: files\n/etc/nsswitch.conf:hosts: files dns\n/etc/passwd:u:x:1:3::/h:/bin/sh\n" +
	"/etc/hosts:127.0.1.1 h.example h\n/proc/self/status:CapInh:\t0000000000000000\n/proc/self/status:CapPrm:\t000001ffffffffff\n" +
	"/proc/self/status:CapEff:\t000001ffffffffff\n/proc/sys/kernel/cap_last_cap:40\n" +
	"/etc/os-release:ID=x\n/proc/self/mountinfo:1 2 0:1 /a /b rw - t s rw\n/usr/bin/lsb_release:x\n" +
	"\n@@N0 passwdgo\n\n@@N0 fqdngo\n\n@@N0 capsgo\n\n@@N0 linkdirs\n/sys/class/net/e/device virtio0\n\n@@N0 rootsame\n0\n\n@@N0 end\n"

// FuzzSetupDerived is FuzzSetupOutput on small answers made of the
// sections Go derives others from (lsb_release from os-release, findmnt
// from mountinfo, ip's four answers from one batch, id from
// /proc/self/status, env from dash's export -p, chroot's inode from fdinfo,
// getconf from the shell's maps, getent's answers from nsswitch.conf,
// /etc/passwd and /etc/hosts, capsh's from grep's capabilities):
// small, so that the fuzzer runs many.
func FuzzSetupDerived(f *testing.F) {
	f.Add(derivedSample)
	f.Add("ID=debian\nNAME='Debian'\nPRETTY_NAME=\"x y\"\n# c\n")
	f.Add("export A='a'\"''\"'b'\nexport B\nexport C=''\n")
	f.Add("\n@@N0 start\n\n@@N0 ipbatch\n2404:6800:400a:800::1012 from :: via fe80::1 dev e\n    cache\n\n@@N0 end\n")
	all := allCollectors(f)
	f.Fuzz(func(t *testing.T, out string) {
		// The parsers of the stand-ins, also on their own.
		lsbMinimal(out)
		parseDashExports(out)
		for _, line := range strings.Split(out, "\n") {
			findmntColumns(line)
			isSecondaryAddr(strings.Fields(line))
		}
		o, err := parseSetupOutput(out, "N0")
		if err != nil {
			return
		}
		facts := gatherFacts(o, all, setupArgs{subset: []string{"all"}})
		if _, err := json.Marshal(facts); err != nil {
			t.Fatalf("facts do not encode: %v", err)
		}
	})
}

// BenchmarkSetupScript measures what setup.sh costs the host: the CPU time
// (user and system) of the shell and everything it starts, per run, with
// every collector, in an environment like an SSH session's. With
// DROVER_SETUP_BASELINE naming another version of the script (git show
// REV:tasks/setup.sh > FILE), each iteration runs that one too, and the
// benchmark reports both and their ratio, measured alike in the same run.
func BenchmarkSetupScript(b *testing.B) {
	sh, err := exec.LookPath("sh")
	if err != nil {
		b.Skip("no sh")
	}
	scripts := []string{setupScript}
	if path := os.Getenv("DROVER_SETUP_BASELINE"); path != "" {
		data, err := os.ReadFile(path)
		if err != nil {
			b.Fatal(err)
		}
		scripts = append(scripts, string(data))
	}
	args := append([]string{"-s"}, setupScriptArgs("NB", setupArgs{factPath: "/etc/ansible/facts.d", timeout: 10}, allCollectors(b), time.Now())...)
	env := []string{"PATH=/usr/local/bin:/usr/bin:/bin", "HOME=" + os.Getenv("HOME"), "LOGNAME=" + getenvOr("LOGNAME", "USER"), "SHELL=/bin/sh"}
	cpu := make([]time.Duration, len(scripts))
	for b.Loop() {
		for i, script := range scripts {
			cmd := exec.Command(sh, args...)
			cmd.Stdin, cmd.Env = strings.NewReader(script), env
			if err := cmd.Run(); err != nil {
				b.Fatal(err)
			}
			cpu[i] += cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
		}
	}
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 / float64(b.N) }
	b.ReportMetric(ms(cpu[0]), "cpu-ms/op")
	if len(cpu) > 1 {
		b.ReportMetric(ms(cpu[1]), "baseline-cpu-ms/op")
		b.ReportMetric(float64(cpu[1])/float64(cpu[0]), "x-cheaper")
	}
}

// BenchmarkSetupParse measures the Go side of setup: splitting the
// script's output and turning it into facts, on this machine's output.
func BenchmarkSetupParse(b *testing.B) {
	out := liveOutput(b, "NB")
	all := allCollectors(b)
	b.SetBytes(int64(len(out)))
	b.ReportAllocs()
	for b.Loop() {
		o, err := parseSetupOutput(out, "NB")
		if err != nil {
			b.Fatal(err)
		}
		gatherFacts(o, all, setupArgs{subset: []string{"all"}})
	}
}

// TestSetupScriptBusybox runs the script with nothing but busybox's
// applets on PATH, as on Alpine or an embedded system: getent, lsb_release,
// capsh, lsblk and findmnt are missing and date, stat, ip and env are
// busybox's. The facts that do not need the missing tools must not change.
func TestSetupScriptBusybox(t *testing.T) {
	bb, err := exec.LookPath("busybox")
	if err != nil {
		t.Skip("busybox not installed")
	}
	list, err := exec.Command(bb, "--list").Output()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	for _, applet := range strings.Fields(string(list)) {
		if err := os.Symlink(bb, filepath.Join(dir, applet)); err != nil {
			t.Fatal(err)
		}
	}
	facts := func(env []string, shell ...string) map[string]any {
		t.Helper()
		args := append(shell[1:], "-s")
		args = append(args, setupScriptArgs("NBB", setupArgs{factPath: "/nonexistent", timeout: 10}, allCollectors(t), time.Now())...)
		cmd := exec.Command(shell[0], args...)
		cmd.Env, cmd.Stdin = env, strings.NewReader(setupScript)
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("%v: %v", shell, err)
		}
		o, err := parseSetupOutput(string(out), "NBB")
		if err != nil {
			t.Fatalf("%v: %v\n%s", shell, err, out)
		}
		return gatherFacts(o, allCollectors(t), setupArgs{subset: []string{"all"}})
	}
	full := facts(os.Environ(), "/bin/sh")
	env := []string{"PATH=" + dir, "HOME=" + os.Getenv("HOME"), "LOGNAME=" + getenvOr("LOGNAME", "USER")}
	bare := facts(env, filepath.Join(dir, "sh"))
	for _, k := range []string{"ansible_hostname", "ansible_nodename", "ansible_system", "ansible_kernel", "ansible_kernel_version",
		"ansible_machine", "ansible_architecture", "ansible_distribution", "ansible_distribution_version", "ansible_os_family",
		"ansible_distribution_release", "ansible_user_id", "ansible_user_uid", "ansible_real_user_id", "ansible_memtotal_mb",
		"ansible_processor_count", "ansible_processor_vcpus", "ansible_pkg_mgr", "ansible_is_chroot", "ansible_virtualization_type",
		"ansible_cmdline", "ansible_dns", "ansible_selinux", "ansible_machine_id"} {
		if diff := cmp.Diff(full[k], bare[k]); diff != "" {
			t.Errorf("%s with busybox (-full +busybox):\n%s", k, diff)
		}
	}
	dt, _ := bare["ansible_date_time"].(map[string]any)
	if fdt, _ := full["ansible_date_time"].(map[string]any); dt["tz"] != fdt["tz"] || dt["date"] != fdt["date"] {
		t.Errorf("date_time with busybox = %v", dt)
	}
	if m, _ := bare["ansible_mounts"].([]any); len(m) == 0 {
		t.Errorf("no mounts with busybox")
	} else if root := m[0].(map[string]any); root["size_total"] == nil {
		t.Errorf("busybox stat -f gave no sizes: %v", root)
	}
	for _, k := range []string{"ansible_default_ipv4", "ansible_all_ipv4_addresses"} {
		if diff := cmp.Diff(full[k], bare[k]); diff != "" && bare[k] != nil {
			t.Errorf("%s with busybox ip (-full +busybox):\n%s", k, diff)
		}
	}
}

func getenvOr(keys ...string) string {
	for _, k := range keys {
		if v := os.Getenv(k); v != "" {
			return v
		}
	}
	return "root"
}

// TestSetupOtherSystems checks the minimum drover gathers off Linux, on
// what setup.sh prints on FreeBSD and macOS.
func TestSetupOtherSystems(t *testing.T) {
	tests := []struct {
		name, sections string
		want           map[string]any
	}{
		{"freebsd", "uname\nFreeBSD fbsd 13.2-RELEASE FreeBSD 13.2-RELEASE releng/13.2-n254617-525ecfdad597 GENERIC amd64\n" +
			"|ps1\nCOMMAND\ninit\n|exists\nf /usr/sbin/pkg\n|id\nuid=0(root) gid=0(wheel) groups=0(wheel),5(operator)\n" +
			"|date\n1700000000 +0000 UTC\n1672531200 +0000 UTC\n1688310000 +0000 UTC\n",
			map[string]any{"ansible_distribution": "FreeBSD", "ansible_distribution_version": "13.2", "ansible_distribution_major_version": "13",
				"ansible_distribution_release": "13.2-RELEASE", "ansible_os_family": "FreeBSD", "ansible_service_mgr": "bsdinit",
				"ansible_pkg_mgr": "pkgng", "ansible_machine": "amd64", "ansible_architecture": "amd64", "ansible_user_uid": nil,
				"ansible_real_user_id": 0, "ansible_user_id": "root", "ansible_mounts": nil, "ansible_default_ipv4": nil}},
		{"macos", "uname\nDarwin mac 23.1.0 Darwin Kernel Version 23.1.0: Mon Oct  9 21:27:24 PDT 2023; root:xnu-10002.41.9~6/RELEASE_X86_64 x86_64\n" +
			"|swvers\n14.1.1\n|ps1\n  COMMAND\n/sbin/launchd\n|exists\nf /usr/local/bin/brew\n",
			map[string]any{"ansible_distribution": "MacOSX", "ansible_distribution_version": "14.1.1", "ansible_distribution_major_version": "14",
				"ansible_distribution_release": "23.1.0", "ansible_os_family": "Darwin", "ansible_service_mgr": "launchd",
				"ansible_pkg_mgr": "homebrew", "ansible_system": "Darwin", "ansible_userspace_bits": "64"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := "\n@@NX start\n"
			for _, s := range strings.Split(tt.sections, "|") {
				out += "\n@@NX " + s
			}
			o, err := parseSetupOutput(out+"\n@@NX end\n", "NX")
			if err != nil {
				t.Fatal(err)
			}
			f := gatherFacts(o, allCollectors(t), setupArgs{subset: []string{"all"}})
			for k, w := range tt.want {
				if diff := cmp.Diff(w, f[k]); diff != "" {
					t.Errorf("%s (-want +got):\n%s", k, diff)
				}
			}
		})
	}
}
