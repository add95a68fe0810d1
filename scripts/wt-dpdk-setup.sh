#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# wt-dpdk-setup.sh: prepare a machine for wiretally: hugepages, and NICs bound
# to a DPDK driver with dpdk-devbind.py (Debian package dpdk). Run as root.
set -eu

PROG=wt-dpdk-setup.sh
STATE_DIR=${WT_STATE_DIR:-/run/wiretally}
HP_MOUNT=/dev/hugepages

usage() {
	cat <<USAGE
usage: $PROG COMMAND [ARGS]

  status
      hugepages per size and NUMA node, hugetlbfs mounts, network devices and
      the driver each is bound to (dpdk-devbind.py --status-dev net).
  hugepages N [--size 2M|1G] [--node K]
      reserve N hugepages (default size 2M; on NUMA node K, else spread by the
      kernel) and mount hugetlbfs at $HP_MOUNT if no hugetlbfs is mounted.
      Says how many the kernel actually gave: fewer than asked is an error
      (exit 3), the pages it did give stay reserved. N=0 releases them.
  bind DEVICE [--driver DRV] [--noiommu] [--force] [--dry-run]
      bind DEVICE (a PCI address like 0000:03:00.0, or a kernel interface
      name) to DRV (default vfio-pci) for DPDK. Refuses an interface that is
      up with an address or a route (it may be how you reach this machine)
      unless --force. Without an IOMMU, vfio-pci needs --noiommu (sets vfio's
      enable_unsafe_noiommu_mode: no DMA isolation) or intel_iommu=on /
      amd_iommu=on on the kernel command line. The previous driver is
      remembered in $STATE_DIR so that unbind can give the device back.
      --dry-run says what would be done and changes nothing.
  unbind DEVICE [--dry-run]
      give a device bound by this script back to the kernel driver it had.

The monitor then uses the port by its PCI address (EAL -a 0000:03:00.0) or,
with no binding at all, a kernel interface through --iface NAME
(net_af_packet). Exit status: 0 done, 1 usage error, 2 refused or failed,
3 fewer hugepages than asked.
USAGE
}

die() {
	echo "$PROG: $*" >&2
	exit 2
}

usage_error() {
	echo "$PROG: $* (see --help)" >&2
	exit 1
}

need_root() {
	[ "$(id -u)" = 0 ] || die "$1 needs root"
}

devbind() {
	command -v dpdk-devbind.py >/dev/null 2>&1 ||
		die "dpdk-devbind.py not found: apt-get install dpdk"
	dpdk-devbind.py "$@"
}

# ---- status -----------------------------------------------------------------

