// Every action of the page in one table: its key, its button, what it does. Keys and buttons go
// through the same entries, so a button never does something its key does not.
export function actionTable(run) {
  return [
    { key: "Enter", button: "accept", text: "accept ⏎", run: () => run.decide("accept") },
    { key: "x", button: "reject", text: "reject x", run: () => run.decide("reject") },
    { key: "s", button: "skip", text: "skip s", run: () => run.decide("skip") },
    { key: "u", button: "undo", text: "undo u", run: () => run.undo() },
    { key: "t", button: "use-teacher", text: "teacher's t", run: () => run.take("teacher") },
    { key: "m", button: "use-model", text: "model's m", run: () => run.take("model") },
    { key: "c", button: "clear", text: "clear c", run: () => run.clear() },
    { key: "0", also: ["Delete", "Backspace"], run: () => run.removeAtCursor() },
    { key: "Escape", run: () => run.unselect() },
    { key: "ArrowRight", run: (event) => run.move(1, event.shiftKey) },
    { key: "ArrowLeft", run: (event) => run.move(-1, event.shiftKey) },
    { key: "Home", run: (event) => run.moveTo(0, event.shiftKey) },
    { key: "End", run: (event) => run.moveTo(Infinity, event.shiftKey) },
  ];
}

export function findAction(table, key) {
  return table.find((entry) => entry.key === key || (entry.also || []).includes(key));
}

// A key the page acts on: never one held with Ctrl, Cmd or Alt (those are the browser's: copy, save, ...).
export function isPageKey(event) {
  return !(event.ctrlKey || event.metaKey || event.altKey);
}
