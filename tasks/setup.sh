# The setup module's one command. It prints, in one go, the raw material of
# every fact the chosen collectors need: files, a few command outputs and a
# list of which paths exist. All interpretation happens in Go, so this stays
# plain POSIX sh (dash, bash, busybox) and any tool may be missing.
#
# It is read from standard input (sh -s NONCE ...), so that the command line
# stays one short line whatever the login shell, and sudo logs no script.
# All of it is one function, read whole before it runs: nothing it starts
# can swallow the rest of the script, and the shell leaves without waiting
# for an end of input that a terminal (su's) may never send.
#
# Arguments: NONCE FACT_PATH TIMEOUT T_JAN T_JUL COLLECTOR...
#
# Output: sections. Each starts on a new line with "@@NONCE NAME [ARGS]" and
# runs to the newline before the next marker; "@@NONCE rc N" gives the exit
# status of the section before it. The nonce, fresh for every run, keeps file
# contents from passing for a marker.

main() {
	m="@@$1" fp=$2 to=$3 tjan=$4 tjul=$5
	shift 5
	want=" $* "

	has() { case $want in *" $1 "*) return 0 ;; esac; return 1; }
	have() { command -v "$1" >/dev/null 2>&1; }
	sec() { printf '\n%s %s\n' "$m" "$*"; }
	# run NAME CMD...: the section NAME holds CMD's output, then its status.
	run() {
		sec "$1"
		shift
		"$@" </dev/null 2>/dev/null
		set -- $?
		printf '\n%s rc %s\n' "$m" "$1"
		return "$1"
	}
	# tmo CMD...: CMD, stopped after the gather timeout where timeout(1) exists;
	# for what may hang on a sick host (statfs of a dead NFS mount, LVM, local
	# fact scripts). Each costs a process, so the rest runs bare.
	tmo() {
		if [ -n "$tmo_bin" ]; then timeout "$to" "$@"; else "$@"; fi
	}

	sec start
	if have timeout; then tmo_bin=1; else tmo_bin=; fi

	# The environment and the local facts come first, before this script changes
	# PATH and the locale, so that both see the login environment.
	if has env || has chroot; then
		sec env0
		env -0 2>/dev/null || { sec env; env; }
	fi

	if has local; then
		case $fp in "~" | "~/"*) fp=$HOME${fp#"~"} ;; esac
		if [ -d "$fp" ]; then
			exec 3>&1
			for f in "$fp"/*.fact; do
				[ -e "$f" ] || continue
				if [ -f "$f" ] && [ -x "$f" ]; then
					sec factx "$f"
					# stdout goes straight out; stderr is kept for the message.
					e=$(tmo "$f" 2>&1 >&3 3>&- </dev/null; r=$?; echo x; exit $r)
					r=$?
					sec facterr "$r"
					printf '%s' "${e%x}"
				else
					sec fact "$f"
					cat "$f" 2>/dev/null
				fi
			done
			exec 3>&-
		fi
	fi

	LC_ALL=C
	export LC_ALL
	# Ansible looks for its helpers in the sbin directories too.
	PATH=${PATH:+$PATH:}/sbin:/usr/sbin:/usr/local/sbin

	u=$(uname -snrvm 2>/dev/null)
	sec uname
	printf '%s\n' "$u"
	sys=${u%% *}
	node=${u#* }
	node=${node%% *}

	sec bins
	for b in ip getent lsb_release capsh systemctl initctl lsblk findmnt hostname vgs; do
		command -v "$b" 2>/dev/null
	done

	# c lists the paths (shell patterns) to report on: whether they exist, and
	# the contents of those that are readable files. x lists paths whose
	# existence alone matters, l possible symlinks.
	c=
	x=
	l=
	add() { c="$c $*"; }
	addx() { x="$x $*"; }

	if has platform; then
		add /var/lib/dbus/machine-id /etc/machine-id
		run getconf getconf LONG_BIT
		sec fqdn
		if have getent; then
			# As Python's getfqdn: the name's first address, then that address's names.
			fqdn() {
				set -f
				set -- $(getent ahosts "$1" 2>/dev/null)
				set +f
				[ $# -gt 0 ] && getent hosts "$1" 2>/dev/null
			}
			fqdn "$node"
		else
			run hostnamef hostname -f
		fi
	fi
	if has distribution || has lsb; then
		add /etc/os-release /usr/lib/os-release /etc/lsb-release /etc/debian_version \
			'/etc/*-release' '/etc/*_release' '/etc/*-version' '/etc/*_version' \
			/etc/coreos/update.conf /etc/release /etc/product
		l="$l /etc/products.d/baseproduct"
		have lsb_release && run lsb_release lsb_release -a
		case $sys in
		Darwin) run swvers sw_vers -productVersion ;;
		OpenBSD | NetBSD | DragonFly) run kernver sysctl -n kern.version ;;
		esac
	fi
	has selinux && addx /sys/fs/selinux && add /sys/fs/selinux/enforce /sys/fs/selinux/policyvers /etc/selinux/config
	has apparmor && addx /sys/kernel/security/apparmor
	has fips && add /proc/sys/crypto/fips_enabled
	has cmdline && add /proc/cmdline
	has loadavg && add /proc/loadavg
	has ssh_pub_keys && add '/etc/ssh/ssh_host_*_key.pub' '/etc/openssh/ssh_host_*_key.pub' '/etc/ssh_host_*_key.pub'
	has dns && add /etc/resolv.conf
	has nvme && add /etc/nvme/hostnqn
	has iscsi && add /etc/iscsi/initiatorname.iscsi
	has fibre_channel_wwn && add '/sys/class/fc_host/*/port_name'
	has caps && have capsh && run capsh capsh --print
	if has pkg_mgr; then
		addx /usr/bin/rpm-ostree /usr/bin/yum /usr/bin/dnf /usr/bin/apt-get /usr/bin/zypper \
			/usr/sbin/urpmi /usr/bin/pacman /bin/opkg /usr/pkg/bin/pkgin /opt/local/bin/pkgin \
			/opt/tools/bin/pkgin /opt/local/bin/port /usr/local/bin/brew /opt/homebrew/bin/brew \
			/sbin/apk /usr/sbin/pkg /usr/sbin/swlist /usr/bin/emerge /usr/sbin/pkgadd /usr/bin/pkg \
			/usr/bin/xbps-install /usr/local/sbin/pkg /usr/bin/swupd /usr/sbin/sorcery \
			/usr/bin/installp /QOpenSys/pkgs/bin/yum /run/ostree-booted /usr/bin/rpm
		if [ -x /usr/bin/rpm ] && [ -e /usr/bin/apt-get ]; then
			run rpmapt /usr/bin/rpm -q --whatprovides /usr/bin/apt-get
		fi
	fi
	if has service_mgr; then
		add /proc/1/comm
		addx /run/systemd/system/ /dev/.run/systemd/ /dev/.systemd/ /etc/init/ /sbin/openrc /etc/init.d/
		l="$l /sbin/init"
		[ -r /proc/1/comm ] || run ps1 ps -p 1 -o comm
	fi
	if has user; then
		i=$(id 2>/dev/null)
		sec id
		printf '%s\n' "$i"
		uid=${i#uid=}
		uid=${uid%%[!0-9]*}
		# getpass.getuser() trusts these variables before the uid.
		un=${LOGNAME:-${USER:-${LNAME:-${USERNAME:-}}}}
		sec logname
		printf '%s\n' "$un"
		if have getent; then
			[ -n "$un$uid" ] && run passwd getent passwd ${un:+"$un"} ${uid:+"$uid"}
		else
			add /etc/passwd
		fi
	fi
	if has date_time; then
		sec date
		# "now" first, then the two instants CPython reads time.tzname from.
		case $sys in
		Linux)
			printf 'now\n@%s\n@%s\n' "$tjan" "$tjul" | date -f - '+%s %N %z %Z' 2>/dev/null ||
				{ sec date; date '+%s %z %Z'; }
			;;
		*)
			date '+%s %z %Z'
			date -r "$tjan" '+%s %z %Z' 2>/dev/null && date -r "$tjul" '+%s %z %Z' 2>/dev/null
			;;
		esac
	fi
	if has chroot; then
		# Without /proc/1/root, Ansible compares /'s inode with its file
		# system's root inode; GNU stat printed it, else ls gives it.
		if ! run chroot stat -L -c '%d %i' / /proc/1/root/.; then
			run chrootfs stat -f -c %T / || run chrootino ls -di /
		fi
	fi
	if has virtual; then
		addx /proc/1/environ /proc/vz /proc/lve /proc/bc /.dockerenv /.dockerinit /proc/xen /rhev/ /dev/kvm
		add /proc/1/cgroup /run/systemd/container /proc/xen/capabilities \
			/sys/devices/virtual/dmi/id/product_name /sys/devices/virtual/dmi/id/sys_vendor \
			/sys/devices/virtual/dmi/id/product_family /sys/devices/virtual/dmi/id/bios_vendor \
			/proc/self/status /proc/cpuinfo /proc/modules
		[ -d /rhev/ ] && add '/proc/[0-9]*/comm'
		if [ -r /proc/1/environ ]; then
			sec environ1
			{ tr '\000' '\n' </proc/1/environ; } 2>/dev/null
		fi
	fi
	if has hardware; then
		addx /proc/xen
		add /proc/meminfo /proc/cpuinfo /sys/hypervisor/type /proc/uptime \
			/proc/self/status /sys/devices/virtual/dmi/id/product_name \
			/sys/devices/virtual/dmi/id/bios_date /sys/devices/virtual/dmi/id/bios_vendor \
			/sys/devices/virtual/dmi/id/bios_version /sys/devices/virtual/dmi/id/board_asset_tag \
			/sys/devices/virtual/dmi/id/board_name /sys/devices/virtual/dmi/id/board_serial \
			/sys/devices/virtual/dmi/id/board_vendor /sys/devices/virtual/dmi/id/board_version \
			/sys/devices/virtual/dmi/id/chassis_asset_tag /sys/devices/virtual/dmi/id/chassis_serial \
			/sys/devices/virtual/dmi/id/chassis_vendor /sys/devices/virtual/dmi/id/chassis_version \
			/sys/devices/virtual/dmi/id/chassis_type /sys/devices/virtual/dmi/id/product_serial \
			/sys/devices/virtual/dmi/id/product_uuid /sys/devices/virtual/dmi/id/product_version \
			/sys/devices/virtual/dmi/id/sys_vendor
		mt=/etc/mtab
		[ -e "$mt" ] || mt=/proc/mounts
		add "$mt"
		statfs() {
			set --
			[ -r "$mt" ] || return 0
			while read -r dev mnt fs rest; do
				case $dev in /* | \\* | *:/*) ;; *) continue ;; esac
				[ "$fs" = none ] && continue
				# mtab escapes blanks and backslashes as \ooo, which printf decodes.
				case $mnt in *\\*) mnt=$(printf "$(printf '%s' "$mnt" | sed 's/%/%%/g')") ;; esac
				set -- "$@" "$mnt"
			done <"$mt"
			[ $# -gt 0 ] && run statfs tmo stat -f -c '%S %s %b %a %c %d	%n' -- "$@"
		}
		statfs
		have lsblk && run lsblk lsblk --list --noheadings --paths --output NAME,UUID --exclude 2
		have findmnt && run findmnt findmnt --list --noheadings --notruncate
		# Ansible reads LVM as root only.
		if have vgs && [ "$(id -u 2>/dev/null)" = 0 ]; then
			for t in vgs lvs pvs; do
				have $t && run $t tmo $t --noheadings --nosuffix --units g --separator ,
			done
		fi
	fi
	if has network; then
		# Quoted, so that the patterns expand once, in scan and links.
		for a in '' device device/driver/module bridge 'brif/*' bonding bonding_slave; do
			addx "/sys/class/net/*${a:+/$a}"
		done
		for a in address mtu operstate type speed flags bridge/bridge_id bridge/stp_state \
			bonding/slaves bonding/mode bonding/miimon bonding/lacp_rate bonding/primary \
			bonding/all_slaves_active bonding_slave/perm_hwaddr; do
			add "/sys/class/net/*/$a"
		done
		l="$l /sys/class/net/*/device /sys/class/net/*/device/driver/module"
		if have ip; then
			run route4 ip -4 route get 8.8.8.8
			run route6 ip -6 route get 2404:6800:400a:800::1012
			run addr ip addr show primary || run addr ip addr show
			run addr2 ip addr show secondary
		fi
	fi

	# What exists, then the readable files' lines prefixed by their names (grep
	# with /dev/null as a second file always names the file), then symlinks.
	# show prints "FLAGS PATH" for a path that exists: d directory, f file,
	# l symlink, s not empty.
	show() {
		[ -e "$1" ] || [ -L "$1" ] || return 1
		t=
		[ -d "$1" ] && t=d
		[ -f "$1" ] && t=f
		[ -L "$1" ] && t=${t}l
		[ -s "$1" ] && t=${t}s
		printf '%s %s\n' "${t:-o}" "$1"
	}
	scan() {
		sec exists
		for p in $x; do
			show "$p"
		done
		set --
		seen=" "
		for p in $c; do
			case $seen in *" $p "*) continue ;; esac
			seen="$seen$p "
			show "$p" && [ -f "$p" ] && [ -r "$p" ] && set -- "$@" "$p"
		done
		[ $# -gt 0 ] || return 0
		sec files
		printf '%s\n' "$@"
		sec grep
		grep '' /dev/null "$@" 2>/dev/null
	}
	scan
	links() {
		set --
		for p in $l; do
			[ -L "$p" ] && set -- "$@" "$p"
		done
		[ $# -gt 0 ] || return 0
		sec symlinks
		printf '%s\n' "$@"
		run links ls -ld "$@"
	}
	links
	sec end
}
main "$@" </dev/null; exit
