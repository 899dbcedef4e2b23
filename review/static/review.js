// nerd review: one sentence at a time, keyboard first. Every call is to the JSON API at /api.
"use strict";

const state = { labels: [], item: null, spans: [], cursor: 0, anchor: null, history: [] };
const $ = (id) => document.getElementById(id);

function reviewer() {
  return $("reviewer").value.trim();
}

async function call(method, path, body) {
  const response = await fetch(path, {
    method,
    headers: body ? { "Content-Type": "application/json" } : {},
    body: body ? JSON.stringify(body) : undefined,
  });
  const data = response.status === 204 ? null : await response.json();
  if (!response.ok) {
    const detail = data && data.detail;
    throw new Error(typeof detail === "string" ? detail : JSON.stringify(detail));
  }
  return data;
}

function say(text) {
  $("status").textContent = text;
}

function labelClass(label) {
  const index = state.labels.indexOf(label);
  return "l" + (index < 0 ? 8 : index % 9);
}

function spanAt(spans, token) {
  return spans.find((s) => s.start <= token && token < s.end);
}

function render(container, tokens, spans, interactive) {
  container.replaceChildren();
  const [from, to] = selection();
  tokens.forEach((text, i) => {
    const el = document.createElement("span");
    el.className = "tok";
    el.textContent = text;
    el.dataset.i = i;
    const span = spanAt(spans, i);
    if (span) {
      el.classList.add(labelClass(span.label));
      if (span.end - 1 === i) {
        const tag = document.createElement("span");
        tag.className = "tag";
        tag.textContent = span.label + (span.confidence != null ? " " + span.confidence.toFixed(2) : "");
        el.appendChild(tag);
      }
    }
    if (interactive) {
      if (i === state.cursor) el.classList.add("cursor");
      if (state.anchor !== null && from <= i && i <= to) el.classList.add("selected");
    }
    container.appendChild(el);
    container.appendChild(document.createTextNode(" "));
  });
}

function selection() {
  if (state.anchor === null) return [state.cursor, state.cursor];
  return [Math.min(state.anchor, state.cursor), Math.max(state.anchor, state.cursor)];
}

function same(a, b) {
  const key = (spans) => (spans || []).map((s) => `${s.start}:${s.end}:${s.label}`).sort().join(" ");
  return key(a) === key(b);
}

function draw() {
  const item = state.item;
  if (!item) return;
  render($("sentence"), item.tokens, state.spans, true);
  render($("teacher"), item.tokens, item.teacher || [], false);
  render($("model"), item.tokens, item.model || [], false);
  const teacher = item.teacher_provenance && item.teacher_provenance.teacher;
  $("where").textContent = `#${item.position} · ${item.source}` + (teacher ? ` · teacher ${teacher}` : "");
  const flags = [];
  if (item.teacher && item.model && !same(item.teacher, item.model)) flags.push("teacher and model differ");
  if (item.decision) flags.push(`you decided: ${item.decision.action}`);
  if (item.overlap) flags.push("also given to a second reviewer");
  $("flags").textContent = flags.join(" · ");
  $("flags").className = flags.length && flags[0].includes("differ") ? "differs" : "";
}

function drawLabels() {
  const box = $("labels");
  box.replaceChildren();
  state.labels.forEach((label, i) => {
    const button = document.createElement("button");
    button.className = labelClass(label);
    button.textContent = `${i + 1} ${label}`;
    button.addEventListener("click", () => applyLabel(label));
    box.appendChild(button);
  });
}

function copySpans(spans) {
  return (spans || []).map((s) => ({ start: s.start, end: s.end, label: s.label }));
}

function applyLabel(label) {
  const [from, to] = selection();
  // The new entity replaces every entity it touches.
  state.spans = state.spans.filter((s) => s.end <= from || s.start > to);
  state.spans.push({ start: from, end: to + 1, label });
  state.spans.sort((a, b) => a.start - b.start);
  state.anchor = null;
  draw();
}

function removeAtCursor() {
  state.spans = state.spans.filter((s) => !(s.start <= state.cursor && state.cursor < s.end));
  draw();
}

async function refreshProgress() {
  if (!reviewer()) return;
  const p = await call("GET", `/api/progress?reviewer=${encodeURIComponent(reviewer())}`);
  const rate = p.per_hour ? ` · ${p.per_hour}/hour` : "";
  $("progress").textContent = `${p.done} done / ${p.total} · ${p.remaining} left${rate}`;
}

async function show(itemId) {
  const item = await call("GET", `/api/items/${itemId}?reviewer=${encodeURIComponent(reviewer())}`);
  state.item = item;
  state.cursor = 0;
  state.anchor = null;
  const decided = item.decision && item.decision.action === "accept" ? item.decision.spans : null;
  state.spans = copySpans(decided || item.teacher || item.model || []);
  $("item").hidden = false;
  say("");
  draw();
  $("sentence").focus();
}

