// The service's own page: no external scripts, fonts or styles (it runs in closed networks).
"use strict";

const known = new Set(["PER", "ORG", "LOC", "MISC"]);
const $ = (id) => document.getElementById(id);

function headers() {
  const result = { "Content-Type": "application/json" };
  const key = $("key").value.trim();
  if (key) result.Authorization = "Bearer " + key;
  return result;
}

// Offsets from the API count Unicode code points; Array.from splits a string the same way.
function render(text, entities) {
  const chars = Array.from(text);
  const out = $("result");
  out.replaceChildren();
  let at = 0;
  for (const entity of entities) {
    out.append(document.createTextNode(chars.slice(at, entity.start).join("")));
    const mark = document.createElement("mark");
    mark.className = known.has(entity.label) ? entity.label : "other";
    mark.dataset.label = entity.label;
    mark.title = entity.label + " " + entity.score.toFixed(2);
    mark.append(document.createTextNode(chars.slice(entity.start, entity.end).join("")));
    const tag = document.createElement("small");
    tag.textContent = entity.label;
    mark.append(tag);
    out.append(mark);
    at = entity.end;
  }
  out.append(document.createTextNode(chars.slice(at).join("")));
  const body = $("entities").querySelector("tbody");
  body.replaceChildren();
  for (const entity of entities) {
    const row = document.createElement("tr");
    for (const value of [entity.text, entity.label, entity.start, entity.end, entity.score.toFixed(3)]) {
      const cell = document.createElement("td");
      cell.textContent = String(value);
      row.append(cell);
    }
    body.append(row);
  }
  $("entities").hidden = entities.length === 0;
}

async function run() {
  const text = $("text").value;
  const status = $("status");
  status.className = "";
  status.textContent = "working…";
  try {
    const response = await fetch("/v1/entities", {
      method: "POST", headers: headers(), body: JSON.stringify({ text }),
    });
    const body = await response.json();
    if (!response.ok) throw new Error(response.status + ": " + (typeof body.detail === "string" ? body.detail : JSON.stringify(body.detail)));
    const entities = body.results[0].entities;
    render(text, entities);
    status.textContent = entities.length + " entities";
  } catch (error) {
    status.className = "error";
    status.textContent = error.message;
  }
}

async function showModel() {
  try {
    const response = await fetch("/v1/model", { headers: headers() });
    if (!response.ok) { $("model").textContent = "model: " + response.status; return; }
    const model = await response.json();
    $("model").textContent =
      "model " + model.name + " (" + model.variant + ", " + model.runtime + "), types: " + model.entity_types.join(", ");
  } catch (error) {
    $("model").textContent = "model: " + error.message;
  }
}

$("run").addEventListener("click", run);
$("key").addEventListener("change", showModel);
showModel();
