package tasks

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/drover/drover/connection"
	"github.com/google/go-cmp/cmp"
)

// The tests here check what Go derives in place of a command setup.sh no
// longer runs against that command itself, where this machine has it.

// knownLSBRelease returns the path of an lsb_release that lsbMinimal stands
// in for, or skips.
func knownLSBRelease(t *testing.T) string {
	t.Helper()
	const path = "/usr/bin/lsb_release"
	data, err := os.ReadFile(path)
	sum := sha256.Sum256(data)
	if err != nil || !lsbMinimalSHA256[hex.EncodeToString(sum[:])] {
		t.Skipf("%s is not lsb-release-minimal 12.0-1", path)
	}
	return path
}

// lsbCases are os-release files: all plain but the last ones.
var lsbCases = []string{
	"PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nNAME=\"Debian GNU/Linux\"\nVERSION_ID=\"12\"\nVERSION=\"12 (bookworm)\"\nVERSION_CODENAME=bookworm\nID=debian\nHOME_URL=\"https://www.debian.org/\"",
	"NAME=\"Ubuntu\"\nVERSION=\"24.04 LTS (Noble Numbat)\"\nID=ubuntu\nID_LIKE=debian\nPRETTY_NAME=\"Ubuntu 24.04 LTS\"\nVERSION_ID=\"24.04\"\nVERSION_CODENAME=noble\nUBUNTU_CODENAME=noble",
	"ID=debian\nNAME=Debian",
	"ID=debian\nNAME=x",
	"ID=arch\nNAME='Arch Linux'\nPRETTY_NAME='Arch Linux'",
	"ID=\nNAME=",
	"NAME=Foo",
	"ID=linuxmint\nNAME=\"Linux Mint\"\nVERSION_ID=21.3",
	"ID=Fedora\nNAME=fedora",
	"ID=9front\nNAME=9FRONT",
	"# a comment\n\n  # indented\nID=alpine\nVERSION_ID=3.19.1\nPRETTY_NAME=\"Alpine Linux v3.19\"",
	"ID=x\nID=y\nNAME=Y",
	"PRETTY_NAME=\"it's \\\"quoted\\\"\"", // not plain: backslashes
	"ID=$HOME",
	"ID=debian # trailing",
	"PATH=/nowhere\nID=debian",
	"ID=~",
	"ID=d\xc3\xa9bian\nNAME=D\xc3\xa9bian",
}

