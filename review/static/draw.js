// Drawing a sentence: an entity is one chip over its tokens with its label; each token isolates its own
// direction (a stray right-to-left override in one token cannot reverse the rest of the sentence).
import { differingTokens, labelColour, runs } from "./spans.js";

function token(text, index, classes) {
  const el = document.createElement("span");
  el.className = ["tok", ...classes].join(" ");
  el.textContent = text;
  el.dataset.i = index;
  return el;
}

// options: {labels, cursor, selection: [from, to] | null, marked: Set, onRemove(span)}
export function drawSentence(container, tokens, spans, options) {
  container.replaceChildren();
  const marked = options.marked || new Set();
  const [from, to] = options.selection || [-1, -2];
  for (const run of runs(spans, tokens.length)) {
    const parts = [];
    for (let i = run.start; i < run.end; i++) {
      const classes = [];
      if (i === options.cursor) classes.push("cursor");
      if (from <= i && i <= to) classes.push("selected");
      if (marked.has(i)) classes.push("differs-token");
      parts.push(token(tokens[i], i, classes));
    }
    if (!run.span) {
      container.append(...parts, " ");
      continue;
    }
    const chip = document.createElement("span");
    chip.className = "chip";
    chip.style.backgroundColor = labelColour(options.labels.indexOf(run.span.label));
    chip.append(...parts.flatMap((p, n) => (n ? [" ", p] : [p])));
    const tag = document.createElement("span");
    tag.className = "tag";
    const confidence = run.span.confidence != null ? ` ${run.span.confidence.toFixed(2)}` : "";
    tag.textContent = run.span.label + confidence;
    chip.append(tag);
    if (options.onRemove) {
      const remove = document.createElement("button");
      remove.className = "remove";
      remove.type = "button";
      remove.title = `remove this ${run.span.label}`;
      remove.setAttribute("aria-label", `remove ${run.span.label} ${tokens.slice(run.start, run.end).join(" ")}`);
      remove.textContent = "×";
      remove.addEventListener("mousedown", (event) => event.stopPropagation());
      remove.addEventListener("click", (event) => {
        event.stopPropagation();
        options.onRemove(run.span);
      });
      chip.append(remove);
    }
    container.append(chip, " ");
  }
}

export function suggestionMarks(item) {
  return differingTokens(item.teacher, item.model, item.tokens.length);
}
