package tasks

import (
	"regexp"
	"slices"
	"strings"
)

var (
	cgroupDocker = regexp.MustCompile(`/docker(/|-[0-9a-f]+\.scope)`)
	cpuinfoVirt  = []struct {
		re   *regexp.Regexp
		tech string
	}{
		{regexp.MustCompile(`^model name.*QEMU Virtual CPU`), "kvm"},
		{regexp.MustCompile(`^vendor_id.*User Mode Linux`), "uml"},
		{regexp.MustCompile(`^model name.*UML`), "uml"},
		{regexp.MustCompile(`^machine.*CHRP IBM pSeries .emulated by qemu.`), "kvm"},
		{regexp.MustCompile(`^vendor_id.*PowerVM Lx86`), "powervm_lx86"},
		{regexp.MustCompile(`^vendor_id.*IBM/S390`), "PR/SM"},
	}
	vxID     = regexp.MustCompile(`^VxID:\s+\d+`)
	vxIDHost = regexp.MustCompile(`^VxID:\s+0`)
)

// virt accumulates LinuxVirtual.get_virtual_facts: the first technology
// found sets the type and role, later ones only join the tech lists.
type virt struct {
	facts       map[string]any
	found       bool
	guest, host map[string]bool
}

// guestTech records a guest technology; the first one found is the type.
func (v *virt) guestTech(tech, typ, role string) {
	v.guest[tech] = true
	if !v.found {
		v.facts["virtualization_type"] = typ
		if role != "" {
			v.facts["virtualization_role"] = role
		}
		v.found = true
	}
}

// gatherVirtual is Ansible's LinuxVirtualCollector without its dmidecode
// probe. Ansible's tech lists are Python sets in no order; drover sorts them.
func gatherVirtual(o *setupOutput, _ map[string]any) map[string]any {
	if o.uname().system != "Linux" {
		return nil
	}
	v := &virt{facts: map[string]any{}, guest: map[string]bool{}, host: map[string]bool{}}
	o.containerVirt(v)
	o.machineVirt(v)
	o.kernelVirt(v)
	if !v.found {
		v.facts["virtualization_type"], v.facts["virtualization_role"] = "NA", "NA"
	}
	v.facts["virtualization_tech_guest"] = sortedKeys(v.guest)
	v.facts["virtualization_tech_host"] = sortedKeys(v.host)
	return v.facts
}

func (o *setupOutput) containerVirt(v *virt) {
	for _, line := range o.fileLines("/proc/1/cgroup") {
		if cgroupDocker.MatchString(line) {
			v.guestTech("docker", "docker", "guest")
		}
		if strings.Contains(line, "/lxc/") || strings.Contains(line, "/machine.slice/machine-lxc") {
			v.guestTech("lxc", "lxc", "guest")
		}
		if strings.Contains(line, "/system.slice/containerd.service") {
			v.guestTech("containerd", "containerd", "guest")
		}
	}
	for _, line := range o.lines("environ1") {
		if strings.Contains(line, "container=lxc") {
			v.guestTech("lxc", "lxc", "guest")
		}
		if strings.Contains(line, "container=podman") {
			v.guestTech("podman", "podman", "guest")
		}
		if strings.HasPrefix(line, "container=") && len(line) > len("container=") {
			v.guestTech("container", "container", "guest")
		}
	}
	if o.has("/proc/vz") && !o.has("/proc/lve") {
		v.facts["virtualization_type"] = "openvz"
		if o.has("/proc/bc") {
			v.host["openvz"] = true
			if !v.found {
				v.facts["virtualization_role"] = "host"
			}
		} else {
			v.guest["openvz"] = true
			if !v.found {
				v.facts["virtualization_role"] = "guest"
			}
		}
		v.found = true
	}
	sdContainer, _ := o.file("/run/systemd/container")
	if sdContainer != "" {
		v.guestTech(sdContainer, sdContainer, "guest")
	}
	if o.has("/.dockerenv") || o.has("/.dockerinit") {
		v.guestTech("docker", "docker", "guest")
	}
	if v.guest["docker"] || v.guest["lxc"] || v.guest["podman"] || v.guest["openvz"] || v.guest["containerd"] || sdContainer != "" {
		v.guest["container"] = true
	}
	if o.has("/proc/xen") {
		isHost := slices.ContainsFunc(o.fileLines("/proc/xen/capabilities"), func(l string) bool { return strings.Contains(l, "control_d") })
		if isHost {
			v.host["xen"] = true
		}
		if !v.found {
			v.facts["virtualization_type"], v.facts["virtualization_role"] = "xen", "guest"
			if isHost {
				v.facts["virtualization_role"] = "host"
			}
		}
		v.found = true
	}
}

