// A `wx` object for Node: the mini-program APIs the SDK and the example pages use, mapped
// onto the `ws` WebSocket client, fetch and a temp directory. Test helpers (setNetwork,
// hide, show, nextLoginCode, chooseImagePath) play the phone.
import { mkdirSync, readFileSync, writeFileSync, existsSync, rmSync } from "node:fs";
import { join } from "node:path";
import { deflateSync } from "node:zlib";
import WebSocket from "ws";

export function createWx(dir) {
  mkdirSync(join(dir, "storage"), { recursive: true });
  mkdirSync(join(dir, "tmp"), { recursive: true });
  const listeners = { network: [], show: [], hide: [] };
  const tasks = new Set();
  let connected = true;
  let tempCount = 0;
  const calls = [];

  const wx = {
    calls,
    nextLoginCode: null,
    chooseImagePath: null,
    frozen: false,

    connectSocket({ url, header = {}, fail }) {
      calls.push({ api: "connectSocket", url, header });
      const handlers = { open: [], message: [], close: [], error: [] };
      const fire = (kind, arg) => handlers[kind].forEach((fn) => fn(arg));
      let ws = null;
      let closed = false;
      const finish = (code) => {
        if (closed) return;
        closed = true;
        tasks.delete(task);
        fire("close", { code, reason: "" });
      };
      const task = {
        onOpen: (fn) => handlers.open.push(fn),
        onMessage: (fn) => handlers.message.push(fn),
        onClose: (fn) => handlers.close.push(fn),
        onError: (fn) => handlers.error.push(fn),
        send({ data, success, fail: sendFail }) {
          if (wx.frozen || !ws || ws.readyState !== WebSocket.OPEN) {
            if (sendFail) sendFail({ errMsg: "sendSocketMessage:fail" });
            return;
          }
          ws.send(data);
          if (success) success({});
        },
        close({ code = 1000 } = {}) {
          if (ws) {
            try { ws.close(code); } catch { ws.terminate(); }
          }
          finish(code);
        },
        _zombie() {
          if (ws) ws.terminate();
        },
        // Test helper: the network vanished under this socket.
        _lose() {
          if (ws) ws.terminate();
          finish(1006);
        },
      };
      tasks.add(task);
      if (!connected) {
        setTimeout(() => {
          fire("error", { errMsg: "connectSocket:fail network is down" });
          if (fail) fail({ errMsg: "connectSocket:fail" });
          finish(1006);
        }, 0);
        return task;
      }
      ws = new WebSocket(url, { headers: header });
      ws.on("open", () => fire("open", {}));
      ws.on("message", (data, isBinary) => {
        if (wx.frozen) return; // a suspended app gets nothing
        fire("message", { data: isBinary ? data : data.toString() });
      });
      ws.on("error", (err) => fire("error", { errMsg: String(err && err.message) }));
      ws.on("close", (code) => {
        if (!wx.frozen) finish(code);
      });
      return task;
    },

    request({ url, method = "GET", data, header = {}, success, fail, complete }) {
      calls.push({ api: "request", url, method, header });
      if (!connected) {
        setTimeout(() => fail && fail({ errMsg: "request:fail network is down" }), 0);
        return;
      }
      const body = data === undefined ? undefined : typeof data === "string" ? data : JSON.stringify(data);
      fetch(url, { method, headers: header, body })
        .then(async (res) => {
          const text = await res.text();
          success && success({ statusCode: res.status, data: text, header: Object.fromEntries(res.headers) });
        })
        .catch((err) => fail && fail({ errMsg: `request:fail ${err.message}` }))
        .finally(() => complete && complete());
    },

    uploadFile({ url, filePath, name, header = {}, formData = {}, success, fail }) {
      calls.push({ api: "uploadFile", url, filePath, name, header });
      const form = new FormData();
      for (const [k, v] of Object.entries(formData)) form.append(k, v);
      form.append(name, new Blob([readFileSync(filePath)]), filePath.split("/").pop());
      fetch(url, { method: "POST", headers: header, body: form })
        .then(async (res) => success && success({ statusCode: res.status, data: await res.text() }))
        .catch((err) => fail && fail({ errMsg: `uploadFile:fail ${err.message}` }));
    },

    downloadFile({ url, header = {}, success, fail }) {
      calls.push({ api: "downloadFile", url, header });
      fetch(url, { headers: header })
        .then(async (res) => {
          const path = join(dir, "tmp", `download-${++tempCount}`);
          writeFileSync(path, Buffer.from(await res.arrayBuffer()));
          success && success({ statusCode: res.status, tempFilePath: path });
        })
        .catch((err) => fail && fail({ errMsg: `downloadFile:fail ${err.message}` }));
    },

    getStorageSync(key) {
      const path = join(dir, "storage", encodeURIComponent(key));
      return existsSync(path) ? JSON.parse(readFileSync(path, "utf8")) : "";
    },
    setStorageSync(key, value) {
      writeFileSync(join(dir, "storage", encodeURIComponent(key)), JSON.stringify(value));
    },
    removeStorageSync(key) {
      rmSync(join(dir, "storage", encodeURIComponent(key)), { force: true });
    },

    onNetworkStatusChange: (fn) => listeners.network.push(fn),
    offNetworkStatusChange: (fn) => { listeners.network = listeners.network.filter((f) => f !== fn); },
    onAppShow: (fn) => listeners.show.push(fn),
    offAppShow: (fn) => { listeners.show = listeners.show.filter((f) => f !== fn); },
    onAppHide: (fn) => listeners.hide.push(fn),

    login({ success, fail }) {
      const code = wx.nextLoginCode;
      wx.nextLoginCode = null;
      setTimeout(() => (code ? success({ code, errMsg: "login:ok" }) : fail({ errMsg: "login:fail" })), 0);
    },
    chooseMedia({ success, fail }) {
      const path = wx.chooseImagePath;
      setTimeout(() => (path ? success({ tempFiles: [{ tempFilePath: path, size: 1 }] }) : fail({ errMsg: "cancel" })), 0);
    },
    chooseMessageFile({ success, fail }) {
      const file = wx.chooseFile;
      wx.chooseFile = null;
      setTimeout(() => (file ? success({ tempFiles: [{ size: 1, type: "file", ...file }] }) : fail({ errMsg: "cancel" })), 0);
    },
    // Test helpers answer the next sheet / modal: wx.answers.actionSheet = [tapIndex, …],
    // wx.answers.modal = [{confirm, content}, …]; none left means the user dismissed it.
    answers: { actionSheet: [], modal: [] },
    setClipboardData(options) {
      calls.push({ api: "setClipboardData", data: options.data });
      wx.clipboard = options.data;
      if (options.success) setTimeout(() => options.success({}), 0);
    },
    showActionSheet(options) {
      calls.push({ api: "showActionSheet", itemList: options.itemList });
      const tapIndex = wx.answers.actionSheet.shift();
      setTimeout(() => (tapIndex === undefined ? options.fail && options.fail({ errMsg: "showActionSheet:fail cancel" }) : options.success({ tapIndex })), 0);
    },
    showModal(options) {
      calls.push({ api: "showModal", ...options });
      const answer = wx.answers.modal.shift() || { confirm: false, cancel: true };
      if (options.success) setTimeout(() => options.success(answer), 0);
    },
    openDocument(options) {
      calls.push({ api: "openDocument", filePath: options.filePath, fileType: options.fileType });
      setTimeout(() => (existsSync(options.filePath) ? options.success && options.success({}) : options.fail && options.fail({ errMsg: "openDocument:fail" })), 0);
    },
    getFileSystemManager: () => ({ readFileSync: (path, encoding) => readFileSync(path, encoding) }),
    showLoading: (options) => calls.push({ api: "showLoading", ...options }),
    hideLoading: () => calls.push({ api: "hideLoading" }),
    showToast: (options) => calls.push({ api: "showToast", ...options }),
    navigateTo: (options) => calls.push({ api: "navigateTo", ...options }),
    redirectTo: (options) => calls.push({ api: "redirectTo", ...options }),
    reLaunch: (options) => calls.push({ api: "reLaunch", ...options }),
    switchTab: (options) => calls.push({ api: "switchTab", ...options }),
    setNavigationBarTitle: (options) => calls.push({ api: "setNavigationBarTitle", ...options }),
    setTabBarBadge: (options) => calls.push({ api: "setTabBarBadge", ...options }),
    removeTabBarBadge: (options) => calls.push({ api: "removeTabBarBadge", ...options }),
    previewImage: (options) => calls.push({ api: "previewImage", ...options }),
    pageScrollTo: () => {},

    // --- test helpers: play the phone -------------------------------------------------
    setNetwork(isConnected) {
      connected = isConnected;
      if (!isConnected) for (const task of [...tasks]) task._lose();
      for (const fn of listeners.network) fn({ isConnected, networkType: isConnected ? "wifi" : "none" });
    },
    hide() {
      // WeChat suspends a hidden mini-program and soon drops its sockets: frames stop
      // arriving, and the app is not told (no close event reaches it).
      wx.frozen = true;
      for (const task of [...tasks]) task._zombie();
      for (const fn of listeners.hide) fn({});
    },
    show() {
      wx.frozen = false;
      for (const fn of listeners.show) fn({ scene: 1001 });
    },
    openSockets: () => tasks.size,
  };
  return wx;
}

