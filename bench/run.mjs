// npm run bench: the service against the yardstick (../shared/bench/baseline),
// on the same PostgreSQL, alternating, several rounds; figures as ratios.
// Writes bench/results/latest.json and bench/results/chart.svg.
//
//   BENCH_ROUNDS (3), BENCH_DURATION seconds per run (8),
//   BENCH_DATABASE_URL (postgres://postgres@127.0.0.1:5432/postgres: a server
//   where fresh databases are created and dropped), YARDSTICK_DIR,
//   BENCH_EMBEDDED=off to skip the embedded-store run.
import autocannon from 'autocannon';
import { spawn } from 'node:child_process';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { latencyTable, measureSignInLatency } from './passkey.mjs';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const RESULTS = join(ROOT, 'bench', 'results');
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const DURATION = Number(process.env.BENCH_DURATION ?? 8);
const SERVER_URL = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const PASSWORD = 'violet tractor harbour 42';
const SEED_USERS = 64;
// The service runs as `npm start` and the Dockerfile run it.
const SERVICE_NODE_FLAGS = ['--max-old-space-size=192'];

const YARDSTICK_DIR = [
  process.env.YARDSTICK_DIR,
  join(ROOT, '..', 'shared', 'bench', 'baseline'),
  '/work/shared/bench/baseline',
].find((dir) => dir && existsSync(join(dir, 'server.mjs')));

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};

// ---------- databases and processes ----------

async function createDatabase(name) {
  const client = new pg.Client({ connectionString: SERVER_URL });
  await client.connect();
  await client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
  await client.query(`CREATE DATABASE "${name}"`);
  await client.end();
  const url = new URL(SERVER_URL);
  url.pathname = `/${name}`;
  return url.toString();
}

async function dropDatabase(name) {
  const client = new pg.Client({ connectionString: SERVER_URL });
  await client.connect();
  await client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
  await client.end();
}

async function freePort() {
  const { createServer } = await import('node:net');
  return new Promise((resolvePort) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolvePort(port));
    });
  });
}

/**
 * Starts a server process; resolves once `readyUrl` answers as `isReady`
 * wants (200, by default), with the time that took.
 */
async function startProcess(name, args, env, readyUrl, isReady = (reply) => reply.ok) {
  const started = performance.now();
  const child = spawn(process.execPath, args, {
    cwd: ROOT,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (c) => (output += c));
  child.stderr.on('data', (c) => (output += c));
  for (;;) {
    if (child.exitCode !== null) {
      throw new Error(`${name} exited while starting:\n${output}`);
    }
    try {
      if (isReady(await fetch(readyUrl))) {
        break;
      }
    } catch {
      // not yet
    }
    if (performance.now() - started > 60000) {
      throw new Error(`${name} did not become ready:\n${output}`);
    }
    await sleep(10);
  }
  return { child, readyMs: performance.now() - started, output: () => output };
}

async function stopProcess(proc) {
  if (!proc || proc.child.exitCode !== null) {
    return;
  }
  const exited = new Promise((r) => proc.child.once('exit', r));
  proc.child.kill('SIGTERM');
  await Promise.race([exited, sleep(10000)]);
  proc.child.kill('SIGKILL');
}

/** CPU time (user + system) of one process (or, with `tid`, of one of its threads), in ms; 0 once it is gone. */
function cpuMs(pid, tid) {
  try {
    const file = tid ? `/proc/${pid}/task/${tid}/stat` : `/proc/${pid}/stat`;
    const fields = readFileSync(file, 'utf8').split(') ')[1].split(' ');
    // utime and stime: fields 14 and 15 of stat, 12 and 13 after the name.
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS;
  } catch {
    return 0;
  }
}
const CLOCK_TICKS = 100;

/** The whole machine's CPU ticks so far: all, and idle (idle + iowait). */
function machineCpu() {
  const fields = readFileSync('/proc/stat', 'utf8')
    .split('\n')[0]
    .split(/\s+/)
    .slice(1)
    .map(Number);
  return { total: fields.reduce((a, b) => a + b, 0), idle: fields[3] + fields[4] };
}

/** CPU time of each PostgreSQL process (the server's share of a run: the two servers run apart), by pid. */
function postgresCpu() {
  const byPid = new Map();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) {
      continue;
    }
    try {
      if (readFileSync(`/proc/${entry}/comm`, 'utf8').trim() === 'postgres') {
        byPid.set(entry, cpuMs(entry));
      }
    } catch {
      // gone meanwhile
    }
  }
  return byPid;
}