// TestLSBMinimalMatchesScript runs Debian's lsb_release on os-release files
// (LSB_OS_RELEASE points it at one) and requires what lsbMinimal computes.
func TestLSBMinimalMatchesScript(t *testing.T) {
	script := knownLSBRelease(t)
	r := rand.New(rand.NewPCG(1, 2))
	cases := slices.Clone(lsbCases)
	for range 40 {
		cases = append(cases, randomOSRelease(r))
	}
	dir := t.TempDir()
	plain := 0
	for i, text := range cases {
		want, ok := lsbMinimal(text)
		if !ok {
			continue
		}
		plain++
		path := filepath.Join(dir, strconv.Itoa(i))
		if err := os.WriteFile(path, []byte(text+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command(script, "-a")
		cmd.Env = []string{"PATH=/usr/bin:/bin", "LC_ALL=C", "LSB_OS_RELEASE=" + path}
		got, err := cmd.Output()
		if err != nil {
			t.Fatalf("%s -a on %q: %v", script, text, err)
		}
		if string(got) != want {
			t.Errorf("os-release %q:\nlsb_release: %q\nlsbMinimal:  %q", text, got, want)
		}
	}
	if plain < 30 {
		t.Errorf("only %d of %d cases plain", plain, len(cases))
	}
}

// randomOSRelease makes a plain os-release file from a few keys and values.
func randomOSRelease(r *rand.Rand) string {
	keys := []string{"ID", "NAME", "PRETTY_NAME", "VERSION_ID", "VERSION_CODENAME", "ID_LIKE", "VERSION"}
	words := []string{"", "debian", "Debian", "DEBIAN", "x", "X", "a-b", "1.2", "9", "n/a", "Foo Bar", "it's", "q\"q", "$x", "_", ".", "a=b", "@%+,:"}
	var lines []string
	for range r.IntN(8) {
		k, w := keys[r.IntN(len(keys))], words[r.IntN(len(words))]
		switch r.IntN(3) {
		case 0:
			lines = append(lines, k+"="+w)
		case 1:
			lines = append(lines, k+"='"+w+"'")
		default:
			lines = append(lines, k+"=\""+w+"\"")
		}
	}
	return strings.Join(lines, "\n")
}

func TestLSBFromOSReleaseGates(t *testing.T) {
	script := strings.Repeat("x", 10)
	sum := sha256.Sum256([]byte(script + "\n"))
	lsbMinimalSHA256[hex.EncodeToString(sum[:])] = true
	defer delete(lsbMinimalSHA256, hex.EncodeToString(sum[:]))
	mk := func(bins string, files map[string]string, exists map[string]string) *setupOutput {
		o := &setupOutput{sections: map[string]*setupSection{"lsbmin": {arg: "/usr/bin/lsb_release"}, "bins": {body: bins}},
			files: files, exists: exists, links: map[string]string{}}
		return o
	}
	osr := "ID=debian\nNAME=\"Debian GNU/Linux\"\nPRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nVERSION_ID=\"12\"\nVERSION_CODENAME=bookworm"
	want := "Distributor ID:\tDebian\nDescription:\tDebian GNU/Linux 12 (bookworm)\nRelease:\t12\nCodename:\tbookworm\n"
	tests := []struct {
		name    string
		o       *setupOutput
		pending bool
		want    string
	}{
		{"derived", mk("/usr/bin/lsb_release\n", map[string]string{"/usr/bin/lsb_release": script, "/etc/os-release": osr}, map[string]string{"/etc/os-release": "fs"}), false, want},
		{"usr lib", mk("/usr/bin/lsb_release\n", map[string]string{"/usr/bin/lsb_release": script, "/usr/lib/os-release": osr}, map[string]string{"/usr/lib/os-release": "fs"}), false, want},
		{"none", mk("/usr/bin/lsb_release\n", map[string]string{"/usr/bin/lsb_release": script}, map[string]string{}), false, "Distributor ID:\tn/a\nDescription:\tn/a\nRelease:\tn/a\nCodename:\tn/a\n"},
		{"other script", mk("/usr/bin/lsb_release\n", map[string]string{"/usr/bin/lsb_release": script + "y", "/etc/os-release": osr}, map[string]string{"/etc/os-release": "fs"}), true, ""},
		{"other lsb_release found", mk("/usr/local/bin/lsb_release\n", map[string]string{"/usr/bin/lsb_release": script, "/etc/os-release": osr}, map[string]string{"/etc/os-release": "fs"}), true, ""},
		{"unreadable", mk("/usr/bin/lsb_release\n", map[string]string{"/usr/bin/lsb_release": script}, map[string]string{"/etc/os-release": "fs"}), true, ""},
		{"binary", mk("/usr/bin/lsb_release\n", map[string]string{"/usr/bin/lsb_release": script, "/etc/os-release": ""}, map[string]string{"/etc/os-release": "fs"}), true, ""},
		{"not plain", mk("/usr/bin/lsb_release\n", map[string]string{"/usr/bin/lsb_release": script, "/etc/os-release": "ID=$(id)"}, map[string]string{"/etc/os-release": "fs"}), true, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.o.lsbFromOSRelease(); got != tt.pending {
				t.Fatalf("pending = %v, want %v", got, tt.pending)
			}
			if s := tt.o.sections["lsb_release"]; tt.pending != (s == nil) || s != nil && s.body != tt.want {
				t.Errorf("lsb_release section = %+v, want %q", s, tt.want)
			}
		})
	}
}

// ipNamespaceScript gives a fresh network namespace addresses of every kind
// the collector tells apart, then prints the four commands' answers and the
// one batch's, as sections of setup.sh.
const ipNamespaceScript = `set -e
ip link set lo up
ip link add d0 type dummy 2>/dev/null || ip link add d0 type bridge
ip link set d0 up
ip addr add 10.1.0.2/24 brd + dev d0
ip addr add 10.1.0.3/24 dev d0
ip addr add 10.1.0.4/24 dev d0 label d0:sec
ip addr add 10.2.0.2/16 dev d0 label d0:x
ip addr add 10.2.0.9/16 dev d0 label d0:x
ip addr add 10.3.0.1 peer 10.3.0.2/32 dev d0
ip -6 addr add 2001:db8::5/64 dev d0 nodad
ip -6 addr add 2001:db8::6/64 dev d0 nodad
ip link add secondary type dummy 2>/dev/null || ip link add secondary type bridge
ip addr add 10.7.0.1/24 dev secondary
ip addr add 10.7.0.2/24 dev secondary
ip link add d1 type dummy 2>/dev/null || ip link add d1 type bridge
ip addr add 10.9.0.1/24 dev d1 metric 50
ip route add default via 10.1.0.1
ip -6 route add default via 2001:db8::1 dev d0
set +e
m=@@N
printf '\n%s start\n' $m
printf '\n%s route4\n' $m; ip -4 route get 8.8.8.8
printf '\n%s route6\n' $m; ip -6 route get 2404:6800:400a:800::1012
printf '\n%s addr\n' $m; ip addr show primary
printf '\n%s addr2\n' $m; ip addr show secondary
printf '\n%s ipbatch\n' $m
printf 'route get 8.8.8.8\nroute get 2404:6800:400a:800::1012\naddr show\n' | ip -force -batch - 2>/dev/null
printf '\n%s end\n' $m
`

// TestIPBatchMatchesFourCommands compares the network facts from one `ip
// -batch` with those from the four commands it replaces, in a network
// namespace of this machine's own (root, unshare; dummy or bridge devices).
func TestIPBatchMatchesFourCommands(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root for a network namespace")
	}
	out, err := exec.Command("unshare", "-n", "sh", "-c", ipNamespaceScript).Output()
	if err != nil {
		t.Skipf("no network namespace with dummy devices here: %v", err)
	}
	both, err := parseSetupOutput(string(out), "N")
	if err != nil {
		t.Fatal(err)
	}
	facts := func(sections ...string) map[string]any {
		o := &setupOutput{sections: map[string]*setupSection{"uname": {body: "Linux h 6.1 #1 x86_64\n"}}, files: map[string]string{},
			exists: map[string]string{"/sys/class/net/lo": "d", "/sys/class/net/d0": "d", "/sys/class/net/d1": "d", "/sys/class/net/secondary": "d"},
			links:  map[string]string{}}
		for _, s := range sections {
			o.sections[s] = both.sections[s]
		}
		o.sections["exists"] = &setupSection{body: "d /sys/class/net/d0\nd /sys/class/net/d1\nd /sys/class/net/lo\nd /sys/class/net/secondary\n"}
		o.derive()
		return gatherNetwork(o, nil)
	}
	four, one := facts("route4", "route6", "addr", "addr2"), facts("ipbatch")
	if diff := cmp.Diff(four, one); diff != "" {
		t.Errorf("network facts from ip -batch differ (-four commands +batch):\n%s", diff)
	}
	if d0, _ := one["d0"].(map[string]any); len(d0["ipv4_secondaries"].([]any)) != 4 {
		t.Errorf("d0 = %v", d0)
	}
}

