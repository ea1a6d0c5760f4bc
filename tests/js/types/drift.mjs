// Does happychat-client.d.ts declare exactly what happychat-client.js has?
//
// Compares, with TypeScript's own reading of the .d.ts: the module's exported values; the
// public members of HappyChatClient, HappyChatApi, HappyChatError and Emitter (prototype
// methods, and instance fields unless listed as internal below); the members of each
// adapter; the events the client emits (every `this.emit("…")` in the source) with
// ClientEvents; and the `event` names of docs/protocol.md §5 with ServerEvents.
// Then it calls every `client.api` helper on a recording adapter and prints the
// (method, path) pairs they reach as JSON, for tests/test_sdk_types.py to hold against the
// OpenAPI schema. Exits 1 with a list of differences.
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import ts from "typescript";

import * as sdk from "../../../static/js/happychat-client.js";

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "..");
const dtsPath = join(root, "static", "js", "happychat-client.d.ts");
const jsPath = join(root, "static", "js", "happychat-client.js");
const problems = [];

// Instance fields that are the client's inner workings, not its API.
const INTERNAL_FIELDS = {
  HappyChatClient: [
    "storageKey", "cursorKey", "persistCursors", "socket", "attempt", "cursors", "held",
    "syncing", "syncAgain", "lastReceived", "lastTyping", "messages",
  ],
  HappyChatApi: [],
  HappyChatError: ["stack", "message"],
  Emitter: [],
};

const program = ts.createProgram([dtsPath], { strict: true, noEmit: true, types: [], lib: ["lib.es2022.d.ts"] });
const diagnostics = ts.getPreEmitDiagnostics(program);
for (const d of diagnostics) problems.push(`d.ts does not compile: ${ts.flattenDiagnosticMessageText(d.messageText, " ")}`);
const checker = program.getTypeChecker();
const moduleSymbol = checker.getSymbolAtLocation(program.getSourceFile(dtsPath));
const declared = new Map(checker.getExportsOfModule(moduleSymbol).map((s) => [s.name, s]));

function compare(what, runtimeNames, declaredNames, { optional = new Set() } = {}) {
  for (const name of runtimeNames) if (!declaredNames.has(name)) problems.push(`${what}: "${name}" is in the JS but not declared`);
  for (const name of declaredNames) {
    if (!runtimeNames.has(name) && !optional.has(name)) problems.push(`${what}: "${name}" is declared but not in the JS`);
  }
}

// 1. exported values
const declaredValues = new Set([...declared].filter(([, s]) => s.flags & ts.SymbolFlags.Value).map(([n]) => n));
compare("export", new Set(Object.keys(sdk)), declaredValues);

function typeOf(name) {
  const symbol = declared.get(name);
  const target = symbol.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(symbol) : symbol;
  return checker.getDeclaredTypeOfSymbol(target);
}

function membersOf(type) {
  const all = new Set();
  const optional = new Set();
  for (const p of checker.getPropertiesOfType(type)) {
    all.add(p.name);
    if (p.flags & ts.SymbolFlags.Optional) optional.add(p.name);
  }
  return { all, optional };
}

function runtimeMembers(instance, stopAt) {
  const names = new Set(Object.keys(instance).filter((n) => !n.startsWith("_")));
  for (let proto = Object.getPrototypeOf(instance); proto && proto !== stopAt; proto = Object.getPrototypeOf(proto)) {
    for (const name of Object.getOwnPropertyNames(proto)) {
      if (name !== "constructor" && !name.startsWith("_")) names.add(name);
    }
  }
  return names;
}

// 2. classes
const recorded = [];
function recordingAdapter() {
  return {
    baseUrl: "",
    socketUrl: "ws://test/ws/chat/",
    createSocket: () => ({ send() {}, close() {} }),
    request: async (method, path) => { recorded.push([method, path]); return {}; },
    upload: async (path) => { recorded.push(["POST", path]); return {}; },
    download: async (path) => { recorded.push(["GET", path]); return ""; },
    storage: sdk.memoryStorage(),
    setTimeout: () => 0,
    clearTimeout: () => {},
    now: () => 0,
    random: () => 0.5,
    uuid: () => "id",
    watch: () => () => {},
  };
}
const client = new sdk.HappyChatClient({ adapter: recordingAdapter() });
const instances = {
  HappyChatClient: [client, Object.prototype],
  HappyChatApi: [client.api, Object.prototype],
  HappyChatError: [new sdk.HappyChatError({}), Error.prototype],
  Emitter: [new sdk.Emitter(), Object.prototype],
};
const objectMembers = new Set(Object.getOwnPropertyNames(Object.prototype));
for (const [name, [instance, stopAt]] of Object.entries(instances)) {
  const internal = new Set(INTERNAL_FIELDS[name]);
  const runtime = new Set([...runtimeMembers(instance, stopAt)].filter((n) => !internal.has(n)));
  const { all, optional } = membersOf(typeOf(name));
  for (const n of internal) all.delete(n);
  for (const n of objectMembers) all.delete(n);
  compare(name, runtime, all, { optional });
}

// 3. adapters: each factory's object against its declared type
const adapters = {
  browserAdapter: sdk.browserAdapter({ baseUrl: "https://chat.example.com", storage: sdk.memoryStorage() }),
  wechatAdapter: sdk.wechatAdapter({ wx: {}, baseUrl: "https://chat.example.com" }),
  nodeAdapter: sdk.nodeAdapter({ baseUrl: "http://127.0.0.1:8000", WebSocket: class {} }),
};
for (const [factory, adapter] of Object.entries(adapters)) {
  const signature = checker.getSignaturesOfType(checker.getTypeOfSymbol(declared.get(factory)), ts.SignatureKind.Call)[0];
  const { all, optional } = membersOf(checker.getReturnTypeOfSignature(signature));
  compare(`${factory}()`, new Set(Object.keys(adapter)), all, { optional });
}
const storage = sdk.memoryStorage();
compare("memoryStorage()", new Set(Object.keys(storage)), membersOf(typeOf("StorageLike")).all);

// 4. events the client emits
const source = readFileSync(jsPath, "utf8");
const emitted = new Set([...source.matchAll(/this\.emit\("([a-z_]+)"/g)].map((m) => m[1]));
compare("ClientEvents", emitted, membersOf(typeOf("ClientEvents")).all);

// 5. server events: docs/protocol.md §5's table
const protocol = readFileSync(join(root, "docs", "protocol.md"), "utf8");
const section = protocol.split("\n## 5. Events")[1].split("\n## ")[0];
const documented = new Set([...section.matchAll(/^\| `([a-z_]+)` \|/gm)].map((m) => m[1]));
compare("ServerEvents (docs/protocol.md §5)", documented, membersOf(typeOf("ServerEvents")).all);

// 6. every REST helper, called once on the recording adapter
const api = client.api;
const helpers = [...runtimeMembers(api, Object.prototype)].filter((n) => typeof api[n] === "function" && n !== "request");
const calls = {};
for (const name of helpers) {
  recorded.length = 0;
  await api[name](7, 7, 7);
  calls[name] = recorded.map(([method, path]) => [method, String(path).split("?")[0]]);
  if (calls[name].length === 0) problems.push(`api.${name} reached no endpoint`);
}

if (problems.length) {
  console.error(problems.join("\n"));
  process.exit(1);
}
console.log(JSON.stringify({ calls }));