/**
 * PostgreSQL's CPU time from now on: sampled while the run lasts (`sample`),
 * so that a backend that ends meanwhile (a pool closing an idle connection)
 * still counts with its last figure.
 */
function postgresCpuMeter() {
  const start = postgresCpu();
  const last = new Map(start);
  return {
    sample() {
      for (const [pid, ms] of postgresCpu()) {
        last.set(pid, Math.max(ms, last.get(pid) ?? 0));
      }
    },
    total() {
      this.sample();
      let sum = 0;
      for (const [pid, ms] of last) {
        sum += ms - (start.get(pid) ?? 0);
      }
      return sum;
    },
  };
}

function rssMiB(pid) {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    return Number(/VmRSS:\s+(\d+)/.exec(status)[1]) / 1024;
  } catch {
    return 0;
  }
}

// ---------- the two servers, one interface ----------

function service(base, proc) {
  return {
    name: 'service',
    base,
    proc,
    paths: {
      register: '/api/v1/auth/register',
      login: '/api/v1/auth/login',
      refresh: '/api/v1/auth/refresh',
      me: '/api/v1/users/me',
    },
  };
}

function yardstick(base, proc) {
  return {
    name: 'yardstick',
    base,
    proc,
    paths: { register: '/register', login: '/login', refresh: '/refresh', me: '/me' },
  };
}

