// Pure functions over spans ({start, end, label}, end exclusive): no DOM, no state, tested on their own.

export function spanAt(spans, token) {
  return (spans || []).find((s) => s.start <= token && token < s.end);
}

export function copySpans(spans) {
  return (spans || []).map((s) => ({ start: s.start, end: s.end, label: s.label }));
}

// The new entity [from, to] (inclusive) replaces every entity it touches.
export function applyLabel(spans, from, to, label) {
  const kept = spans.filter((s) => s.end <= from || s.start > to);
  kept.push({ start: from, end: to + 1, label });
  return kept.sort((a, b) => a.start - b.start);
}

export function removeAt(spans, token) {
  return spans.filter((s) => !(s.start <= token && token < s.end));
}

export function key(spans) {
  return (spans || []).map((s) => `${s.start}:${s.end}:${s.label}`).sort().join(" ");
}

export function same(a, b) {
  return key(a) === key(b);
}

// Per token, the label (or "") a set of spans gives it: what two suggestions are compared on.
export function tokenLabels(spans, length) {
  const labels = new Array(length).fill("");
  for (const s of spans || []) for (let i = s.start; i < s.end && i < length; i++) labels[i] = `${s.label}:${s.start}`;
  return labels;
}

// The tokens where two suggestions differ (another label, another entity boundary, or one has none).
export function differingTokens(a, b, length) {
  if (!a || !b) return new Set();
  const first = tokenLabels(a, length);
  const second = tokenLabels(b, length);
  const out = new Set();
  for (let i = 0; i < length; i++) if (first[i] !== second[i]) out.add(i);
  return out;
}

// The sentence cut into runs: an entity is one run over all its tokens, every other token a run of its own.
export function runs(spans, length) {
  const out = [];
  let i = 0;
  const sorted = [...(spans || [])].sort((a, b) => a.start - b.start);
  while (i < length) {
    const span = sorted.find((s) => s.start <= i && i < s.end);
    if (span) {
      out.push({ start: i, end: Math.min(span.end, length), span });
      i = Math.min(span.end, length);
    } else {
      out.push({ start: i, end: i + 1, span: null });
      i += 1;
    }
  }
  return out;
}

// A colour per label index, distinct however many labels: the first nine hand-picked, then the golden angle.
const FIRST = ["#ffd8a8", "#b2f2bb", "#a5d8ff", "#eebefa", "#ffec99", "#ffc9c9", "#c3fae8", "#d0bfff", "#dee2e6"];
export function labelColour(index) {
  if (index < 0) return "#e9ecef";
  if (index < FIRST.length) return FIRST[index];
  return `hsl(${Math.round((index * 137.508) % 360)}, 70%, 82%)`;
}

// The key that applies the label at `index`: 1-9 for the first nine; the rest by their button only.
export function labelKey(index) {
  return index < 9 ? String(index + 1) : null;
}
