"""Shared helpers of the aedb benchmarks in tools/bench (python3 stdlib only).

- Sim: start the bundled Nomad simulator on a free 127.0.0.1 port, read
  /sim/stats, reset it, stop it (also at interpreter exit).
- seed_batch: write a batch straight into an aedb database with SQL,
  following docs/schema.md and the parameters `aedb submit` stores
  (cmd/submit.c: the upstream flag names), with every AOI 'ready', so a
  benchmark measures dispatch and tracking, not AOI preparation.
- run_child: run a command and return its wall time, user+sys CPU and
  peak RSS from wait4(), the kernel's accounting of that one child.
- Every wait is bounded in time.
"""
import atexit
import http.client
import json
import os
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.parse

TOP = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..'))

_children = []


def _kill_all():
    for p in _children:
        if p.poll() is None:
            try:
                p.terminate()
                p.wait(5)
            except Exception:
                try:
                    p.kill()
                except Exception:
                    pass


atexit.register(_kill_all)
for _s in (signal.SIGTERM, signal.SIGHUP):
    signal.signal(_s, lambda *a: sys.exit(143))


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def default_build():
    return os.environ.get('AEDB_BENCH_BUILD', os.path.join(TOP, 'build-bench'))


def binaries(build):
    b = {
        'aedb': os.path.join(build, 'cmd', 'aedb'),
        'sim': os.path.join(build, 'tools', 'nomad-sim', 'nomad-sim'),
    }
    for k, v in b.items():
        if not os.access(v, os.X_OK):
            sys.exit('bench: %s not built (%s): run ninja -C %s' % (k, v, build))
    return b


class Sim:
    """A nomad-sim process on 127.0.0.1 with a free port."""

    def __init__(self, binary, workdir, speed, scenario=None, extra=()):
        self.dir = workdir
        portf = os.path.join(workdir, 'sim.url')
        if os.path.exists(portf):
            os.unlink(portf)
        args = [binary, '--listen', '127.0.0.1:0', '--port-file', portf, '--speed', str(speed)]
        if scenario is not None:
            sf = os.path.join(workdir, 'scenario.json')
            with open(sf, 'w') as f:
                json.dump(scenario, f)
            args += ['--scenario', sf]
        args += list(extra)
        self.log = open(os.path.join(workdir, 'sim.log'), 'w')
        self.proc = subprocess.Popen(args, stdout=self.log, stderr=subprocess.STDOUT)
        _children.append(self.proc)
        end = time.monotonic() + 10
        while time.monotonic() < end:
            if os.path.exists(portf) and os.path.getsize(portf) > 0:
                break
            if self.proc.poll() is not None:
                raise RuntimeError('nomad-sim exited: see %s' % self.log.name)
            time.sleep(0.02)
        else:
            raise RuntimeError('nomad-sim did not start')
        self.url = open(portf).read().strip()
        u = urllib.parse.urlparse(self.url)
        self.host, self.port = u.hostname, u.port
        self.conn = None

    def request(self, method, path, body=None, timeout=600):
        for attempt in (0, 1):
            if self.conn is None:
                self.conn = http.client.HTTPConnection(self.host, self.port, timeout=timeout)
            try:
                hdr = {'Content-Type': 'application/json'} if body is not None else {}
                self.conn.request(method, path, body=body, headers=hdr)
                r = self.conn.getresponse()
                data = r.read()
                return r.status, data, r
            except (http.client.HTTPException, OSError):
                self.conn.close()
                self.conn = None
                if attempt:
                    raise
        raise RuntimeError('unreachable')

    def get_json(self, path):
        st, data, _ = self.request('GET', path)
        if st != 200:
            raise RuntimeError('%s: HTTP %d %s' % (path, st, data[:200]))
        return json.loads(data)

    def stats(self):
        return self.get_json('/sim/stats')

    def reset(self):
        self.request('POST', '/sim/reset', b'')

    def cpu_seconds(self):
        """The simulator's own user+sys CPU so far (from /proc)."""
        with open('/proc/%d/stat' % self.proc.pid) as f:
            fields = f.read().rsplit(')', 1)[1].split()
        tck = os.sysconf('SC_CLK_TCK')
        return (int(fields[11]) + int(fields[12])) / tck

    def wait_idle(self, limit_s, jobs_expected=None, poll=0.2):
        """Until no pipeline is active (and, when given, Dispatched reached
        jobs_expected); bounded by limit_s. Returns the last stats."""
        end = time.monotonic() + limit_s
        s = self.stats()
        while time.monotonic() < end:
            s = self.stats()
            if s['ActivePipelines'] == 0 and s.get('Queued', 0) == 0 and \
                    (jobs_expected is None or s['Dispatched'] >= jobs_expected):
                return s
            time.sleep(poll)
        return s

    def stop(self):
        if self.conn:
            self.conn.close()
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self.log.close()


