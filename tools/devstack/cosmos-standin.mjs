#!/usr/bin/env node
// Cosmos DB (NoSQL API) stand-in for development and tests.
//
// A thin wrapper around the request handler of @vercel/cosmosdb-server that fixes what the real
// Microsoft.Azure.Cosmos SDK (Gateway mode, LimitToEndpoint = true) trips over, so production code
// runs unmodified against it (see docs/local-stack.md):
//   * answers the query-plan request with a plan that asks for no client-side rewriting;
//   * runs document queries and read-feeds over the partition named in x-ms-documentdb-partitionkey only;
//   * answers a point read of a missing item with 404 (the package throws and answers 500);
//   * persists all databases/containers/documents to <data-dir>/cosmos-state.ndjson on shutdown and
//     every 2 s when something changed, and reloads it at start;
//   * exits when the process given by --parent-pid is gone (no orphans after a killed test run).
//
// Usage: node cosmos-standin.mjs --port N [--host 127.0.0.1] [--data-dir DIR] [--parent-pid PID]

import { createRequire } from "node:module";
import { createReadStream, readFileSync } from "node:fs";
import fs from "node:fs/promises";
import path from "node:path";
import readline from "node:readline";
import { randomUUID } from "node:crypto";

const require = createRequire(import.meta.url);
const { createHttpServer } = require("@vercel/cosmosdb-server");
const accountModule = require("@vercel/cosmosdb-server/lib/account/index.js");

const STATE_FILE = "cosmos-state.ndjson";
const STATE_FORMAT = 1;
const DUMP_INTERVAL_MS = 2000;
const WATCHDOG_INTERVAL_MS = 500;

const args = parseArgs(process.argv.slice(2));

// When the parent is gone its pipes are closed: a failed log write must never prevent the final state dump.
for (const stream of [process.stdout, process.stderr]) stream.on("error", () => {});

// The package builds its Account when the server starts listening; capture that instance so the
// wrapper can read it (queries, persistence) and advertise plain-HTTP endpoints.
const BaseAccount = accountModule.default;
let account = null;
class CapturedAccount extends BaseAccount {
  constructor(host, port) {
    super(host, port);
    const endpoint = `http://${host}:${port}/`;
    for (const location of [...this._data.writableLocations, ...this._data.readableLocations]) {
      location.databaseAccountEndpoint = endpoint;
    }
    account = this;
  }
}
accountModule.default = CapturedAccount;

const server = createHttpServer({ keepAlive: true });
const [packageHandler] = server.listeners("request");
server.removeAllListeners("request");

let dirty = false;
let shuttingDown = false;
let dumpChain = Promise.resolve();
let resolveRestored;
const restored = new Promise(resolve => { resolveRestored = resolve; });

server.on("request", (req, res) => {
  restored
    .then(() => handle(req, res))
    .catch(err => {
      console.error(err);
      if (!res.headersSent) send(req, res, 500, { code: "InternalServerError", message: err.message });
    });
});

server.keepAliveTimeout = 65000;
server.listen(args.port, args.host, async () => {
  try {
    if (args.dataDir) await restore();
  } catch (err) {
    console.error(`cosmos-standin: cannot load ${path.join(args.dataDir, STATE_FILE)}: ${err.message}`);
    process.exit(2);
  }
  resolveRestored();
  const { port } = server.address();
  log(`cosmos-standin ready http://${args.host}:${port}/`);
});
server.on("error", err => {
  console.error(`cosmos-standin: ${err.code || ""} ${err.message}`);
  process.exit(1);
});

if (args.dataDir) {
  setInterval(() => { if (dirty && !shuttingDown) scheduleDump(); }, DUMP_INTERVAL_MS).unref();
}
if (args.parentPid) {
  setInterval(() => { if (!isAlive(args.parentPid)) shutdown("parent process is gone"); }, WATCHDOG_INTERVAL_MS).unref();
}
process.on("SIGTERM", () => shutdown("SIGTERM"));
process.on("SIGINT", () => shutdown("SIGINT"));

// ---------------------------------------------------------------- request routing

const DOCS_PATH = /^\/dbs\/([^/]+)\/colls\/([^/]+)\/docs(?:\/([^/]+))?$/;

async function handle(req, res) {
  const pathname = normalisePath(req.url);
  const match = DOCS_PATH.exec(pathname);
  const isQuery = req.method === "POST" && (isTrue(req, "x-ms-documentdb-isquery") || req.headers["content-type"] === "application/query+json");
  if (match) {
    const [, dbId, collId, docId] = match.map(v => (v === undefined ? v : decodeURIComponent(v)));
    if (isQuery && isTrue(req, "x-ms-cosmos-is-query-plan-request")) return send(req, res, 200, QUERY_PLAN);
    if (isQuery && !docId) return queryDocuments(req, res, dbId, collId, JSON.parse((await readBody(req)) || "{}"));
    if (req.method === "GET" && !docId && !req.headers["a-im"]) return queryDocuments(req, res, dbId, collId, { query: "SELECT * FROM c" });
    if (req.method === "GET" && docId) return readDocument(req, res, dbId, collId, docId);
  }
  if (!isQuery && req.method !== "GET" && req.method !== "HEAD") {
    res.once("finish", () => { if (res.statusCode < 400) dirty = true; });
  }
  return packageHandler(req, res);
}