func TestSplitIPBatch(t *testing.T) {
	batch := "8.8.8.8 via 10.0.0.1 dev eth0 src 10.0.0.5 uid 0 \n    cache \n" +
		"1: lo: <LOOPBACK,UP,LOWER_UP> mtu 65536\n    inet 127.0.0.1/8 scope host lo\n" +
		"2: eth0: <BROADCAST,UP> mtu 1500\n    inet 10.0.0.5/24 brd 10.0.0.255 scope global eth0\n" +
		"    inet 10.0.0.6/24 scope global secondary eth0\n       valid_lft forever preferred_lft forever\n" +
		"    inet6 2001:db8::1/64 scope global temporary dynamic \n    inet6 fe80::1/64 scope link \n"
	o := &setupOutput{sections: map[string]*setupSection{"ipbatch": {body: batch}}}
	o.splitIPBatch()
	want := map[string]string{
		"route4": "8.8.8.8 via 10.0.0.1 dev eth0 src 10.0.0.5 uid 0 \n    cache \n",
		"route6": "",
		"addr": "1: lo: <LOOPBACK,UP,LOWER_UP> mtu 65536\n    inet 127.0.0.1/8 scope host lo\n2: eth0: <BROADCAST,UP> mtu 1500\n" +
			"    inet 10.0.0.5/24 brd 10.0.0.255 scope global eth0\n       valid_lft forever preferred_lft forever\n    inet6 fe80::1/64 scope link \n",
		"addr2": "1: lo: <LOOPBACK,UP,LOWER_UP> mtu 65536\n2: eth0: <BROADCAST,UP> mtu 1500\n" +
			"    inet 10.0.0.6/24 scope global secondary eth0\n    inet6 2001:db8::1/64 scope global temporary dynamic \n",
	}
	for name, body := range want {
		if s := o.sections[name]; s == nil || s.body != body {
			t.Errorf("%s = %+v, want %q", name, s, body)
		}
	}
	o = &setupOutput{sections: map[string]*setupSection{"ipbatch": {body: "8.8.8.8 via 10.0.0.1 dev eth0\n"}}}
	if o.splitIPBatch(); o.sections["addr"] == nil || o.sections["addr"].rc != 1 {
		t.Errorf("no addresses: addr = %+v, want a failed section", o.sections["addr"])
	}
}

