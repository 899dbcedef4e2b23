// The panels beside the sentence: the guideline, your history, and (adjudicators) the conflicts.
import { call } from "./api.js";
import { copySpans } from "./spans.js";

export function drawGuideline(box, labels, definitions) {
  box.replaceChildren();
  labels.forEach((label, i) => {
    const term = document.createElement("dt");
    term.textContent = i < 9 ? `${i + 1} ${label}` : label;
    const text = document.createElement("dd");
    text.textContent = definitions[label] || "(no definition given)";
    box.append(term, text);
  });
}

function line(tokens) {
  const el = document.createElement("span");
  el.className = "line";
  el.textContent = tokens.join(" ");
  return el;
}

export async function drawHistory(list, search, open) {
  const found = await call("GET", `/api/history?limit=50&search=${encodeURIComponent(search)}`);
  list.replaceChildren();
  if (!found.entries.length) {
    const none = document.createElement("li");
    none.textContent = search ? "No decision of yours on a sentence with that text." : "No decision yet.";
    list.append(none);
  }
  for (const entry of found.entries) {
    const li = document.createElement("li");
    const button = document.createElement("button");
    button.type = "button";
    button.className = "history-entry";
    button.textContent = `#${entry.position} ${entry.decision.action}`;
    button.addEventListener("click", () => open(entry.decision.item_id));
    li.append(button, " ", line(entry.tokens));
    list.append(li);
  }
}

// Each reviewer's version side by side; take one into the editor, edit it there, then settle.
export async function drawConflicts(list, edit) {
  const found = await call("GET", "/api/conflicts?limit=50");
  list.replaceChildren();
  if (!found.conflicts.length) {
    const none = document.createElement("li");
    none.textContent = "No open conflict.";
    list.append(none);
    return 0;
  }
  for (const conflict of found.conflicts) {
    const li = document.createElement("li");
    li.className = "conflict";
    li.dataset.item = conflict.item.id;
    const head = document.createElement("div");
    head.textContent = `#${conflict.item.position} · ${conflict.item.tokens.join(" ")}`;
    li.append(head);
    for (const [who, version] of Object.entries(conflict.versions)) {
      const row = document.createElement("div");
      row.className = "version";
      const what = version.action === "reject" ? "rejects the sentence" :
        (version.spans || []).map((s) => `${conflict.item.tokens.slice(s.start, s.end).join(" ")}/${s.label}`).join(", ") || "no entity";
      const take = document.createElement("button");
      take.type = "button";
      take.className = "take";
      take.textContent = `take ${who}'s`;
      take.addEventListener("click", () => edit(conflict.item, version.action === "reject" ? null : copySpans(version.spans)));
      row.append(take, ` ${who}: ${what}`);
      li.append(row);
    }
    list.append(li);
  }
  return found.conflicts.length;
}
