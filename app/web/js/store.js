// The perimeter being edited: a set of unit codes with undo and redo. Pure (no DOM, no fetch).
// Each user action (one click, one rectangle, "add the whole EPCI") is one undoable step.

export class PerimeterStore {
  /** @param {Iterable<string>} baseline the saved perimeter */
  constructor(baseline = [], { limit = 500 } = {}) {
    this.limit = limit;
    this.listeners = new Set();
    this.reset(baseline);
  }

  /** Start again from a saved perimeter: no pending change, no history. */
  reset(baseline = []) {
    this.baseline = new Set(baseline);
    this.members = new Set(baseline);
    this.undoStack = [];
    this.redoStack = [];
    this.notify({ kind: "reset" });
  }

  has(code) { return this.members.has(code); }
  get size() { return this.members.size; }
  codes() { return [...this.members].sort(); }
  get canUndo() { return this.undoStack.length > 0; }
  get canRedo() { return this.redoStack.length > 0; }

  /** Add codes (those already in are skipped); returns the step, or null when nothing changes. */
  add(codes, label = "ajout") {
    const added = [...new Set(codes)].filter((code) => !this.members.has(code));
    return this.apply({ added, removed: [], label });
  }

  remove(codes, label = "retrait") {
    const removed = [...new Set(codes)].filter((code) => this.members.has(code));
    return this.apply({ added: [], removed, label });
  }

  /** A click on a commune: in → out, out → in. */
  toggle(code) {
    return this.members.has(code) ? this.remove([code], "retrait") : this.add([code], "ajout");
  }

  apply(step) {
    if (step.added.length === 0 && step.removed.length === 0) return null;
    this.perform(step);
    this.undoStack.push(step);
    if (this.undoStack.length > this.limit) this.undoStack.shift();
    this.redoStack = [];
    this.notify({ kind: "change", step });
    return step;
  }

  undo() {
    const step = this.undoStack.pop();
    if (!step) return null;
    this.perform({ added: step.removed, removed: step.added });
    this.redoStack.push(step);
    this.notify({ kind: "undo", step });
    return step;
  }

  redo() {
    const step = this.redoStack.pop();
    if (!step) return null;
    this.perform(step);
    this.undoStack.push(step);
    this.notify({ kind: "redo", step });
    return step;
  }

  perform({ added, removed }) {
    for (const code of removed) this.members.delete(code);
    for (const code of added) this.members.add(code);
  }

  /** What saving would change: codes to add and to remove against the saved perimeter. */
  diff() {
    const add = [...this.members].filter((code) => !this.baseline.has(code)).sort();
    const remove = [...this.baseline].filter((code) => !this.members.has(code)).sort();
    return { add, remove };
  }

  get dirty() {
    const { add, remove } = this.diff();
    return add.length > 0 || remove.length > 0;
  }

  /**
   * Someone else saved first: take their perimeter as the new baseline and replay my own
   * changes on top of it (my additions stay added, my removals stay removed).
   */
  rebase(newBaseline) {
    const { add, remove } = this.diff();
    const members = new Set(newBaseline);
    for (const code of remove) members.delete(code);
    for (const code of add) members.add(code);
    this.baseline = new Set(newBaseline);
    this.members = members;
    this.undoStack = [];
    this.redoStack = [];
    this.notify({ kind: "rebase" });
    return this.diff();
  }

  subscribe(listener) {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  notify(event) {
    for (const listener of this.listeners) listener(event, this);
  }
}