// findmntBinds runs findmnt as setup.sh did and returns the bind mounts
// the collector reads from it.
func findmntBinds(t *testing.T, findmnt []byte) map[string]bool {
	t.Helper()
	o := &setupOutput{sections: map[string]*setupSection{"findmnt": {body: string(findmnt), rc: 0}}}
	return o.bindMounts()
}

// mountinfoBinds is the same from mountinfo, or false where Go would run
// findmnt.
func mountinfoBinds(mountinfo string) (map[string]bool, bool) {
	o := &setupOutput{sections: map[string]*setupSection{"findmntinfo": {}},
		files: map[string]string{"/proc/self/mountinfo": strings.TrimSuffix(mountinfo, "\n")}}
	if o.findmntFromMountinfo() {
		return nil, false
	}
	return o.bindMounts(), true
}

// TestFindmntFromMountinfoLive compares, on this machine's mounts, the bind
// mounts findmnt shows with those Go reads from mountinfo; as root also in
// a mount namespace with bind mounts of directories and files.
func TestFindmntFromMountinfoLive(t *testing.T) {
	if _, err := exec.LookPath("findmnt"); err != nil {
		t.Skip("no findmnt")
	}
	check := func(t *testing.T, mountinfo string, findmnt []byte) {
		t.Helper()
		got, ok := mountinfoBinds(mountinfo)
		if !ok {
			t.Skipf("mountinfo is not plain here:\n%s", mountinfo)
		}
		if diff := cmp.Diff(findmntBinds(t, findmnt), got); diff != "" {
			t.Errorf("bind mounts (-findmnt +mountinfo):\n%s", diff)
		}
	}
	t.Run("host", func(t *testing.T) {
		mi, err := os.ReadFile("/proc/self/mountinfo")
		if err != nil {
			t.Skip(err)
		}
		out, err := exec.Command("findmnt", "--list", "--noheadings", "--notruncate").Output()
		if err != nil {
			t.Fatal(err)
		}
		check(t, string(mi), out)
	})
	t.Run("binds", func(t *testing.T) {
		if os.Geteuid() != 0 {
			t.Skip("needs root")
		}
		dir := t.TempDir()
		script := fmt.Sprintf(`set -e
d=%s
mount --make-rprivate /
mount -t tmpfs tmp $d
mkdir -p $d/a/b $d/c $d/e
touch $d/f $d/g
mount --bind $d/a/b $d/c
mount --bind $d/f $d/g
mount -t tmpfs src $d/e
mkdir $d/e/x $d/h
mount --bind $d/e/x $d/h
cat /proc/self/mountinfo
echo @@@
findmnt --list --noheadings --notruncate`, dir)
		out, err := exec.Command("unshare", "-m", "sh", "-c", script).Output()
		if err != nil {
			t.Skipf("no mount namespace here: %v", err)
		}
		mi, fm, _ := strings.Cut(string(out), "@@@\n")
		binds, ok := mountinfoBinds(mi)
		if !ok || !binds[dir+"/c"] || !binds[dir+"/g"] || !binds[dir+"/h"] {
			t.Errorf("bind mounts from mountinfo = %v, %v", binds, ok)
		}
		check(t, mi, []byte(fm))
	})
}

