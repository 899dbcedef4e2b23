// nerd review: one sentence at a time, keyboard first. Every call is to the JSON API at /api.
import { actionTable, findAction, isPageKey } from "./actions.js";
import { call, newClientId, Unreachable } from "./api.js";
import { drawSentence, suggestionMarks } from "./draw.js";
import { drawConflicts, drawGuideline, drawHistory } from "./panels.js";
import { applyLabel, copySpans, labelColour, labelKey, removeAt } from "./spans.js";

const $ = (id) => document.getElementById(id);
const state = {
  me: null, labels: [], item: null, spans: [], cursor: 0, anchor: null, start: "",
  mode: "review", // "review": the queue; "again": a sentence from your history; "settle": a conflict
  last: null, // your last recorded decision (for u)
  unsent: null, // a decision the server did not confirm: sent again, with its id, by "retry"
  leaseTimer: null,
};

function say(text, kind = "") {
  $("status").textContent = text;
  $("status").className = kind;
}

function selection() {
  if (state.anchor === null) return [state.cursor, state.cursor];
  return [Math.min(state.anchor, state.cursor), Math.max(state.anchor, state.cursor)];
}

function draw() {
  const item = state.item;
  if (!item) return;
  const marks = suggestionMarks(item);
  drawSentence($("sentence"), item.tokens, state.spans, {
    labels: state.labels,
    cursor: state.cursor,
    selection: state.anchor === null ? null : selection(),
    onRemove: (span) => { state.spans = state.spans.filter((s) => s !== span); draw(); },
  });
  drawSentence($("teacher"), item.tokens, item.teacher || [], { labels: state.labels, marked: marks });
  drawSentence($("model"), item.tokens, item.model || [], { labels: state.labels, marked: marks });
  const teacher = item.teacher_provenance && item.teacher_provenance.teacher;
  $("where").textContent = `#${item.position} · ${item.source}` + (teacher ? ` · teacher ${teacher}` : "");
  const verb = state.mode === "settle" ? "the settlement" : "your answer";
  $("caption").textContent = `${verb}, starting from ${state.start}`;
  const flags = [];
  if (marks.size) flags.push(`teacher and model differ on ${marks.size} token(s), underlined`);
  if (item.decision) flags.push(`you decided: ${item.decision.action}`);
  if (item.overlap) flags.push("also given to a second reviewer");
  if (state.mode === "again") flags.push("from your history: deciding again replaces your decision");
  if (state.mode === "settle") flags.push("settling a conflict: Enter settles with these entities, x rejects the sentence");
  $("flags").textContent = flags.join(" · ");
  $("flags").className = marks.size ? "differs" : "";
}

function drawLabels() {
  const box = $("labels");
  box.replaceChildren();
  state.labels.forEach((label, i) => {
    const button = document.createElement("button");
    button.type = "button";
    button.style.backgroundColor = labelColour(i);
    const key = labelKey(i);
    button.textContent = key ? `${key} ${label}` : label;
    button.addEventListener("click", () => labelSelection(label));
    box.appendChild(button);
  });
  $("more-labels").hidden = state.labels.length <= 9;
}

function labelSelection(label) {
  const [from, to] = selection();
  state.spans = applyLabel(state.spans, from, to, label);
  state.anchor = null;
  draw();
}

async function refreshProgress() {
  const p = await call("GET", "/api/progress");
  const rate = p.per_hour ? ` · ${p.per_hour}/hour` : "";
  $("progress").textContent = `${p.done} done / ${p.total} · ${p.remaining} left${rate}`;
}

function keepLease(item) {
  clearInterval(state.leaseTimer);
  // Renewed well before it ends, while the sentence is open: no one else is served it meanwhile.
  const every = Math.max(15, Math.floor((state.leaseSeconds || 600) / 3)) * 1000;
  state.leaseTimer = setInterval(() => {
    if (state.item === item && state.mode !== "settle") call("POST", `/api/items/${item.id}/lease`).catch(() => {});
  }, every);
}

function open(item, mode, spans, start) {
  state.item = item;
  state.mode = mode;
  state.cursor = 0;
  state.anchor = null;
  const decided = item.decision && item.decision.action === "accept" ? item.decision.spans : null;
  if (spans !== undefined) {
    state.spans = copySpans(spans || []);
    state.start = start;
  } else if (decided) {
    state.spans = copySpans(decided);
    state.start = "your earlier decision";
  } else if (item.teacher) {
    state.spans = copySpans(item.teacher);
    state.start = "the teacher's";
  } else if (item.model) {
    state.spans = copySpans(item.model);
    state.start = "the model's";
  } else {
    state.spans = [];
    state.start = "no entity";
  }
  $("item").hidden = false;
  $("done").hidden = true;
  draw();
  keepLease(item);
  $("sentence").focus();
}

async function next() {
  const item = await call("GET", "/api/next");
  await refreshProgress();
  if (!item) {
    state.item = null;
    $("item").hidden = true;
    $("done").hidden = false;
    return;
  }
  open(item, "review");
}

// Decisions run one after another, in the order they were asked for: a reviewer typing ahead of the
// network loses no keystroke, and no decision lands on the wrong sentence.
let pending = Promise.resolve();
function enqueue(work) {
  pending = pending.then(work).catch((error) => say(error.message, "error"));
  return pending;
}

async function send(unsent) {
  state.unsent = unsent;
  try {
    const decision = await call("POST", unsent.path, unsent.body);
    state.unsent = null;
    $("retry").hidden = true;
    return decision;
  } catch (error) {
    if (error instanceof Unreachable) {
      $("retry").hidden = false;
      throw new Error(
        `The server cannot be reached: your ${unsent.what} was NOT confirmed as recorded. ` +
          "Retry sends it again (it is recorded once, however often it is sent).",
      );
    }
    state.unsent = null;
    throw new Error(`Not recorded: ${error.message}`);
  }
}

