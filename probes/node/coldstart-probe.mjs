// The coldstart probe in Node.js: the probe core and line protocol of probes/core,
// standard library only.
//
//   node coldstart-probe.mjs [serve|once|lambda] [--instance-nonce HEX] [--init-kib N]
//                            [--init-iters N] [--invoke-iters N] [--nonce HEX]
//
// serve (the default) prints READY and answers INVOKE lines until EXIT or end of
// input; once runs one invocation and prints its DONE line; lambda runs the Lambda
// Runtime API loop at $AWS_LAMBDA_RUNTIME_API. Parameters also come from
// COLDSTART_INSTANCE_NONCE, COLDSTART_INIT_KIB, COLDSTART_INIT_ITERS and
// COLDSTART_INVOKE_ITERS (flags win); COLDSTART_TEST_SLEEP (tests only) sleeps at a
// known point.
//
// The 64-bit arithmetic is on BigInt, wrapped with BigInt.asUintN(64, ...) after
// every multiplication and shift left: exact by construction, and what a reader
// checks against the Rust core line by line. Two 32-bit halves in Numbers would be
// faster, but this workload is small and a hand-written 64-bit multiply is where a
// port goes wrong; the init memory is a BigUint64Array, which wraps by itself.

import { randomBytes } from "node:crypto";
import { createInterface } from "node:readline";

const SEED = 0x636f6c6473746172n; // "coldstar"
const GOLDEN = 0x9e3779b97f4a7c15n;
const DEFAULT_INIT_KIB = 4n;
const DEFAULT_INIT_ITERS = 100n;
const DEFAULT_INVOKE_ITERS = 50n;
const USAGE =
  "usage: node coldstart-probe.mjs [serve|once|lambda] [--instance-nonce HEX] " +
  "[--init-kib N] [--init-iters N] [--invoke-iters N] [--nonce HEX]";

const u64 = (x) => BigInt.asUintN(64, x);

/** The splitmix64 finaliser. */
function mix(z) {
  z = u64((z ^ (z >> 30n)) * 0xbf58476d1ce4e5b9n);
  z = u64((z ^ (z >> 27n)) * 0x94d049bb133111ebn);
  return z ^ (z >> 31n);
}

const rotl = (x, k) => u64(x << k) | (x >> (64n - k));

/** One probe instance: its init state, keyed by the start's instance nonce. */
class Probe {
  constructor(instanceId, instanceNonce, initKib, initIters) {
    this.instanceId = instanceId;
    this.invocations = 0;
    const key = mix(instanceNonce ^ GOLDEN);
    this.memory = new BigUint64Array(Number(initKib * 128n));
    let folded = mix(SEED ^ initKib ^ key);
    for (let i = 0; i < this.memory.length; i++) {
      const word = mix(u64(SEED + GOLDEN * BigInt(i + 1))) ^ key;
      this.memory[i] = word;
      folded = rotl(folded, 5n) ^ word;
    }
    let digest = mix(folded);
    for (let i = 0n; i < initIters; i++) digest = mix(digest ^ i);
    this.digest = digest;
  }

  checksum(iters, nonce) {
    const memory = this.memory;
    const length = BigInt(memory.length);
    let x = mix(this.digest ^ u64(iters * GOLDEN) ^ mix(nonce ^ SEED));
    for (let i = 0n; i < iters; i++) {
      const word = length ? memory[Number(x % length)] : 0n;
      x = mix(x ^ word ^ i);
    }
    return x;
  }

  /** Serves one request: its index on this instance and its checksum. */
  invoke(iters, nonce) {
    const index = this.invocations++;
    return { index, checksum: this.checksum(iters, nonce) };
  }
}

class UsageError extends Error {}

const hex16 = (x) => x.toString(16).padStart(16, "0");

function hexU64(what, text) {
  if (!/^[0-9a-fA-F]{1,16}$/.test(text)) {
    throw new UsageError(`${what} ${JSON.stringify(text)} is not a hexadecimal u64`);
  }
  return BigInt("0x" + text);
}

function decU64(what, text) {
  if (!/^[0-9]+$/.test(text) || BigInt(text) >= 1n << 64n) {
    throw new UsageError(`${what} ${JSON.stringify(text)} is not a non-negative integer`);
  }
  return BigInt(text);
}

function envU64(name, fallback) {
  const text = process.env[name];
  return text === undefined ? fallback : decU64(`${name}=`, text);
}

/** COLDSTART_TEST_SLEEP, e.g. "init:200ms,invoke:5ms": milliseconds per point. */
function testSleep() {
  const sleep = { init: 0, invoke: 0 };
  for (const raw of (process.env.COLDSTART_TEST_SLEEP ?? "").split(",")) {
    const part = raw.trim();
    if (!part) continue;
    const match = /^(\w+):\s*(\d+)(ms|us)$/.exec(part);
    if (!match) throw new UsageError(`COLDSTART_TEST_SLEEP: "${part}" is not <point>:<duration>`);
    const [, point, amount, unit] = match;
    if (!(point in sleep)) {
      throw new UsageError(`COLDSTART_TEST_SLEEP: unknown point "${point}" (init, invoke)`);
    }
    sleep[point] = unit === "ms" ? Number(amount) : Number(amount) / 1000;
  }
  return sleep;
}

