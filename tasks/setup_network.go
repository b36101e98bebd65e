package tasks

import (
	"encoding/binary"
	"net"
	"path"
	"slices"
	"strconv"
	"strings"
)

var interfaceTypes = map[string]string{"1": "ether", "32": "infiniband", "512": "ppp", "772": "loopback", "65534": "tunnel"}

// gatherNetwork is Ansible's LinuxNetwork without ethtool's features: the
// interfaces from /sys/class/net, their addresses from `ip addr show
// primary` and `secondary`, and the default routes from `ip route get`.
// Like Ansible, it gathers nothing on a host without ip.
func gatherNetwork(o *setupOutput, _ map[string]any) map[string]any {
	if o.uname().system != "Linux" || o.sections["addr"] == nil {
		return nil
	}
	v4 := o.defaultRoute("route4", "8.8.8.8")
	v6 := o.defaultRoute("route6", "2404:6800:400a:800::1012")
	n := &network{o: o, ifaces: map[string]map[string]any{}, v4: v4, v6: v6, all4: []any{}, all6: []any{}}
	primary, secondary := ipBlocks(o.lines("addr")), ipBlocks(o.lines("addr2"))
	for _, dir := range o.under("/sys/class/net/") {
		if !o.isDir(dir) {
			continue
		}
		dev := path.Base(dir)
		n.sysfs(dir, dev)
		if _, ok := o.section("addr"); ok {
			n.parseIP(dev, primary[dev], false)
		}
		if _, ok := o.section("addr2"); ok {
			n.parseIP(dev, secondary[dev], true)
		}
	}
	f := map[string]any{"default_ipv4": v4, "default_ipv6": v6, "all_ipv4_addresses": n.all4, "all_ipv6_addresses": n.all6}
	names := []any{}
	for _, name := range n.order {
		key := strings.ReplaceAll(name, ":", "_")
		names = append(names, key)
		f[key] = n.ifaces[name]
	}
	f["interfaces"] = names
	return f
}

// network is the state of LinuxNetwork.get_interfaces_info.
type network struct {
	o      *setupOutput
	ifaces map[string]map[string]any
	order  []string
	v4, v6 map[string]any
	mac    string // the device's address file, as Python's leaked loop variable
	all4   []any
	all6   []any
}

// defaultRoute reads the first line of `ip route get DEST`.
func (o *setupOutput) defaultRoute(section, dest string) map[string]any {
	r := map[string]any{}
	s, _ := o.section(section)
	line, _, _ := strings.Cut(s, "\n")
	w := strings.Fields(line)
	if len(w) == 0 || w[0] != dest {
		return r
	}
	for i := 0; i < len(w)-1; i++ {
		switch w[i] {
		case "dev":
			r["interface"] = w[i+1]
		case "src":
			r["address"] = w[i+1]
		case "via":
			if w[i+1] != dest {
				r["gateway"] = w[i+1]
			}
		}
	}
	return r
}

// splitIPBatch turns the ipbatch section, iproute2's answer to one `ip
// -force -batch` of "route get 8.8.8.8", "route get 2404:6800:400a:800::1012"
// and "addr show", into the sections of the four commands it stands for:
// route4 (`ip -4 route get 8.8.8.8`), route6 (`ip -6 route get …`), addr
// (`ip addr show primary`) and addr2 (`ip addr show secondary`). Address
// lines print the flag those two filter on (IFA_F_SECONDARY) as
// "secondary", or "temporary" for IPv6, among the words after the scope.
func (o *setupOutput) splitIPBatch() {
	s := o.sections["ipbatch"]
	if s == nil || o.sections["addr"] != nil {
		return
	}
	lines := strings.Split(strings.TrimSuffix(s.body, "\n"), "\n")
	// The addresses start at the first "N: NAME: <FLAGS>" line. Before them,
	// each route lookup printed one route line (its first word is the
	// address asked about, unless the route has a type such as local,
	// which the collector ignores too), then indented lines; or nothing.
	i := slices.IndexFunc(lines, isIPLinkLine)
	routes, addrs := lines, []string(nil)
	if i >= 0 {
		routes, addrs = lines[:i], lines[i:]
	}
	route := map[string]*strings.Builder{"route4": {}, "route6": {}}
	var cur *strings.Builder
	for _, line := range routes {
		if line != "" && line[0] != ' ' && line[0] != '\t' {
			cur = nil
			switch w := strings.Fields(line); {
			case len(w) > 0 && w[0] == "8.8.8.8":
				cur = route["route4"]
			case len(w) > 0 && w[0] == "2404:6800:400a:800::1012":
				cur = route["route6"]
			}
		}
		if cur != nil {
			cur.WriteString(line + "\n")
		}
	}
	for name, b := range route {
		o.sections[name] = &setupSection{body: b.String(), rc: -1}
	}
	if i < 0 {
		o.sections["addr"], o.sections["addr2"] = &setupSection{rc: 1}, &setupSection{rc: 1}
		return
	}
	var primary, secondary strings.Builder
	for _, line := range addrs {
		switch {
		case isIPLinkLine(line):
			secondary.WriteString(line + "\n")
		case isSecondaryAddr(strings.Fields(line)):
			secondary.WriteString(line + "\n")
			continue
		}
		primary.WriteString(line + "\n")
	}
	o.sections["addr"] = &setupSection{body: primary.String(), rc: 0}
	o.sections["addr2"] = &setupSection{body: secondary.String(), rc: 0}
}