cmd_status() {
	echo "hugepages:"
	for d in /sys/kernel/mm/hugepages/hugepages-*; do
		[ -d "$d" ] || continue
		sz=${d##*hugepages-}
		echo "  $sz: $(cat "$d/nr_hugepages") reserved, $(cat "$d/free_hugepages") free"
	done
	for n in /sys/devices/system/node/node[0-9]*; do
		[ -d "$n/hugepages" ] || continue
		line=""
		for d in "$n"/hugepages/hugepages-*; do
			line="$line ${d##*hugepages-}=$(cat "$d/nr_hugepages")"
		done
		echo "  node ${n##*node}:$line"
	done
	mounts=$(awk '$3 == "hugetlbfs" { printf " %s", $2 }' /proc/mounts)
	echo "hugetlbfs mounts:${mounts:- none}"
	if [ -d /sys/kernel/iommu_groups ] && [ -n "$(ls /sys/kernel/iommu_groups 2>/dev/null)" ]; then
		echo "IOMMU: on"
	else
		echo "IOMMU: off (vfio-pci needs --noiommu, or intel_iommu=on / amd_iommu=on)"
	fi
	if command -v dpdk-devbind.py >/dev/null 2>&1; then
		dpdk-devbind.py --status-dev net 2>/dev/null
	else
		echo "network devices: dpdk-devbind.py not found (apt-get install dpdk)"
	fi
}

# ---- hugepages --------------------------------------------------------------

cmd_hugepages() {
	[ $# -ge 1 ] || usage_error "hugepages: how many?"
	n=$1
	shift
	case $n in '' | *[!0-9]*) usage_error "hugepages: '$n' is not a number of pages" ;; esac
	size=2M node=""
	while [ $# -gt 0 ]; do
		case $1 in
		--size) [ $# -ge 2 ] || usage_error "--size needs a value"; size=$2; shift 2 ;;
		--node) [ $# -ge 2 ] || usage_error "--node needs a value"; node=$2; shift 2 ;;
		*) usage_error "hugepages: unknown argument '$1'" ;;
		esac
	done
	case $size in
	2M | 2m) kb=2048 ;;
	1G | 1g) kb=1048576 ;;
	*) usage_error "--size: '$size' (2M or 1G)" ;;
	esac
	need_root "reserving hugepages"
	if [ -n "$node" ]; then
		case $node in '' | *[!0-9]*) usage_error "--node: '$node' is not a node number" ;; esac
		f=/sys/devices/system/node/node$node/hugepages/hugepages-${kb}kB/nr_hugepages
		[ -e "$f" ] || die "NUMA node $node has no ${size} hugepages ($f missing)"
	else
		f=/sys/kernel/mm/hugepages/hugepages-${kb}kB/nr_hugepages
		[ -e "$f" ] || die "this kernel has no ${size} hugepages ($f missing)"
	fi
	echo "$n" >"$f" 2>/dev/null || die "cannot write $f"
	got=$(cat "$f")
	if ! awk '$3 == "hugetlbfs" { found = 1 } END { exit !found }' /proc/mounts; then
		mkdir -p "$HP_MOUNT"
		mount -t hugetlbfs nodev "$HP_MOUNT" || die "cannot mount hugetlbfs at $HP_MOUNT"
		echo "$PROG: mounted hugetlbfs at $HP_MOUNT"
	fi
	echo "$PROG: ${size} hugepages${node:+ on node $node}: asked $n, reserved $got"
	if [ "$got" -lt "$n" ]; then
		echo "$PROG: the kernel gave $got of $n ${size} hugepages (memory fragmented or too small); wiretally can still run with fewer (--spool off, smaller --table-size) or with --no-huge" >&2
		exit 3
	fi
}

# ---- bind / unbind ----------------------------------------------------------

PCI_RE='^[0-9a-fA-F]\{4\}:[0-9a-fA-F]\{2\}:[0-9a-fA-F]\{2\}\.[0-7]$'

# The PCI device a sysfs device path belongs to (itself or a parent, as for
# virtio-net, whose net device hangs under virtioN under the PCI function).
pci_parent() {
	p=$1
	while [ "$p" != / ] && [ -n "$p" ]; do
		if basename "$p" | grep -q "$PCI_RE"; then
			basename "$p"
			return
		fi
		p=$(dirname "$p")
	done
}

# The PCI address of DEVICE (a PCI address or an interface name), or die.
pci_of() {
	dev=$1
	case $dev in
	[0-9a-fA-F][0-9a-fA-F]:[0-9a-fA-F][0-9a-fA-F].[0-7])
		dev=0000:$dev ;;
	esac
	if [ -e "/sys/bus/pci/devices/$dev" ]; then
		echo "$dev"
		return
	fi
	if [ -e "/sys/class/net/$dev" ]; then
		pci=""
		[ -e "/sys/class/net/$dev/device" ] && pci=$(pci_parent "$(readlink -f "/sys/class/net/$dev/device")")
		[ -n "$pci" ] && { echo "$pci"; return; }
		die "$dev is not a PCI device (a virtual or loopback interface): it cannot be bound to DPDK; capture it with wiretally --iface $dev (net_af_packet)"
	fi
	die "no PCI device or network interface named '$1'"
}

# Why the interface(s) of PCI device $1 must not be taken from the kernel, or
# nothing.
busy_reason() {
	for n in /sys/class/net/*; do
		[ -e "$n/device" ] || continue
		[ "$(pci_parent "$(readlink -f "$n/device")")" = "$1" ] || continue
		ifc=${n##*/}
		if [ "$(cat "$n/operstate" 2>/dev/null)" = up ] || ip -o link show dev "$ifc" 2>/dev/null | grep -q '[<,]UP[,>]'; then
			addrs=$(ip -o addr show dev "$ifc" 2>/dev/null | awk '{ printf " %s", $4 }')
			routes=$(ip route show dev "$ifc" 2>/dev/null | head -1)
			if [ -n "$addrs" ] || [ -n "$routes" ]; then
				echo "interface $ifc is up with${addrs:+ addresses$addrs}${routes:+ and routes}"
				return
			fi
		fi
	done
}