func TestFindmntColumns(t *testing.T) {
	tests := []struct {
		line, target, source string
		ok                   bool
	}{
		{"22 27 0:21 / /proc rw,relatime - proc proc rw", "/proc", "proc", true},
		{"30 27 8:1 /srv/x /mnt rw shared:1 master:2 - ext4 /dev/sda1 rw", "/mnt", "/dev/sda1[/srv/x]", true},
		{"30 27 8:1 /@ / rw - btrfs /dev/sda1 rw", "/", "/dev/sda1[/@]", true},
		{`30 27 8:1 / /mnt/a\040b rw - ext4 /dev/sda1 rw`, "", "", false},
		{"30 27 0:5 /x /y rw - tmpfs none rw", "", "", false},
		{"30 27 0:5 / /y rw - tmpfs none rw", "/y", "none", true},
		{"30 27 0:5 / /y rw tmpfs none rw", "", "", false},
		{"30 27 0:5 /  /y rw - tmpfs none rw", "", "", false},
		{"30 27 0:5 / /\xc3\xa9 rw - tmpfs t rw", "", "", false},
	}
	for _, tt := range tests {
		target, source, ok := findmntColumns(tt.line)
		if target != tt.target || source != tt.source || ok != tt.ok {
			t.Errorf("findmntColumns(%q) = %q, %q, %v; want %q, %q, %v", tt.line, target, source, ok, tt.target, tt.source, tt.ok)
		}
	}
}

// TestDashExports compares dash's export -p, read as Go reads it, with the
// environment dash hands a child (env -0).
func TestDashExports(t *testing.T) {
	dash, err := exec.LookPath("dash")
	if err != nil {
		t.Skip("no dash")
	}
	cmd := exec.Command(dash, "-c", "export -p; printf '\\001'; env -0")
	cmd.Env = []string{"PATH=/usr/bin:/bin", "A=x y", "B=it's", "C='''", "D=a\nb", "E=", "F=$x\\`\"", "bad-name=1", "G==", "H=\t"}
	out, err := cmd.Output()
	if err != nil {
		t.Fatal(err)
	}
	exports, env0, _ := strings.Cut(string(out), "\x01")
	want := (&setupOutput{sections: map[string]*setupSection{"env0": {body: env0}}}).parseEnv()
	if diff := cmp.Diff(want, parseDashExports(exports)); diff != "" {
		t.Errorf("export -p (-env -0 +export -p):\n%s", diff)
	}
}

// TestProcIDs compares what Go reads from /proc/self/status and getent with
// what id says.
func TestProcIDs(t *testing.T) {
	status, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Skip(err)
	}
	idOut, err1 := exec.Command("id").Output()
	pw, err2 := exec.Command("getent", "passwd", strconv.Itoa(os.Getuid())).Output()
	if err1 != nil || err2 != nil {
		t.Skipf("id or getent: %v %v", err1, err2)
	}
	var ids []string
	for _, line := range strings.Split(string(status), "\n") {
		if strings.HasPrefix(line, "Uid:") || strings.HasPrefix(line, "Gid:") {
			ids = append(ids, line)
		}
	}
	old := (&setupOutput{sections: map[string]*setupSection{"id": {body: string(idOut)}}}).id()
	got := (&setupOutput{sections: map[string]*setupSection{"ids": {body: strings.Join(ids, "\n")}, "passwd": {body: string(pw)}}}).id()
	old.egid = got.egid // id prints egid only when it differs, and Go does not read it
	if old != got {
		t.Errorf("ids: id says %+v, status and getent %+v", old, got)
	}
}

// TestSetupScriptUname checks the uname section the script reads from
// /proc/sys/kernel against uname -snrvm.
func TestSetupScriptUname(t *testing.T) {
	want, err := exec.Command("uname", "-snrvm").Output()
	if err != nil {
		t.Skip(err)
	}
	o, err := parseSetupOutput(liveOutput(t, "NU"), "NU")
	if err != nil {
		t.Fatal(err)
	}
	if got := o.sections["uname"].body; got != string(want) {
		t.Errorf("uname section = %q, uname -snrvm = %q", got, want)
	}
}

