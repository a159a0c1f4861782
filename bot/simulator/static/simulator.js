// The simulator page: pick a member, talk in the group or one-to-one, watch pushes arrive, move the clock.
// Every message goes to the server, which sends a real encrypted callback; nothing here talks to /wecom.
"use strict";

const base = window.SIMULATOR.base;
const state = {user: null, names: {}, since: window.SIMULATOR.lastPush, dm: {}, unread: {}, busyClock: false};

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (key === "class") node.className = value; else node.setAttribute(key, value);
  }
  for (const child of children) node.append(child);
  return node;
}

async function api(path, body) {
  const options = body === undefined ? {} :
    {method: "POST", headers: {"Content-Type": "application/json"}, body: JSON.stringify(body)};
  const response = await fetch(base + path, options);
  let data = {};
  try { data = await response.json(); } catch (e) { data = {error: "服务器没有给出可读的回答（HTTP " + response.status + "）"}; }
  if (!response.ok && !data.error) data.error = "请求失败（HTTP " + response.status + "）";
  return data;
}

// ---- the member picker ----

async function loadPeople() {
  const data = await api("api/people");
  const tree = document.getElementById("people-tree");
  tree.textContent = "";
  for (const department of data.departments || []) {
    const box = el("details", {class: "department", open: ""}, el("summary", {}, department.name));
    for (const team of department.teams) {
      box.append(el("div", {class: "team"}, team.name));
      for (const member of team.members) {
        state.names[member.userid] = member.name;
        const tags = member.cohorts.map(c => el("span", {class: "tag"}, c));
        if (member.role !== "成员") tags.unshift(el("span", {class: "tag role"}, member.role));
        const button = el("button", {type: "button", class: "member", "data-userid": member.userid,
                                     title: member.post + " · " + member.status},
          el("span", {class: "name"}, member.name), el("span", {class: "badge"}), ...tags);
        button.addEventListener("click", () => selectMember(member.userid));
        box.append(button);
      }
    }
    tree.append(box);
  }
}

function selectMember(userid) {
  state.user = userid;
  state.unread[userid] = 0;
  document.querySelectorAll(".member").forEach(b => b.classList.toggle("selected", b.dataset.userid === userid));
  document.getElementById("dm-who").textContent = "（" + state.names[userid] + "，" + userid + "）";
  updateBadge(userid);
  const log = document.getElementById("dm-log");
  log.textContent = "";
  for (const node of state.dm[userid] || []) log.append(node);
  log.scrollTop = log.scrollHeight;
}

function updateBadge(userid) {
  const button = document.querySelector(`.member[data-userid="${CSS.escape(userid)}"] .badge`);
  if (button) button.textContent = state.unread[userid] ? String(state.unread[userid]) : "";
}

// ---- bubbles ----

function bubbleBody(bubble) {
  switch (bubble.kind) {
    case "markdown": { const div = el("div", {class: "markdown"}); div.innerHTML = bubble.html; return div; }
    case "news": return el("div", {class: "news-list"}, ...bubble.articles.map(article => {
      const card = el("a", {class: "news", href: article.url || "#", target: "_blank", rel: "noopener"});
      if (article.picurl) {
        const img = el("img", {class: "cover", src: article.picurl, alt: "封面"});
        img.addEventListener("error", () => img.classList.add("broken"));
        card.append(img);
      }
      card.append(el("b", {}, article.title), el("span", {class: "muted"}, article.description || ""));
      return card;
    }));
    case "image": return el("img", {class: "picture", src: bubble.src, alt: "图片"});
    case "voice": return el("div", {class: "voice"}, el("span", {class: "label"}, "语音"),
                            el("audio", {controls: "", preload: "none", src: bubble.src}));
    case "video": return el("div", {class: "video"}, el("b", {}, bubble.title || "视频"),
                            el("video", {controls: "", preload: "none", src: bubble.src}));
    case "file": return el("a", {class: "file", href: bubble.src, download: bubble.name},
                           "[文件] " + bubble.name + (bubble.size ? "（" + Math.ceil(bubble.size / 1024) + " KB）" : ""));
    case "card": return el("div", {class: "card"}, el("b", {}, bubble.title), el("div", {}, bubble.text || ""));
    default: return el("div", {class: "text"}, bubble.text || "");
  }
}

function message(who, bubble, extra, role) {
  const mine = who !== "思政助手";
  const node = el("div", {class: "message " + (mine ? "mine" : "bot " + role) + " kind-" + bubble.kind},
                  el("div", {class: "who"}, who + (extra ? " · " + extra : "")), bubbleBody(bubble));
  return node;
}