cmd_bind() {
	[ $# -ge 1 ] || usage_error "bind: which device?"
	dev=$1
	shift
	driver=vfio-pci force=0 noiommu=0 dry=0
	while [ $# -gt 0 ]; do
		case $1 in
		--driver) [ $# -ge 2 ] || usage_error "--driver needs a value"; driver=$2; shift 2 ;;
		--force) force=1; shift ;;
		--noiommu) noiommu=1; shift ;;
		--dry-run) dry=1; shift ;;
		*) usage_error "bind: unknown argument '$1'" ;;
		esac
	done
	pci=$(pci_of "$dev")
	why=$(busy_reason "$pci")
	if [ -n "$why" ] && [ "$force" = 0 ]; then
		die "refusing to bind $pci: $why (it may carry this machine's own traffic); take it down first or pass --force"
	fi
	cur=$(basename "$(readlink -f "/sys/bus/pci/devices/$pci/driver" 2>/dev/null)" 2>/dev/null || true)
	[ "$cur" = "$driver" ] && { echo "$PROG: $pci is already bound to $driver"; return; }
	iommu=1
	[ -n "$(ls /sys/kernel/iommu_groups 2>/dev/null)" ] || iommu=0
	if [ "$driver" = vfio-pci ] && [ "$iommu" = 0 ] && [ "$noiommu" = 0 ]; then
		die "no IOMMU: vfio-pci cannot take $pci; boot with intel_iommu=on or amd_iommu=on, or pass --noiommu (no DMA isolation)"
	fi
	if [ "$dry" = 1 ]; then
		echo "$PROG: would bind $pci (now ${cur:-no driver}) to $driver${why:+ although $why}"
		return
	fi
	need_root "binding a device"
	modprobe "$driver" 2>/dev/null || true
	if [ "$driver" = vfio-pci ] && [ "$noiommu" = 1 ]; then
		modprobe vfio enable_unsafe_noiommu_mode=1 2>/dev/null || true
		p=/sys/module/vfio/parameters/enable_unsafe_noiommu_mode
		[ -w "$p" ] && echo 1 >"$p"
	fi
	mkdir -p "$STATE_DIR"
	echo "${cur:-none}" >"$STATE_DIR/bound-$pci"
	force_opt=""
	[ "$force" = 1 ] && force_opt=--force
	# shellcheck disable=SC2086
	devbind $force_opt -b "$driver" "$pci" || { rm -f "$STATE_DIR/bound-$pci"; die "dpdk-devbind.py could not bind $pci to $driver"; }
	now=$(basename "$(readlink -f "/sys/bus/pci/devices/$pci/driver" 2>/dev/null)" 2>/dev/null || true)
	[ "$now" = "$driver" ] || { rm -f "$STATE_DIR/bound-$pci"; die "$pci is bound to '${now:-nothing}' after dpdk-devbind.py, not $driver"; }
	echo "$PROG: $pci bound to $driver (was ${cur:-none}); use it with wiretally -a $pci"
}

cmd_unbind() {
	[ $# -ge 1 ] || usage_error "unbind: which device?"
	dev=$1
	dry=0
	[ "${2:-}" = --dry-run ] && dry=1
	pci=$(pci_of "$dev")
	[ -e "$STATE_DIR/bound-$pci" ] || die "$pci was not bound by $PROG (no $STATE_DIR/bound-$pci): use dpdk-devbind.py -b DRIVER $pci"
	old=$(cat "$STATE_DIR/bound-$pci")
	if [ "$dry" = 1 ]; then
		echo "$PROG: would give $pci back to ${old}"
		return
	fi
	need_root "unbinding a device"
	if [ "$old" = none ]; then
		devbind -u "$pci" || die "dpdk-devbind.py could not unbind $pci"
	else
		devbind -b "$old" "$pci" || die "dpdk-devbind.py could not give $pci back to $old"
	fi
	rm -f "$STATE_DIR/bound-$pci"
	echo "$PROG: $pci given back to $old"
}

case ${1:-} in
status) shift; cmd_status "$@" ;;
hugepages) shift; cmd_hugepages "$@" ;;
bind) shift; cmd_bind "$@" ;;
unbind) shift; cmd_unbind "$@" ;;
-h | --help) usage ;;
'') usage >&2; exit 1 ;;
*) usage_error "unknown command '$1'" ;;
esac
