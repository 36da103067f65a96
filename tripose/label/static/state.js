// state.js: the labels of one instant and its undo history. Plain data, no DOM, no network.

export const keyOf = (individual, bodypart) => `${individual}\u001f${bodypart}`;

const byKey = (a, b) => {
  const ka = keyOf(a.individual, a.bodypart);
  const kb = keyOf(b.individual, b.bodypart);
  return ka < kb ? -1 : ka > kb ? 1 : 0;
};

// Points {individual, bodypart, x, y, source} and invisible marks, per view. A bodypart of an
// individual is at most one of: a point, marked invisible, nothing.
export class Labels {
  constructor(views) {
    this.views = [...views];
    this.points = {};
    this.invisible = {};
    for (const view of this.views) this._ensure(view);
  }

  _ensure(view) {
    if (!this.points[view]) {
      this.points[view] = new Map();
      this.invisible[view] = new Map();
      if (!this.views.includes(view)) this.views.push(view);
    }
  }

  get(view, individual, bodypart) {
    return this.points[view]?.get(keyOf(individual, bodypart)) ?? null;
  }

  getKey(view, key) {
    return this.points[view]?.get(key) ?? null;
  }

  list(view) {
    return [...(this.points[view]?.values() ?? [])];
  }

  set(view, point) {
    this._ensure(view);
    const key = keyOf(point.individual, point.bodypart);
    this.points[view].set(key, {
      individual: point.individual,
      bodypart: point.bodypart,
      x: Number(point.x),
      y: Number(point.y),
      source: point.source || 'human',
    });
    this.invisible[view].delete(key);
  }

  remove(view, individual, bodypart) {
    const key = keyOf(individual, bodypart);
    const a = this.points[view]?.delete(key) ?? false;
    const b = this.invisible[view]?.delete(key) ?? false;
    return a || b;
  }

  isInvisible(view, individual, bodypart) {
    return this.invisible[view]?.has(keyOf(individual, bodypart)) ?? false;
  }

  setInvisible(view, individual, bodypart, on) {
    this._ensure(view);
    const key = keyOf(individual, bodypart);
    if (on) {
      this.points[view].delete(key);
      this.invisible[view].set(key, [individual, bodypart]);
    } else {
      this.invisible[view].delete(key);
    }
  }

  // Labelled (a point) or marked invisible: done, for the "next bodypart" logic.
  isDone(view, individual, bodypart) {
    const key = keyOf(individual, bodypart);
    return (this.points[view]?.has(key) || this.invisible[view]?.has(key)) ?? false;
  }

  invisibleList(view) {
    return [...(this.invisible[view]?.values() ?? [])];
  }

  isEmpty(view) {
    return !this.points[view]?.size && !this.invisible[view]?.size;
  }

  snapshot() {
    const snap = {};
    for (const view of this.views) {
      snap[view] = {
        points: this.list(view).map((p) => ({ ...p })).sort(byKey),
        invisible: this.invisibleList(view).map((e) => [...e]).sort(),
      };
    }
    return snap;
  }

  restore(snap) {
    for (const view of this.views) {
      this.points[view] = new Map();
      this.invisible[view] = new Map();
    }
    for (const [view, s] of Object.entries(snap)) {
      this._ensure(view);
      for (const p of s.points) this.points[view].set(keyOf(p.individual, p.bodypart), { ...p });
      for (const [ind, bp] of s.invisible) this.invisible[view].set(keyOf(ind, bp), [ind, bp]);
    }
  }

  // The PUT body's "points" and "invisible" (every view: the whole instant).
  toPut() {
    const snap = this.snapshot();
    const points = {};
    const invisible = {};
    for (const [view, s] of Object.entries(snap)) {
      points[view] = s.points;
      invisible[view] = s.invisible;
    }
    return { points, invisible };
  }
}

export function sameSnapshot(a, b) {
  return JSON.stringify(a) === JSON.stringify(b);
}

// Undo/redo of whole-instant snapshots (an instant holds few points: copies are cheap and
// cannot drift from what was on screen).
export class History {
  constructor(limit = 500) {
    this.limit = limit;
    this.undoStack = [];
    this.redoStack = [];
  }

  push(before) {
    this.undoStack.push(before);
    if (this.undoStack.length > this.limit) this.undoStack.shift();
    this.redoStack.length = 0;
  }

  undo(current) {
    if (!this.undoStack.length) return null;
    this.redoStack.push(current);
    return this.undoStack.pop();
  }

  redo(current) {
    if (!this.redoStack.length) return null;
    this.undoStack.push(current);
    return this.redoStack.pop();
  }
}
