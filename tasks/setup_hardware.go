package tasks

import (
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// gatherHardware is Ansible's LinuxHardwareCollector without the block
// devices, device links and LVM (which need a command per device): CPU,
// memory, DMI, uptime and mounts. Other systems get nothing.
func gatherHardware(o *setupOutput, got map[string]any) map[string]any {
	if o.uname().system != "Linux" {
		return nil
	}
	f := o.cpuFacts(got)
	for k, v := range o.memoryFacts() {
		f[k] = v
	}
	for k, v := range o.dmiFacts() {
		f[k] = v
	}
	if s, ok := o.file("/proc/uptime"); ok {
		first, _, _ := strings.Cut(s, " ")
		if v, err := strconv.ParseFloat(first, 64); err == nil {
			f["uptime_seconds"] = int(v)
		}
	}
	f["mounts"] = o.mountFacts()
	f["lvm"] = o.lvmFacts()
	return f
}

// lvmFacts is LinuxHardware.get_lvm_facts: N/A unless root with vgs.
func (o *setupOutput) lvmFacts() any {
	if o.sections["vgs"] == nil {
		return "N/A"
	}
	rows := func(name string, min int) [][]string {
		var out [][]string
		for _, line := range o.lines(name) {
			if items := strings.Split(strings.TrimSpace(line), ","); len(items) >= min && strings.TrimSpace(line) != "" {
				out = append(out, items)
			}
		}
		return out
	}
	vgs, lvs, pvs := map[string]any{}, map[string]any{}, map[string]any{}
	for _, it := range rows("vgs", 3) {
		vgs[it[0]] = map[string]any{"size_g": it[len(it)-2], "free_g": it[len(it)-1], "num_lvs": it[2], "num_pvs": it[1]}
	}
	for _, it := range rows("lvs", 4) {
		lvs[it[0]] = map[string]any{"size_g": it[3], "vg": it[1]}
	}
	for _, it := range rows("pvs", 6) {
		pvs[it[0]] = map[string]any{"size_g": it[4], "free_g": it[5], "vg": it[1]}
	}
	return map[string]any{"lvs": lvs, "vgs": vgs, "pvs": pvs}
}

// orderedCounts is a Python dict of str to int: insertion order matters
// for Ansible's "first value".
type orderedCounts struct {
	keys []string
	vals map[string]int
}

func (c *orderedCounts) set(k string, v int) {
	if c.vals == nil {
		c.vals = map[string]int{}
	}
	if _, ok := c.vals[k]; !ok {
		c.keys = append(c.keys, k)
	}
	c.vals[k] = v
}

func (c *orderedCounts) has(k string) bool { _, ok := c.vals[k]; return ok }

func (c *orderedCounts) first() (int, bool) {
	if len(c.keys) == 0 {
		return 0, false
	}
	return c.vals[c.keys[0]], true
}

// cpuScan is what get_cpu_facts counts in /proc/cpuinfo.
type cpuScan struct {
	processor                 []any
	i, vendors, models, procs int
	sockets, cores            orderedCounts
	cores0                    int // "# processors", when present
	hasCores0, xenParavirt    bool
}

// scanCPUInfo is the loop of LinuxHardware.get_cpu_facts, quirks included:
// a "core id" is checked against the sockets, and the int 0 that Python's
// physid and coreid start as is a key of its own.
func scanCPUInfo(cpuinfo string, xen bool) *cpuScan {
	const intZero = "\x00int 0"
	s := &cpuScan{processor: []any{}}
	physid, coreid := intZero, intZero
	for _, line := range strings.Split(cpuinfo, "\n") {
		k, v, _ := strings.Cut(line, ":")
		key, val := strings.TrimSpace(k), strings.TrimSpace(v)
		if xen && key == "flags" && !strings.Contains(val, "vme") {
			s.xenParavirt = true
		}
		switch key {
		case "model name", "Processor", "vendor_id", "cpu", "Vendor", "processor":
			s.processor = append(s.processor, val)
			s.vendors += b2i(key == "vendor_id")
			s.models += b2i(key == "model name")
			s.procs += b2i(key == "processor")
			s.i++
		case "physical id":
			physid = val
			if !s.sockets.has(physid) {
				s.sockets.set(physid, 1)
			}
		case "core id":
			coreid = val
			if !s.sockets.has(coreid) {
				s.cores.set(coreid, 1)
			}
		case "cpu cores":
			s.sockets.set(physid, atoiDefault(val, 0))
		case "siblings":
			s.cores.set(coreid, atoiDefault(val, 0))
		case "# processors":
			s.cores0, s.hasCores0 = atoiDefault(val, 0), true
		case "ncpus active":
			s.i = atoiDefault(val, 0)
		}
	}
	return s
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// cpuFacts is LinuxHardware.get_cpu_facts.
func (o *setupOutput) cpuFacts(got map[string]any) map[string]any {
	f := map[string]any{}
	xen := o.has("/proc/xen")
	if l := o.fileLines("/sys/hypervisor/type"); !xen && len(l) > 0 && strings.TrimSpace(l[0]) == "xen" {
		xen = true
	}
	cpuinfo, ok := o.files["/proc/cpuinfo"]
	if !ok {
		return f
	}
	s := scanCPUInfo(cpuinfo, xen)
	f["processor"] = s.processor
	if s.hasCores0 {
		f["processor_cores"] = s.cores0
	}
	i := s.i
	if s.vendors > 0 && s.vendors == s.models {
		i = s.vendors
	}
	arch, _ := got["architecture"].(string)
	if strings.HasPrefix(arch, "armv") || strings.HasPrefix(arch, "aarch") || strings.HasPrefix(arch, "ppc") {
		i = s.procs
	}
	switch {
	case arch == "s390x":
		return f
	case s.xenParavirt:
		f["processor_count"], f["processor_cores"], f["processor_threads_per_core"], f["processor_vcpus"] = i, i, 1, i
		return f
	}
	count := i
	if len(s.sockets.keys) > 0 {
		count = len(s.sockets.keys)
	}
	perSocket, _ := s.sockets.first()
	if perSocket == 0 {
		perSocket = 1
	}
	tpc := 1 / perSocket
	if siblings, ok := s.cores.first(); ok {
		tpc = siblings / perSocket
	}
	f["processor_count"], f["processor_cores"], f["processor_threads_per_core"] = count, perSocket, tpc
	f["processor_vcpus"] = tpc * count * perSocket
	f["processor_nproc"] = s.procs
	if n, ok := o.allowedCPUs(); ok {
		f["processor_nproc"] = n // len(os.sched_getaffinity(0))
	}
	return f
}

// allowedCPUs counts the CPUs in /proc/self/status's Cpus_allowed_list,
// which grep read as a child of the script and so shares its affinity.
func (o *setupOutput) allowedCPUs() (int, bool) {
	for _, line := range o.fileLines("/proc/self/status") {
		list, ok := strings.CutPrefix(line, "Cpus_allowed_list:")
		if !ok {
			continue
		}
		n := 0
		for _, r := range strings.Split(strings.TrimSpace(list), ",") {
			lo, hi, isRange := strings.Cut(r, "-")
			a, err1 := strconv.Atoi(lo)
			b, err2 := strconv.Atoi(hi)
			switch {
			case err1 != nil:
				return 0, false
			case !isRange:
				n++
			case err2 != nil || b < a:
				return 0, false
			default:
				n += b - a + 1
			}
		}
		return n, n > 0
	}
	return 0, false
}

// memoryFacts is LinuxHardware.get_memory_facts; missing values are null.
func (o *setupOutput) memoryFacts() map[string]any {
	f := map[string]any{}
	if _, ok := o.files["/proc/meminfo"]; !ok {
		return f
	}
	stats := map[string]int{}
	for _, line := range o.fileLines("/proc/meminfo") {
		k, v, _ := strings.Cut(line, ":")
		val, _, _ := strings.Cut(strings.TrimSpace(v), " ")
		n, err := strconv.Atoi(val)
		if err != nil {
			continue
		}
		switch k {
		case "MemTotal", "SwapTotal", "MemFree", "SwapFree":
			f[strings.ToLower(k)+"_mb"] = n / 1024
			stats[strings.ToLower(k)] = n / 1024
		case "Buffers", "Cached", "SwapCached":
			stats[strings.ToLower(k)] = n / 1024
		}
	}
	get := func(keys ...string) []int {
		var out []int
		for _, k := range keys {
			v, ok := stats[k]
			if !ok {
				return nil
			}
			out = append(out, v)
		}
		return out
	}
	if v := get("memtotal", "memfree"); v != nil {
		stats["real:used"] = v[0] - v[1]
	}
	if v := get("cached", "memfree", "buffers"); v != nil {
		stats["nocache:free"] = v[0] + v[1] + v[2]
	}
	if v := get("memtotal", "nocache:free"); v != nil {
		stats["nocache:used"] = v[0] - v[1]
	}
	if v := get("swaptotal", "swapfree"); v != nil {
		stats["swap:used"] = v[0] - v[1]
	}
	val := func(k string) any {
		if v, ok := stats[k]; ok {
			return v
		}
		return nil
	}
	f["memory_mb"] = map[string]any{
		"real":    map[string]any{"total": val("memtotal"), "used": val("real:used"), "free": val("memfree")},
		"nocache": map[string]any{"free": val("nocache:free"), "used": val("nocache:used")},
		"swap":    map[string]any{"total": val("swaptotal"), "free": val("swapfree"), "used": val("swap:used"), "cached": val("swapcached")},
	}
	return f
}

var formFactors = []string{"Unknown", "Other", "Unknown", "Desktop", "Low Profile Desktop", "Pizza Box", "Mini Tower", "Tower",
	"Portable", "Laptop", "Notebook", "Hand Held", "Docking Station", "All In One", "Sub Notebook", "Space-saving", "Lunch Box",
	"Main Server Chassis", "Expansion Chassis", "Sub Chassis", "Bus Expansion Chassis", "Peripheral Chassis", "RAID Chassis",
	"Rack Mount Chassis", "Sealed-case PC", "Multi-system", "CompactPCI", "AdvancedTCA", "Blade", "Blade Enclosure",
	"Tablet", "Convertible", "Detachable", "IoT Gateway", "Embedded PC", "Mini PC", "Stick PC"}

// dmiFiles maps DMI facts to their /sys/devices/virtual/dmi/id files.
var dmiFiles = map[string]string{
	"bios_date": "bios_date", "bios_vendor": "bios_vendor", "bios_version": "bios_version",
	"board_asset_tag": "board_asset_tag", "board_name": "board_name", "board_serial": "board_serial",
	"board_vendor": "board_vendor", "board_version": "board_version", "chassis_asset_tag": "chassis_asset_tag",
	"chassis_serial": "chassis_serial", "chassis_vendor": "chassis_vendor", "chassis_version": "chassis_version",
	"form_factor": "chassis_type", "product_name": "product_name", "product_serial": "product_serial",
	"product_uuid": "product_uuid", "product_version": "product_version", "system_vendor": "sys_vendor",
}

// dmiFacts is LinuxHardware.get_dmi_facts from sysfs. Without sysfs DMI
// Ansible would ask dmidecode, one command per fact; drover says NA, as
// Ansible does where dmidecode is missing.
func (o *setupOutput) dmiFacts() map[string]any {
	const dir = "/sys/devices/virtual/dmi/id/"
	f := map[string]any{}
	sysfs := o.has(dir + "product_name")
	for k, file := range dmiFiles {
		data, ok := o.file(dir + file)
		switch {
		case !sysfs || !ok:
			f[k] = "NA"
		case k == "form_factor":
			if n, err := strconv.Atoi(data); err == nil && n >= 0 && n < len(formFactors) {
				f[k] = formFactors[n]
			} else {
				f[k] = "unknown (" + data + ")"
			}
		default:
			f[k] = data
		}
	}
	return f
}

var (
	octalEscape = regexp.MustCompile(`\\[0-7]{3}`)
	bindSource  = regexp.MustCompile(`^.*\]`)
	mtabBind    = regexp.MustCompile(`^.*bind.*"`)
)

// unescapeMount decodes mtab's \ooo escapes.
func unescapeMount(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	return octalEscape.ReplaceAllStringFunc(s, func(e string) string {
		n, _ := strconv.ParseUint(e[1:], 8, 8)
		return string(rune(n))
	})
}

// mountFacts is LinuxHardware.get_mount_facts: mtab entries of real
// devices, a later entry for a mount point replacing an earlier one in its
// place, with statvfs sizes and the lsblk UUID.
func (o *setupOutput) mountFacts() []any {
	mtab := "/etc/mtab"
	if !o.has(mtab) {
		mtab = "/proc/mounts"
	}
	sizes := o.statfs()
	timedOut := o.sections["statfs"] != nil && o.sections["statfs"].rc == 124
	uuids := o.lsblkUUIDs()
	binds := o.bindMounts()
	var order []string
	mounts := map[string]map[string]any{}
	for _, line := range strings.Split(o.files[mtab], "\n") {
		fields := strings.Fields(line)
		if len(fields) < 4 {
			continue
		}
		for i := range fields {
			fields[i] = unescapeMount(fields[i])
		}
		device, mount, fstype, options := fields[0], fields[1], fields[2], fields[3]
		if !strings.HasPrefix(device, "/") && !strings.HasPrefix(device, `\`) && !strings.Contains(device, ":/") || fstype == "none" {
			continue
		}
		if binds[mount] && !mtabBind.MatchString(options) {
			options += ",bind"
		}
		info := map[string]any{"mount": mount, "device": device, "fstype": fstype, "options": options}
		if s, ok := sizes[mount]; ok {
			for k, v := range s {
				info[k] = v
			}
		} else if timedOut {
			info["note"] = "Could not get extra information due to timeout"
		}
		info["uuid"] = "N/A"
		if u, ok := uuids[device]; ok {
			info["uuid"] = u
		}
		if _, seen := mounts[mount]; !seen {
			order = append(order, mount)
		}
		mounts[mount] = info
	}
	out := make([]any, 0, len(order))
	for _, m := range order {
		out = append(out, mounts[m])
	}
	return out
}

// statfs reads `stat -f -c '%S %s %b %a %c %d<TAB>%n'` into get_mount_size's
// facts; a %T (the type's name, which may hold blanks) after the numbers
// is for chroot.
func (o *setupOutput) statfs() map[string]map[string]any {
	out := map[string]map[string]any{}
	for _, line := range o.lines("statfs") {
		nums, name, ok := strings.Cut(line, "\t")
		f := strings.Fields(nums)
		if !ok || len(f) < 6 {
			continue
		}
		var n [6]int
		for i, s := range f[:6] {
			v, err := strconv.Atoi(s)
			if err != nil {
				ok = false
			}
			n[i] = v
		}
		if !ok {
			continue
		}
		frsize, bsize, blocks, bavail, files, favail := n[0], n[1], n[2], n[3], n[4], n[5]
		out[name] = map[string]any{
			"size_total": frsize * blocks, "size_available": frsize * bavail,
			"block_size": bsize, "block_total": blocks, "block_available": bavail, "block_used": blocks - bavail,
			"inode_total": files, "inode_available": favail, "inode_used": files - favail,
		}
	}
	return out
}

// statfsType is the %T the statfs section gives for name, as `stat -f -c
// %T NAME` prints it; "" when it has none.
func (o *setupOutput) statfsType(name string) string {
	for _, line := range o.lines("statfs") {
		if nums, n, ok := strings.Cut(line, "\t"); ok && n == name {
			if f := strings.Fields(nums); len(f) > 6 {
				return strings.Join(f[6:], " ") + "\n"
			}
		}
	}
	return ""
}

// lsblkUUIDs is LinuxHardware._lsblk_uuid: the first UUID of each device.
func (o *setupOutput) lsblkUUIDs() map[string]string {
	out := map[string]string{}
	if _, ok := o.section("lsblk"); !ok {
		return out
	}
	for _, line := range o.lines("lsblk") {
		f := strings.Fields(line)
		if len(f) < 2 {
			continue
		}
		dev := strings.Join(f[:len(f)-1], " ")
		if _, seen := out[dev]; !seen {
			out[dev] = f[len(f)-1]
		}
	}
	return out
}

// findmntFromMountinfo fills the findmnt section from /proc/self/mountinfo
// (read by grep, in the same mount namespace and root as findmnt would be)
// when setup.sh left findmnt to Go (section findmntinfo: no utab, neither
// LIBMOUNT_MTAB nor LIBMOUNT_UTAB set). Go reads only the first two words of each line,
// TARGET and SOURCE, which findmnt prints as the mount point and the source
// with "[ROOT]" after it when the mount's root is not the file system's.
// That is exact while every field is plain: no \ooo escapes, blanks or
// unprintable bytes (which findmnt would decode or encode), and no "none"
// source with a root (libmount may drop such a source). It reports whether
// findmnt still has to run.
func (o *setupOutput) findmntFromMountinfo() (pending bool) {
	if o.sections["findmntinfo"] == nil || o.sections["findmnt"] != nil {
		return false
	}
	text, ok := o.files["/proc/self/mountinfo"]
	if !ok || text == "" {
		return true
	}
	var b strings.Builder
	for _, line := range strings.Split(text, "\n") {
		target, source, ok := findmntColumns(line)
		if !ok {
			return true
		}
		b.WriteString(target + " " + source + "\n")
	}
	o.sections["findmnt"] = &setupSection{body: b.String(), rc: 0}
	return false
}

// findmntColumns is findmnt's TARGET and SOURCE for a plain mountinfo line,
// "ID PARENT MAJ:MIN ROOT TARGET OPTIONS [OPTIONAL...] - FSTYPE SOURCE
// SUPER_OPTIONS"; false for any other line.
func findmntColumns(line string) (target, source string, ok bool) {
	for i := 0; i < len(line); i++ {
		if c := line[i]; c < ' ' || c > '~' || c == '\\' {
			return "", "", false
		}
	}
	f := strings.Split(line, " ")
	sep := slices.Index(f, "-")
	if sep < 6 || len(f) != sep+4 || slices.Contains(f, "") {
		return "", "", false
	}
	root, target, source := f[3], f[4], f[sep+2]
	switch {
	case root == "/":
		return target, source, true
	case source == "none":
		return "", "", false
	}
	return target, source + "[" + root + "]", true
}

// bindMounts is LinuxHardware._find_bind_mounts: findmnt shows a bind
// mount's source with the bound directory in brackets.
func (o *setupOutput) bindMounts() map[string]bool {
	out := map[string]bool{}
	if _, ok := o.section("findmnt"); !ok {
		return out
	}
	for _, line := range o.lines("findmnt") {
		if f := strings.Fields(line); len(f) >= 2 && bindSource.MatchString(f[1]) {
			out[f[0]] = true
		}
	}
	return out
}