// No ORDER BY / aggregate / DISTINCT rewriting on the client: the server evaluates the whole query,
// over its single partition-key range "" to "FF".
const QUERY_PLAN = {
  partitionedQueryExecutionInfoVersion: 2,
  queryInfo: {
    distinctType: "None",
    top: null,
    offset: null,
    limit: null,
    orderBy: [],
    orderByExpressions: [],
    groupByExpressions: [],
    groupByAliases: [],
    aggregates: [],
    groupByAliasToAggregateType: {},
    rewrittenQuery: "",
    hasSelectValue: false,
    dCountInfo: null,
    hasNonStreamingOrderBy: false,
  },
  queryRanges: [{ min: "", max: "FF", isMinInclusive: true, isMaxInclusive: false }],
};

function queryDocuments(req, res, dbId, collId, body) {
  const collection = account.database(dbId).collection(collId);
  const collectionData = collection.read();
  if (!collectionData) return send(req, res, 404, notFound());
  if (!body.query) return send(req, res, 400, { code: "BadRequest", message: "missing query" });

  const partition = partitionFromHeader(req);
  const paths = partitionPaths(collectionData);
  let documents = [...collection.documents._data.values()].map(item => item.read());
  if (partition) documents = documents.filter(doc => partitionMatches(doc, paths, partition));

  const maxItemCount = req.headers["x-ms-max-item-count"] ? parseInt(req.headers["x-ms-max-item-count"], 10) : null;
  const continuation = parseJsonOrNull(req.headers["x-ms-continuation"]);
  let result;
  try {
    result = collection.documents._getQuery(body.query).exec(documents, {
      parameters: body.parameters,
      udf: collection.documents._userDefinedFunctions(),
      maxItemCount,
      continuation,
      compositeIndexes: (collectionData.indexingPolicy || {}).compositeIndexes || [],
    });
  } catch (err) {
    return send(req, res, 400, { code: "BadRequest", message: err.message });
  }
  if (result.continuation) res.setHeader("x-ms-continuation", JSON.stringify(result.continuation));
  res.setHeader("x-ms-item-count", String(result.result.length));
  return send(req, res, 200, { Documents: result.result, _count: result.result.length });
}

function readDocument(req, res, dbId, collId, docId) {
  const collection = account.database(dbId).collection(collId);
  const collectionData = collection.read();
  if (!collectionData) return send(req, res, 404, notFound());
  const partition = partitionFromHeader(req) || [docId];
  const lookupKey = typeof partition[0] === "object" && partition[0] !== null ? docId : partition[0];
  const doc = collection.document(docId, lookupKey).read();
  if (!doc || doc.id !== docId || !partitionMatches(doc, partitionPaths(collectionData), partition)) {
    return send(req, res, 404, notFound());
  }
  return send(req, res, 200, doc);
}

// ---------------------------------------------------------------- partition keys

function partitionFromHeader(req) {
  const raw = req.headers["x-ms-documentdb-partitionkey"];
  const parsed = parseJsonOrNull(Array.isArray(raw) ? raw[0] : raw);
  if (parsed === null || parsed === undefined) return null;
  return Array.isArray(parsed) ? parsed : [parsed];
}

function partitionPaths(collectionData) {
  const paths = ((collectionData.partitionKey || {}).paths || ["/id"]).filter(p => p !== "/_partitionKey");
  return paths.length ? paths : ["/id"];
}

// A header component {} is PartitionKey.None: it matches documents that lack the property.
function partitionMatches(doc, paths, values) {
  for (let i = 0; i < paths.length; i += 1) {
    const value = paths[i].slice(1).split("/").reduce((v, key) => (v === undefined || v === null ? undefined : v[key]), doc);
    const wanted = values[i];
    if (wanted !== null && typeof wanted === "object") {
      if (value !== undefined) return false;
    } else if (value !== wanted) {
      return false;
    }
  }
  return true;
}

// ---------------------------------------------------------------- persistence

function scheduleDump() {
  dumpChain = dumpChain.then(dump).catch(err => console.error(`cosmos-standin: state dump failed: ${err.message}`));
  return dumpChain;
}