func TestParseFilesListedTwice(t *testing.T) {
	o := &setupOutput{sections: map[string]*setupSection{"files": {body: "/a\n/b\n/a\n"}, "grep": {body: "/a:1\n/a:2\n/b:x\n/a:1\n/a:2\n"}},
		files: map[string]string{}}
	o.parseFiles()
	if o.files["/a"] != "1\n2" || o.files["/b"] != "x" {
		t.Errorf("files = %q", o.files)
	}
}

func TestChrootDerived(t *testing.T) {
	tests := []struct {
		name     string
		sections map[string]*setupSection
		want     any
		pending  bool
	}{
		{"same root", map[string]*setupSection{"rootsame": {body: "1\n"}}, false, false},
		{"other root", map[string]*setupSection{"rootsame": {body: "0\n"}}, true, false},
		{"ext4 inode 2", map[string]*setupSection{"rootino": {body: "2\n"}, "statfs": {body: "4096 4096 1 1 1 1 ext2/ext3\t/\n"}}, false, false},
		{"xfs inode 64", map[string]*setupSection{"rootino": {body: "64\n"}, "chrootfs": {body: "xfs\n", rc: 0}}, true, false},
		{"overlay", map[string]*setupSection{"rootino": {body: "2\n"}, "chrootfs": {body: "overlayfs\n", rc: 0}}, nil, true},
		{"ls", map[string]*setupSection{"chrootino": {body: "256 /\n", rc: 0}, "chrootfs": {body: "btrfs\n", rc: 0}}, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := &setupOutput{sections: tt.sections, environ: map[string]any{}}
			if got := o.chrootInoFromFdinfo(); got != tt.pending {
				t.Fatalf("pending = %v", got)
			}
			if got := gatherChroot(o, nil)["is_chroot"]; tt.pending && got != nil || !tt.pending && got != tt.want {
				t.Errorf("is_chroot = %v, want %v", got, tt.want)
			}
		})
	}
}

// TestSetupFollowUp runs setup_followup.sh for each command it knows and
// requires sections as setup.sh's run gives them.
func TestSetupFollowUp(t *testing.T) {
	o := &setupOutput{sections: map[string]*setupSection{}, pending: []string{"lsb_release", "findmnt", "chrootino", "getconf", "capsh", "passwd", "fqdn"}}
	if err := o.followUp(t.Context(), &Env{Conn: connection.NewLocal(nil)}); err != nil {
		t.Fatal(err)
	}
	var user string
	for _, k := range []string{"LOGNAME", "USER", "LNAME", "USERNAME"} {
		if user = os.Getenv(k); user != "" {
			break
		}
	}
	uid := strconv.Itoa(os.Getuid())
	hostname, _ := os.Hostname()
	var fqdn string
	if out, err := exec.Command("getent", "ahosts", hostname).Output(); err == nil && len(strings.Fields(string(out))) > 0 {
		fqdn = "getent hosts " + strings.Fields(string(out))[0]
	}
	passwd := "getent passwd " + uid
	if user != "" {
		passwd = "getent passwd " + user + " " + uid
	}
	for _, c := range []struct{ name, cmd string }{{"lsb_release", "lsb_release -a"}, {"findmnt", "findmnt --list --noheadings --notruncate"}, {"chrootino", "ls -di /"},
		{"getconf", "getconf LONG_BIT"}, {"capsh", "capsh --print"}, {"passwd", passwd}, {"fqdn", fqdn}} {
		if c.cmd == "" {
			continue
		}
		f := strings.Fields(c.cmd)
		if _, err := exec.LookPath(f[0]); err != nil {
			continue
		}
		cmd := exec.Command(f[0], f[1:]...)
		cmd.Env = append(os.Environ(), "LC_ALL=C")
		want, err := cmd.Output()
		s := o.sections[c.name]
		if err != nil || s == nil || s.body != string(want) || s.rc != 0 {
			t.Errorf("%s: section %+v, want %q (%v)", c.name, s, want, err)
		}
	}
	if o.pending != nil {
		t.Errorf("pending = %v after the follow-up", o.pending)
	}
}