def endpoints(stats):
    return {k: (v['Count'], v['Bytes']) for k, v in stats.get('Endpoints', {}).items()}


def diff_endpoints(after, before):
    a, b = endpoints(after), endpoints(before)
    out = {}
    for k, (c, by) in a.items():
        if 'sim control' in k or ' /sim/' in k:
            continue
        c0, b0 = b.get(k, (0, 0))
        if c - c0 or by - b0:
            out[k] = (c - c0, by - b0)
    return out


# --- seeding a batch with SQL ------------------------------------------------

def batch_params(name, nomad_addr, outroot, stop, resume, wait=0, stac='http://127.0.0.1:9/',
                 list_path=None):
    """The parameters `aedb submit` stores (cmd/submit.c, docs/schema.md)."""
    return {
        'batch_name': name,
        'item_list': list_path or os.path.join(outroot, 'items.txt'),
        'output_root': outroot,
        'hand_index_path': 's3://fimc-data/hand/index',
        'benchmark_sources': 'usgs-fim-collection',
        'stop_threshold': stop,
        'resume_threshold': resume,
        'wait_seconds': wait,
        'stac_api_url': stac,
        'hull': 'auto',
        'nomad_addr': nomad_addr,
        'use_local_creds': False,
        'use_local_output': True,
        'job': 'pipeline',
        'count_scope': 'cluster',
    }