async function post(server, path, body) {
  const reply = await fetch(server.base + path, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  const text = await reply.text();
  return { status: reply.status, body: text ? JSON.parse(text) : null };
}

async function inBatches(count, size, work) {
  const out = [];
  for (let i = 0; i < count; i += size) {
    out.push(
      ...(await Promise.all(
        Array.from({ length: Math.min(size, count - i) }, (_, j) => work(i + j)),
      )),
    );
  }
  return out;
}

/** Users to sign in as, and the tokens the scenarios start from. */
async function seed(server, tag) {
  const emails = Array.from({ length: SEED_USERS }, (_, i) => `bench.${tag}.${i}@example.com`);
  await inBatches(emails.length, 8, async (i) => {
    const reply = await post(server, server.paths.register, {
      email: emails[i],
      password: PASSWORD,
    });
    if (reply.status !== 201) {
      throw new Error(`${server.name}: seeding failed with ${reply.status}`);
    }
  });
  server.emails = emails;
  const pairs = await inBatches(16, 8, async (i) => {
    const reply = await post(server, server.paths.login, { email: emails[i], password: PASSWORD });
    return reply.body;
  });
  server.accessTokens = pairs.map((p) => p.accessToken);
  server.refreshTokens = [];
}

async function refreshTokens(server, count) {
  while (server.refreshTokens.length < count) {
    const i = server.refreshTokens.length;
    const reply = await post(server, server.paths.login, {
      email: server.emails[i % server.emails.length],
      password: PASSWORD,
    });
    server.refreshTokens.push(reply.body.refreshToken);
  }
}

// ---------- scenarios ----------

let registrations = 0;

const SCENARIOS = {
  me: {
    label: 'GET /users/me (50 conns)',
    connections: 50,
    request: (server) => ({
      method: 'GET',
      path: server.paths.me,
      setupRequest: (req) => {
        const token = server.accessTokens[Math.floor(Math.random() * server.accessTokens.length)];
        req.headers = { authorization: `Bearer ${token}` };
        return req;
      },
    }),
    ok: 200,
  },
  login10: {
    label: 'POST /auth/login (10 conns, 64 users)',
    connections: 10,
    request: (server) => loginRequest(server),
    ok: 200,
  },
  login100: {
    label: 'POST /auth/login (100 conns, 64 users)',
    connections: 100,
    request: (server) => loginRequest(server),
    ok: 200,
  },
  // One account signing in on every connection: its rows (user, device) are
  // the same for every request.
  login10one: {
    label: 'POST /auth/login (10 conns, one user)',
    connections: 10,
    request: (server) => loginRequest(server, 1),
    ok: 200,
  },
  login100one: {
    label: 'POST /auth/login (100 conns, one user)',
    connections: 100,
    request: (server) => loginRequest(server, 1),
    ok: 200,
  },
  refresh: {
    label: 'POST /auth/refresh (20 conns)',
    connections: 20,
    before: (server) => refreshTokens(server, 20),
    // Each request takes a live token from the pool and puts its successor back:
    // every refresh is a real rotation (autocannon clears a connection's
    // context between requests, so the pool is shared, not per connection).
    request: (server) => ({
      method: 'POST',
      path: server.paths.refresh,
      headers: { 'content-type': 'application/json' },
      setupRequest: (req, context) => {
        context.token = server.refreshTokens.shift();
        req.body = JSON.stringify({ refreshToken: context.token });
        return req;
      },
      onResponse: (status, body, context) => {
        server.refreshTokens.push(status === 200 ? JSON.parse(body).refreshToken : context.token);
      },
    }),
    ok: 200,
  },
  register: {
    label: 'POST /auth/register (10 conns)',
    connections: 10,
    request: (server) => ({
      method: 'POST',
      path: server.paths.register,
      headers: { 'content-type': 'application/json' },
      setupRequest: (req) => {
        registrations += 1;
        req.body = JSON.stringify({
          email: `reg.${process.pid}.${registrations}@example.com`,
          password: PASSWORD,
        });
        return req;
      },
    }),
    ok: 201,
  },
};

/** Sign-ins as one of the first `users` seeded accounts (all of them by default), at random. */
function loginRequest(server, users = server.emails.length) {
  return {
    method: 'POST',
    path: server.paths.login,
    headers: { 'content-type': 'application/json' },
    setupRequest: (req) => {
      req.body = JSON.stringify({
        email: server.emails[Math.floor(Math.random() * users)],
        password: PASSWORD,
      });
      return req;
    },
  };
}

function load(server, scenario, duration = DURATION) {
  return new Promise((resolveRun, reject) => {
    autocannon(
      {
        url: server.base,
        connections: scenario.connections,
        duration,
        requests: [scenario.request(server)],
        // Requests still waiting when the time is up are not errors.
        timeout: 30,
      },
      (error, result) => (error ? reject(error) : resolveRun(result)),
    );
  });
}

/**
 * Runs `work` while sampling the server's RSS; returns its result, the peak,
 * and the CPU time the server's process and PostgreSQL's spent meanwhile.
 */
async function sampled(server, work) {
  const pid = server.proc.child.pid;
  let peak = rssMiB(pid);
  const postgres = postgresCpuMeter();
  const timer = setInterval(() => {
    peak = Math.max(peak, rssMiB(pid));
    postgres.sample();
  }, 250);
  const cpu0 = cpuMs(pid);
  const loop0 = cpuMs(pid, pid);
  const machine0 = machineCpu();
  const self0 = process.cpuUsage();
  try {
    const result = await work();
    const machine1 = machineCpu();
    const self1 = process.cpuUsage(self0);
    const cpu = {
      process: cpuMs(pid) - cpu0,
      postgres: postgres.total(),
      idle: (machine1.idle - machine0.idle) / Math.max(1, machine1.total - machine0.total),
      loader: (self1.user + self1.system) / 1000,
      loop: cpuMs(pid, pid) - loop0,
    };
    return { result, peakRss: peak, cpu };
  } finally {
    clearInterval(timer);
  }
}

function figures(result, ok, peakRss, cpu) {
  const unexpected = result.non2xx + result.errors + result.timeouts;
  const wrongStatus = Object.entries(result.statusCodeStats ?? {})
    .filter(([code]) => Number(code) !== ok)
    .reduce((sum, [, stats]) => sum + stats.count, 0);
  return {
    rps: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    errors: Math.max(unexpected, wrongStatus),
    peakRss,
    // CPU ms per answered request: the server's process, and PostgreSQL's processes.
    cpuPerRequest: cpu.process / Math.max(1, result.requests.total),
    pgCpuPerRequest: cpu.postgres / Math.max(1, result.requests.total),
    // The main thread's share (the event loop; the rest is argon2's threads and V8's helpers),
    // the machine's idle share meanwhile, and the load generator's (this process's) CPU.
    loopCpuPerRequest: cpu.loop / Math.max(1, result.requests.total),
    idle: cpu.idle,
    loaderCpuPerRequest: cpu.loader / Math.max(1, result.requests.total),
  };
}

async function runScenario(server, key) {
  const scenario = SCENARIOS[key];
  await scenario.before?.(server);
  const { result, peakRss, cpu } = await sampled(server, () => load(server, scenario));
  return figures(result, scenario.ok, peakRss, cpu);
}

/**
 * Waits until no server is busy any more: the sign-ins still queued when a
 * run's time is up (about a second of hashing at 100 connections) would
 * otherwise run during the next server's run and take its CPU. Busy: more
 * than a tenth of a core over a quarter of a second (at most 15 s).
 */
async function settle(servers) {
  const deadline = Date.now() + 15000;
  for (;;) {
    const before = servers.map((server) => cpuMs(server.proc.child.pid));
    await sleep(250);
    const busy = servers.some((server, i) => cpuMs(server.proc.child.pid) - before[i] > 25);
    if (!busy || Date.now() > deadline) {
      return;
    }
  }
}

/** GET /users/me at 10 connections while 100 connections sign in. */
async function runStorm(server) {
  const meDuringStorm = { ...SCENARIOS.me, connections: 10 };
  const { result, peakRss, cpu } = await sampled(server, async () => {
    const storm = load(server, SCENARIOS.login100);
    await sleep(1000); // let the hashing pool fill first
    const me = await load(server, meDuringStorm, Math.max(2, DURATION - 2));
    await storm;
    return me;
  });
  return figures(result, 200, peakRss, cpu);
}

// ---------- report ----------

// BENCH_SCENARIOS: a comma-separated subset, for profiling one path.
const KEYS = (
  process.env.BENCH_SCENARIOS ?? 'me,login10,login100,login10one,login100one,refresh,register,storm'
).split(',');
const LABELS = {
  ...Object.fromEntries(Object.entries(SCENARIOS).map(([k, s]) => [k, s.label])),
  storm: 'GET /users/me during a sign-in storm',
};

function summarize(runs) {
  const out = {};
  for (const key of KEYS) {
    const rounds = runs.filter((r) => r.key === key);
    if (!rounds.length) {
      continue;
    }
    const pick = (name, field) => median(rounds.map((r) => r[name][field]));
    const sum = (name, field) => rounds.reduce((s, r) => s + r[name][field], 0);
    const max = (name, field) => Math.max(...rounds.map((r) => r[name][field]));
    out[key] = {};
    for (const name of Object.keys(rounds[0])) {
      if (name === 'key' || name === 'round') {
        continue;
      }
      // The ratio to the yardstick: the median over rounds of each round's own
      // ratio (the two servers ran back to back in that round), which a slow
      // moment of the shared machine in one round does not skew as much as
      // dividing one median by the other.
      const paired = rounds.filter((r) => r.yardstick && name !== 'yardstick');
      const ratios = (field) => paired.map((r) => r[name][field] / r.yardstick[field]);
      const pairedRatio = (field) => (paired.length ? median(ratios(field)) : undefined);
      out[key][name] = {
        rps: pick(name, 'rps'),
        p50: pick(name, 'p50'),
        p99: pick(name, 'p99'),
        errors: sum(name, 'errors'),
        peakRss: max(name, 'peakRss'),
        cpuPerRequest: pick(name, 'cpuPerRequest'),
        pgCpuPerRequest: pick(name, 'pgCpuPerRequest'),
        rpsRatio: pairedRatio('rps'),
        p99Ratio: pairedRatio('p99'),
        // The spread over rounds of the req/s ratio: the lowest and the highest round.
        rpsRatioRange: paired.length
          ? [Math.min(...ratios('rps')), Math.max(...ratios('rps'))]
          : null,
      };
    }
  }
  return out;
}

const fmt = (n, digits = 1) => (Number.isFinite(n) ? n.toFixed(digits) : '-');

const range = (r) => (r ? `${fmt(r[0], 2)}-${fmt(r[1], 2)}` : '-');
const cpu = (f) =>
  `${fmt(f.cpuPerRequest, 2)} + ${fmt(f.pgCpuPerRequest, 2)}` +
  (f.idle === undefined
    ? ''
    : ` (event loop ${fmt(f.loopCpuPerRequest, 2)}; machine idle ${fmt(f.idle * 100, 1)} %, load generator ${fmt(f.loaderCpuPerRequest, 2)})`);

/**
 * One table: the service on PostgreSQL against the yardstick (medians of the
 * rounds, the ratio's spread over them, CPU per request of the server's
 * process + PostgreSQL's), and the service on the embedded store (one round,
 * against the same yardstick's median) when it ran.
 */
function table(summary, embedded) {
  const lines = [];
  lines.push(
    `| scenario | service req/s | yardstick req/s | ratio | spread | service p50 / p99 ms | yardstick p50 / p99 ms | p99 ratio | CPU ms per request: service (+ PostgreSQL) | yardstick | errors | peak RSS MiB |${embedded ? ' embedded req/s | embedded ratio | embedded p50 / p99 ms |' : ''}`,
  );
  lines.push(
    `|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|${embedded ? '---:|---:|---:|' : ''}`,
  );
  for (const key of KEYS) {
    const row = summary[key];
    if (!row?.service || !row?.yardstick) {
      continue;
    }
    const a = row.service;
    const b = row.yardstick;
    const e = embedded?.[key]?.embedded;
    const tail = embedded
      ? ` ${fmt(e?.rps)} | ${e ? fmt(e.rps / b.rps, 2) : '-'} | ${e ? `${e.p50} / ${e.p99}` : '-'} |`
      : '';
    lines.push(
      `| ${LABELS[key]} | ${fmt(a.rps)} | ${fmt(b.rps)} | ${fmt(a.rpsRatio ?? a.rps / b.rps, 2)} | ${range(a.rpsRatioRange)} | ${a.p50} / ${a.p99} | ${b.p50} / ${b.p99} | ${fmt(a.p99Ratio ?? a.p99 / b.p99, 2)} | ${cpu(a)} | ${cpu(b)} | ${a.errors} / ${b.errors} | ${fmt(a.peakRss, 0)} |${tail}`,
    );
  }
  return lines.join('\n');
}

function targets(summary, readyMs, embedded) {
  const s = summary;
  const ratio = (key, f) =>
    s[key] ? (s[key].service[`${f}Ratio`] ?? s[key].service[f] / s[key].yardstick[f]) : NaN;
  // The embedded store ran one round: its ratio is to the yardstick's median.
  const embeddedRatio = (key) =>
    embedded?.[key] ? embedded[key].embedded.rps / s[key].yardstick.rps : NaN;
  const allErrors = KEYS.reduce(
    (n, k) => n + (s[k]?.service.errors ?? 0) + (embedded?.[k]?.embedded.errors ?? 0),
    0,
  );
  const peak = Math.max(...KEYS.map((k) => s[k]?.service.peakRss ?? 0));
  const signIn = [
    ['login10', '10 conns, 64 users'],
    ['login100', '100 conns, 64 users'],
    ['login10one', '10 conns, one user'],
    ['login100one', '100 conns, one user'],
  ];
  return [
    ['GET /users/me req/s ≥ 0.6 × yardstick', ratio('me', 'rps'), (v) => v >= 0.6, 2],
    ['GET /users/me p99 ≤ 1.5 × yardstick', ratio('me', 'p99'), (v) => v <= 1.5, 2],
    ...signIn.map(([key, what]) => [
      `sign-in req/s ≥ 0.95 × yardstick (${what})`,
      ratio(key, 'rps'),
      (v) => v >= 0.95,
      2,
    ]),
    ['refresh req/s ≥ 0.8 × yardstick', ratio('refresh', 'rps'), (v) => v >= 0.8, 2],
    ['registration req/s ≥ 0.8 × yardstick', ratio('register', 'rps'), (v) => v >= 0.8, 2],
    // The embedded store runs its SQL in WASM on the service's one thread: every
    // statement's CPU is taken from the event loop, beside the argon2 threads.
    // It is the first run's store (one developer, a laptop), not production's:
    // its targets keep a sign-in within a quarter of the server's pace and a
    // page's read under a tenth of a second at 50 clients.
    ...(embedded
      ? [
          [
            'embedded store: sign-in req/s ≥ 0.75 × yardstick (10 conns, 64 users)',
            embeddedRatio('login10'),
            (v) => v >= 0.75,
            2,
          ],
          [
            'embedded store: registration req/s ≥ 0.45 × yardstick',
            embeddedRatio('register'),
            (v) => v >= 0.45,
            2,
          ],
          [
            'embedded store: GET /users/me p99 < 100 ms (50 conns)',
            embedded.me?.embedded.p99 ?? NaN,
            (v) => v < 100,
            0,
          ],
        ]
      : []),
    [
      'GET /users/me p99 < 50 ms during a sign-in storm',
      s.storm?.service.p99 ?? NaN,
      (v) => v < 50,
      0,
    ],
    ['no errors', allErrors, (v) => v === 0, 0],
    ['peak RSS < 300 MB', peak * 1.048576, (v) => v < 300, 0],
    [
      'ready within 1.5 s of start on PostgreSQL (median of the restarts)',
      readyMs / 1000,
      (v) => v <= 1.5,
      2,
    ],
  ].map(([name, value, pass, digits]) => ({
    name,
    value: Number(fmt(value, digits)),
    met: pass(value),
  }));
}

function chart(summary, checks) {
  // Ratio of service to yardstick per scenario (req/s), with the target marked.
  const bars = [
    ['me', 'GET /users/me', 0.6],
    ['login10', 'sign-in ×10', 0.95],
    ['login100', 'sign-in ×100', 0.95],
    ['login10one', 'sign-in ×10, 1 user', 0.95],
    ['login100one', 'sign-in ×100, 1 user', 0.95],
    ['refresh', 'refresh ×20', 0.8],
    ['register', 'register ×10', 0.8],
  ].filter(([key]) => summary[key]);
  const width = 640;
  const rowH = 44;
  const height = 70 + bars.length * rowH + 40;
  const x0 = 170;
  const scale = (width - x0 - 40) / 1.25;
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="system-ui, sans-serif" font-size="13">`,
    `<rect width="100%" height="100%" fill="#fff"/>`,
    `<text x="16" y="26" font-size="16" font-weight="700">Service ÷ yardstick, req/s (median of ${ROUNDS})</text>`,
    `<text x="16" y="46" fill="#5b6477">bar: ratio · tick: target · 1.0 = bare Node doing the same work</text>`,
  ];
  for (const [tick] of [[0], [0.5], [1]]) {
    const x = x0 + tick * scale;
    parts.push(`<line x1="${x}" y1="58" x2="${x}" y2="${height - 30}" stroke="#d5d9e0"/>`);
    parts.push(
      `<text x="${x}" y="${height - 14}" text-anchor="middle" fill="#5b6477">${tick.toFixed(1)}</text>`,
    );
  }
  bars.forEach(([key, label, target], i) => {
    const y = 66 + i * rowH;
    const value =
      summary[key].service.rpsRatio ?? summary[key].service.rps / summary[key].yardstick.rps;
    const met = target === null || value >= target;
    parts.push(`<text x="${x0 - 10}" y="${y + 19}" text-anchor="end">${label}</text>`);
    parts.push(
      `<rect x="${x0}" y="${y + 4}" width="${Math.max(1, Math.min(1.25, value) * scale)}" height="22" fill="${met ? '#2453c4' : '#b3261e'}"/>`,
    );
    parts.push(
      `<text x="${x0 + Math.min(1.25, Math.max(value, target ?? 0)) * scale + 8}" y="${y + 19}">${value.toFixed(2)}</text>`,
    );
    if (target !== null) {
      const x = x0 + target * scale;
      parts.push(
        `<line x1="${x}" y1="${y}" x2="${x}" y2="${y + 30}" stroke="#1d2330" stroke-width="2"/>`,
      );
    }
  });
  const failed = checks.filter((c) => !c.met).length;
  parts.push(
    `<text x="${width - 16}" y="26" text-anchor="end" fill="${failed ? '#b3261e' : '#1e6b34'}">${failed ? `${failed} target(s) missed` : 'every target met'}</text>`,
  );
  parts.push('</svg>');
  return parts.join('\n');
}

// ---------- main ----------

async function main() {
  if (!YARDSTICK_DIR) {
    throw new Error(
      'the yardstick (../shared/bench/baseline/server.mjs) was not found; set YARDSTICK_DIR',
    );
  }
  if (!existsSync(join(ROOT, 'dist', 'src', 'main.js'))) {
    throw new Error('dist/ is missing: run `npm run build` (npm run bench does)');
  }
  mkdirSync(RESULTS, { recursive: true });
  // The yardstick runs from a copy inside the repository, so it finds this
  // project's node_modules (argon2 0.44 and pg, the versions it names).
  const yardstickFile = join(RESULTS, 'yardstick.mjs');
  copyFileSync(join(YARDSTICK_DIR, 'server.mjs'), yardstickFile);

  const tag = Date.now().toString(36);
  const serviceDb = `bench_service_${tag}`;
  const yardstickDb = `bench_yardstick_${tag}`;
  const serviceUrl = await createDatabase(serviceDb);
  const yardstickUrl = await createDatabase(yardstickDb);
  const servicePort = await freePort();
  const yardstickPort = await freePort();
  const serviceEnv = {
    NODE_ENV: 'development',
    DATABASE_URL: serviceUrl,
    PORT: String(servicePort),
    RATE_LIMIT: 'off',
    LOG_LEVEL: 'warn',
    JWT_SECRET: 'bench-secret-bench-secret-bench-secret-0123456789',
    DATA_DIR: join(tmpdir(), `auth-bench-${tag}`),
    // BENCH_SVC_X=v sets the service's X (for trying a setting, e.g. BENCH_SVC_HASH_CONCURRENCY=3).
    ...Object.fromEntries(
      Object.entries(process.env)
        .filter(([name]) => name.startsWith('BENCH_SVC_'))
        .map(([name, value]) => [name.slice('BENCH_SVC_'.length), value]),
    ),
  };
  let ours;
  let theirs;
  let embedded;
  const report = { date: new Date().toISOString(), rounds: ROUNDS, durationSeconds: DURATION };
  try {
    console.log(
      `service: node ${SERVICE_NODE_FLAGS.join(' ')} dist/src/main.js on ${serviceDb}; yardstick: ${YARDSTICK_DIR} on ${yardstickDb}`,
    );
    ours = await startProcess(
      'service',
      [...SERVICE_NODE_FLAGS, 'dist/src/main.js'],
      serviceEnv,
      `http://127.0.0.1:${servicePort}/health/ready`,
    );
    const freshReadyMs = ours.readyMs;
    await stopProcess(ours);
    // BENCH_PROFILE_DIR: the measured service writes a V8 CPU profile there (node --cpu-prof).
    const profile = process.env.BENCH_PROFILE_DIR
      ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_PROFILE_DIR}`]
      : [];
    // The ready time on restart is a median, as every other target: one start
    // per round, the last one left running for the scenarios.
    const restarts = [];
    for (let round = 1; round <= ROUNDS; round += 1) {
      if (round > 1) {
        await stopProcess(ours);
      }
      ours = await startProcess(
        'service',
        [...(round === ROUNDS ? profile : []), ...SERVICE_NODE_FLAGS, 'dist/src/main.js'],
        serviceEnv,
        `http://127.0.0.1:${servicePort}/health/ready`,
      );
      restarts.push(Math.round(ours.readyMs));
    }
    report.readyMs = {
      freshDatabase: Math.round(freshReadyMs),
      restart: median(restarts),
      restarts,
    };
    console.log(
      `ready: ${report.readyMs.freshDatabase} ms on a fresh database (migrations included); on restart ${restarts.join(', ')} ms (median ${report.readyMs.restart})`,
    );
    // The yardstick has no health route: any answer (a 404) means it is up.
    theirs = await startProcess(
      'yardstick',
      [yardstickFile],
      { DATABASE_URL: yardstickUrl, PORT: String(yardstickPort) },
      `http://127.0.0.1:${yardstickPort}/nope`,
      () => true,
    );
    const servers = {
      service: service(`http://127.0.0.1:${servicePort}`, ours),
      yardstick: yardstick(`http://127.0.0.1:${yardstickPort}`, theirs),
    };
    await seed(servers.service, `s${tag}`);
    await seed(servers.yardstick, `y${tag}`);

    const runs = [];
    for (let round = 1; round <= ROUNDS; round += 1) {
      const order = round % 2 ? ['service', 'yardstick'] : ['yardstick', 'service'];
      for (const key of KEYS) {
        const row = { key, round };
        for (const name of order) {
          row[name] =
            key === 'storm' ? await runStorm(servers[name]) : await runScenario(servers[name], key);
          await settle(Object.values(servers));
        }
        runs.push(row);
        console.log(
          `round ${round} ${LABELS[key]}: service ${fmt(row.service.rps)} req/s p99 ${row.service.p99} ms CPU ${cpu(row.service)} ms/req, yardstick ${fmt(row.yardstick.rps)} req/s p99 ${row.yardstick.p99} ms CPU ${cpu(row.yardstick)} ms/req`,
        );
      }
    }
    const summary = summarize(runs);
    // BENCH_PASSKEY=off skips it.
    if (process.env.BENCH_PASSKEY !== 'off') {
      report.signInLatency = await measureSignInLatency({
        root: ROOT,
        base: servers.service.base,
        port: servicePort,
        tag,
        password: PASSWORD,
        seconds: DURATION,
      });
    }

    await stopProcess(ours);
    ours = null;
    if (process.env.BENCH_EMBEDDED !== 'off') {
      const dataDir = join(tmpdir(), `auth-bench-embedded-${tag}`);
      const embeddedEnv = { ...serviceEnv, DATA_DIR: dataDir };
      delete embeddedEnv.DATABASE_URL;
      embedded = await startProcess(
        'service (embedded)',
        [...SERVICE_NODE_FLAGS, 'dist/src/main.js'],
        embeddedEnv,
        `http://127.0.0.1:${servicePort}/health/ready`,
      );
      const server = service(`http://127.0.0.1:${servicePort}`, embedded);
      await seed(server, `e${tag}`);
      const rows = [];
      for (const key of KEYS) {
        const row = {
          key,
          round: 1,
          embedded: key === 'storm' ? await runStorm(server) : await runScenario(server, key),
          yardstick: summary[key].yardstick,
        };
        rows.push(row);
        await settle([server]);
      }
      report.embedded = {
        readyMs: Math.round(embedded.readyMs),
        summary: summarize(rows.map((r) => ({ ...r, yardstick: r.yardstick }))),
      };
      await stopProcess(embedded);
      embedded = null;
      rmSync(dataDir, { recursive: true, force: true });
    }
    const checks = targets(summary, report.readyMs.restart, report.embedded?.summary);
    report.postgres = { runs, summary, targets: checks };

    console.log(
      `\n## Service vs yardstick on PostgreSQL (medians of ${ROUNDS} rounds of ${DURATION} s; ratio: the median of each round's ratio, spread: its lowest and highest round), and the service on the embedded store (one round, against the yardstick's median)\n`,
    );
    console.log(table(summary, report.embedded?.summary));
    if (report.signInLatency) {
      console.log(
        `\n## Sign-in latency by method (service on PostgreSQL; a client loop per connection, each its own account)\n`,
      );
      console.log(latencyTable(report.signInLatency));
    }
    console.log('\n## Targets\n');
    for (const check of checks) {
      console.log(`${check.met ? 'met   ' : 'MISSED'}  ${check.name}: ${check.value}`);
    }
    writeFileSync(join(RESULTS, 'latest.json'), JSON.stringify(report, null, 2));
    writeFileSync(join(RESULTS, 'chart.svg'), chart(summary, checks));
    console.log(
      `\nwrote ${join('bench', 'results', 'latest.json')} and ${join('bench', 'results', 'chart.svg')}`,
    );
    process.exitCode = checks.every((c) => c.met) ? 0 : 1;
  } finally {
    await stopProcess(ours);
    await stopProcess(theirs);
    await stopProcess(embedded);
    await dropDatabase(serviceDb).catch(() => undefined);
    await dropDatabase(yardstickDb).catch(() => undefined);
    rmSync(serviceEnv.DATA_DIR, { recursive: true, force: true });
  }
}

/** `node bench/run.mjs --chart`: redraws the chart from bench/results/latest.json. */
if (process.argv.includes('--chart')) {
  const report = JSON.parse(readFileSync(join(RESULTS, 'latest.json'), 'utf8'));
  writeFileSync(
    join(RESULTS, 'chart.svg'),
    chart(report.postgres.summary, report.postgres.targets),
  );
} else {
  main().catch((error) => {
    console.error(error);
    process.exitCode = 2;
  });
}
