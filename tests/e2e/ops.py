#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Operations: manual pages, the hugepage/NIC helper and the systemd unit.

usage: ops.py WIRETALLY WIRETALLY_READ SOURCE_ROOT

  - every option of the --help of `wiretally`, `wiretally-read`,
    `wiretally-report` and `wiretally-agent` (when built) is described in
    docs/man (as \\-\\-name), and groff formats the pages without a warning;
  - scripts/wt-dpdk-setup.sh: status; hugepages (asks for the count already
    reserved: nothing changes, it says what it has); bind refuses a virtual
    interface, an unknown device, and (dry run) an interface that is up with
    an address; bad arguments are named, exit 1;
  - scripts/systemd/wiretally.service passes `systemd-analyze verify`, and
    its ExecStart, expanded with the shipped /etc/default/wiretally and a
    config that replays the sample capture, gives the same records as
    `wiretally --pcap`, stops on SIGTERM with 0;
  - no leftovers: after a clean stop the EAL runtime directory is gone (the
    monitor's own file prefix and a given one); a start removes those of
    killed runs, and no other.
Exit 0 when all pass, 1 when one fails, 77 when none could run.
"""
import csv
import io
import os
import re
import shlex
import shutil
import subprocess
import sys

from wtcheck import SKIPS, check, run_parts


def run(cmd, **kw):
    return subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                          timeout=kw.pop('timeout', 120), **kw)


# ---- manual pages ------------------------------------------------------------

def help_options(exe):
    out = run([exe, '--help']).stdout
    return sorted(set(re.findall(r'(?<![\w-])--([a-z][a-z0-9-]+)', out)))


def test_man(wt, rd, root, tmp):
    pages = [(wt, 'wiretally.8'), (rd, 'wiretally-read.1')]
    # the host side's binaries, beside the monitor's in the build tree
    app = os.path.dirname(os.path.dirname(wt))
    for name, page in (('wiretally-report', 'wiretally-report.1'),
                       ('wiretally-agent', 'wiretally-agent.8')):
        exe = os.path.join(app, name, name)
        if os.access(exe, os.X_OK):
            pages.append((exe, page))
        else:
            SKIPS.append('%s not built: %s not checked' % (name, page))
    for exe, page in pages:
        path = os.path.join(root, 'docs', 'man', page)
        text = open(path).read()
        opts = help_options(exe)
        missing = [o for o in opts if '\\-\\-' + o.replace('-', '\\-') not in text]
        check(len(opts) > 3 and not missing,
              '%s describes all %d options of --help%s' % (
                  page, len(opts), (' (missing: ' + ', '.join(missing) + ')') if missing else ''))
        if shutil.which('groff') is None:
            SKIPS.append('groff not installed: %s not formatted' % page)
            continue
        r = run(['groff', '-man', '-Tutf8', '-ww', path])
        check(r.returncode == 0 and r.stderr.strip() == '' and
              'SYNOPSIS' in re.sub('.\b', '', r.stdout),
              '%s formats without warnings%s' % (page, (': ' + r.stderr.strip()[:300])
                                                  if r.stderr.strip() else ''))


# ---- wt-dpdk-setup.sh ----------------------------------------------------------

def hp_count():
    try:
        with open('/sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages') as f:
            return int(f.read())
    except OSError:
        return None


def active_pci_interface():
    """A PCI network interface that is up with an address, or None."""
    for ifc in sorted(os.listdir('/sys/class/net')):
        dev = os.path.realpath('/sys/class/net/%s/device' % ifc)
        pci = [c for c in dev.split('/') if re.match(r'^[0-9a-f]{4}:[0-9a-f]{2}:[0-9a-f]{2}\.[0-7]$', c)]
        if not pci:
            continue
        addrs = run(['ip', '-o', 'addr', 'show', 'dev', ifc]).stdout.strip()
        if addrs and 'UP' in run(['ip', '-o', 'link', 'show', 'dev', ifc]).stdout:
            return ifc, pci[-1]
    return None


def test_setup_script(wt, rd, root, tmp):
    s = os.path.join(root, 'scripts', 'wt-dpdk-setup.sh')
    r = run([s, 'status'])
    check(r.returncode == 0 and 'hugepages:' in r.stdout and 'hugetlbfs mounts:' in r.stdout,
          'wt-dpdk-setup.sh status: hugepages and mounts shown')
    r = run([s, 'bind', 'lo'])
    check(r.returncode == 2 and 'lo is not a PCI device' in r.stderr and '--iface lo' in r.stderr,
          'bind lo: refused, a virtual interface, with the --iface hint')
    r = run([s, 'bind', '0000:7f:1f.7'])
    check(r.returncode == 2 and "no PCI device or network interface named '0000:7f:1f.7'"
          in r.stderr, 'bind of an unknown device: named')
    for args, needle in ((['hugepages', 'x'], "'x' is not a number"),
                         (['hugepages', '4', '--size', '3M'], "--size: '3M'"),
                         (['bind', 'lo', '--frob'], "unknown argument '--frob'"),
                         (['frob'], "unknown command 'frob'")):
        r = run([s] + args)
        check(r.returncode == 1 and needle in r.stderr,
              'wt-dpdk-setup.sh %s: exit 1 naming the problem' % ' '.join(args))
    act = active_pci_interface()
    if act is None:
        SKIPS.append('no PCI interface up with an address: refusal of a busy NIC not shown')
    else:
        ifc, pci = act
        # --dry-run: nothing is changed whatever the script decides
        r = run([s, 'bind', ifc, '--dry-run', '--noiommu'])
        check(r.returncode == 2 and 'refusing to bind %s' % pci in r.stderr and
              'interface %s is up' % ifc in r.stderr,
              'bind %s (up, with an address; dry run): refused, saying why' % ifc)
        r = run([s, 'bind', ifc, '--dry-run', '--noiommu', '--force'])
        check(r.returncode == 0 and 'would bind %s' % pci in r.stdout,
              'bind %s --force --dry-run: says what it would do, does nothing' % ifc)
    n = hp_count()
    if n is None or os.geteuid() != 0:
        SKIPS.append('hugepages: needs root and 2 MiB hugepages')
    else:
        r = run([s, 'hugepages', str(n)])
        check(r.returncode == 0 and 'asked %d, reserved %d' % (n, n) in r.stdout and
              hp_count() == n, 'hugepages %d (as reserved): says what it has, changes nothing'
              % n)


# ---- systemd unit --------------------------------------------------------------

def unit_values(path):
    vals = {}
    for line in open(path):
        line = line.strip()
        if line and not line.startswith(('#', ';', '[')) and '=' in line:
            k, v = line.split('=', 1)
            vals.setdefault(k.strip(), []).append(v.strip())
    return vals


def default_env(path):
    env = {}
    for line in open(path):
        line = line.strip()
        if line and not line.startswith('#'):
            k, v = line.split('=', 1)
            env[k] = shlex.split(v)[0] if v else ''
    return env


def test_agent_unit(root, tmp):
    """The agent's unit passes systemd-analyze verify (its binary put where
    the unit says, as a stand-in: verify checks the path exists)."""
    unit = os.path.join(root, 'scripts', 'systemd', 'wiretally-agent.service')
    if shutil.which('systemd-analyze') is None:
        return
    text = open(unit).read().replace('/usr/local/sbin/wiretally-agent', '/bin/true')
    p = os.path.join(tmp, 'wiretally-agent.service')
    with open(p, 'w') as f:
        f.write(text)
    r = run(['systemd-analyze', 'verify', '--man=no', p])
    check(r.returncode == 0 and r.stderr.strip() == '',
          'systemd-analyze verify wiretally-agent.service%s' % (
              (': ' + r.stderr.strip()[:300]) if r.stderr.strip() else ''))


def test_unit(wt, rd, root, tmp):
    test_agent_unit(root, tmp)
    unit = os.path.join(root, 'scripts', 'systemd', 'wiretally.service')
    setup = os.path.join(root, 'scripts', 'wt-dpdk-setup.sh')
    text = open(unit).read()
    local = text.replace('/usr/local/bin/wiretally', wt).replace(
        '/usr/local/lib/wiretally/wt-dpdk-setup.sh', setup)
    if shutil.which('systemd-analyze') is None:
        SKIPS.append('systemd-analyze not installed: the unit is not verified')
    else:
        p = os.path.join(tmp, 'wiretally.service')
        with open(p, 'w') as f:
            f.write(local)
        r = run(['systemd-analyze', 'verify', '--man=no', p])
        check(r.returncode == 0 and r.stderr.strip() == '',
              'systemd-analyze verify wiretally.service%s' % (
                  (': ' + r.stderr.strip()[:300]) if r.stderr.strip() else ''))
    # ExecStart as systemd would run it: $VAR split into words from the
    # environment file, the config replaced by one that replays the sample.
    vals = unit_values(unit)
    env = default_env(os.path.join(root, 'scripts', 'systemd', 'wiretally.default'))
    check('WT_EAL_ARGS' in env and 'WT_HUGEPAGES' in env,
          'wiretally.default sets WT_EAL_ARGS and WT_HUGEPAGES')
    words = []
    for w in shlex.split(vals['ExecStart'][0]):
        if w.startswith('$'):
            words += shlex.split(env.get(w[1:], ''))
        else:
            words.append(w)
    check(words[0] == '/usr/local/bin/wiretally' and '--config' in words,
          'ExecStart runs /usr/local/bin/wiretally with --config')
    logdir = os.path.join(tmp, 'unit-log')
    os.mkdir(logdir)
    conf = os.path.join(tmp, 'unit.conf')
    sample = os.path.join(root, 'samples', 'http-nginx-curl.pcap')
    with open(conf, 'w') as f:
        f.write('[wiretally]\npcap = %s\noutput = %s\n' % (sample, logdir))
    words[0] = wt
    words[words.index('--config') + 1] = conf
    # a prefix of our own: never the one of an installed service
    words[words.index('--file-prefix') + 1] = 'wt-ops-%d' % os.getpid()
    r = run(words)
    check(r.returncode == 0, 'the unit\'s ExecStart with the shipped defaults runs (rc %d)%s'
          % (r.returncode, '' if r.returncode == 0 else ': ' + r.stderr[-300:]))
    ref = os.path.join(tmp, 'ref-log')
    os.mkdir(ref)
    run([wt, '--pcap', sample, '-o', ref, '-q'])

    def recs(d):
        out = run([rd, d]).stdout
        return sorted((x['a_addr'], x['a_port'], x['b_addr'], x['b_port'], x['a_pkts'],
                       x['b_pkts'], x['a_bytes'], x['b_bytes'])
                      for x in csv.DictReader(io.StringIO(out)))
    got, want = recs(logdir), recs(ref)
    check(len(want) > 0 and got == want,
          'the unit\'s command line gives the records of wiretally --pcap (%d)' % len(want))
    ts = vals.get('TimeoutStopSec', ['0'])[0]
    check(vals.get('KillSignal') == ['SIGTERM'] and int(ts) >= 60,
          'stop is SIGTERM with %s s to write the tables out' % ts)


# ---- no leftovers --------------------------------------------------------------

def dead_pid():
    """A pid no process has."""
    pid = int(open('/proc/sys/kernel/pid_max').read()) - 1
    while pid > 1:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return pid
        except PermissionError:
            pass
        pid -= 1
    return None


def test_leftovers(wt, rd, root, tmp):
    """A clean stop leaves no EAL runtime directory, with the monitor's own
    file prefix and with one given as an EAL option; a run removes those a
    killed run left (its pid gone), and no other."""
    if os.geteuid() != 0:
        SKIPS.append('leftovers: the EAL runtime directory of root is /var/run/dpdk')
        return
    base = '/var/run/dpdk'
    sample = os.path.join(root, 'samples', 'http-nginx-curl.pcap')
    os.makedirs(base, exist_ok=True)
    stale = os.path.join(base, 'wiretally-%d' % dead_pid())
    other = os.path.join(base, 'wt-ops-keep-%d' % os.getpid())
    for d in (stale, other):
        os.makedirs(d, exist_ok=True)
        open(os.path.join(d, 'config'), 'w').close()
    out = os.path.join(tmp, 'left-1')
    os.mkdir(out)
    p = subprocess.Popen([wt, '--pcap', sample, '-o', out, '-q'], stdout=subprocess.DEVNULL,
                         stderr=subprocess.PIPE, text=True)
    _, err = p.communicate(timeout=120)
    mine = os.path.join(base, 'wiretally-%d' % p.pid)
    check(p.returncode == 0 and not os.path.exists(mine),
          'after a clean stop %s is gone (%d %s)' % (mine, p.returncode, err.strip()[-200:]))
    check(not os.path.exists(stale), 'the directory of a killed run (%s) is removed' % stale)
    check(os.path.exists(other), 'a directory of another prefix (%s) is left alone' % other)
    shutil.rmtree(other, ignore_errors=True)
    prefix = 'wt-ops-left-%d' % os.getpid()
    out = os.path.join(tmp, 'left-2')
    os.mkdir(out)
    r = run([wt, '--vdev', 'net_pcap0,rx_pcap=%s' % sample, '--no-pci', '--no-huge', '-m', '256',
             '--lcores', '0@0,1@0', '--file-prefix', prefix, '--log-level', 'lib.eal:warning',
             '--',
             '-o', out, '-q', '--spool', 'off'])
    check(r.returncode == 0 and not os.path.exists(os.path.join(base, prefix)),
          'with --file-prefix %s given, its directory is gone after the stop (%d %s)' %
          (prefix, r.returncode, r.stderr.strip()[-200:]))


if __name__ == '__main__':
    sys.exit(run_parts(__doc__, sys.argv, 3, 'wt-ops-', (test_man, test_setup_script, test_unit,
                                                             test_leftovers)))