// isIPLinkLine reports whether line starts a device's block in `ip addr
// show`: "N: NAME[@LINK]: <FLAGS> ...".
func isIPLinkLine(line string) bool {
	n, _, ok := strings.Cut(line, ": ")
	if !ok || n == "" {
		return false
	}
	for i := 0; i < len(n); i++ {
		if n[i] < '0' || n[i] > '9' {
			return false
		}
	}
	return true
}

// isSecondaryAddr reports whether the words of an `ip addr show` line are
// a secondary (IPv4) or temporary (IPv6) address: iproute2 prints the
// flags after "scope SCOPE" and, for IPv4, before the label.
func isSecondaryAddr(w []string) bool {
	i := slices.Index(w, "scope")
	if len(w) == 0 || i < 0 || i+2 > len(w) {
		return false
	}
	flags := w[i+2:]
	switch w[0] {
	case "inet":
		return len(flags) > 1 && slices.Contains(flags[:len(flags)-1], "secondary")
	case "inet6":
		return slices.Contains(flags, "temporary")
	}
	return false
}

// ipBlocks splits `ip addr show` output by device: a block starts with
// "N: NAME[@LINK]: <FLAGS>".
func ipBlocks(lines []string) map[string][]string {
	out := map[string][]string{}
	dev := ""
	for _, line := range lines {
		if line != "" && line[0] != ' ' && line[0] != '\t' {
			if _, rest, ok := strings.Cut(line, ": "); ok {
				name, _, _ := strings.Cut(rest, ": ")
				dev, _, _ = strings.Cut(name, "@")
				continue
			}
		}
		out[dev] = append(out[dev], line)
	}
	return out
}

func (n *network) iface(name string) map[string]any {
	if m, ok := n.ifaces[name]; ok {
		return m
	}
	n.order = append(n.order, name)
	n.ifaces[name] = map[string]any{}
	return n.ifaces[name]
}

// sysfs reads one device's /sys/class/net entry.
func (n *network) sysfs(dir, dev string) {
	o := n.o
	m := n.iface(dev)
	m["device"] = dev
	read := func(name string) (string, bool) { return o.file(dir + "/" + name) }
	if o.has(dir + "/address") {
		n.mac, _ = read("address")
		if n.mac != "" && n.mac != "00:00:00:00:00:00" {
			m["macaddress"] = n.mac
		}
	}
	if s, ok := read("mtu"); ok {
		m["mtu"] = atoiDefault(s, 0)
	}
	if o.has(dir + "/operstate") {
		s, _ := read("operstate")
		m["active"] = s != "down"
	}
	if t, ok := o.links[dir+"/device/driver/module"]; ok && o.has(dir+"/device/driver/module") {
		m["module"] = path.Base(t)
	}
	if o.has(dir + "/type") {
		t, _ := read("type")
		m["type"] = "unknown"
		if v, ok := interfaceTypes[t]; ok {
			m["type"] = v
		}
	}
	if o.has(dir + "/bridge") {
		m["type"] = "bridge"
		members := []any{}
		for _, p := range o.under(dir + "/brif/") {
			members = append(members, path.Base(p))
		}
		m["interfaces"] = members
		if o.has(dir + "/bridge/bridge_id") {
			m["id"], _ = read("bridge/bridge_id")
		}
		if o.has(dir + "/bridge/stp_state") {
			s, _ := read("bridge/stp_state")
			m["stp"] = s == "1"
		}
	}
	if o.has(dir + "/bonding") {
		n.bonding(dir, m)
	}
	if o.has(dir + "/bonding_slave") {
		m["perm_macaddress"], _ = read("bonding_slave/perm_hwaddr")
	}
	if t, ok := o.links[dir+"/device"]; ok {
		m["pciid"] = path.Base(t)
	}
	if s, ok := read("speed"); ok {
		if v, err := strconv.Atoi(s); err == nil {
			m["speed"] = v
		}
	}
	if s, ok := read("flags"); ok {
		if v, err := strconv.ParseInt(strings.TrimPrefix(s, "0x"), 16, 64); err == nil {
			m["promisc"] = v&0x100 > 0
		}
	}
}

