#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# netns-lab.sh: two hosts in network namespaces (curl client, nginx + UDP server) making traffic of known sizes.
set -eu

usage() {
	cat <<EOF
usage: netns-lab.sh [-p PREFIX] COMMAND [ARGS]

A traffic lab of two network namespaces joined by one veth pair, with every
offload off (the frames on the wire are the real ones), static neighbours (no
ARP or neighbour discovery on the wire), an nginx server and a UDP responder.
Traffic never leaves the two namespaces. Needs root, ip, ethtool, nginx,
curl, python3, tcpdump (scripts/setup.sh installs them).

  -p, --prefix P   namespaces P-cli and P-srv (default: \$WTL_PREFIX or wtl);
                   use different prefixes for labs running side by side
  -h, --help       this text

commands:
  up                     create the namespaces, veth pair, addresses, servers
  down                   stop the servers, delete the namespaces (no error if down)
  traffic [--large] [-o MANIFEST]
                         run the workload from the client: HTTP GETs and POSTs
                         over IPv4 and IPv6, each on a new TCP connection, and
                         UDP exchanges; write the manifest TSV (default stdout)
  capture [--large] [--no-verify] OUT.pcap
                         tcpdump on the server's veth while 'traffic' runs;
                         writes OUT.pcap and the manifest OUT.tsv, then checks
                         the manifest against the capture (tests/e2e/wtpcap.py).
                         Brings the lab up and down itself when it is not up.
  pin                    set the static neighbour entries again: a DPDK port
                         started on a lab interface (net_af_packet) replays
                         its MAC address, and the kernel then flushes that
                         interface's neighbour table, static entries too
  exec cli|srv CMD...    run CMD inside a namespace
  info                   print the lab's names and addresses (KEY=VALUE)

Manifest columns: proto client_ip client_port server_ip server_port
c2s_bytes s2c_bytes what (header line first); bytes are TCP/UDP payload.
--large adds a 1 MB GET and a 300 kB POST to the workload.
EOF
}

die() {
	echo "netns-lab.sh: $*" >&2
	exit 1
}

ROOT=$(cd "$(dirname "$0")/.." && pwd)
PREFIX=${WTL_PREFIX:-wtl}

# Addresses from the documentation ranges (RFC 5737, RFC 3849): they exist
# only inside the lab. The client has two addresses of each family, one below
# and one above the server's, so that both orders of the canonical key occur.
SRV4=192.0.2.20
CLI4=(192.0.2.10 192.0.2.30)
SRV6=2001:db8:77::20
CLI6=(2001:db8:77::10 2001:db8:77::30)
CLI_IF=wtl-c
SRV_IF=wtl-s
CLI_MAC=02:77:74:00:00:01
SRV_MAC=02:77:74:00:00:02
HTTP_PORT=80
UDP_PORT=4000
FILE_SIZES="0 1 1024 1460 12345 20000 40000 1000000"
ECHO_MODULE=/usr/lib/nginx/modules/ngx_http_echo_module.so

set_names() {
	CLI_NS=$PREFIX-cli
	SRV_NS=$PREFIX-srv
	STATE=${WTL_STATE_DIR:-/tmp}/netns-lab.$PREFIX
}

in_cli() { ip netns exec "$CLI_NS" "$@"; }
in_srv() { ip netns exec "$SRV_NS" "$@"; }

need_root() {
	[ "$(id -u)" = 0 ] || die "needs root (network namespaces); run as root"
	local c
	for c in ip ethtool nginx curl python3 tcpdump sysctl ss; do
		command -v "$c" >/dev/null 2>&1 || die "$c not found; run scripts/setup.sh"
	done
}

is_up() { ip netns list 2>/dev/null | grep -q "^$SRV_NS\\b"; }

# Sysctls set before the veth exists so the interface inherits them: no DAD,
# no router solicitations, no SLAAC, no link-local address, MLD reports sent
# at once (they happen during 'up', not during a capture).
quiet_ns() {
	local ns=$1 k
	for k in accept_dad=0 dad_transmits=0 accept_ra=0 router_solicitations=0 \
		autoconf=0 addr_gen_mode=1 mldv2_unsolicited_report_interval=1 \
		mldv1_unsolicited_report_interval=1; do
		ip netns exec "$ns" sysctl -q -w "net.ipv6.conf.default.$k" \
			"net.ipv6.conf.all.$k" >/dev/null 2>&1 || true
	done
}

