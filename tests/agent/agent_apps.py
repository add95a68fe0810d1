#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
# agent_apps.py: the server and client programs of tests/agent/test_agent.py, each writing what it did.
"""Usage: agent_apps.py server ADDR MANIFEST | client ADDR MANIFEST

server: a TCP listener on ADDR:9000 and a UDP socket on ADDR:9001. The
listener's creator serves one connection in a thread; a forked worker
(another process, which calls accept() itself) serves the next; the
creator then serves the third. Each request is an 8-byte header (bytes the
client will send, bytes it wants back), then that many bytes; the reply
follows, then the server closes. UDP: each datagram is answered with 300
bytes. Runs until MANIFEST.stop exists; writes one JSON line per
connection to MANIFEST: pid, local/remote port, bytes sent and received.

client: three TCP connections to the server: one from a thread (40000
bytes out, 300000 back), one from a forked child (150000 out, 70000 back),
one from a short-lived child that sends 200000 bytes and exits at once
without reading (its last bytes are acknowledged after it is gone); then
UDP: 25 datagrams of 700 bytes, each answered. One JSON line per socket.
"""
import json
import os
import socket
import struct
import sys
import threading
import time

PORT, UPORT = 9000, 9001


def note(path, **kw):
    with open(path, 'a') as f:
        f.write(json.dumps(kw) + '\n')


def recv_exact(s, n):
    got = 0
    while got < n:
        b = s.recv(min(65536, n - got))
        if not b:
            break
        got += len(b)
    return got


def serve(conn, manifest):
    hdr = conn.recv(8, socket.MSG_WAITALL)
    want_in, want_out = struct.unpack('!II', hdr)
    got = recv_exact(conn, want_in)
    conn.sendall(b's' * want_out)
    lp, rp = conn.getsockname()[1], conn.getpeername()[1]
    conn.close()
    note(manifest, side='server', proto='tcp', pid=os.getpid(), lport=lp, rport=rp,
         sent=want_out, received=8 + got)


def server(addr, manifest):
    ls = socket.socket()
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind((addr, PORT))
    ls.listen(16)
    us = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    us.bind((addr, UPORT))
    us.settimeout(0.2)
    udp = {'in': 0, 'out': 0}
    # connection 1: a thread of the listener's creator
    c, _ = ls.accept()
    t = threading.Thread(target=serve, args=(c, manifest))
    t.start()
    t.join()
    # connection 2: a forked worker accepts it itself
    pid = os.fork()
    if pid == 0:
        c, _ = ls.accept()
        serve(c, manifest)
        os._exit(0)
    os.waitpid(pid, 0)
    # connection 3: the short-lived client's
    c, _ = ls.accept()
    serve(c, manifest)
    while not os.path.exists(manifest + '.stop'):
        try:
            d, peer = us.recvfrom(2048)
        except socket.timeout:
            continue
        udp['in'] += len(d)
        udp['out'] += us.sendto(b'u' * 300, peer)
    note(manifest, side='server', proto='udp', pid=os.getpid(), lport=UPORT, rport=0,
         sent=udp['out'], received=udp['in'])


def request(addr, n_out, n_back, manifest, read_reply=True):
    s = socket.create_connection((addr, PORT))
    s.sendall(struct.pack('!II', n_out, n_back) + b'c' * n_out)
    got = recv_exact(s, n_back) if read_reply else 0
    lp = s.getsockname()[1]
    note(manifest, side='client', proto='tcp', pid=os.getpid(), lport=lp, rport=PORT,
         sent=8 + n_out, received=got)
    s.close()


def client(addr, manifest):
    t = threading.Thread(target=request, args=(addr, 40000, 300000, manifest))
    t.start()
    t.join()
    pid = os.fork()
    if pid == 0:
        request(addr, 150000, 70000, manifest)
        os._exit(0)
    os.waitpid(pid, 0)
    pid = os.fork()
    if pid == 0:  # sends and is gone before the last ACK comes back
        request(addr, 200000, 0, manifest, read_reply=False)
        os._exit(0)
    os.waitpid(pid, 0)
    time.sleep(0.5)
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    u.settimeout(2)
    u.connect((addr, UPORT))
    sent = got = 0
    for _ in range(25):
        sent += u.send(b'd' * 700)
        got += len(u.recv(2048))
    note(manifest, side='client', proto='udp', pid=os.getpid(), lport=u.getsockname()[1],
         rport=UPORT, sent=sent, received=got)


if __name__ == '__main__':
    if len(sys.argv) != 4 or sys.argv[1] not in ('server', 'client'):
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    (server if sys.argv[1] == 'server' else client)(sys.argv[2], sys.argv[3])