def aedb_init(aedb, db):
    r = subprocess.run([aedb, 'init', '--db', db], capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError('aedb init: %s' % r.stderr)


def seed_batch(aedb, db, name, nomad_addr, outroot, n, stop, resume, dispatched=0,
               in_flight=0, prefix='item-'):
    """A batch of n items, AOIs ready (aoi_path set, collection known). The
    first `dispatched` items have a dispatched attempt (with a job id), the
    next `in_flight` an attempt left 'dispatching' (as after kill -9 between
    the commit and the reply), the rest are pending."""
    os.makedirs(os.path.join(outroot, 'AOIs'), exist_ok=True)
    if not os.path.exists(db):
        aedb_init(aedb, db)
    now = time.time_ns()
    names = ['%s%06d' % (prefix, i) for i in range(1, n + 1)]
    lst = os.path.join(outroot, 'items-%s.txt' % name)
    with open(lst, 'w') as f:
        f.write(''.join(x + '\n' for x in names))
    params = batch_params(name, nomad_addr, outroot, stop, resume, list_path=lst)
    c = sqlite3.connect(db)
    c.execute('PRAGMA foreign_keys = ON')
    with c:
        cur = c.execute(
            'INSERT INTO batch (name, created_at, updated_at, params, item_list, nomad_addr, '
            'namespace, parent_job, state) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
            (name, now, now, json.dumps(params, separators=(',', ':')), lst, nomad_addr,
             'default', 'pipeline', 'submitting'))
        bid = cur.lastrowid
        rows = []
        for i, nm in enumerate(names):
            state = 'dispatched' if i < dispatched else 'pending'
            att = 1 if i < dispatched + in_flight else 0
            rows.append((bid, nm, i + 1, 'usgs-fim-collection', 'ready',
                         '%s/AOIs/stac_%s.gpkg' % (outroot, nm), now, state, att, now, now))
        c.executemany(
            'INSERT INTO item (batch_id, name, line, collection, aoi_state, aoi_path, aoi_at, '
            'state, attempts, created_at, updated_at) VALUES (?,?,?,?,?,?,?,?,?,?,?)', rows)
        if dispatched or in_flight:
            arows = []
            for (iid, nm, line) in c.execute(
                    'SELECT id, name, line FROM item WHERE batch_id = ? AND line <= ? ORDER BY line',
                    (bid, dispatched + in_flight)):
                pfx = 'pipeline/dispatch-[batch_name=%s,aoi_name=%s,collection=usgs-fim-collection,attempt=1]-' % (name, nm)
                if line <= dispatched:
                    arows.append((iid, 1, 'dispatched', pfx, now, now, pfx + '%d-%08x' % (now // 10**9, line)))
                else:
                    arows.append((iid, 1, 'dispatching', pfx, now, None, None))
            c.executemany(
                'INSERT INTO attempt (item_id, number, state, id_prefix, started_at, dispatched_at, '
                'job_id) VALUES (?,?,?,?,?,?,?)', arows)
    c.close()
    return bid


def set_nomad_addr(db, name, addr):
    c = sqlite3.connect(db)
    with c:
        c.execute("UPDATE batch SET nomad_addr = ?, params = json_set(params, '$.nomad_addr', ?) "
                  "WHERE name = ?", (addr, addr, name))
    c.close()


# --- running aedb ------------------------------------------------------------

class Child:
    """A child process: CPU from wait4(), peak RSS from /proc/PID/status
    VmHWM sampled while it runs. (wait4's ru_maxrss is not used for memory:
    a child forked from this Python process is charged the parent's
    resident pages until it execs, which inflates the figure by the size of
    the benchmark driver itself.)"""

    def __init__(self, args, cwd=None, out=None, env=None):
        self.t0 = time.monotonic()
        self.t0_wall_ns = time.time_ns()
        self.out = open(out, 'w') if out else subprocess.DEVNULL
        self.proc = subprocess.Popen(args, cwd=cwd, stdout=self.out, stderr=subprocess.STDOUT,
                                     env=env)
        _children.append(self.proc)
        self.result = None
        self.hwm_kb = 0

    def sample(self):
        """Read the child's peak resident size since its exec."""
        try:
            with open('/proc/%d/status' % self.proc.pid) as f:
                for line in f:
                    if line.startswith('VmHWM:'):
                        self.hwm_kb = max(self.hwm_kb, int(line.split()[1]))
                        break
        except (OSError, ValueError):
            pass

    def poll(self):
        if self.result:
            return self.result
        self.sample()
        pid, status, ru = os.wait4(self.proc.pid, os.WNOHANG)
        if pid == 0:
            return None
        self._done(status, ru)
        return self.result

    def _done(self, status, ru):
        self.proc.returncode = os.waitstatus_to_exitcode(status)
        self.result = {
            'rc': self.proc.returncode,
            'wall': time.monotonic() - self.t0,
            'cpu': ru.ru_utime + ru.ru_stime,
            'user': ru.ru_utime,
            'sys': ru.ru_stime,
            'maxrss_kb': self.hwm_kb or ru.ru_maxrss,
        }
        if self.out is not subprocess.DEVNULL:
            self.out.close()

    def wait(self, limit_s):
        end = time.monotonic() + limit_s
        while time.monotonic() < end:
            r = self.poll()
            if r:
                return r
            time.sleep(0.05)
        log('bench: %s still running after %d s: stopping it' % (self.proc.args[0], limit_s))
        self.sample()
        self.proc.terminate()
        pid, status, ru = os.wait4(self.proc.pid, 0)
        self._done(status, ru)
        self.result['timeout'] = True
        return self.result

    def signal(self, sig):
        if self.result is None:
            self.sample()
            self.proc.send_signal(sig)


def emit(rows):
    """Print result rows as 'BENCH name|value|unit|note' lines, the format
    tools/bench/run collects."""
    for r in rows:
        name, value, unit = r[0], r[1], r[2]
        note = r[3] if len(r) > 3 else ''
        if isinstance(value, float):
            value = ('%.4g' % value) if abs(value) < 1000 else ('%.0f' % value)
        print('BENCH %s|%s|%s|%s' % (name, value, unit, note), flush=True)


def workdir(tag):
    return tempfile.mkdtemp(prefix='aedb-bench-%s.' % tag, dir=os.environ.get('TMPDIR', '/tmp'))
