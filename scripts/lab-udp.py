#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""lab-udp.py: UDP request/response of known sizes for scripts/netns-lab.sh.

serve:  answers every datagram "R<n> ..." with exactly n payload bytes.
client: one socket (one 5-tuple), a few exchanges REQ:RESP (payload bytes),
        prints one manifest row: udp, client ip/port, server ip/port,
        client->server bytes, server->client bytes, description.
Only for the lab's own namespaces: it sends nowhere but --server.
"""
import argparse
import selectors
import socket
import sys


def serve(args):
    sel = selectors.DefaultSelector()
    for fam, addr in ((socket.AF_INET, '0.0.0.0'), (socket.AF_INET6, '::')):
        s = socket.socket(fam, socket.SOCK_DGRAM)
        if fam == socket.AF_INET6:
            s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
        s.bind((addr, args.port))
        sel.register(s, selectors.EVENT_READ)
    print('lab-udp: serving on port %d' % args.port, flush=True)
    while True:
        for key, _ in sel.select():
            s = key.fileobj
            data, peer = s.recvfrom(65535)
            if not data.startswith(b'R'):
                continue
            try:
                n = int(data[1:].split(b' ', 1)[0])
            except ValueError:
                continue
            if 0 <= n <= 1400:
                s.sendto(b'r' * n, peer)


def exchange_spec(text):
    req, resp = (int(x) for x in text.split(':'))
    if not 8 <= req <= 1400 or not 0 <= resp <= 1400:
        raise argparse.ArgumentTypeError(
            'REQ:RESP needs 8 <= REQ <= 1400 and 0 <= RESP <= 1400 (no IP fragments)')
    return req, resp


def client(args):
    fam = socket.AF_INET6 if ':' in args.server else socket.AF_INET
    s = socket.socket(fam, socket.SOCK_DGRAM)
    s.bind((args.bind, 0))
    s.settimeout(args.timeout)
    s.connect((args.server, args.port))
    sent = recvd = 0
    for req, resp in args.exchange:
        head = b'R%d ' % resp
        s.send(head + b'q' * (req - len(head)))
        sent += req
        data = s.recv(65535)
        if len(data) != resp:
            sys.exit('lab-udp: asked for %d bytes, got %d' % (resp, len(data)))
        recvd += resp
    lip, lport = s.getsockname()[:2]
    desc = 'UDP ' + ' '.join('%d:%d' % e for e in args.exchange)
    print('udp\t%s\t%d\t%s\t%d\t%d\t%d\t%s' % (lip, lport, args.server, args.port,
                                               sent, recvd, desc))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    sub = ap.add_subparsers(dest='cmd', required=True)
    p = sub.add_parser('serve', help='answer requests (run in the server namespace)')
    p.add_argument('--port', type=int, required=True)
    p = sub.add_parser('client', help='run exchanges, print a manifest row')
    p.add_argument('--bind', required=True, help='local address')
    p.add_argument('--server', required=True, help='server address')
    p.add_argument('--port', type=int, required=True)
    p.add_argument('--exchange', type=exchange_spec, action='append', required=True,
                   metavar='REQ:RESP', help='request and response payload bytes')
    p.add_argument('--timeout', type=float, default=3.0)
    args = ap.parse_args()
    if args.cmd == 'serve':
        serve(args)
    else:
        client(args)


if __name__ == '__main__':
    main()