func (n *network) bonding(dir string, m map[string]any) {
	read := func(name string) string { s, _ := n.o.file(dir + "/bonding/" + name); return s }
	first := func(s string) string { w := strings.Fields(s); return strings.Join(w[:min(1, len(w))], "") }
	m["type"] = "bonding"
	slaves := []any{}
	for _, s := range strings.Fields(read("slaves")) {
		slaves = append(slaves, s)
	}
	m["slaves"], m["mode"], m["miimon"], m["lacp_rate"] = slaves, first(read("mode")), first(read("miimon")), first(read("lacp_rate"))
	if p := read("primary"); p != "" {
		m["primary"] = p
		if n.o.has(dir + "/bonding/all_slaves_active") {
			m["all_slaves_active"] = read("all_slaves_active") == "1"
		}
	}
}

// parseIP is parse_ip_output for one device's block.
func (n *network) parseIP(dev string, lines []string, secondary bool) {
	for _, line := range lines {
		w := strings.Fields(line)
		if len(w) < 2 {
			continue
		}
		switch w[0] {
		case "inet":
			n.inet(dev, w, secondary)
		case "inet6":
			n.inet6(dev, w)
		}
	}
}

func (n *network) inet(dev string, w []string, secondary bool) {
	address, prefix, hasPrefix := strings.Cut(w[1], "/")
	if !hasPrefix {
		prefix = "32"
	}
	broadcast := ""
	if hasPrefix && len(w) > 3 && w[2] == "brd" {
		broadcast = w[3]
	}
	ip := net.ParseIP(address).To4()
	bits, err := strconv.Atoi(prefix)
	if ip == nil || err != nil || bits < 0 || bits > 32 {
		return // Python's inet_aton or int() raises
	}
	mask := uint32(((uint64(1) << 32) - (uint64(1) << 32 >> bits)) & 0xffffffff)
	netmask, network := make(net.IP, 4), make(net.IP, 4)
	binary.BigEndian.PutUint32(netmask, mask)
	binary.BigEndian.PutUint32(network, binary.BigEndian.Uint32(ip)&mask)
	entry := func() map[string]any {
		return map[string]any{"address": address, "broadcast": broadcast, "netmask": netmask.String(), "network": network.String(), "prefix": prefix}
	}
	label := w[len(w)-1]
	if label != dev { // Python starts the label's dict afresh each time
		if _, ok := n.ifaces[label]; !ok {
			n.order = append(n.order, label)
		}
		n.ifaces[label] = map[string]any{}
	}
	target := n.iface(label)
	if _, has := target["ipv4"]; !secondary && !has {
		target["ipv4"] = entry()
	} else {
		target["ipv4_secondaries"] = appendAny(target["ipv4_secondaries"], entry())
	}
	if secondary {
		d := n.iface(dev)
		if _, ok := d["ipv4_secondaries"]; !ok {
			d["ipv4_secondaries"] = []any{}
		}
		if dev != label {
			d["ipv4_secondaries"] = appendAny(d["ipv4_secondaries"], entry())
		}
	}
	if n.v4["address"] == address {
		m := n.iface(dev)
		n.v4["broadcast"], n.v4["netmask"], n.v4["network"], n.v4["prefix"] = broadcast, netmask.String(), network.String(), prefix
		n.v4["macaddress"], n.v4["mtu"], n.v4["type"], n.v4["alias"] = n.mac, m["mtu"], orUnknown(m["type"]), label
	}
	if !strings.HasPrefix(address, "127.") {
		n.all4 = append(n.all4, address)
	}
}

