# The setup module's one command. It prints, in one go, the raw material of
# every fact the chosen collectors need: files, a few command outputs and a
# list of which paths exist. All interpretation happens in Go, so this stays
# plain POSIX sh (dash, bash, busybox) and any tool may be missing.
#
# Each process it starts costs the host about a millisecond of CPU, so it
# starts one only for what neither the shell nor Go can get otherwise: the
# shell reads the short files itself, Go derives what it can from the
# output, and one grep prints all the other files. (The shell's read takes
# one system call per byte, which is why it reads only short files.)
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
	nl='
'
	tab='	'
	ifs=$IFS

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
	# get FILE: got is FILE's text without its last newline, read by the
	# shell; false when FILE cannot be read or is empty.
	get() {
		got= g=
		{
			IFS= read -r got || [ -n "$got" ] || return
			while IFS= read -r g || [ -n "$g" ]; do
				got=$got$nl$g g=
			done
		} 2>/dev/null <"$1"
	}

	# lsbmin: whether the lsb_release found, at lb, is the one Go can stand in
	# for: Debian's lsb-release-minimal 12.0-1 by dpkg's word (Go checks the
	# script itself, which grep prints), with nothing in the environment that
	# the script would read instead of os-release, and the tools it runs.
	lsbmin() {
		lb=
		lb_ifs=$IFS
		IFS=:
		set -f
		for d in $PATH; do
			if [ -f "$d/lsb_release" ] && [ -x "$d/lsb_release" ]; then
				lb=$d/lsb_release
				break
			fi
		done
		IFS=$lb_ifs
		set +f
		case $lb in /*) ;; *) return 1 ;; esac
		case $lb in *[!A-Za-z0-9/._+-]*) return 1 ;; esac
		[ "$lb" -ef /usr/bin/lsb_release ] 2>/dev/null || return 1
		{ IFS= read -r h; } 2>/dev/null </var/lib/dpkg/info/lsb-release.md5sums || return 1
		[ "$h" = 'ea9d75d89eb0db5bda8ebe14a102f4d0  usr/bin/lsb_release' ] || return 1
		[ -x /bin/sh ] && have getopt && have cut && have tr || return 1
		[ -z "${LSB_OS_RELEASE+x}${os_release+x}${ID+x}${NAME+x}${PRETTY_NAME+x}${VERSION_ID+x}${VERSION_CODENAME+x}" ]
	}

	sec start
	if have timeout; then tmo_bin=1; else tmo_bin=; fi

	# The environment and the local facts come first, before this script changes
	# PATH and the locale, so that both see the login environment.
	if has env || has chroot; then
		# dash hands its children exactly the variables its export -p lists
		# (those it imported with valid names, and those it exported): the
		# builtin spares env(1).
		if [ "/proc/$$/exe" -ef /bin/dash ]; then
			sec export
			export -p
		else
			sec env0
			env -0 2>/dev/null || { sec env; env; }
		fi
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

	# `uname -snrvm` is uname(2), which /proc/sys/kernel shows as well, unless
	# a personality (linux32, uname26) rewrites what uname(2) says.
	if get /proc/self/personality && [ "$got" = 00000000 ] &&
		get /proc/sys/kernel/ostype && u=$got &&
		get /proc/sys/kernel/hostname && u="$u $got" &&
		get /proc/sys/kernel/osrelease && u="$u $got" &&
		get /proc/sys/kernel/version && u="$u $got" &&
		get /proc/sys/kernel/arch; then
		u="$u $got"
	else
		u=$(uname -snrvm 2>/dev/null)
	fi
	sec uname
	printf '%s\n' "$u"
	sys=${u%% *}
	node=${u#* }
	node=${node%% *}

	sec bins
	for b in ip getent lsb_release capsh systemctl initctl lsblk findmnt hostname vgs; do
		command -v "$b" 2>/dev/null
	done

	# The shell's own uid and gid, for `id`: Uid and Gid are near the top of
	# the status file, so reading stops there.
	ruid= euid= ids=
	if [ "$sys" = Linux ]; then
		{
			while IFS= read -r g; do
				case $g in
				Uid:*) ids=$g ;;
				Gid:*)
					ids=$ids$nl$g
					break
					;;
				esac
			done
		} 2>/dev/null </proc/self/status
		set -- $ids
		if [ $# = 10 ] && [ "$1" = Uid: ] && [ "$6" = Gid: ]; then
			case $2$3$7 in *[!0-9]*) ids= ;; *) ruid=$2 euid=$3 ;; esac
		else
			ids=
		fi
	fi

	# c lists the paths (shell patterns) to report on: whether they exist, and
	# the contents of those that are readable files. x lists paths whose
	# existence alone matters, l possible symlinks.
	c=
	x=
	l=
	q=
	ask=
	dmi=/sys/devices/virtual/dmi/id
	add() {
		for a; do
			case "$q " in *" $a "*) ;; *) c="$c $a" ;; esac
		done
	}
	# addq FILE...: files whose lines the shell reads back from grep's output
	# (scan), which prints them first.
	addq() {
		for a; do
			case "$q " in *" $a "*) ;; *) q="$q $a" ;; esac
		done
	}
	addx() { x="$x $*"; }

	if has platform; then
		add /var/lib/dbus/machine-id /etc/machine-id
		# getconf LONG_BIT tells whether the host's programs are 64-bit. This
		# shell is one when its lowest mapping lies beyond 32 bits (a 64-bit
		# position-independent program); otherwise getconf decides.
		{ IFS= read -r g; } 2>/dev/null </proc/self/maps
		case ${g%%-*} in
		?????????*)
			if have getconf; then
				sec longbit
				printf '%s\n' "$g"
			else
				run getconf getconf LONG_BIT
			fi
			;;
		*) run getconf getconf LONG_BIT ;;
		esac
		if have getent; then
			# Answered after scan, from /etc/hosts where name service looks there
			# first and finds the name.
			ask="$ask fqdn"
			addq /etc/nsswitch.conf /etc/hosts
		else
			run hostnamef hostname -f
		fi
	fi
	if has distribution || has lsb; then
		# The patterns cover /etc/os-release, lsb-release and debian_version.
		add /usr/lib/os-release '/etc/*[-_]release' '/etc/*[-_]version' \
			/etc/coreos/update.conf /etc/release /etc/product
		l="$l /etc/products.d/baseproduct"
		if have lsb_release; then
			if lsbmin; then
				# Go prints what it would, from os-release.
				sec lsbmin "$lb"
				add "$lb"
			else
				run lsb_release lsb_release -a
			fi
		fi
		case $sys in
		Darwin) run swvers sw_vers -productVersion ;;
		OpenBSD | NetBSD | DragonFly) run kernver sysctl -n kern.version ;;
		esac
	fi
	if has selinux; then
		addx /sys/fs/selinux
		add /etc/selinux/config
		[ -d /sys/fs/selinux ] && add /sys/fs/selinux/enforce /sys/fs/selinux/policyvers
	fi
	has apparmor && addx /sys/kernel/security/apparmor
	has fips && add /proc/sys/crypto/fips_enabled
	has cmdline && add /proc/cmdline
	has loadavg && add /proc/loadavg
	has ssh_pub_keys && add '/etc/ssh/ssh_host_*_key.pub' '/etc/openssh/ssh_host_*_key.pub' '/etc/ssh_host_*_key.pub'
	has dns && add /etc/resolv.conf
	has nvme && add /etc/nvme/hostnqn
	has iscsi && add /etc/iscsi/initiatorname.iscsi
	has fibre_channel_wwn && add '/sys/class/fc_host/*/port_name'
	if has caps && have capsh; then
		# capsh's "Current:" line, where it is one of the two Go writes, comes
		# from grep's capabilities, which are capsh's: both are programs without
		# file capabilities that this shell starts (scan).
		ask="$ask caps"
		addq /proc/self/status /proc/sys/kernel/cap_last_cap
	fi
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
		# Go reads /sbin/init's link only when process 1's name does not name
		# the service manager (gatherServiceMgr): a plain name other than init
		# or a shell does.
		if get /proc/1/comm; then
			case $got in
			"" | init | *sh | *[!A-Za-z0-9_.+-]*) l="$l /sbin/init" ;;
			esac
		else
			l="$l /sbin/init"
		fi
		[ -r /proc/1/comm ] || run ps1 ps -p 1 -o comm
	fi
	if has user; then
		# getpass.getuser() trusts these variables before the uid.
		un=${LOGNAME:-${USER:-${LNAME:-${USERNAME:-}}}}
		# Go takes the uid's name from getent's answer when no variable names the
		# user, so `id` is needed only where getent is missing.
		if [ -n "$ids" ] && have getent && have id; then
			sec ids
			printf '%s\n' "$ids"
			uid=$ruid
		else
			i=$(id 2>/dev/null)
			sec id
			printf '%s\n' "$i"
			uid=${i#uid=}
			uid=${uid%%[!0-9]*}
		fi
		sec logname
		printf '%s\n' "$un"
		if have getent; then
			if [ -n "$un" ]; then
				# The name's entry, from /etc/passwd where name service looks there
				# first and finds it (scan).
				ask="$ask passwd"
				addq /etc/nsswitch.conf /etc/passwd
			elif [ -n "$uid" ]; then
				run passwd getent passwd "$uid"
			fi
		else
			add /etc/passwd
		fi
	fi
	if has date_time; then
		sec date
		# "now" first, then the two instants CPython reads time.tzname from.
		case $sys in
		Linux)
			if ! date -f - '+%s %N %z %Z' 2>/dev/null <<-EOF; then
				now
				@$tjan
				@$tjul
			EOF
				sec date
				date '+%s %z %Z'
			fi
			;;
		*)
			date '+%s %z %Z'
			date -r "$tjan" '+%s %z %Z' 2>/dev/null && date -r "$tjul" '+%s %z %Z' 2>/dev/null
			;;
		esac
	fi
	rootfs= rootino= rootfst=
	if has chroot; then
		# Ansible compares / with /proc/1/root/. (test's -ef does, as stat
		# would); without /proc/1/root, /'s inode with its file system's root
		# inode: the type takes stat -f, the inode comes last (below).
		if ! [ -e /proc/1/root/. ]; then
			rootfs=1 rootino=1
		elif [ / -ef / ] 2>/dev/null; then
			sec rootsame
			if [ / -ef /proc/1/root/. ]; then echo 1; else echo 0; fi
		elif ! run chroot stat -L -c '%d %i' / /proc/1/root/.; then
			run chrootfs stat -f -c %T / || run chrootino ls -di /
		fi
	fi
	if has virtual; then
		addx /proc/1/environ /proc/vz /proc/lve /proc/bc /.dockerenv /.dockerinit /proc/xen /rhev/ /dev/kvm
		add /proc/1/cgroup /run/systemd/container /proc/xen/capabilities /proc/self/status \
			/proc/cpuinfo /proc/modules
		# Files are looked for only in a directory that is there (DMI: not in
		# every VM), as a missing file costs two stats.
		[ -d "$dmi" ] && add "$dmi/product_name" "$dmi/sys_vendor" "$dmi/product_family" "$dmi/bios_vendor"
		if [ -d /rhev/ ]; then
			if has service_mgr; then
				add '/proc/[02-9]*/comm' '/proc/1?*/comm' # not /proc/1/comm again
			else
				add '/proc/[0-9]*/comm'
			fi
		fi
		if [ -r /proc/1/environ ]; then
			sec environ1
			{ tr '\000' '\n' </proc/1/environ; } 2>/dev/null
		fi
	fi
	if has hardware; then
		if ! has virtual; then
			addx /proc/xen
			add /proc/cpuinfo /proc/self/status
			[ -d "$dmi" ] && add "$dmi/product_name" "$dmi/bios_vendor" "$dmi/sys_vendor"
		fi
		add /proc/meminfo /sys/hypervisor/type /proc/uptime
		if [ -d "$dmi" ]; then
			for a in bios_date bios_version board_asset_tag board_name board_serial board_vendor \
				board_version chassis_asset_tag chassis_serial chassis_vendor chassis_version \
				chassis_type product_serial product_uuid product_version; do
				add "$dmi/$a"
			done
		fi
		mt=/etc/mtab
		[ -e "$mt" ] || mt=/proc/mounts
		add "$mt"
		# statfs of the mounts Ansible reports. It runs under the timeout unless
		# no mount on its way could hang: the mounts it asks about and those
		# above them (the lookup of a path crosses each) are all of types that
		# answer from the host's own memory or disks, not from a server, a FUSE
		# daemon or an automounter. Then it also gives /'s type for chroot.
		statfs() {
			set --
			slow= dev= root= unsafe= raw=
			[ -r "$mt" ] || return 0
			while read -r dev mnt fs rest; do
				[ "$mnt" = / ] && rootfst=$fs
				case $fs in
				ext2 | ext3 | ext4 | xfs | btrfs | vfat | exfat | f2fs | squashfs | iso9660 | erofs | \
					tmpfs | ramfs | proc | sysfs | devtmpfs | devpts | cgroup | cgroup2 | mqueue | \
					debugfs | tracefs | securityfs | pstore | bpf | configfs | hugetlbfs | fusectl | \
					efivarfs | nsfs | binfmt_misc | selinuxfs) ;;
				*) unsafe="$unsafe $mnt" ;;
				esac
				case $dev in /* | \\* | *:/*) ;; *) continue ;; esac
				[ "$fs" = none ] && continue
				# lsblk names only devices in /dev.
				case $dev in /dev/*) devmnt=1 ;; esac
				raw="$raw $mnt"
				# mtab escapes blanks and backslashes as \ooo, which printf decodes.
				case $mnt in *\\*) mnt=$(printf "$(printf '%s' "$mnt" | sed 's/%/%%/g')") ;; esac
				[ "$mnt" = / ] && root=1
				set -- "$@" "$mnt"
			done <"$mt"
			# Still \ooo-escaped, so without blanks.
			set -f
			for u in $unsafe; do
				for r in $raw; do
					case $r in "$u" | "${u%/}"/*) slow=1 ;; esac
				done
			done
			set +f
			if [ -z "$slow" ] && [ -n "$rootfs" ]; then
				rootfs=
				[ -n "$root" ] || set -- / "$@"
				run statfs stat -f -c '%S %s %b %a %c %d %T	%n' -- "$@"
			elif [ $# -gt 0 ]; then
				if [ -n "$slow" ]; then
					run statfs tmo stat -f -c '%S %s %b %a %c %d	%n' -- "$@"
				else
					run statfs stat -f -c '%S %s %b %a %c %d	%n' -- "$@"
				fi
			fi
		}
		devmnt=
		statfs
		# lsblk reads UUIDs from udev's database; only for root does it probe
		# the devices. Without the database, it prints none to others; only
		# device-mapper names (/dev/mapper/NAME) could then still look like a
		# "NAME UUID" line, having blanks.
		if [ -n "$devmnt" ] && have lsblk; then
			set -- /sys/block/dm-*
			if [ "$ruid" = 0 ] || [ -z "$ruid" ] || [ -e "$1" ] || [ -e /run/udev/data ] ||
				[ -e /var/run/udev/data ] || [ -e /dev/.udev ]; then
				run lsblk lsblk --list --noheadings --paths --output NAME,UUID --exclude 2
			fi
		fi
		# Go reads findmnt's answer from mountinfo (and runs findmnt where it
		# cannot), unless libmount would read more: utab, its variables.
		if have findmnt; then
			if [ -s /run/mount/utab ] || [ -n "${LIBMOUNT_MTAB+x}${LIBMOUNT_UTAB+x}" ]; then
				run findmnt findmnt --list --noheadings --notruncate
			else
				sec findmntinfo
				add /proc/self/mountinfo
			fi
		fi
		# Ansible reads LVM as root only.
		if have vgs && [ "${euid:-$(id -u 2>/dev/null)}" = 0 ]; then
			for t in vgs lvs pvs; do
				have $t && run $t tmo $t --noheadings --nosuffix --units g --separator ,
			done
		fi
	fi
	[ -n "$rootfs" ] && run chrootfs stat -f -c %T /
	# The inode of / is what the kernel shows in fdinfo for / opened, where
	# the file system reports its inode numbers as they are (ext*, xfs, btrfs
	# by mtab; Go checks the type stat -f gave), else what ls -di says.
	if [ -n "$rootino" ]; then
		case $rootfst in
		ext2 | ext3 | ext4 | xfs | btrfs)
			get /proc/self/fdinfo/4 4</ || got=
			case $got in
			*"${nl}ino:	"*)
				got=${got##*"${nl}ino:	"}
				got=${got%%"$nl"*}
				;;
			*) got= ;;
			esac
			;;
		*) got= ;;
		esac
		case $got in
		"" | *[!0-9]*) run chrootino ls -di / ;;
		*)
			sec rootino
			printf '%s\n' "$got"
			;;
		esac
	fi
	if has network; then
		# Device by device, so that the bridge and bonding files are looked
		# for only where their directory is: every pattern costs a read of the
		# directory and a stat of each name, and sysfs is slow at both. A name
		# that is a pattern itself (the kernel allows *?[) would expand again in
		# scan: then the patterns, as they are.
		set -- /sys/class/net/*
		case "$*" in
		*[*?[]*)
			for a in '' device device/driver/module bridge 'brif/*' bonding bonding_slave; do
				addx "/sys/class/net/*${a:+/$a}"
			done
			for a in address mtu operstate type speed flags bridge/bridge_id bridge/stp_state \
				bonding/slaves bonding/mode bonding/miimon bonding/lacp_rate bonding/primary \
				bonding/all_slaves_active bonding_slave/perm_hwaddr; do
				add "/sys/class/net/*/$a"
			done
			l="$l /sys/class/net/*/device /sys/class/net/*/device/driver/module"
			;;
		*)
			for d in "$@"; do
				addx "$d" "$d/device" "$d/device/driver/module"
				add "$d/address" "$d/mtu" "$d/operstate" "$d/type" "$d/speed" "$d/flags"
				l="$l $d/device $d/device/driver/module"
				if [ -e "$d/bridge" ]; then
					addx "$d/bridge" "$d/brif/*"
					add "$d/bridge/bridge_id" "$d/bridge/stp_state"
				fi
				if [ -e "$d/bonding" ]; then
					addx "$d/bonding"
					add "$d/bonding/slaves" "$d/bonding/mode" "$d/bonding/miimon" "$d/bonding/lacp_rate" \
						"$d/bonding/primary" "$d/bonding/all_slaves_active"
				fi
				if [ -e "$d/bonding_slave" ]; then
					addx "$d/bonding_slave"
					add "$d/bonding_slave/perm_hwaddr"
				fi
			done
			;;
		esac
		if have ip; then
			# One iproute2 run answers what four did: the two route lookups, and
			# every address, whose flags tell a secondary one. Busybox's ip has no
			# -batch: it prints nothing, and the four commands run.
			ipo=$(ip -force -batch - 2>/dev/null <<-'EOF'
				route get 8.8.8.8
				route get 2404:6800:400a:800::1012
				addr show
			EOF
			)
			if [ -n "$ipo" ]; then
				sec ipbatch
				printf '%s\n' "$ipo"
			else
				run route4 ip -4 route get 8.8.8.8
				run route6 ip -6 route get 2404:6800:400a:800::1012
				run addr ip addr show primary || run addr ip addr show
				run addr2 ip addr show secondary
			fi
		fi
	fi

	# answer prints the sections asked for (ask) that scan's files answer,
	# reading q's lines back from grep's output, where they come first; a
	# section they do not answer runs its command. Each reads only as far as
	# Go, which decides again from the same lines, needs to agree: where it
	# does not, setup_followup.sh runs the command after all.
	answer() {
		nsp= nsh= pwok= pwnis= hl= nh=0 cinh= cprm= ceff= clast=
		set -f
		IFS=$nl
		set -- $o
		IFS=$ifs
		for g; do
			case $g in
			/etc/nsswitch.conf:passwd:*) [ -n "$nsp" ] || nsp="x ${g#/etc/nsswitch.conf:passwd:}" ;;
			/etc/nsswitch.conf:hosts:*) [ -n "$nsh" ] || nsh="x ${g#/etc/nsswitch.conf:hosts:}" ;;
			/etc/nsswitch.conf:*) ;;
			/etc/passwd:[+-]*) pwnis=1 ;;
			/etc/passwd:"$un":*) pwok=1 ;;
			/etc/passwd:*) ;;
			/etc/hosts:*)
				hl=$hl$nl${g#/etc/hosts:}
				nh=$((nh + 1))
				;;
			/proc/self/status:CapInh:*) cinh=${g#*:CapInh:} ;;
			/proc/self/status:CapPrm:*) cprm=${g#*:CapPrm:} ;;
			/proc/self/status:CapEff:*) ceff=${g#*:CapEff:} ;;
			/proc/self/status:*) ;;
			/proc/sys/kernel/cap_last_cap:*) clast=${g#*:} ;;
			*) break ;;
			esac
		done
		if asked passwd; then
			# Name service takes the first entry of the first source: files, or
			# compat without NIS's + and - lines.
			set -- $nsp
			if [ -n "$pwok" ] && [ -z "$pwnis" ] && { [ "$2" = files ] || [ "$2" = compat ]; } && firstonly "$3"; then
				sec passwdgo
			else
				run passwd getent passwd "$un" ${uid:+"$uid"}
			fi
		fi
		if asked fqdn; then
			if hostsfile; then
				sec fqdngo
			else
				sec fqdn
				fqdn "$node"
			fi
		fi
		if asked caps; then
			if capsknown; then
				sec capsgo
			else
				run capsh capsh --print
			fi
		fi
		set +f
	}
	asked() { case "$ask " in *" $1 "*) return 0 ;; esac; return 1; }
	# firstonly WORD: whether WORD, which follows a source in nsswitch.conf,
	# is no [STATUS=ACTION] that could make name service read on.
	firstonly() { case $1 in "["*) return 1 ;; esac; return 0; }
	# As Python's getfqdn: the name's first address, then that address's names.
	fqdn() {
		set -f
		set -- $(getent ahosts "$1" 2>/dev/null)
		set +f
		[ $# -gt 0 ] && getent hosts "$1" 2>/dev/null
	}
	# hostsfile: whether /etc/hosts, read first, names the node on one line
	# alone, which gives its one address (Go takes that address's first line
	# there for the names).
	hostsfile() {
		set -- $nsh
		[ "$2" = files ] && firstonly "$3" && [ "$nh" -le 64 ] || return 1
		case $node in
		"" | *[!0-9A-Za-z_.-]*) return 1 ;; # no name /etc/hosts holds
		*[!0-9.]*) ;;
		*) return 1 ;; # an address, which needs no lookup
		esac
		n=0
		IFS=$nl
		for g in $hl; do
			IFS=$ifs
			set -- ${g%%#*}
			[ $# -ge 2 ] || continue
			shift
			for w; do
				if [ "$w" = "$node" ]; then
					n=$((n + 1))
					break
				fi
			done
		done
		IFS=$ifs
		[ "$n" = 1 ]
	}
	# capsknown: whether grep's capabilities are none, or all the kernel has
	# in effect and permitted, none inheritable: capsh prints "=" or "=ep".
	capsknown() {
		set -- "${cinh#"$tab"}" "${cprm#"$tab"}" "${ceff#"$tab"}"
		[ "$1" = 0000000000000000 ] && [ "$2" = "$3" ] || return 1
		[ "$2" = 0000000000000000 ] && return 0
		case $2$clast in *[!0-9a-f]* | "$2") return 1 ;; esac
		case $clast in [1-9] | [1-5][0-9] | 6[0-2]) ;; *) return 1 ;; esac
		[ $((0x$2)) = $(((1 << (clast + 1)) - 1)) ]
	}

	# What exists, then the readable files' lines prefixed by their names (grep
	# with /dev/null as a second file always names the file), then symlinks.
	# "exists" has a line "FLAGS PATH" for each path that exists: d directory,
	# f file, o other, l dangling symlink, s not empty (only outside /proc and
	# /sys, whose files claim sizes of 0 or 4096: Go asks it of release files).
	# Each test is a stat, which costs microseconds in sysfs: the loops make no
	# more than those flags need, in the order that makes the fewest for the
	# common case (x: mostly directories or missing; c: mostly files).
	scan() {
		sec exists
		for p in $x; do
			if [ -e "$p" ]; then
				if [ -d "$p" ]; then
					t=d
				elif [ -f "$p" ]; then
					t=f
				else
					t=o
				fi
			elif [ -L "$p" ]; then
				t=l
			else
				continue
			fi
			case $p in /proc/* | /sys/*) ;; *) [ -s "$p" ] && t=${t}s ;; esac
			printf '%s %s\n' "$t" "$p"
		done
		# c names no path twice, not even through its patterns, nor one of q.
		set --
		for p in $q $c; do
			if [ -f "$p" ]; then
				t=f
				[ -r "$p" ] && set -- "$@" "$p"
			elif [ -d "$p" ]; then
				t=d
			elif [ -e "$p" ]; then
				t=o
			elif [ -L "$p" ]; then
				t=l
			else
				continue
			fi
			case $p in /proc/* | /sys/*) ;; *) [ -s "$p" ] && t=${t}s ;; esac
			printf '%s %s\n' "$t" "$p"
		done
		[ $# -gt 0 ] || return 0
		sec files
		printf '%s\n' "$@"
		sec grep
		if [ -z "$ask" ]; then
			grep '' /dev/null "$@" 2>/dev/null
			return 0
		fi
		o=$(grep '' /dev/null "$@" 2>/dev/null)
		printf '%s\n' "$o"
	}
	o=
	scan
	answer
	# Go needs only the last part of a sysfs link's target, which is the name
	# of the directory it leads to (sysfs links lead to directories): cd -P
	# gives it without a process. ls reads the other links. This comes last,
	# as it leaves the working directory in /sys.
	links() {
		set --
		sec linkdirs
		for p in $l; do
			[ -L "$p" ] || continue
			case $p in
			/sys/*/device | /sys/*/module)
				if cd -P -- "$p" 2>/dev/null; then
					printf '%s %s\n' "$p" "${PWD##*/}"
					continue
				fi
				;;
			esac
			set -- "$@" "$p"
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