// --- a tiny valid PNG, written to a temp file (the server verifies and re-encodes it) ---

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k += 1) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

function crc32(buf) {
  let c = 0xffffffff;
  for (const byte of buf) c = CRC_TABLE[(c ^ byte) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type, data) {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.length, 0);
  head.write(type, 4, "ascii");
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), data])), 0);
  return Buffer.concat([head, data, crc]);
}

export function pngBytes(width = 64, height = 48) {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr.set([8, 2, 0, 0, 0], 8); // 8-bit RGB
  const rows = [];
  for (let y = 0; y < height; y += 1) {
    rows.push(0);
    for (let x = 0; x < width; x += 1) rows.push((x * 4) & 255, (y * 5) & 255, 120);
  }
  const sig = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  return Buffer.concat([sig, chunk("IHDR", ihdr), chunk("IDAT", deflateSync(Buffer.from(rows))), chunk("IEND", Buffer.alloc(0))]);
}

export function pngFile(dir, name = "photo.png") {
  const path = join(dir, name);
  writeFileSync(path, pngBytes());
  return path;
}

// --- helpers for the suites ---------------------------------------------------------------

export const config = () => JSON.parse(process.env.HC_CONFIG);

export async function control(path) {
  const res = await fetch(`${config().control}${path}`, { method: path.startsWith("/dump") ? "GET" : "POST" });
  return res.json();
}

/** Resolve when `predicate()` is true (polled), or fail after `ms`. */
export async function until(predicate, ms = 10000, what = "condition") {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await predicate()) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`timed out after ${ms} ms waiting for ${what}`);
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