async function next() {
  if (!reviewer()) {
    say("Type your name in the reviewer field to start.");
    $("reviewer").focus();
    return;
  }
  localStorage.setItem("nerd-reviewer", reviewer());
  const queue = await call("GET", `/api/queue?limit=1&reviewer=${encodeURIComponent(reviewer())}`);
  await refreshProgress();
  if (!queue.items.length) {
    state.item = null;
    $("item").hidden = true;
    say("Nothing left to review. Thank you.");
    return;
  }
  await show(queue.items[0]);
}

// Decisions and undos run one after another, in the order they were asked for: a reviewer typing
// ahead of the network loses no keystroke, and no decision lands on the wrong sentence.
let pending = Promise.resolve();

function enqueue(work) {
  pending = pending.then(work).catch((error) => say(error.message));
  return pending;
}

function decide(action) {
  // The sentence and its spans are taken now, when the key is pressed.
  const item = state.item;
  const spans = copySpans(state.spans);
  if (!item) return pending;
  return enqueue(async () => {
    if (state.item !== item) return; // already moved on: a repeated key
    const body = { reviewer: reviewer(), action, spans: action === "accept" ? spans : [] };
    try {
      await call("POST", `/api/items/${item.id}/decisions`, body);
    } catch (error) {
      throw new Error(`Not recorded: ${error.message}`);
    }
    state.history.push(item.id);
    await next();
  });
}

function undo() {
  return enqueue(async () => {
    const last = state.history.pop();
    if (last === undefined) {
      say("Nothing to undo in this session.");
      return;
    }
    try {
      await call("POST", `/api/items/${last}/undo`, { reviewer: reviewer() });
    } catch (error) {
      throw new Error(`Undo failed: ${error.message}`);
    }
    await show(last);
    await refreshProgress();
    say("Undone: decide this sentence again.");
  });
}

function onKey(event) {
  if (event.target === $("reviewer")) {
    if (event.key === "Enter") next().catch((e) => say(e.message));
    return;
  }
  if (!state.item) return;
  const last = state.item.tokens.length - 1;
  const key = event.key;
  const move = (to) => {
    if (event.shiftKey && state.anchor === null) state.anchor = state.cursor;
    if (!event.shiftKey) state.anchor = null;
    state.cursor = Math.max(0, Math.min(last, to));
    draw();
  };
  if (key === "ArrowRight") move(state.cursor + 1);
  else if (key === "ArrowLeft") move(state.cursor - 1);
  else if (key === "Home") move(0);
  else if (key === "End") move(last);
  else if (/^[1-9]$/.test(key) && Number(key) <= state.labels.length) applyLabel(state.labels[Number(key) - 1]);
  else if (key === "0" || key === "Delete" || key === "Backspace") removeAtCursor();
  else if (key === "Enter") decide("accept");
  else if (key === "x") decide("reject");
  else if (key === "s") decide("skip");
  else if (key === "u") undo();
  else if (key === "t") { state.spans = copySpans(state.item.teacher); draw(); }
  else if (key === "m") { state.spans = copySpans(state.item.model); draw(); }
  else if (key === "c") { state.spans = []; draw(); }
  else if (key === "Escape") { state.anchor = null; draw(); }
  else return;
  event.preventDefault();
}

function onMouse() {
  let dragging = false;
  const tokenOf = (event) => event.target.closest && event.target.closest("#sentence .tok");
  $("sentence").addEventListener("mousedown", (event) => {
    const el = tokenOf(event);
    if (!el) return;
    dragging = true;
    state.anchor = Number(el.dataset.i);
    state.cursor = state.anchor;
    draw();
  });
  $("sentence").addEventListener("mouseover", (event) => {
    const el = tokenOf(event);
    if (!dragging || !el || Number(el.dataset.i) === state.cursor) return;
    state.cursor = Number(el.dataset.i);
    draw();
  });
  document.addEventListener("mouseup", () => {
    dragging = false;
  });
}

async function start() {
  const params = new URLSearchParams(location.search);
  $("reviewer").value = params.get("reviewer") || localStorage.getItem("nerd-reviewer") || "";
  const project = await call("GET", "/api/project");
  state.labels = project.labels;
  drawLabels();
  document.addEventListener("keydown", onKey);
  onMouse();
  $("accept").addEventListener("click", () => decide("accept"));
  $("reject").addEventListener("click", () => decide("reject"));
  $("skip").addEventListener("click", () => decide("skip"));
  $("undo").addEventListener("click", () => undo());
  $("use-teacher").addEventListener("click", () => { state.spans = copySpans(state.item.teacher); draw(); });
  $("use-model").addEventListener("click", () => { state.spans = copySpans(state.item.model); draw(); });
  $("clear").addEventListener("click", () => { state.spans = []; draw(); });
  $("reviewer").addEventListener("change", () => next().catch((e) => say(e.message)));
  await next();
}

start().catch((error) => say(`Cannot start: ${error.message}`));