// Takes the set of entries synchronously (one point in time: a write replaces a stored item, it never edits it),
// then serialises and writes them a chunk at a time, so memory holds references, not the whole file.
async function dump() {
  dirty = false;
  const entries = [{ kind: "header", format: STATE_FORMAT, databasesRidCount: account.databases._ridCount }];
  for (const dbItem of account.databases._data.values()) {
    const db = dbItem.read();
    entries.push({ kind: "database", collectionsRidCount: dbItem.collections._ridCount, data: db });
    for (const collItem of dbItem.collections._data.values()) {
      const coll = collItem.read();
      entries.push({ kind: "collection", db: db.id, documentsRidCount: collItem.documents._ridCount, data: coll });
      for (const udf of collItem.userDefinedFunctions._data.values()) {
        const { id, body } = udf.read();
        entries.push({ kind: "udf", db: db.id, coll: coll.id, data: { id, body } });
      }
      for (const doc of collItem.documents._data.values()) {
        entries.push({ kind: "document", db: db.id, coll: coll.id, data: doc.read() });
      }
    }
  }
  const target = path.join(args.dataDir, STATE_FILE);
  const temp = `${target}.${process.pid}.tmp`;
  const file = await fs.open(temp, "w");
  try {
    for (let i = 0; i < entries.length; i += 1000) {
      await file.write(`${entries.slice(i, i + 1000).map(e => JSON.stringify(e)).join("\n")}\n`);
    }
    await file.sync();
  } finally {
    await file.close();
  }
  await fs.rename(temp, target);
}

async function restore() {
  await fs.mkdir(args.dataDir, { recursive: true });
  const source = path.join(args.dataDir, STATE_FILE);
  try {
    await fs.access(source);
  } catch {
    return;
  }
  const lines = readline.createInterface({ input: createReadStream(source, "utf8"), crlfDelay: Infinity });
  let documents = 0;
  for await (const line of lines) {
    if (!line.trim()) continue;
    const entry = JSON.parse(line);
    switch (entry.kind) {
      case "header":
        if (entry.format !== STATE_FORMAT) throw new Error(`unknown state format ${entry.format}`);
        account.databases._ridCount = entry.databasesRidCount;
        break;
      case "database":
        account.databases._set(entry.data);
        account.database(entry.data.id).collections._ridCount = entry.collectionsRidCount;
        break;
      case "collection": {
        const db = account.database(entry.db);
        db.collections._set(entry.data);
        db.collection(entry.data.id).documents._ridCount = entry.documentsRidCount;
        break;
      }
      case "udf":
        account.database(entry.db).collection(entry.coll).userDefinedFunctions.create(entry.data);
        break;
      case "document":
        account.database(entry.db).collection(entry.coll).documents._set(entry.data);
        documents += 1;
        break;
      default:
        throw new Error(`unknown entry kind ${entry.kind}`);
    }
  }
  log(`cosmos-standin restored ${documents} documents`);
}

async function shutdown(reason) {
  if (shuttingDown) return;
  shuttingDown = true;
  server.close();
  server.closeAllConnections();
  try {
    log(`cosmos-standin stopping: ${reason}`);
    await dumpChain;
    if (args.dataDir && account) await scheduleDump();
  } finally {
    process.exit(0);
  }
}

// ---------------------------------------------------------------- helpers

function log(line) {
  try {
    process.stdout.write(`${line}\n`);
  } catch {
    // the reader is gone
  }
}

function send(req, res, status, body) {
  res.statusCode = status;
  if (body && body._etag) res.setHeader("etag", body._etag);
  res.setHeader("content-type", "application/json");
  res.setHeader("content-location", `http://${req.headers.host}${req.url}`);
  res.setHeader("connection", "keep-alive");
  res.setHeader("x-ms-activity-id", randomUUID());
  res.setHeader("x-ms-request-charge", "1");
  res.end(JSON.stringify(body));
}

function notFound() {
  return { code: "NotFound", message: "Entity with the specified id does not exist in the system." };
}

function readBody(req) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    req.on("data", chunk => chunks.push(chunk));
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
  });
}

function normalisePath(url) {
  let pathname = new URL(url, "http://localhost").pathname;
  if (pathname.startsWith("//")) pathname = pathname.slice(1);
  while (pathname.length > 1 && pathname.endsWith("/")) pathname = pathname.slice(0, -1);
  return pathname;
}

function isTrue(req, header) {
  const value = req.headers[header];
  const values = Array.isArray(value) ? value : [value];
  return values.some(v => typeof v === "string" && v.toLowerCase() === "true");
}

function parseJsonOrNull(text) {
  if (!text) return null;
  try {
    return JSON.parse(text);
  } catch {
    return null;
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
  const parsed = { port: 8081, host: "127.0.0.1", dataDir: null, parentPid: null };
  for (let i = 0; i < argv.length; i += 1) {
    const value = argv[i + 1];
    switch (argv[i]) {
      case "--port": parsed.port = parseInt(value, 10); i += 1; break;
      case "--host": parsed.host = value; i += 1; break;
      case "--data-dir": parsed.dataDir = path.resolve(value); i += 1; break;
      case "--parent-pid": parsed.parentPid = parseInt(value, 10); i += 1; break;
      default:
        console.error(`cosmos-standin: unknown argument ${argv[i]}`);
        process.exit(64);
    }
  }
  return parsed;
}