function appendTo(where, node, userid) {
  if (where === "group") {
    const log = document.getElementById("group-log");
    log.append(node);
    log.scrollTop = log.scrollHeight;
    return;
  }
  (state.dm[userid] = state.dm[userid] || []).push(node);
  if (userid === state.user) {
    const log = document.getElementById("dm-log");
    log.append(node);
    log.scrollTop = log.scrollHeight;
  } else {
    state.unread[userid] = (state.unread[userid] || 0) + 1;
    updateBadge(userid);
  }
}

// ---- sending ----

async function send(where) {
  const input = document.getElementById(where + "-input");
  const text = input.value.trim();
  if (!state.user) { alert("请先在左侧选择一名成员。"); return; }
  if (!text) return;
  const user = state.user;
  const channel = document.getElementById(where + "-channel").value;
  const forms = document.querySelectorAll(".composer button, .composer input");
  forms.forEach(f => f.disabled = true);      // one callback at a time: the web process answers it too
  appendTo(where, message(state.names[user], {kind: "text", text: where === "group" ? "@思政助手 " + text : text}),
           user);
  input.value = "";
  try {
    const data = await api("api/say", {user, text, channel, group: where === "group"});
    if (data.error) appendTo(where, el("div", {class: "message error"}, data.error), user);
    else if (data.reply) appendTo(where, message("思政助手", data.reply, "回复", "reply"), user);
    else appendTo(where, el("div", {class: "message note"}, "（机器人没有被动回复）"), user);
  } catch (e) {
    appendTo(where, el("div", {class: "message error"}, "连不上模拟器：机器人是否还在运行？"), user);
  } finally {
    forms.forEach(f => f.disabled = false);
    input.focus();
  }
}

// ---- pushes and the clock ----

async function pollPushes() {
  const data = await api("api/pushes?since=" + state.since);
  for (const push of data.pushes || []) {
    const note = push.dropped ? "推送（超频被丢弃，成员收不到）" : "推送";
    const node = message("思政助手", push.bubble, note, "push");
    if (push.dropped) node.classList.add("dropped");
    node.dataset.pushId = push.id;
    if (push.group) appendTo("group", node);
    else if (push.recipient) appendTo("dm", node, push.recipient);
  }
  if (typeof data.last === "number") state.since = data.last;
}

function showClock(data) {
  if (data.label) document.getElementById("clock-label").textContent = data.label;
  const ahead = data.offset_minutes ? "（比现实快 " + describeMinutes(data.offset_minutes) + "）" : "";
  document.getElementById("clock-note").textContent = ahead + (data.busy ? " 正在处理 " + data.busy + " 个任务…" : "");
}

function describeMinutes(total) {
  const days = Math.floor(total / 1440), hours = Math.floor((total % 1440) / 60), minutes = total % 60;
  return (days ? days + " 天" : "") + (hours ? hours + " 小时" : "") + (minutes || !(days || hours) ? minutes + " 分" : "");
}

async function waitIdle() {
  for (let i = 0; i < 120; i++) {
    const data = await api("api/clock");
    showClock(data);
    if (!data.busy) return data;
    await new Promise(r => setTimeout(r, 100));
  }
  return api("api/clock");
}

async function advance(what) {
  if (state.busyClock) return;
  state.busyClock = true;
  const buttons = document.querySelectorAll(".clock button");
  buttons.forEach(b => b.disabled = true);
  try {
    let now = await waitIdle();
    let left = what === "next-morning" ? now.minutes_to_morning : Number(what);
    while (left > 0) {
      const step = Math.min(120, left);
      const data = await api("api/clock", {minutes: step});
      if (data.error) { alert(data.error); break; }
      showClock(data);
      left -= step;
      now = await waitIdle();
      await pollPushes();
    }
  } finally {
    buttons.forEach(b => b.disabled = false);
    state.busyClock = false;
  }
}

async function resetClock() {
  if (!confirm("回到现实时间？已经发生的推送和记录不会撤回。")) return;
  showClock(await api("api/clock", {reset: true}));
}

// ---- wiring ----

document.getElementById("group-form").addEventListener("submit", e => { e.preventDefault(); send("group"); });
document.getElementById("dm-form").addEventListener("submit", e => { e.preventDefault(); send("dm"); });
document.querySelectorAll("[data-advance]").forEach(b => b.addEventListener("click", () => advance(b.dataset.advance)));
document.getElementById("clock-reset").addEventListener("click", resetClock);

loadPeople();
api("api/clock").then(showClock);
// a stopped bot must not flood the console: the next poll simply tries again
setInterval(() => { if (!state.busyClock) pollPushes().catch(() => {}); }, 1000);
setInterval(() => { if (!state.busyClock) api("api/clock").then(showClock).catch(() => {}); }, 3000);
