// Agent console. Customer text is untrusted: it is only ever put into the page with
// textContent (never innerHTML), and the page's CSP forbids inline script anyway.
"use strict";

const POLL_MS = 2000;
let csrf = "";
let selected = null;   // ticket id
let tickets = [];
let page = 1;          // the queue comes a page at a time
let pages = 1;

const $ = (id) => document.getElementById(id);

function el(tag, text, className) {
  const node = document.createElement(tag);
  if (text !== undefined && text !== null) node.textContent = String(text);
  if (className) node.className = className;
  return node;
}

function say(message) { $("status").textContent = message || ""; }

async function post(path, body) {
  const response = await fetch(path, {
    method: "POST",
    credentials: "same-origin",
    headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf },
    body: JSON.stringify(body || {}),
  });
  if (response.status === 401) { location.href = "/agent/login"; return null; }
  const data = await response.json().catch(() => ({}));
  if (!response.ok) say(data.error || ("HTTP " + response.status));
  else say("");
  return response.ok ? data : null;
}

const SENDER = { customer: "客户 / Customer", bot: "机器人 / Bot", agent: "客服 / Agent" };
const FACTS = [
  ["summary", "摘要 / Summary"], ["reason", "原因 / Reason"], ["category", "类别 / Category"],
  ["order_id", "订单号 / Order"], ["remedies", "已提供方案 / Remedies offered"],
  ["language", "语言 / Language"], ["channel", "渠道 / Channel"], ["agent", "接待客服 / Agent"],
  ["created_at", "创建时间 / Created"],
];

function renderList() {
  for (const status of ["waiting", "active"]) {
    const items = tickets.filter((t) => t.status === status).map((t) => {
      const li = el("li", "#" + t.id + " " + (t.reason || "") + (t.order_id ? " · " + t.order_id : ""));
      li.dataset.id = t.id;
      if (t.id === selected) li.classList.add("selected");
      li.addEventListener("click", () => { selected = t.id; render(); });
      return li;
    });
    $(status).replaceChildren(...items);
  }
  $("empty").hidden = tickets.length > 0;
  $("pager").hidden = pages <= 1;
  $("page").textContent = page + " / " + pages;
  $("prev").disabled = page <= 1;
  $("next").disabled = page >= pages;
}

function renderDetail() {
  const ticket = tickets.find((t) => t.id === selected);
  $("detail").hidden = !ticket;
  if (!ticket) return;
  $("title").textContent = "#" + ticket.id + " " + ticket.conversation_id;
  const facts = [];
  for (const [key, label] of FACTS) {
    let value = ticket[key];
    if (Array.isArray(value)) value = value.join(", ");
    if (value === null || value === undefined || value === "") continue;
    facts.push(el("dt", label), el("dd", value));
  }
  $("facts").replaceChildren(...facts);
  const list = $("transcript");
  const atBottom = list.scrollTop + list.clientHeight >= list.scrollHeight - 5;
  list.replaceChildren(...ticket.transcript.map((line) => {
    const li = el("li", null, line.sender);
    li.append(el("span", SENDER[line.sender] || line.sender, "who"), el("span", line.text, "text"));
    return li;
  }));
  if (atBottom) list.scrollTop = list.scrollHeight;
  $("claim").hidden = ticket.status !== "waiting";
  $("reply-form").hidden = ticket.status !== "active";
  $("end").hidden = ticket.status !== "active";
}

// Rebuild only what changed: a list redrawn every poll would lose the agent's clicks and
// text selection.
let shown = "";
function render() {
  const signature = JSON.stringify([selected, tickets, page, pages]);
  if (signature === shown) return;
  shown = signature;
  renderList();
  renderDetail();
}

async function refresh() {
  try {
    const response = await fetch("/agent/api/tickets?page=" + page, { credentials: "same-origin" });
    if (response.status === 401) { location.href = "/agent/login"; return; }
    const data = await response.json();
    tickets = data.tickets || [];
    pages = data.pages || 1;
    if (page > pages) { page = pages; return refresh(); }
    render();
  } catch (error) {
    say("连接中断，正在重试 / Connection lost, retrying");
  }
}

async function start() {
  const response = await fetch("/agent/api/me", { credentials: "same-origin" });
  if (response.status === 401) { location.href = "/agent/login"; return; }
  const me = await response.json();
  csrf = me.csrf;
  $("who").textContent = me.agent;
  $("claim").addEventListener("click", async () => {
    if (await post("/agent/api/tickets/" + selected + "/claim")) refresh();
  });
  $("reply-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const text = $("reply").value.trim();
    if (!text) return;
    if (await post("/agent/api/tickets/" + selected + "/reply", { text })) { $("reply").value = ""; refresh(); }
  });
  $("end").addEventListener("click", async () => {
    if (await post("/agent/api/tickets/" + selected + "/end")) { selected = null; refresh(); }
  });
  $("prev").addEventListener("click", () => { if (page > 1) { page -= 1; refresh(); } });
  $("next").addEventListener("click", () => { if (page < pages) { page += 1; refresh(); } });
  $("password-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const body = { current: $("current-password").value, new: $("new-password").value };
    if (await post("/agent/api/password", body)) {
      $("current-password").value = "";
      $("new-password").value = "";
      say("密码已修改，其他登录已退出 / Password changed; your other sessions are logged out.");
    }
  });
  $("logout").addEventListener("click", async () => {
    await post("/agent/logout");
    location.href = "/agent/login";
  });
  refresh();
  setInterval(refresh, POLL_MS);
}

document.addEventListener("DOMContentLoaded", start);