// machineVirt reads DMI: from here on the role stays guest unless a later
// probe says otherwise.
func (o *setupOutput) machineVirt(v *virt) {
	if !v.found {
		v.facts["virtualization_role"] = "guest"
	}
	dmi := func(f string) string { s, _ := o.file("/sys/devices/virtual/dmi/id/" + f); return s }
	product, vendor, family, bios := dmi("product_name"), dmi("sys_vendor"), dmi("product_family"), dmi("bios_vendor")
	switch product {
	case "KVM", "KVM Server", "Bochs", "AHV":
		v.guestTech("kvm", "kvm", "")
	}
	if vendor == "oVirt" {
		v.guestTech("oVirt", "oVirt", "")
	}
	if vendor == "Red Hat" {
		if family == "RHV" {
			v.guestTech("RHV", "RHV", "")
		} else if product == "RHEV Hypervisor" {
			v.guestTech("RHEV", "RHEV", "")
		}
	}
	if product == "VMware Virtual Platform" || product == "VMware7,1" {
		v.guestTech("VMware", "VMware", "")
	}
	if product == "OpenStack Compute" || product == "OpenStack Nova" {
		v.guestTech("openstack", "openstack", "")
	}
	switch bios {
	case "Xen":
		v.guestTech("xen", "xen", "")
	case "innotek GmbH":
		v.guestTech("virtualbox", "virtualbox", "")
	case "Amazon EC2", "DigitalOcean", "Hetzner":
		v.guestTech("kvm", "kvm", "")
	}
	switch vendor {
	case "QEMU", "Amazon EC2", "DigitalOcean", "Google", "Scaleway", "Nutanix":
		v.guestTech("kvm", "kvm", "")
	case "KubeVirt":
		v.guestTech("KubeVirt", "KubeVirt", "")
	case "Microsoft Corporation":
		v.guestTech("VirtualPC", "VirtualPC", "")
	case "Parallels Software International Inc.":
		v.guestTech("parallels", "parallels", "")
	case "OpenStack Foundation":
		v.guestTech("openstack", "openstack", "")
	}
	if !v.found {
		delete(v.facts, "virtualization_role")
	}
}

func (o *setupOutput) kernelVirt(v *virt) {
	o.vserverVirt(v)
	o.cpuinfoVirt(v)
	o.modulesVirt(v)
	if o.has("/dev/kvm") {
		v.host["kvm"] = true
		if !v.found {
			v.facts["virtualization_type"], v.facts["virtualization_role"] = "kvm", "host"
			v.found = true
		}
	}
}

func (o *setupOutput) vserverVirt(v *virt) {
	for _, line := range o.fileLines("/proc/self/status") {
		if !vxID.MatchString(line) {
			continue
		}
		if !v.found {
			v.facts["virtualization_type"] = "linux_vserver"
		}
		host := vxIDHost.MatchString(line)
		if host {
			v.host["linux_vserver"] = true
		} else {
			v.guest["linux_vserver"] = true
		}
		if !v.found {
			v.facts["virtualization_role"] = map[bool]string{true: "host", false: "guest"}[host]
		}
		v.found = true
	}
}

func (o *setupOutput) cpuinfoVirt(v *virt) {
	for _, line := range o.fileLines("/proc/cpuinfo") {
		if !strings.HasPrefix(line, "model name") && !strings.HasPrefix(line, "vendor_id") && !strings.HasPrefix(line, "machine") {
			continue // what every pattern starts with; most lines are neither
		}
		tech := ""
		for _, c := range cpuinfoVirt {
			if c.re.MatchString(line) {
				tech = c.tech
				break
			}
		}
		if tech == "" {
			continue
		}
		if tech == "PR/SM" {
			v.guest[tech] = true
			tech = "ibm_systemz" // Ansible asks lscpu for the hypervisor; drover does not
		}
		v.guest[tech] = true
		if !v.found {
			v.facts["virtualization_type"] = tech
			v.facts["virtualization_role"] = "guest"
			v.found = true
		}
	}
}

func (o *setupOutput) modulesVirt(v *virt) {
	if _, ok := o.files["/proc/modules"]; !ok {
		return
	}
	modules := map[string]bool{}
	for _, line := range o.fileLines("/proc/modules") {
		name, _, _ := strings.Cut(line, " ")
		modules[name] = true
	}
	if modules["kvm"] {
		v.host["kvm"] = true
		if !v.found {
			v.facts["virtualization_type"], v.facts["virtualization_role"] = "kvm", "host"
		}
		if o.isDir("/rhev/") && o.runsVDSM() {
			v.host["RHEV"] = true
			if !v.found {
				v.facts["virtualization_type"] = "RHEV"
			}
		}
		v.found = true
	}
	for _, m := range [][3]string{{"vboxdrv", "virtualbox", "host"}, {"virtio", "kvm", "guest"}} {
		if modules[m[0]] {
			v.host[m[1]] = true
			if !v.found {
				v.facts["virtualization_type"], v.facts["virtualization_role"] = m[1], m[2]
				v.found = true
			}
		}
	}
}

// runsVDSM reports whether a process is RHEV's vdsm.
func (o *setupOutput) runsVDSM() bool {
	for p, comm := range o.files {
		if pid, ok := strings.CutPrefix(p, "/proc/"); ok && strings.HasSuffix(pid, "/comm") && isDigits(strings.TrimSuffix(pid, "/comm")) {
			if c := strings.TrimSpace(comm); c == "vdsm" || c == "vdsmd" {
				return true
			}
		}
	}
	return false
}

func sortedKeys(m map[string]bool) []any {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	out := make([]any, len(keys))
	for i, k := range keys {
		out[i] = k
	}
	return out
}