/** Blocks the thread, as the other probes' sleeps do: a test-only pause in init. */
function nap(ms) {
  if (ms > 0) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

function parseArgs(argv) {
  const env = process.env.COLDSTART_INSTANCE_NONCE;
  const args = {
    mode: "serve",
    instanceNonce: env === undefined ? 0n : hexU64("COLDSTART_INSTANCE_NONCE=", env),
    initKib: envU64("COLDSTART_INIT_KIB", DEFAULT_INIT_KIB),
    initIters: envU64("COLDSTART_INIT_ITERS", DEFAULT_INIT_ITERS),
    invokeIters: envU64("COLDSTART_INVOKE_ITERS", DEFAULT_INVOKE_ITERS),
    nonce: 0n,
  };
  const flags = {
    "--instance-nonce": ["instanceNonce", hexU64],
    "--init-kib": ["initKib", decU64],
    "--init-iters": ["initIters", decU64],
    "--invoke-iters": ["invokeIters", decU64],
    "--nonce": ["nonce", hexU64],
  };
  for (let i = 0; i < argv.length; i++) {
    const word = argv[i];
    if (["serve", "once", "lambda"].includes(word)) {
      args.mode = word;
    } else if (word in flags) {
      const [name, parse] = flags[word];
      if (i + 1 === argv.length) throw new UsageError(`${word} needs a value`);
      args[name] = parse(word, argv[++i]);
    } else if (word === "-h" || word === "--help") {
      throw new UsageError("");
    } else {
      throw new UsageError(`unknown argument ${JSON.stringify(word)}`);
    }
  }
  return args;
}

const INVOKE = /^INVOKE (\d+) ([0-9a-fA-F]{16}) (\d+)$/;

async function serve(probe, sleep) {
  process.stdout.write(`READY ${hex16(probe.instanceId)}\n`);
  const lines = createInterface({ input: process.stdin, crlfDelay: Infinity });
  for await (const line of lines) {
    if (line === "EXIT") {
      // The harness may keep its end of stdin open: stop reading it, so the process
      // ends here as the other probes do.
      lines.close();
      process.stdin.destroy();
      return;
    }
    const match = INVOKE.exec(line);
    if (!match) {
      process.stdout.write(`ERR not a probe protocol line: ${JSON.stringify(line)}\n`);
      continue;
    }
    const [seq, nonce, iters] = [BigInt(match[1]), BigInt("0x" + match[2]), BigInt(match[3])];
    if (seq >> 64n || iters >> 64n) {
      process.stdout.write(`ERR not a probe protocol line: ${JSON.stringify(line)}\n`);
      continue;
    }
    nap(sleep.invoke);
    const { index, checksum } = probe.invoke(iters, nonce);
    process.stdout.write(`DONE ${seq} ${hex16(probe.instanceId)} ${index} ${hex16(checksum)}\n`);
  }
}

/** The Lambda Runtime API: poll for the next event, answer it, forever. */
async function lambdaLoop(probe, sleep) {
  // Lambda gives host:port; an emulator may give a whole base URL.
  const base = process.env.AWS_LAMBDA_RUNTIME_API ?? "";
  const api = `${base.startsWith("http://") ? base : `http://${base}`}/2018-06-01/runtime/invocation/`;
  for (;;) {
    const event = await fetch(api + "next");
    const requestId = event.headers.get("lambda-runtime-aws-request-id");
    let path = "/response";
    let body;
    try {
      const { seq, nonce, iters } = await event.json();
      const parsed = hexU64("nonce", String(nonce));
      nap(sleep.invoke);
      const { index, checksum } = probe.invoke(BigInt(iters), parsed);
      body = { seq, instance_id: hex16(probe.instanceId), index, checksum: hex16(checksum) };
    } catch (e) {
      path = "/error";
      body = { errorMessage: String(e.message), errorType: "BadRequest" };
    }
    await fetch(api + requestId + path, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body),
    });
  }
}

async function main() {
  let args, sleep;
  try {
    args = parseArgs(process.argv.slice(2));
    sleep = testSleep();
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    if (e.message) console.error(`coldstart-probe: ${e.message}`);
    console.error(USAGE);
    process.exitCode = 2;
    return;
  }
  const probe = new Probe(
    randomBytes(8).readBigUInt64LE(),
    args.instanceNonce,
    args.initKib,
    args.initIters,
  );
  nap(sleep.init);
  if (args.mode === "once") {
    nap(sleep.invoke);
    const { index, checksum } = probe.invoke(args.invokeIters, args.nonce);
    console.log(`DONE 0 ${hex16(probe.instanceId)} ${index} ${hex16(checksum)}`);
  } else if (args.mode === "lambda") {
    await lambdaLoop(probe, sleep);
  } else {
    // EPIPE: the harness closed the pipe, so nothing is left to answer.
    process.stdout.on("error", (e) => process.exit(e.code === "EPIPE" ? 0 : 1));
    await serve(probe, sleep);
  }
}

await main();