# Every changeable offload off (ethtool -k lists them), then check the ones
# that change what is on the wire.
offloads_off() {
	local ns=$1 dev=$2 f on
	for f in $(ip netns exec "$ns" ethtool -k "$dev" |
		awk -F': ' '/^[a-z]/ && $2 == "on" { print $1 }'); do
		ip netns exec "$ns" ethtool -K "$dev" "$f" off >/dev/null 2>&1 || true
	done
	on=$(ip netns exec "$ns" ethtool -k "$dev" | grep -E \
		'^(rx-checksumming|tx-checksumming|scatter-gather|tcp-segmentation-offload|generic-segmentation-offload|generic-receive-offload|large-receive-offload): on' || true)
	[ -z "$on" ] || die "cannot turn off offloads on $dev in $ns: $on"
}

setup_host() {
	local ns=$1 dev=$2 a
	shift 2
	ip -n "$ns" link set lo up
	offloads_off "$ns" "$dev"
	for a in "$@"; do
		case $a in
		*:*) ip -n "$ns" addr add "$a/64" dev "$dev" nodad ;;
		*) ip -n "$ns" addr add "$a/24" dev "$dev" ;;
		esac
	done
	ip -n "$ns" link set "$dev" up
}

# Static neighbour entries for every address of the other host.
neigh() {
	local ns=$1 dev=$2 mac=$3 a
	shift 3
	for a in "$@"; do
		ip -n "$ns" neigh replace "$a" lladdr "$mac" dev "$dev" nud permanent
	done
}

write_nginx_conf() {
	local s load="" upload='return 200 "stored\n";'
	mkdir -p "$STATE/www/f" "$STATE/tmp"
	for s in $FILE_SIZES; do
		head -c "$s" /dev/zero | tr '\0' 'w' >"$STATE/www/f/$s"
	done
	# Uploads are answered once their whole body is read: nginx's echo
	# module (libnginx-mod-http-echo, a dependency of nginx-light), not
	# chunked so that curl's counts are the bytes on the wire. Without it,
	# 'return' answers at once and discards the body behind the answer.
	if [ -e "$ECHO_MODULE" ]; then
		load="load_module $ECHO_MODULE;"
		upload='chunked_transfer_encoding off; echo_read_request_body; echo "stored";'
	fi
	cat >"$STATE/nginx.conf" <<EOF
# nginx for netns-lab.sh (generated)
$load
worker_processes 1;
user root;
pid $STATE/nginx.pid;
error_log $STATE/nginx-error.log warn;
events { worker_connections 64; }
http {
    access_log $STATE/nginx-access.log;
    client_body_temp_path $STATE/tmp/body;
    proxy_temp_path $STATE/tmp/proxy;
    fastcgi_temp_path $STATE/tmp/fastcgi;
    uwsgi_temp_path $STATE/tmp/uwsgi;
    scgi_temp_path $STATE/tmp/scgi;
    default_type application/octet-stream;
    server_tokens off;
    keepalive_timeout 10s;
    server {
        listen $SRV4:$HTTP_PORT;
        listen [$SRV6]:$HTTP_PORT;
        root $STATE/www;
        location /f/ { }
        # Uploads: the body is read (and dropped), the answer is fixed.
        location = /upload {
            client_max_body_size 16m;
            client_body_buffer_size 1m;
            $upload
        }
    }
}
EOF
}

# wait_for SECONDS CMD...: poll CMD until it succeeds.
wait_for() {
	local n=$(($1 * 10))
	shift
	while ! "$@" >/dev/null 2>&1; do
		n=$((n - 1))
		[ $n -gt 0 ] || return 1
		sleep 0.1
	done
}

oper_up() { ip -n "$1" -o link show dev "$2" | grep -q 'state UP'; }

listening() { in_srv ss -Hn "-$1l" "sport = :$2" | grep -q .; }

