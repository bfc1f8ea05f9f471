#!/usr/bin/env node
// Starts Azurite (blob, queue and table) with its own CLI and ties its life to a parent process:
// it stops Azurite on SIGTERM/SIGINT and when the process given by --parent-pid is gone, so a
// killed test run leaves no server behind.
//
// Usage: node azurite-launcher.mjs --location DIR --blob-port N --queue-port N --table-port N
//                                  [--host 127.0.0.1] [--parent-pid PID]

import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";

const STOP_GRACE_MS = 5000;
const WATCHDOG_INTERVAL_MS = 500;

const args = parseArgs(process.argv.slice(2));
const require = createRequire(import.meta.url);
const azuriteCli = path.join(path.dirname(require.resolve("azurite/package.json")), "dist", "src", "azurite.js");

const child = spawn(process.execPath, [
  azuriteCli,
  "--location", args.location,
  "--blobHost", args.host, "--blobPort", String(args.blobPort),
  "--queueHost", args.host, "--queuePort", String(args.queuePort),
  "--tableHost", args.host, "--tablePort", String(args.tablePort),
  "--skipApiVersionCheck",
  "--loose",
  "--silent",
  "--disableProductStyleUrl",
  "--disableTelemetry", // no calls home: this machine only talks to loopback, and a test run must not report anywhere
], { stdio: ["ignore", "pipe", "pipe"] });

// Our parent may be gone (that is when the watchdog fires): writes to its closed pipes must not kill or stall us
// before Azurite is stopped, so Azurite writes to our pipes and we forward, ignoring EPIPE.
for (const stream of [process.stdout, process.stderr]) stream.on("error", () => {});
child.stdout.on("data", chunk => process.stdout.write(chunk));
child.stderr.on("data", chunk => process.stderr.write(chunk));

let stopping = false;
child.on("exit", (code, signal) => process.exit(stopping ? 0 : (code ?? (signal ? 1 : 0))));
child.on("error", err => {
  console.error(`azurite-launcher: cannot start Azurite: ${err.message}`);
  process.exit(1);
});

function stop(reason) {
  if (stopping) return;
  stopping = true;
  child.kill("SIGTERM");
  log(`azurite-launcher stopping: ${reason}`);
  setTimeout(() => child.kill("SIGKILL"), STOP_GRACE_MS).unref();
}

process.on("SIGTERM", () => stop("SIGTERM"));
process.on("SIGINT", () => stop("SIGINT"));
if (args.parentPid) {
  setInterval(() => { if (!isAlive(args.parentPid)) stop("parent process is gone"); }, WATCHDOG_INTERVAL_MS).unref();
}

function log(line) {
  try {
    process.stdout.write(`${line}\n`);
  } catch {
    // the reader is gone
  }
}

// A zombie (exited, not yet reaped) counts as gone.
function isAlive(pid) {
  try {
    process.kill(pid, 0);
  } catch (err) {
    return err.code === "EPERM";
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return !/^[ZX]/.test(stat.slice(stat.lastIndexOf(")") + 2));
  } catch {
    return true; // no /proc (not Linux): signal 0 succeeded, so it is there
  }
}

function parseArgs(argv) {
  const parsed = { host: "127.0.0.1", location: null, blobPort: 10000, queuePort: 10001, tablePort: 10002, parentPid: null };
  for (let i = 0; i < argv.length; i += 1) {
    const value = argv[i + 1];
    switch (argv[i]) {
      case "--location": parsed.location = path.resolve(value); i += 1; break;
      case "--host": parsed.host = value; i += 1; break;
      case "--blob-port": parsed.blobPort = parseInt(value, 10); i += 1; break;
      case "--queue-port": parsed.queuePort = parseInt(value, 10); i += 1; break;
      case "--table-port": parsed.tablePort = parseInt(value, 10); i += 1; break;
      case "--parent-pid": parsed.parentPid = parseInt(value, 10); i += 1; break;
      default:
        console.error(`azurite-launcher: unknown argument ${argv[i]}`);
        process.exit(64);
    }
  }
  if (!parsed.location) {
    console.error("azurite-launcher: --location is required");
    process.exit(64);
  }
  return parsed;
}
