'use strict';
// A real NATS JetStream cluster on loopback for the engine tests: N nats-server processes (Debian's package),
// each with its own store directory, client, cluster and monitoring ports, routed to each other. Everything it
// starts is stopped by PID; every wait is bounded.

const { spawn } = require('node:child_process');
const fs = require('node:fs');
const net = require('node:net');
const path = require('node:path');
const { request, tmpDir, waitFor } = require('./herald');

const NATS_SERVER = process.env.NATS_SERVER || '/usr/sbin/nats-server';

// Free loopback ports, held open together so that none is handed out twice, then released for the servers.
async function freePorts(n) {
  const servers = [];
  for (let i = 0; i < n; i++) {
    const s = net.createServer();
    await new Promise((resolve) => s.listen(0, '127.0.0.1', resolve));
    servers.push(s);
  }
  const ports = servers.map((s) => s.address().port);
  await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
  return ports;
}

class NatsCluster {
  constructor(size = 3) {
    this.size = size;
    this.dir = tmpDir('herald-nats-');
    this.nodes = [];
  }

  async start() {
    const ports = await freePorts(this.size * 3);
    for (let i = 0; i < this.size; i++) {
      this.nodes.push({
        name: `n${i + 1}`, client: ports[3 * i], cluster: ports[3 * i + 1], monitor: ports[3 * i + 2],
        store: path.join(this.dir, `n${i + 1}`), log: '',
      });
    }
    for (const n of this.nodes) this.launch(n);
    await this.waitForLeader();
    return this;
  }

  launch(n) {
    const routes = this.nodes.filter((o) => o !== n).map((o) => `nats://127.0.0.1:${o.cluster}`).join(',');
    const args = ['-a', '127.0.0.1', '-p', String(n.client), '-m', String(n.monitor), '-n', n.name,
      '-js', '-sd', n.store];
    // A single server runs standalone: a clustered one would wait for peers to elect a meta leader.
    if (this.size > 1) args.push('--cluster_name', 'herald-it', '--cluster', `nats://127.0.0.1:${n.cluster}`, '--routes', routes);
    n.proc = spawn(NATS_SERVER, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    n.proc.stdout.on('data', (d) => { n.log += d.toString(); });
    n.proc.stderr.on('data', (d) => { n.log += d.toString(); });
    n.exited = new Promise((resolve) => n.proc.on('exit', resolve));
  }

  urls() { return this.nodes.map((n) => `nats://127.0.0.1:${n.client}`); }

  // /jsz of a node, or null when it does not answer.
  async jsz(n, query = '') {
    try {
      const r = await request(`http://127.0.0.1:${n.monitor}/jsz${query}`, { timeout: 2000 });
      return r.status === 200 ? JSON.parse(r.body) : null;
    } catch { return null; }
  }

  // The JetStream meta leader is elected and every running node knows it: streams can be created through any
  // of them (a node that has not heard of the leader yet lets JetStream API requests time out).
  async waitForLeader(timeout = 20000) {
    await waitFor(async () => {
      let running = 0;
      for (const n of this.nodes) {
        if (!n.proc || n.proc.exitCode !== null || n.proc.signalCode) continue;
        running++;
        const j = await this.jsz(n);
        if (!j || (this.size !== 1 && !(j.meta_cluster && j.meta_cluster.leader))) return false;
      }
      return running > 0;
    }, { timeout, interval: 100, what: 'a JetStream meta leader known to every node' });
  }

  // The node that leads `stream` (its name in the cluster), from any live node's monitoring endpoint.
  async streamLeader(stream) {
    for (const n of this.nodes) {
      if (!n.proc || n.proc.exitCode !== null || n.proc.signalCode) continue;
      const j = await this.jsz(n, '?accounts=true&streams=true');
      for (const acc of (j && j.account_details) || []) {
        for (const s of acc.stream_detail || []) {
          if (s.name === stream && s.cluster && s.cluster.leader) return this.nodes.find((o) => o.name === s.cluster.leader);
        }
      }
    }
    return null;
  }

  async kill9(n) {
    n.proc.kill('SIGKILL');
    await n.exited;
  }

  async stop() {
    for (const n of this.nodes) {
      if (n.proc && n.proc.exitCode === null && !n.proc.signalCode) {
        n.proc.kill('SIGTERM');
        const t = setTimeout(() => n.proc.kill('SIGKILL'), 5000);
        await n.exited;
        clearTimeout(t);
      }
    }
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

module.exports = { NatsCluster, freePorts };