cmd_up() {
	need_root
	is_up && die "lab '$PREFIX' is already up (netns-lab.sh -p $PREFIX down)"
	ip netns list 2>/dev/null | grep -q "^$CLI_NS\\b" && die "namespace $CLI_NS exists; run: netns-lab.sh -p $PREFIX down"
	trap 'cmd_down >/dev/null 2>&1' EXIT
	rm -rf "$STATE"
	mkdir -p "$STATE"
	chmod 755 "$STATE"
	ip netns add "$CLI_NS"
	ip netns add "$SRV_NS"
	quiet_ns "$CLI_NS"
	quiet_ns "$SRV_NS"
	ip link add "$CLI_IF" netns "$CLI_NS" address "$CLI_MAC" type veth \
		peer name "$SRV_IF" netns "$SRV_NS" address "$SRV_MAC"
	setup_host "$CLI_NS" "$CLI_IF" "${CLI4[@]}" "${CLI6[@]}"
	setup_host "$SRV_NS" "$SRV_IF" "$SRV4" "$SRV6"
	neigh "$CLI_NS" "$CLI_IF" "$SRV_MAC" "$SRV4" "$SRV6"
	neigh "$SRV_NS" "$SRV_IF" "$CLI_MAC" "${CLI4[@]}" "${CLI6[@]}"
	write_nginx_conf
	in_srv nginx -q -e "$STATE/nginx-error.log" -p "$STATE" -c "$STATE/nginx.conf" \
		2>"$STATE/nginx-start.log" ||
		die "nginx did not start: $(cat "$STATE/nginx-start.log") $(tail -n 3 "$STATE/nginx-error.log" 2>/dev/null)"
	ip netns exec "$SRV_NS" python3 "$ROOT/scripts/lab-udp.py" serve --port "$UDP_PORT" \
		>"$STATE/udp.log" 2>&1 &
	wait_for 10 listening t "$HTTP_PORT" || die "nginx is not listening on port $HTTP_PORT"
	wait_for 10 listening u "$UDP_PORT" || die "UDP responder did not start: $(cat "$STATE/udp.log")"
	# The kernel sends its MLD reports (the only packets the lab makes by
	# itself) once the carrier is seen up, which linkwatch may defer by up to
	# a second: wait for that, then for the reports (4 ms apart), so that no
	# capture started after 'up' holds them.
	wait_for 5 oper_up "$CLI_NS" "$CLI_IF" || die "$CLI_IF in $CLI_NS did not come up"
	wait_for 5 oper_up "$SRV_NS" "$SRV_IF" || die "$SRV_IF in $SRV_NS did not come up"
	sleep "${WTL_SETTLE:-0.3}"
	trap - EXIT
	echo "netns-lab: up: $CLI_NS (${CLI4[*]} ${CLI6[*]}) <-> $SRV_NS ($SRV4 $SRV6), nginx :$HTTP_PORT, udp :$UDP_PORT"
}

# End the processes inside the lab's namespaces (nginx, the responder,
# tcpdump, a monitor run by a test), by pid, then delete the namespaces.
cmd_down() {
	local ns pids n
	for ns in "$CLI_NS" "$SRV_NS"; do
		ip netns list 2>/dev/null | grep -q "^$ns\\b" || continue
		pids=$(ip netns pids "$ns" 2>/dev/null || true)
		if [ -n "$pids" ]; then
			# shellcheck disable=SC2086
			kill $pids 2>/dev/null || true
			n=30
			while [ $n -gt 0 ] && [ -n "$(ip netns pids "$ns" 2>/dev/null)" ]; do
				sleep 0.1
				n=$((n - 1))
			done
			pids=$(ip netns pids "$ns" 2>/dev/null || true)
			# shellcheck disable=SC2086
			[ -z "$pids" ] || kill -KILL $pids 2>/dev/null || true
		fi
		ip netns del "$ns"
	done
	rm -rf "$STATE"
	echo "netns-lab: down: $PREFIX"
}

