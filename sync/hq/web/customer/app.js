/* The customer's token page (docs/protocol.md section 11). The account key is a P-256 key pair made here with
   WebCrypto and kept in this browser's IndexedDB; HQ never sees the private key. Every claim and transfer is signed
   with it over the canonical JSON of the request. Receipts are ledger entries: their hash is recomputed here and
   HQ's Ed25519 signature over it verified with HQ's public key. */
"use strict";

const $ = (selector) => document.querySelector(selector);
const CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
const LANGS = ["ka", "en", "ru"];
const DB_NAME = "hotpot-wallet";
let lang = localStorage.getItem("hotpot-lang") || (LANGS.includes((navigator.language || "").slice(0, 2))
  ? navigator.language.slice(0, 2) : "en");
let account = null; // {privateKey, publicKey, point: Uint8Array, id}
let hqKey = null;

// --- encoding ---------------------------------------------------------------------------------------------------

function b64url(bytes) {
  let text = "";
  for (const b of bytes) text += String.fromCharCode(b);
  return btoa(text).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}
function hex(bytes) { return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join(""); }
function fromHex(text) { return new Uint8Array(text.match(/../g).map((h) => parseInt(h, 16))); }
function base32(bytes) { // Crockford's alphabet, whole 5-byte groups (as sync/protocol/keys.py)
  let out = "";
  for (let i = 0; i < bytes.length; i += 5) {
    let bits = 0n;
    for (let j = 0; j < 5; j++) bits = (bits << 8n) | BigInt(bytes[i + j]);
    for (let k = 7; k >= 0; k--) out += CROCKFORD[Number((bits >> BigInt(5 * k)) & 31n)];
  }
  return out;
}
function canonical(value) { // docs/protocol.md section 1: sorted keys, no spaces
  if (Array.isArray(value)) return "[" + value.map(canonical).join(",") + "]";
  if (value !== null && typeof value === "object") {
    return "{" + Object.keys(value).sort().map((k) => JSON.stringify(k) + ":" + canonical(value[k])).join(",") + "}";
  }
  return JSON.stringify(value);
}
async function sha256(bytes) { return new Uint8Array(await crypto.subtle.digest("SHA-256", bytes)); }
function st(units) { // ST are held in hundredths
  const sign = units < 0 ? "−" : "";
  const abs = Math.abs(units);
  return `${sign}${Math.floor(abs / 100)}.${String(abs % 100).padStart(2, "0")} ST`;
}

// --- words ------------------------------------------------------------------------------------------------------

function t(key, fields = {}) {
  const texts = window.HOTPOT_TEXTS[lang] || {};
  let text = texts[key] || window.HOTPOT_TEXTS.en[key] || key;
  for (const [name, value] of Object.entries(fields)) text = text.replaceAll(`{${name}}`, String(value));
  return text;
}
function errorText(error) {
  const table = window.HOTPOT_ERRORS[lang] || window.HOTPOT_ERRORS.en;
  let text = table[error.code] || window.HOTPOT_ERRORS.en[error.code] || error.message;
  for (const [name, value] of Object.entries(error)) text = text.replaceAll(`{${name}}`, String(value));
  return text;
}
function translatePage() {
  document.documentElement.lang = lang;
  $("#lang").value = lang;
  for (const el of document.querySelectorAll("[data-t]")) el.textContent = t(el.dataset.t);
}
function notice(text, ok = false) {
  const box = $("#notice");
  box.textContent = text;
  box.classList.toggle("ok", ok);
  box.hidden = !text;
  if (text) box.scrollIntoView({ block: "nearest" });
}

// --- the key, in IndexedDB --------------------------------------------------------------------------------------