func (n *network) inet6(dev string, w []string) {
	var address, prefix, scope string
	if len(w) > 5 && w[2] == "peer" {
		address = w[1]
		_, prefix, _ = strings.Cut(w[3], "/")
		scope = w[5]
	} else {
		var ok bool
		if address, prefix, ok = strings.Cut(w[1], "/"); !ok || len(w) < 4 {
			return // Python's unpacking raises
		}
		scope = w[3]
	}
	m := n.iface(dev)
	m["ipv6"] = appendAny(m["ipv6"], map[string]any{"address": address, "prefix": prefix, "scope": scope})
	if n.v6["address"] == address {
		n.v6["prefix"], n.v6["scope"], n.v6["macaddress"], n.v6["mtu"], n.v6["type"] = prefix, scope, n.mac, m["mtu"], orUnknown(m["type"])
	}
	if address != "::1" {
		n.all6 = append(n.all6, address)
	}
}

func appendAny(list any, v any) []any {
	l, _ := list.([]any)
	return append(l, v)
}

func orUnknown(v any) any {
	if v == nil {
		return "unknown"
	}
	return v
}

// gatherDNS is Ansible's DnsFactCollector.
func gatherDNS(o *setupOutput, _ map[string]any) map[string]any {
	dns := map[string]any{}
	for _, line := range o.fileLines("/etc/resolv.conf") {
		if strings.HasPrefix(line, "#") || strings.HasPrefix(line, ";") {
			continue
		}
		t := strings.Fields(line)
		if len(t) == 0 {
			continue
		}
		list := func() []any {
			out := []any{}
			for _, s := range t[1:] {
				out = append(out, s)
			}
			return out
		}
		switch t[0] {
		case "nameserver":
			l, _ := dns["nameservers"].([]any)
			dns["nameservers"] = append(l, list()...)
		case "domain":
			if len(t) > 1 {
				dns["domain"] = t[1]
			}
		case "search":
			dns["search"] = list()
		case "sortlist":
			dns["sortlist"] = list()
		case "options":
			opts := map[string]any{}
			for _, opt := range t[1:] {
				if k, v, ok := strings.Cut(opt, ":"); ok && v != "" {
					opts[k] = v
				} else {
					opts[k] = true
				}
			}
			dns["options"] = opts
		}
	}
	return map[string]any{"dns": dns}
}

// gatherFibreChannel is Ansible's FcWwnInitiatorFactCollector on Linux.
func gatherFibreChannel(o *setupOutput, _ map[string]any) map[string]any {
	wwn := []any{}
	for p := range o.files {
		if strings.HasPrefix(p, "/sys/class/fc_host/") && strings.HasSuffix(p, "/port_name") {
			for _, line := range o.fileLines(p) {
				if line = strings.TrimRight(line, " \t\r"); len(line) > 2 {
					wwn = append(wwn, line[2:])
				}
			}
		}
	}
	return map[string]any{"fibre_channel_wwn": wwn}
}

// gatherISCSI is Ansible's IscsiInitiatorNetworkCollector on Linux.
func gatherISCSI(o *setupOutput, _ map[string]any) map[string]any {
	iqn := ""
	for _, line := range o.fileLines("/etc/iscsi/initiatorname.iscsi") {
		if v, ok := strings.CutPrefix(line, "InitiatorName="); ok {
			iqn = v
			break
		}
	}
	return map[string]any{"iscsi_iqn": iqn}
}

// gatherNVMe is Ansible's NvmeInitiatorNetworkCollector.
func gatherNVMe(o *setupOutput, _ map[string]any) map[string]any {
	nqn := ""
	for _, line := range o.fileLines("/etc/nvme/hostnqn") {
		if strings.HasPrefix(line, "nqn.") {
			nqn = line
			break
		}
	}
	return map[string]any{"hostnqn": nqn}
}