# http_row SRC URL WHAT DOWNLOAD_BYTES [curl args]: one curl on a new
# connection, one manifest row. Uploads go with -T (read from the file): with
# --data-binary curl counts the body in both size_request and size_upload.
http_row() {
	local src=$1 url=$2 what=$3 expect_dl=$4 out
	shift 4
	out=$(in_cli curl -q -sS --noproxy '*' --max-time 30 -o /dev/null -H 'Expect:' \
		--interface "$src" "$@" -w \
		'%{local_ip} %{local_port} %{remote_ip} %{remote_port} %{size_request} %{size_upload} %{size_header} %{size_download} %{http_code}' \
		"$url") || die "curl $what from $src failed"
	set -- $out
	[ "$9" = 200 ] || die "$what from $src: HTTP status $9"
	[ "$8" = "$expect_dl" ] || die "$what from $src: downloaded $8 bytes, expected $expect_dl"
	printf 'tcp\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$4" \
		$(($5 + $6)) $(($7 + $8)) "$what"
}

get() {
	local src=$1 size=$2 host=$SRV4
	case $src in *:*) host="[$SRV6]" ;; esac
	http_row "$src" "http://$host:$HTTP_PORT/f/$size" "GET /f/$size" "$size"
}

post() {
	local src=$1 size=$2 host=$SRV4 body=$STATE/post.$2
	case $src in *:*) host="[$SRV6]" ;; esac
	[ -f "$body" ] || head -c "$size" /dev/zero | tr '\0' 'p' >"$body"
	http_row "$src" "http://$host:$HTTP_PORT/upload" "POST $size" 7 \
		-X POST -T "$body" -H 'Content-Type: application/octet-stream'
}

udp() {
	local src=$1 dst=$SRV4 e args=()
	shift
	case $src in *:*) dst=$SRV6 ;; esac
	for e in "$@"; do args+=(--exchange "$e"); done
	in_cli python3 "$ROOT/scripts/lab-udp.py" client --bind "$src" --server "$dst" \
		--port "$UDP_PORT" "${args[@]}" || die "UDP exchange from $src failed"
}

# The workload. Sizes are chosen to cover: empty body, 1 byte, one full
# segment, several segments, client address below and above the server's.
workload() {
	local large=$1
	printf 'proto\tclient_ip\tclient_port\tserver_ip\tserver_port\tc2s_bytes\ts2c_bytes\twhat\n'
	get "${CLI4[0]}" 1024
	get "${CLI4[0]}" 40000
	post "${CLI4[0]}" 3000
	get "${CLI4[1]}" 0
	post "${CLI4[1]}" 20000
	get "${CLI6[0]}" 12345
	post "${CLI6[0]}" 1
	get "${CLI6[1]}" 1460
	post "${CLI6[1]}" 5000
	udp "${CLI4[0]}" 100:200 8:1000 1400:0
	udp "${CLI4[1]}" 64:64
	udp "${CLI6[0]}" 500:1200 20:30
	udp "${CLI6[1]}" 1000:8
	if [ "$large" = 1 ]; then
		get "${CLI4[1]}" 1000000
		post "${CLI6[0]}" 300000
	fi
}

cmd_traffic() {
	local large=0 out=
	while [ $# -gt 0 ]; do
		case $1 in
		--large) large=1 ;;
		-o) out=${2:?-o needs a file}; shift ;;
		*) die "traffic: unknown argument '$1'" ;;
		esac
		shift
	done
	need_root
	is_up || die "lab '$PREFIX' is not up (netns-lab.sh -p $PREFIX up)"
	if [ -n "$out" ]; then
		workload "$large" >"$out.tmp"
		mv "$out.tmp" "$out"
	else
		workload "$large"
	fi
}

# Globals, for the EXIT trap: the capture file, tcpdump's pid, and whether
# this command brought the lab up.
CAP_OUT=
CAP_TPID=
CAP_UP=0