function openDb() {
  return new Promise((resolve, reject) => {
    const request = indexedDB.open(DB_NAME, 1);
    request.onupgradeneeded = () => request.result.createObjectStore("keys");
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
}
async function dbDo(mode, work) {
  const db = await openDb();
  return new Promise((resolve, reject) => {
    const tx = db.transaction("keys", mode);
    const request = work(tx.objectStore("keys"));
    tx.oncomplete = () => resolve(request.result);
    tx.onerror = () => reject(tx.error);
  });
}
async function withId(record) { return { ...record, id: "HC" + base32((await sha256(record.point)).slice(0, 20)) }; }
async function loadAccount() {
  const record = await dbDo("readonly", (store) => store.get("account"));
  return record ? withId(record) : null;
}
async function keepAccount(privateKey, publicKey) {
  const point = new Uint8Array(await crypto.subtle.exportKey("raw", publicKey));
  const record = { privateKey, publicKey, point, created: Date.now() };
  await dbDo("readwrite", (store) => store.put(record, "account"));
  return withId(record);
}
async function ensureAccount() {
  if (account) return account;
  const pair = await crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, true, ["sign", "verify"]);
  account = await keepAccount(pair.privateKey, pair.publicKey);
  return account;
}

// --- talking to HQ ----------------------------------------------------------------------------------------------

async function signed(body) {
  const doc = { ...body, account: b64url(account.point), nonce: b64url(crypto.getRandomValues(new Uint8Array(16))),
                ts: Date.now() };
  const signature = await crypto.subtle.sign({ name: "ECDSA", hash: "SHA-256" }, account.privateKey,
                                             new TextEncoder().encode(canonical(doc)));
  return { ...doc, signature: b64url(new Uint8Array(signature)) };
}
async function call(method, path, body) {
  let response;
  try {
    response = await fetch(path, { method, headers: body ? { "Content-Type": "application/json" } : {},
                                   body: body ? JSON.stringify(body) : undefined });
  } catch (e) {
    throw { code: "offline", message: t("offline") };
  }
  const data = await response.json().catch(() => ({}));
  if (!response.ok) throw (data.error || { code: "internal", message: response.statusText });
  return data;
}
async function verifyReceipt(receipt) {
  const digest = hex(await sha256(new TextEncoder().encode(canonical(receipt.entry))));
  if (digest !== receipt.hash) return false;
  if (!hqKey) {
    const config = await call("GET", "/c/config.json");
    hqKey = await crypto.subtle.importKey("raw", fromHex(config.hq_receipt_public_key), { name: "Ed25519" }, false,
                                          ["verify"]);
  }
  return crypto.subtle.verify({ name: "Ed25519" }, hqKey, fromHex(receipt.signature), fromHex(receipt.hash));
}

// --- screens ----------------------------------------------------------------------------------------------------

async function showAccount() {
  if (!account) { $("#account").hidden = true; $("#send").hidden = true; return; }
  $("#account").hidden = false;
  $("#send").hidden = false;
  $("#account-id").textContent = account.id;
  $("#qr").src = `/c/qr/${account.id}.svg`;
  const view = await call("GET", `/api/v1/accounts/${account.id}`);
  $("#balance").textContent = st(view.balance);
  const kyc = view.kyc || { state: "none" }; // the identity check gates sending (DOMAIN.md)
  const open = kyc.state === "verified" && kyc.transfers;
  const until = kyc.until ? new Date(`${kyc.until}T00:00:00`).toLocaleDateString(lang) : "";
  $("#kyc-state").textContent = t(kyc.state === "verified" ? (open ? "kyc-verified" : "kyc-minor") : `kyc-${kyc.state}`,
    { until });
  $("#kyc-state").className = open ? "verified" : "muted";
  for (const field of $("#send-form").elements) field.disabled = !open;
  const list = $("#history");
  list.replaceChildren();
  for (const item of view.entries) {
    const entry = item.entry;
    const move = entry.moves.find(([holder]) => holder === account.id);
    const li = document.createElement("li");
    const what = document.createElement("div");
    what.textContent = t(`kind-${entry.kind}`, { check: entry.check_id || "" });
    const when = document.createElement("div");
    when.className = "muted";
    when.textContent = new Date(entry.at_ms).toLocaleString(lang);
    const mark = document.createElement("div");
    const ok = await verifyReceipt(item);
    mark.className = ok ? "verified" : "unverified";
    mark.textContent = t(ok ? "verified" : "unverified");
    what.append(when, mark);
    const amount = document.createElement("div");
    amount.className = "amount" + (move && move[1] > 0 ? " plus" : "");
    amount.textContent = move ? (move[1] > 0 ? "+" : "") + st(move[1]) : "";
    li.append(what, amount);
    list.append(li);
  }
  $("#history-empty").hidden = view.entries.length > 0;
}

async function claim(body) {
  await ensureAccount();
  const answer = await call("POST", "/api/v1/claims", await signed(body));
  const ok = await verifyReceipt(answer.receipt);
  return { answer, ok };
}

async function claimFromLink(checkId, token) {
  const button = $("#claim-button");
  button.disabled = true;
  notice("");
  try {
    const { answer, ok } = await claim({ check_id: checkId, token });
    $("#claim-result").hidden = false;
    $("#claim-amount").textContent = "+" + st(answer.amount);
    $("#claim-receipt").textContent = ok ? t("receipt-ok", { hash: answer.receipt.hash.slice(0, 12) })
      : t("receipt-bad");
    $("#claim-receipt").className = ok ? "verified" : "unverified";
    button.hidden = true;
    notice(t("claimed", { amount: st(answer.amount), balance: st(answer.balance) }), true);
    history.replaceState(null, "", "/c/"); // the secret leaves the address bar once it is spent
    await showAccount();
  } catch (error) {
    notice(errorText(error));
    button.disabled = false;
  }
}

async function claimByCode(event) {
  event.preventDefault();
  notice("");
  try {
    const { answer } = await claim({ check_id: $("#manual-check").value.trim().toUpperCase(),
                                     short_code: $("#manual-code").value.trim() });
    notice(t("claimed", { amount: st(answer.amount), balance: st(answer.balance) }), true);
    $("#manual-form").reset();
    await showAccount();
  } catch (error) {
    notice(errorText(error));
  }
}

async function send(event) {
  event.preventDefault();
  notice("");
  const units = Math.round(parseFloat($("#send-amount").value.replace(",", ".")) * 100);
  try {
    await call("POST", "/api/v1/transfers", await signed({ to: $("#send-to").value.trim().toUpperCase(),
                                                           amount: units }));
    await showAccount();
  } catch (error) {
    notice(errorText(error));
  }
}

async function saveRecovery() {
  await ensureAccount();
  const jwk = await crypto.subtle.exportKey("jwk", account.privateKey);
  const file = new Blob([JSON.stringify({ kind: "hotpot-account", version: 1, account_id: account.id, key: jwk },
                                        null, 2)], { type: "application/json" });
  const link = document.createElement("a");
  link.href = URL.createObjectURL(file);
  link.download = `hotpot-account-${account.id}.json`;
  link.click();
  URL.revokeObjectURL(link.href);
  notice(t("saved"), true);
  await showAccount();
}

async function restore(event) {
  const file = event.target.files[0];
  if (!file) return;
  try {
    const doc = JSON.parse(await file.text());
    if (doc.kind !== "hotpot-account" || !doc.key || doc.key.crv !== "P-256") throw new Error("not ours");
    const privateKey = await crypto.subtle.importKey("jwk", doc.key, { name: "ECDSA", namedCurve: "P-256" }, true,
                                                     ["sign"]);
    const { kty, crv, x, y } = doc.key;
    const publicKey = await crypto.subtle.importKey("jwk", { kty, crv, x, y }, { name: "ECDSA", namedCurve: "P-256" },
                                                    true, ["verify"]);
    account = await keepAccount(privateKey, publicKey);
    notice(t("restored"), true);
    await showAccount();
  } catch (error) {
    notice(t("not-a-recovery-file"));
  }
  event.target.value = "";
}

async function start() {
  translatePage();
  $("#lang").addEventListener("change", async (event) => {
    lang = event.target.value;
    localStorage.setItem("hotpot-lang", lang);
    translatePage();
    notice(""); // a message shown in the old language goes
    if (account) await showAccount();
  });
  if (!window.crypto || !crypto.subtle || !window.indexedDB) { notice(t("no-crypto")); return; }
  $("#manual-form").addEventListener("submit", claimByCode);
  $("#send-form").addEventListener("submit", send);
  $("#save-recovery").addEventListener("click", saveRecovery);
  $("#restore-file").addEventListener("change", restore);
  account = await loadAccount();
  const match = location.pathname.match(/^\/c\/claim\/([^/]+)$/);
  const token = location.hash.slice(1);
  if (match && token) {
    const checkId = decodeURIComponent(match[1]);
    $("#claim").hidden = false;
    $("#claim-check").textContent = checkId;
    $("#manual").hidden = true;
    $("#claim-button").addEventListener("click", () => claimFromLink(checkId, token));
  }
  try {
    await showAccount();
  } catch (error) {
    notice(errorText(error));
  }
  document.body.dataset.ready = "1";
}

document.addEventListener("DOMContentLoaded", start);