function decide(action) {
  const item = state.item;
  const spans = copySpans(state.spans);
  if (!item || state.unsent) return pending;
  const mode = state.mode;
  return enqueue(async () => {
    if (state.item !== item) return; // already moved on: a repeated key
    if (mode === "settle") {
      await send({
        what: `settlement of #${item.position}`,
        path: `/api/items/${item.id}/settlement`,
        body: { spans: action === "accept" ? spans : null, client_id: newClientId() },
      });
      say(action === "accept" ? `Settled #${item.position}.` : `Settled #${item.position}: rejected.`, "ok");
      // Back to one's own queue, then the list redrawn without it (in that order: a conflict taken
      // from the fresh list is not then covered by the queue's next sentence).
      await next();
      await showConflicts();
      return;
    }
    const body = { action, spans: action === "accept" ? spans : [], client_id: newClientId() };
    const decision = await send({ what: `${action} of #${item.position}`, path: `/api/items/${item.id}/decisions`, body });
    state.last = decision;
    const said = { accept: "Accepted", reject: "Rejected", skip: "Skipped (it comes back after the rest)" }[action];
    say(`${said}: #${item.position}. u takes it back.`, "ok");
    await next();
  });
}

function retry() {
  const unsent = state.unsent;
  if (!unsent) return pending;
  return enqueue(async () => {
    await send(unsent);
    say(`Recorded: ${unsent.what}.`, "ok");
    await next();
  });
}

function undo() {
  return enqueue(async () => {
    let last = state.last;
    if (!last) {
      // After a reload or on another device: your newest standing decision, from the server.
      const found = await call("GET", "/api/history?limit=1");
      last = found.entries.length ? found.entries[0].decision : null;
    }
    if (!last) {
      say("Nothing of yours to undo.");
      return;
    }
    await call("POST", `/api/decisions/${last.id}/undo`);
    state.last = null;
    const item = await call("GET", `/api/items/${last.item_id}`);
    await refreshProgress();
    open(item, "again");
    say("Undone: decide this sentence again.", "ok");
  });
}

const run = {
  decide,
  undo,
  take: (which) => { state.spans = copySpans(state.item[which]); state.start = `the ${which}'s`; draw(); },
  clear: () => { state.spans = []; draw(); },
  removeAtCursor: () => { state.spans = removeAt(state.spans, state.cursor); draw(); },
  unselect: () => { state.anchor = null; draw(); },
  move: (step, shift) => run.moveTo(state.cursor + step, shift),
  moveTo: (to, shift) => {
    if (shift && state.anchor === null) state.anchor = state.cursor;
    if (!shift) state.anchor = null;
    state.cursor = Math.max(0, Math.min(state.item.tokens.length - 1, to));
    draw();
  },
};
const actions = actionTable(run);

function onKey(event) {
  if (!isPageKey(event)) return;
  const target = event.target;
  if (target && (target.tagName === "INPUT" || target.tagName === "TEXTAREA")) return;
  if (!state.item) return;
  if (/^[1-9]$/.test(event.key)) {
    const index = Number(event.key) - 1;
    if (index < state.labels.length) labelSelection(state.labels[index]);
    event.preventDefault();
    return;
  }
  const action = findAction(actions, event.key);
  if (!action) return;
  action.run(event);
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
  document.addEventListener("mouseup", () => { dragging = false; });
}

async function openFromHistory(itemId) {
  const item = await call("GET", `/api/items/${itemId}`);
  open(item, "again");
  say(`#${item.position} from your history: decide it again.`);
}

async function showHistory() {
  await drawHistory($("history-list"), $("history-search").value, (id) => openFromHistory(id).catch((e) => say(e.message, "error")));
}

async function showConflicts() {
  if (!state.me || state.me.role !== "adjudicator") return;
  const count = await drawConflicts($("conflict-list"), (item, spans) => {
    open(item, "settle", spans || [], spans === null ? "a rejecting version (Enter would accept none)" : "the version you took");
    if (spans === null) say("This version rejects the sentence: x settles it as rejected.");
  });
  $("conflicts-count").textContent = String(count);
}

async function start() {
  state.me = await call("GET", "/api/me");
  $("who").textContent = `${state.me.name} (${state.me.role})`;
  $("logout").hidden = state.me.how !== "session";
  $("conflicts").hidden = state.me.role !== "adjudicator";
  const project = await call("GET", "/api/project");
  state.labels = project.labels;
  state.leaseSeconds = project.lease_s;
  drawLabels();
  drawGuideline($("guideline-list"), project.labels, project.definitions);
  for (const entry of actions) {
    if (!entry.button) continue;
    const button = $(entry.button);
    button.textContent = entry.text;
    button.title = `key: ${entry.key}`;
    button.addEventListener("click", (event) => entry.run(event));
  }
  document.addEventListener("keydown", onKey);
  onMouse();
  $("retry").addEventListener("click", () => retry());
  $("logout").addEventListener("click", async () => { await call("POST", "/api/logout"); location.assign("/login"); });
  $("history").addEventListener("toggle", () => { if ($("history").open) showHistory().catch((e) => say(e.message, "error")); });
  $("history-search").addEventListener("input", () => showHistory().catch((e) => say(e.message, "error")));
  $("conflicts").addEventListener("toggle", () => { if ($("conflicts").open) showConflicts().catch((e) => say(e.message, "error")); });
  $("next").addEventListener("click", () => enqueue(next));
  await next();
  await showConflicts();
}

start().catch((error) => say(`Cannot start: ${error.message}`, "error"));
