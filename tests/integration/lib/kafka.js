'use strict';
// A Kafka cluster for the engine tests: librdkafka's mock cluster (there is no Kafka broker in Debian), served to
// the Herald processes, kcat and kafkajs by tests/kafka_mock/kafka_mock_server.cpp. Topics are created through
// the helper (the mock has no admin API); it dies with its process, which every test stops by PID.

const { spawn } = require('node:child_process');
const path = require('node:path');
const fs = require('node:fs');
const { run, tmpDir, waitFor } = require('./herald');

const MOCK = process.env.HERALD_KAFKA_MOCK || path.resolve(__dirname, '../../../build/tests/herald-kafka-mock');
const KCAT = process.env.KCAT || '/usr/bin/kcat';

class KafkaMock {
  constructor({ brokers = 3, topics = [] } = {}) {
    this.brokers = brokers;
    this.topics = topics;  // ["name:partitions", ...]
    this.dir = tmpDir('herald-kafka-');
    this.out = '';
    this.answers = [];
  }

  async start() {
    const ready = path.join(this.dir, 'ready');
    const args = ['--brokers', String(this.brokers), '--ready-file', ready];
    for (const t of this.topics) args.push('--topic', t);
    this.proc = spawn(MOCK, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    this.proc.stdout.on('data', (d) => {
      this.out += d.toString();
      const lines = this.out.split('\n');
      this.out = lines.pop();
      for (const l of lines) if (l === 'ok' || l.startsWith('error')) this.answers.push(l);
    });
    this.proc.stderr.on('data', (d) => { this.out += d.toString(); });
    this.exited = new Promise((resolve) => this.proc.on('exit', resolve));
    await waitFor(() => fs.existsSync(ready), { timeout: 10000, what: 'the Kafka mock cluster' });
    this.bootstrap = fs.readFileSync(ready, 'utf8').trim().replace(/^bootstrap=/, '');
    return this;
  }

  brokerList() { return this.bootstrap.split(','); }

  async command(line) {
    const before = this.answers.length;
    this.proc.stdin.write(`${line}\n`);
    await waitFor(() => this.answers.length > before, { timeout: 5000, what: `mock answer to "${line}"` });
    const a = this.answers[before];
    if (a !== 'ok') throw new Error(`kafka mock: ${line}: ${a}`);
  }

  createTopic(name, partitions = 1) { return this.command(`create ${name} ${partitions}`); }

  // kcat against this cluster; resolves {code, stdout, stderr}.
  kcat(args, { input, timeout = 20000 } = {}) {
    return run(KCAT, ['-b', this.bootstrap, ...args], { input, timeout });
  }

  async stop() {
    if (this.proc && this.proc.exitCode === null && !this.proc.signalCode) {
      this.proc.kill('SIGTERM');
      const t = setTimeout(() => this.proc.kill('SIGKILL'), 5000);
      await this.exited;
      clearTimeout(t);
    }
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

module.exports = { KafkaMock };
