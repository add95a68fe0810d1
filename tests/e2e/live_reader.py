#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""live_reader.py: wiretally-read --stitch and --follow on a live monitor in the namespace lab.

  live_reader.py stitch WIRETALLY READER LAB_SH
      One keep-alive HTTP connection: request 1, 2 s of silence (the monitor
      scans every 0.3 s, so it completes the record as idle), request 2 on
      the same connection, close. The monitor must have split it into at
      least two records; --stitch must give one record whose payload bytes
      per direction are exactly what the client sent and received.
  live_reader.py follow WIRETALLY READER LAB_SH
      wiretally-read --follow --spool, started before the monitor (64 KiB
      segments through a spool, so segments roll and move to the archive
      while followed), while the lab makes HTTP and UDP traffic. A scanner
      here (its own decoding of docs/FORMAT.md frames, every 5 ms) notes
      when each record is committed; the follower must print every record
      of the log, in order, each within 1 s of its commit, and say that the
      monitor closed the log after SIGINT.

Exit 0 pass, 1 fail, 77 skipped (not root, no network namespaces).
"""
import csv
import io
import json
import os
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import e2e  # noqa: E402
from e2e import Failed, log  # noqa: E402

SCAN = "0.3"
LIMIT_S = 1.0

# Runs in the client namespace: one keep-alive connection, two requests.
KEEPALIVE_CLIENT = r'''
import json, re, socket, sys, time
host, port, pause = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
s = socket.create_connection((host, port))
sent = received = 0

def request(path, close):
    global sent, received
    req = ("GET %s HTTP/1.1\r\nHost: lab\r\nConnection: %s\r\n\r\n"
           % (path, "close" if close else "keep-alive")).encode()
    s.sendall(req)
    sent += len(req)
    buf = b""
    while b"\r\n\r\n" not in buf:
        d = s.recv(65536)
        if not d:
            sys.exit("server closed before the response header")
        buf += d
    head, body = buf.split(b"\r\n\r\n", 1)
    length = int(re.search(rb"(?i)\r\ncontent-length: *(\d+)", head).group(1))
    while len(body) < length:
        d = s.recv(65536)
        if not d:
            sys.exit("server closed within the body")
        body += d
    received += len(head) + 4 + len(body)
    if len(body) != length:
        sys.exit("more than the body arrived")

request("/f/1024", False)
time.sleep(pause)
request("/f/12345", True)
while True:  # the server closes after the second response
    d = s.recv(65536)
    if not d:
        break
    received += len(d)
port_ = s.getsockname()[1]
s.close()
print(json.dumps({"sent": sent, "received": received, "port": port_}))
'''

# Runs in the client namespace: HTTP connections and UDP exchanges, paced.
TRAFFIC_CLIENT = r'''
import socket, sys, time
host, http, udp = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])

def get():
    s = socket.create_connection((host, http))
    s.sendall(b"GET /f/1024 HTTP/1.1\r\nHost: lab\r\nConnection: close\r\n\r\n")
    while s.recv(65536):
        pass
    s.close()

for _ in range(8):
    get()
    time.sleep(0.25)
for k in range(450):  # each from its own port: one record each
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    u.settimeout(2)
    head = b"R%d " % (k % 100)  # scripts/lab-udp.py answers with that many bytes
    u.sendto(head + b"q" * (k % 50), (host, udp))
    try:
        u.recv(65536)
    except socket.timeout:
        pass
    u.close()
    if k % 50 == 0:
        time.sleep(0.2)
for _ in range(8):
    get()
    time.sleep(0.25)
'''


def read_csv(reader, *args):
    out, err = e2e.run([reader, *args], what='wiretally-read ' + ' '.join(args[:-1]))
    return list(csv.DictReader(io.StringIO(out))), err


def in_client(lab, info, script, *args, timeout=120):
    out, _ = e2e.run(['ip', 'netns', 'exec', info['CLI_NS'], sys.executable, '-c', script] +
                     [str(a) for a in args], timeout=timeout, what='lab client')
    return out


def test_stitch(tmp, wiretally, reader, lab_sh):
    e2e.lab_preflight(lab_sh)
    lab = e2e.Lab(lab_sh)
    out = os.path.join(tmp, 'log')
    os.makedirs(out)
    mon = None
    errf = open(os.path.join(tmp, 'wiretally.stderr'), 'w+')
    try:
        lab.cmd('up')
        info = lab.info()
        mon = e2e.start_iface_monitor(lab, wiretally, out, errf, ['--scan-interval', SCAN])
        time.sleep(1)
        app = json.loads(in_client(lab, info, KEEPALIVE_CLIENT, info['SRV4'],
                                   info['HTTP_PORT'], 2.0))
        log('client: sent %(sent)d bytes, received %(received)d bytes, port %(port)d' % app)
        time.sleep(1)
        e2e.stop_iface_monitor(mon, errf)
    finally:
        e2e.cleanup(lab, errf, mon)
    sel = ['--proto', 'tcp', '--host', info['SRV4'], '--port', str(app['port'])]
    frags, _ = read_csv(reader, *sel, out)
    errors = []
    log('the monitor wrote %d records for the connection: %s' %
        (len(frags), ', '.join('%s(%s..%s)' % (r['end_reason'], r['a_flags'], r['b_flags'])
                               for r in frags)))
    if len(frags) < 2:
        errors.append('the monitor did not split the connection (%d record): the test '
                      'proves nothing' % len(frags))
    elif frags[0]['end_reason'] != 'idle':
        errors.append('the first fragment ended %r, not idle' % frags[0]['end_reason'])
    merged, err = read_csv(reader, '--stitch', *sel, out)
    log(err.rstrip())
    if len(merged) != 1:
        errors.append('--stitch gave %d records, expected 1' % len(merged))
    else:
        r = merged[0]
        cli = 'a' if r['a_addr'] != info['SRV4'] else 'b'
        srv = 'b' if cli == 'a' else 'a'
        got = (int(r[cli + '_bytes']), int(r[srv + '_bytes']))
        if got != (app['sent'], app['received']):
            errors.append('stitched payload bytes client->server %d, server->client %d; the '
                          'client sent %d and received %d' % (got + (app['sent'],
                                                                     app['received'])))
        else:
            log('ok   stitched: c2s %d  s2c %d bytes = the client\'s counts' % got)
        if r['origin'] != cli:
            errors.append('stitched origin %r, the client is %r' % (r['origin'], cli))
        for side in 'ab':
            if not set('SAF') <= set(r[side + '_flags']):
                errors.append('%s_flags %r lacks S, A or F' % (side, r[side + '_flags']))
        for k in ('a_pkts', 'b_pkts', 'a_ip_bytes', 'b_ip_bytes'):
            if int(r[k]) != sum(int(f[k]) for f in frags):
                errors.append('%s %s is not the sum over the fragments' % (k, r[k]))
        if (r['seq'], r['call_id'], r['start_ns']) != (frags[0]['seq'], frags[0]['call_id'],
                                                       frags[0]['start_ns']):
            errors.append('seq, call_id, start_ns are not the first fragment\'s')
        if r['end_ns'] != frags[-1]['end_ns']:
            errors.append('end_ns is not the last fragment\'s')
    e2e.report(errors)


class Scanner:
    """Notes when each record is committed: reads the segments every 5 ms and
    decodes the frames (docs/FORMAT.md sections 1-3) itself, each file from
    where the last pass stopped, so that a pass is short (its longest
    duration is the resolution of the times noted); a compressed archived
    segment (3.2) is decompressed with zstd once."""

    def __init__(self, dirs):
        self.dirs, self.seen, self.stop = dirs, {}, False
        self.pos = {}  # path -> offset of the next frame
        self.sealed = set()  # compressed segments read whole already
        self.longest_pass = 0.0
        self.t = threading.Thread(target=self._run, daemon=True)
        self.t.start()

    def _scan(self, path):
        if path in self.sealed:
            return
        try:
            with open(path, 'rb') as f:
                whole = f.read()
        except OSError:
            return  # moved to the archive meanwhile: read there
        if whole[:4] == b'\x28\xb5\x2f\xfd':
            # archived and stored compressed once sealed (FORMAT.md 3.2):
            # zstd -d gives the segment's bytes back; it never changes again
            whole = subprocess.run(['zstd', '-dcq'], input=whole, stdout=subprocess.PIPE).stdout
            self.sealed.add(path)
        if path not in self.pos:
            if len(whole) < 256 or whole[:8] != b'WTSEGLOG':
                return
            self.pos[path] = struct.unpack_from('<I', whole, 12)[0]
        off = self.pos[path]
        data = whole[off:]
        now = time.time_ns()
        i = 0
        while i + 8 <= len(data):
            word = struct.unpack_from('<I', data, i)[0]
            n = word & 0xffffff
            if not word & 0x80000000 or i + 8 + n > len(data):
                break
            if (word >> 24) & 0x7f == 1 and n >= 8:
                self.seen.setdefault(struct.unpack_from('<Q', data, i + 8)[0], now)
            i += 8 + (n + 7) // 8 * 8
        self.pos[path] = off + i

    def _run(self):
        while not self.stop:
            t = time.monotonic()
            for d in self.dirs:
                try:
                    names = sorted(n for n in os.listdir(d) if n.startswith('seg-'))
                except OSError:
                    continue
                for n in names:
                    self._scan(os.path.join(d, n))
            self.longest_pass = max(self.longest_pass, time.monotonic() - t)
            time.sleep(0.005)


def test_follow(tmp, wiretally, reader, lab_sh):
    e2e.lab_preflight(lab_sh)
    lab = e2e.Lab(lab_sh)
    out = os.path.join(tmp, 'log')
    os.makedirs(out)
    spool = tempfile.mkdtemp(prefix='wt-live-follow-', dir='/dev/shm')
    mon = fol = scan = None
    errf = open(os.path.join(tmp, 'wiretally.stderr'), 'w+')
    ferr = open(os.path.join(tmp, 'follower.stderr'), 'w+')
    lines = []
    try:
        lab.cmd('up')
        info = lab.info()
        scan = Scanner([spool, out])
        fol = subprocess.Popen([reader, '--follow', '--spool', spool, out],
                               stdout=subprocess.PIPE, stderr=ferr, text=True)

        def collect():
            for line in fol.stdout:
                lines.append((time.time_ns(), line.rstrip('\n')))
        rt = threading.Thread(target=collect, daemon=True)
        rt.start()
        mon = e2e.start_iface_monitor(lab, wiretally, out, errf,
                                      ['--scan-interval', SCAN, '--spool', spool,
                                       '--segment-size', '64K', '--spool-segments', '3'])
        time.sleep(1)
        in_client(lab, info, TRAFFIC_CLIENT, info['SRV4'], info['HTTP_PORT'],
                  info['UDP_PORT'], timeout=120)
        time.sleep(2)  # the last records complete (scan) and are followed
        e2e.stop_iface_monitor(mon, errf)
        deadline = time.monotonic() + 10
        closed = 'wiretally-read: the monitor closed the log'
        while time.monotonic() < deadline:
            ferr.seek(0)
            if closed in ferr.read():
                break
            time.sleep(0.05)
        time.sleep(0.5)
        fol.send_signal(signal.SIGTERM)
        rc = fol.wait(10)
        rt.join(5)
    finally:
        if scan is not None:
            scan.stop = True
        e2e.cleanup(lab, errf, mon, fol)
        left = os.listdir(spool)
        shutil.rmtree(spool, ignore_errors=True)
    ferr.seek(0)
    fstderr = ferr.read()
    ferr.close()
    errors = []
    whole, _ = e2e.run([reader, out], what='wiretally-read')
    whole = whole.splitlines()
    if left:
        errors.append('the spool still holds %s after the monitor stopped' % left)
    nsegs = len([n for n in os.listdir(out) if n.startswith('seg-')])
    log('follower: %d lines, the log: %d records in %d segments; follower stderr: %s' %
        (len(lines) - 1, len(whole) - 1, nsegs, fstderr.strip()))
    if rc != 0:
        errors.append('the follower exited %d after SIGTERM' % rc)
    if [l for _, l in lines] != whole:
        errors.append('the follower printed %d lines, the log has %d; they differ' %
                      (len(lines), len(whole)))
    if nsegs < 2:
        errors.append('only %d segment: no roll was followed' % nsegs)
    if closed not in fstderr:
        errors.append('the follower did not say that the monitor closed the log: %r' % fstderr)
    lat = []
    for t, l in lines[1:]:
        seq = int(l.split(',', 1)[0])
        if seq not in scan.seen:
            errors.append('seq %d: the scanner never saw it committed' % seq)
            continue
        lat.append((t - scan.seen[seq]) / 1e9)
    lat.sort()
    if lat:
        log('commit-to-output latency over %d records: median %.3f s, 99%% %.3f s, max %.3f s '
            '(commit times to within %.3f s: the scanner\'s longest pass + 5 ms)'
            % (len(lat), lat[len(lat) // 2], lat[int(len(lat) * 0.99)], lat[-1],
               scan.longest_pass + 0.005))
        if lat[-1] >= LIMIT_S:
            errors.append('a record reached the follower\'s output %.3f s after its commit '
                          '(limit %.1f s)' % (lat[-1], LIMIT_S))
    e2e.report(errors)


def main(argv):
    tests = {'stitch': test_stitch, 'follow': test_follow}
    if len(argv) != 5 or argv[1] not in tests:
        print(__doc__, file=sys.stderr)
        return 2
    return e2e.run_test('live-' + argv[1], tests[argv[1]],
                        [os.path.abspath(a) for a in argv[2:]])

if __name__ == '__main__':
    sys.exit(main(sys.argv))
