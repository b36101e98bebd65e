package tasks

import (
	"fmt"
	"maps"
	"slices"
	"strings"
)

// setupCollector is one of Ansible's fact collectors: the subset name that
// selects it, the fact names that select it too, the collectors it needs,
// and the function that turns the script's output into its facts (names
// without the ansible_ prefix). gather sees the facts collected before it.
type setupCollector struct {
	name     string
	ids      []string
	requires []string
	gather   func(o *setupOutput, got map[string]any) map[string]any
}

// setupCollectors lists Ansible's Linux collectors in an order where each
// comes after those it requires. The script runs the parts of those chosen.
var setupCollectors = []*setupCollector{
	{name: "platform", ids: []string{"architecture", "kernel", "kernel_version", "machine", "machine_id", "python_version", "system"}, gather: gatherPlatform},
	{name: "distribution", ids: []string{"distribution_major_version", "distribution_release", "distribution_version", "os_family"}, gather: gatherDistribution},
	{name: "lsb", gather: gatherLSB},
	{name: "selinux", gather: gatherSELinux},
	{name: "apparmor", gather: gatherAppArmor},
	{name: "chroot", ids: []string{"is_chroot"}, gather: gatherChroot},
	{name: "fips", gather: gatherFIPS},
	{name: "python", gather: gatherNothing}, // there is no Python on the host to describe
	{name: "caps", ids: []string{"system_capabilities", "system_capabilities_enforced"}, gather: gatherCaps},
	{name: "pkg_mgr", requires: []string{"distribution"}, gather: gatherPkgMgr},
	{name: "service_mgr", requires: []string{"platform", "distribution"}, gather: gatherServiceMgr},
	{name: "cmdline", gather: gatherCmdline},
	{name: "date_time", gather: gatherDateTime},
	{name: "env", gather: gatherEnv},
	{name: "loadavg", gather: gatherLoadavg},
	{name: "ssh_pub_keys", ids: []string{"ssh_host_key_dsa_public", "ssh_host_key_ecdsa_public", "ssh_host_key_ed25519_public", "ssh_host_key_rsa_public", "ssh_host_pub_keys"}, gather: gatherSSHPubKeys},
	{name: "user", ids: []string{"effective_group_ids", "effective_user_id", "real_user_id", "user_dir", "user_gecos", "user_gid", "user_id", "user_shell", "user_uid"}, gather: gatherUser},
	{name: "virtual", ids: []string{"virtualization_role", "virtualization_tech_guest", "virtualization_tech_host", "virtualization_type"}, gather: gatherVirtual},
	{name: "hardware", ids: []string{"devices", "mounts", "processor", "processor_cores", "processor_count"}, requires: []string{"platform"}, gather: gatherHardware},
	{name: "dns", gather: gatherDNS},
	{name: "fibre_channel_wwn", gather: gatherFibreChannel},
	{name: "network", ids: []string{"all_ipv4_addresses", "all_ipv6_addresses", "default_ipv4", "default_ipv6", "interfaces"}, requires: []string{"distribution", "platform"}, gather: gatherNetwork},
	{name: "iscsi", gather: gatherISCSI},
	{name: "nvme", gather: gatherNVMe},
	{name: "local", gather: gatherLocal},
	{name: "facter", ids: []string{"facter"}, gather: gatherNothing},
	{name: "ohai", gather: gatherNothing},
}

// minimalSubset is what setup gathers whatever gather_subset says, unless
// it excludes min itself (the setup module's minimal_gather_subset).
var minimalSubset = []string{"apparmor", "caps", "cmdline", "date_time", "distribution", "dns", "env", "fips", "local",
	"lsb", "pkg_mgr", "platform", "python", "selinux", "service_mgr", "ssh_pub_keys", "user"}

func gatherNothing(*setupOutput, map[string]any) map[string]any { return nil }

// chooseCollectors resolves gather_subset as Ansible's get_collector_names
// and _solve_deps do: min is always added first; all adds every subset; !x
// removes x and the facts it names (!all keeps min); a subset named
// explicitly survives its exclusion; nothing added means all.
func chooseCollectors(subset []string) ([]*setupCollector, error) {
	valid := map[string]bool{}
	aliases := map[string][]string{}
	for _, c := range setupCollectors {
		valid[c.name] = true
		for _, id := range c.ids {
			valid[id] = true
		}
		aliases[c.name] = c.ids
	}
	minimal := map[string]bool{}
	for _, s := range minimalSubset {
		minimal[s] = true
	}
	add, exclude, explicit := map[string]bool{}, map[string]bool{}, map[string]bool{}
	for _, s := range append([]string{"min"}, subset...) {
		switch {
		case s == "min":
			maps.Copy(add, minimal)
		case s == "all":
			maps.Copy(add, valid)
		case s == "!min":
			maps.Copy(exclude, minimal)
		case s == "!all":
			for v := range valid {
				if !minimal[v] {
					exclude[v] = true
				}
			}
		case strings.HasPrefix(s, "!"):
			exclude[s[1:]] = true
			for _, id := range aliases[s[1:]] {
				exclude[id] = true
			}
		case !valid[s]:
			names := slices.Sorted(maps.Keys(valid))
			return nil, &ArgError{Arg: "gather_subset", Err: fmt.Errorf("bad subset '%s' given to Ansible. gather_subset options allowed: all, %s", s, strings.Join(names, ", "))}
		default:
			explicit[s] = true
			add[s] = true
		}
	}
	if len(add) == 0 {
		maps.Copy(add, valid)
	}
	for s := range exclude {
		if !explicit[s] {
			delete(add, s)
		}
	}
	return selectCollectors(add), nil
}

// selectCollectors returns, in table order, the collectors that names
// select by name or by one of their facts, with those they require.
func selectCollectors(names map[string]bool) []*setupCollector {
	chosen := map[string]bool{}
	for _, c := range setupCollectors {
		if names[c.name] || slices.ContainsFunc(c.ids, func(id string) bool { return names[id] }) {
			chosen[c.name] = true
		}
	}
	for changed := true; changed; {
		changed = false
		for _, c := range setupCollectors {
			for _, r := range c.requires {
				if chosen[c.name] && !chosen[r] {
					chosen[r], changed = true, true
				}
			}
		}
	}
	var out []*setupCollector
	for _, c := range setupCollectors {
		if chosen[c.name] {
			out = append(out, c)
		}
	}
	return out
}