cmd_capture() {
	local large=() verify=1 out= tsv
	while [ $# -gt 0 ]; do
		case $1 in
		--large) large=(--large) ;;
		--no-verify) verify=0 ;;
		-*) die "capture: unknown option '$1'" ;;
		*) [ -z "$out" ] || die "capture: one output file only"; out=$1 ;;
		esac
		shift
	done
	[ -n "$out" ] || die "capture: needs OUT.pcap"
	[ -d "$(dirname "$out")" ] || die "capture: directory of $out does not exist"
	tsv=${out%.pcap}.tsv
	need_root
	CAP_OUT=$out
	if ! is_up; then
		cmd_up
		CAP_UP=1
	fi
	trap 'capture_cleanup' EXIT
	# Not through in_srv: \$! must be the pid that becomes tcpdump.
	# Microsecond timestamps: DPDK's net_pcap reads files at that precision.
	ip netns exec "$SRV_NS" tcpdump -i "$SRV_IF" -n -s 0 -U -Z root -w "$out.tmp" >"$STATE/tcpdump.log" 2>&1 &
	CAP_TPID=$!
	wait_for 10 grep -q 'listening on' "$STATE/tcpdump.log" ||
		die "tcpdump did not start: $(cat "$STATE/tcpdump.log")"
	cmd_traffic "${large[@]}" -o "$tsv"
	# The last FIN/ACK exchanges follow curl's exit by microseconds.
	sleep 1
	kill -INT "$CAP_TPID"
	wait "$CAP_TPID" || die "tcpdump failed: $(cat "$STATE/tcpdump.log")"
	CAP_TPID=
	grep -q '^0 packets dropped by kernel' "$STATE/tcpdump.log" ||
		die "tcpdump dropped packets: $(cat "$STATE/tcpdump.log")"
	mv "$out.tmp" "$out"
	echo "netns-lab: capture: $out ($(grep 'packets captured' "$STATE/tcpdump.log")), manifest $tsv ($(($(wc -l <"$tsv") - 1)) connections)"
	if [ "$verify" = 1 ]; then
		python3 "$ROOT/tests/e2e/wtpcap.py" verify "$out" "$tsv" ||
			die "the manifest does not match the capture"
	fi
}

capture_cleanup() {
	local rc=$?
	[ -z "$CAP_TPID" ] || kill "$CAP_TPID" 2>/dev/null || true
	rm -f "$CAP_OUT.tmp"
	[ "$CAP_UP" = 0 ] || cmd_down >/dev/null 2>&1 || true
	exit $rc
}

cmd_info() {
	cat <<EOF
PREFIX=$PREFIX
CLI_NS=$CLI_NS
SRV_NS=$SRV_NS
CLI_IF=$CLI_IF
SRV_IF=$SRV_IF
CLI_MAC=$CLI_MAC
SRV_MAC=$SRV_MAC
CLI4=${CLI4[*]}
CLI6=${CLI6[*]}
SRV4=$SRV4
SRV6=$SRV6
HTTP_PORT=$HTTP_PORT
UDP_PORT=$UDP_PORT
STATE=$STATE
EOF
}

while [ $# -gt 0 ]; do
	case $1 in
	-p | --prefix) PREFIX=${2:?--prefix needs a value}; shift 2 ;;
	-h | --help) usage; exit 0 ;;
	-*) die "unknown option '$1' (see --help)" ;;
	*) break ;;
	esac
done
case $PREFIX in
*[!A-Za-z0-9_-]* | '') die "prefix '$PREFIX': use letters, digits, '-' and '_'" ;;
esac
set_names
[ $# -gt 0 ] || { usage >&2; exit 2; }
cmd=$1
shift
case $cmd in
up) cmd_up ;;
down) need_root; cmd_down ;;
traffic) cmd_traffic "$@" ;;
capture) cmd_capture "$@" ;;
exec)
	case ${1:-} in
	cli) shift; in_cli "$@" ;;
	srv) shift; in_srv "$@" ;;
	*) die "exec: say cli or srv" ;;
	esac
	;;
pin)
	need_root
	is_up || die "lab '$PREFIX' is not up"
	neigh "$CLI_NS" "$CLI_IF" "$SRV_MAC" "$SRV4" "$SRV6"
	neigh "$SRV_NS" "$SRV_IF" "$CLI_MAC" "${CLI4[@]}" "${CLI6[@]}"
	;;
info) cmd_info ;;
*) die "unknown command '$cmd' (see --help)" ;;
esac
