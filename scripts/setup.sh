#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# setup.sh: install what wiretally builds and tests with (Debian 12 packages only) and reserve hugepages.
set -eu

usage() {
	cat <<EOF
usage: scripts/setup.sh [-h]

Installs from Debian's archive whatever of the list below is missing (as
root; apt-get update runs only then), and reserves 2 MiB hugepages when it
can (\$WT_HUGEPAGES pages, default 512, if free memory allows; hugetlbfs is
mounted at /dev/hugepages if nothing is). Hugepages are best effort: setup
never fails over them. Safe to run again; fast when everything is installed.

packages: $PACKAGES
EOF
}

# Build: compiler, meson, DPDK and the libraries the monitor links (libzstd:
# sealed segments are compressed when archived; zstd, the command, for
# operators and the density benchmark).
# Tools: dpdk (dpdk-devbind.py), dpdk-dev (dpdk-telemetry.py), valgrind, clang-format
# (the style test).
# Lab (scripts/netns-lab.sh) and tests: iproute2, ethtool, tcpdump, nginx,
# curl, procps (sysctl), python3; nftables (the lossy router of
# tests/e2e/delivered.py drops segments with it: there is no netem here).
# Operations test: groff-base (formats the man pages), systemd
# (systemd-analyze verifies the unit; no service is started).
# IPFIX tests (suite ipfix, docs/IPFIX.md): real collectors and decoders:
# nfdump (nfcapd, nfdump), pmacct (nfacctd), tshark, and postgresql (the
# billing pipeline: nfacctd's pgsql plugin writing into a test database).
# Host agent (app/wiretally-agent, docs/AGENT.md): libbpf-dev, bpftool
# (vmlinux.h from the kernel's BTF, skeletons), clang (the BPF target).
PACKAGES="gcc libc6-dev meson ninja-build pkg-config libdpdk-dev dpdk libnuma-dev
libjemalloc-dev libpcap-dev libzstd-dev zstd python3 iproute2 ethtool tcpdump nginx-light curl
nftables procps valgrind clang-format dpdk-dev groff-base systemd nfdump pmacct tshark
postgresql libbpf-dev bpftool clang"
PACKAGES=$(echo $PACKAGES)

case ${1:-} in
-h | --help) usage; exit 0 ;;
'') ;;
*) echo "setup.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
esac

die() {
	echo "setup.sh: $*" >&2
	exit 1
}

missing_packages() {
	# shellcheck disable=SC2086
	dpkg-query -W -f='${Package} ${db:Status-Abbrev}\n' $PACKAGES 2>/dev/null |
		awk '$2 == "ii" { ok[$1] = 1 } END { n = split(P, p, " "); for (i = 1; i <= n; i++) if (!(p[i] in ok)) printf "%s ", p[i] }' P="$PACKAGES"
}

# Package installs must not start the daemons they ship (nginx would take
# port 80 of this host): policy-rc.d says no to every service start while
# apt runs, unless the machine has a policy of its own.
install_packages() {
	policy=/usr/sbin/policy-rc.d
	own_policy=0
	if [ ! -e "$policy" ]; then
		printf '#!/bin/sh\nexit 101\n' >"$policy"
		chmod 755 "$policy"
		own_policy=1
	fi
	export DEBIAN_FRONTEND=noninteractive
	rc=0
	apt-get update -qq && apt-get install -y -qq --no-install-recommends "$@" >/dev/null || rc=$?
	[ "$own_policy" = 0 ] || rm -f "$policy"
	return $rc
}

# hugepages: reserve and mount; prints one phrase, never fails.
hugepages() {
	want=${WT_HUGEPAGES:-512}
	nr=/sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages
	if [ ! -e "$nr" ]; then
		echo "hugepages: kernel has no 2 MiB pages, none reserved"
		return 0
	fi
	have=$(cat "$nr")
	note=""
	if [ "$have" -lt "$want" ]; then
		if [ "$(id -u)" != 0 ]; then
			note=" (not root: not raised to $want)"
		else
			avail_kb=$(awk '/^MemAvailable:/ { print $2 }' /proc/meminfo)
			# Leave at least 1 GiB to everything else.
			fit=$(( (avail_kb - 1048576 + have * 2048) / 2048 ))
			[ "$fit" -ge "$want" ] || want=$fit
			if [ "$want" -gt "$have" ]; then
				{ echo "$want" >"$nr"; } 2>/dev/null || note=" (cannot write $nr)"
			else
				note=" (too little free memory for more)"
			fi
			have=$(cat "$nr")
		fi
	fi
	mnt=$(awk '$3 == "hugetlbfs" { print $2; exit }' /proc/mounts)
	if [ -z "$mnt" ] && [ "$(id -u)" = 0 ] && [ "$have" -gt 0 ]; then
		mkdir -p /dev/hugepages 2>/dev/null &&
			mount -t hugetlbfs nodev /dev/hugepages 2>/dev/null &&
			mnt=/dev/hugepages
	fi
	[ -z "$mnt" ] || mnt="at $mnt"
	echo "hugepages: $have x 2 MiB reserved$note, hugetlbfs ${mnt:-not mounted}"
}

missing=$(missing_packages)
if [ -n "$missing" ]; then
	[ "$(id -u)" = 0 ] || die "missing packages: ${missing% }; run as root to install them (apt-get needs root)"
	command -v apt-get >/dev/null 2>&1 || die "missing packages: ${missing% }, and no apt-get (Debian 12 expected)"
	# shellcheck disable=SC2086
	install_packages $missing || die "apt-get could not install: ${missing% }"
	left=$(missing_packages)
	[ -z "$left" ] || die "still missing after apt-get install: ${left% }"
	pkgs="installed ${missing% }"
else
	pkgs="all $(echo "$PACKAGES" | wc -w) packages present"
fi
hp=$(hugepages 2>/dev/null) || hp="hugepages: left as they were (error while reserving)"
echo "setup: $pkgs; $hp"
