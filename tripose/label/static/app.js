// app.js: the labeling page (docs/labeling.md). Loads its modules with the token (the server
// answers nothing without it), then owns the state: the group, the instant and its labels,
// the selected bodypart, autosave, undo, and the derived epipolar curves and proposals.

const TOKEN = new URL(import.meta.url).searchParams.get('token') || '';
const Q = `?token=${encodeURIComponent(TOKEN)}`;
const [{ makeApi }, { Labels, History, keyOf, sameSnapshot }, { ViewCanvas }, ui] = await Promise.all([
  import(`./api.js${Q}`),
  import(`./state.js${Q}`),
  import(`./view.js${Q}`),
  import(`./panels.js${Q}`),
]);

const api = makeApi(TOKEN);
const SAVE_DELAY_MS = 300;
const OBSERVED = new Set(['human', 'model']); // sources that feed the triangulation

const app = {
  meta: null,
  group: null,
  instants: [],
  cur: null, // the open instant (see openInstant)
  bodypart: null,
  individual: '',
  views: new Map(), // view name -> ViewCanvas
  histories: new Map(), // "gid\niid" -> History
  epiCache: new Map(), // "gid|view|x|y" -> {curves}
  images: new Map(), // url -> Image (a small cache, neighbours preloaded)
  hoverView: null,
  lastView: null,
  lastEdited: null, // key of the last placed/moved point: its epipolar curves stay drawn
  spaceHeld: false,
  nav: null,
  navTarget: null,
  loadSeq: 0,
  pending: 0,
  renderQueued: false,
  listTimer: null,
};

const track = (promise) => {
  app.pending++;
  return promise.finally(() => {
    app.pending--;
  });
};

// --- rendering --------------------------------------------------------------------------

function requestRender() {
  if (app.renderQueued) return;
  app.renderQueued = true;
  requestAnimationFrame(() => {
    app.renderQueued = false;
    renderViews();
  });
}

const color = (bp) => app.meta.colors?.[bp] || '#e6e6e6';
const currentKey = () => (app.bodypart == null ? null : keyOf(app.individual, app.bodypart));
const displayName = (ind, bp) => (app.meta.individuals.length > 1 && ind ? `${ind} · ${bp}` : bp);
const calibrated = () => !!app.group?.calibrated && app.group.views.length > 1;

// The bodyparts an individual has: in a multi-animal project with unique bodyparts, those
// belong to the individual "single" only (DeepLabCut's layout), the others to the animals.
function bodypartsOf(ind) {
  const unique = app.meta.unique_bodyparts ?? [];
  if (app.meta.individuals.length < 2 || !unique.length) return app.meta.bodyparts;
  return app.meta.bodyparts.filter((bp) => (ind === 'single') === unique.includes(bp));
}

// The triangulation results of the open instant, per key.
function triResults() {
  const out = new Map();
  for (const [k, entry] of app.cur?.tri ?? []) if (entry.result) out.set(k, entry.result);
  return out;
}

function inside(view, x, y) {
  const v = app.cur.data.views[view];
  if (!v || !v.exists) return false;
  return x >= -0.5 && y >= -0.5 && x <= v.width - 0.5 && y <= v.height - 0.5;
}

function computeProposals() {
  const out = {};
  const c = app.cur;
  if (!c) return out;
  for (const view of app.group.views) out[view] = [];
  for (const [k, r] of triResults()) {
    const [ind, bp] = c.tri.get(k).id;
    for (const view of app.group.views) {
      if (c.labels.isDone(view, ind, bp)) continue;
      const xy = r.reprojected?.[view];
      if (!xy || !Number.isFinite(xy[0]) || !Number.isFinite(xy[1]) || !inside(view, xy[0], xy[1])) continue;
      out[view].push({ individual: ind, bodypart: bp, x: xy[0], y: xy[1] });
    }
  }
  return out;
}

// Epipolar curves drawn: those of the points of the current bodypart and of the point last
// placed or moved, from every view that has one, into every other view.
function computeCurves() {
  const out = {};
  const c = app.cur;
  if (!c || !calibrated()) return out;
  for (const view of app.group.views) out[view] = [];
  const keys = new Set([currentKey(), app.lastEdited].filter(Boolean));
  for (const k of keys) {
    for (const src of app.group.views) {
      const p = c.labels.getKey(src, k);
      if (!p) continue;
      const entry = app.epiCache.get(`${c.gid}|${src}|${p.x}|${p.y}`);
      if (!entry?.curves) continue;
      for (const [dst, pts] of Object.entries(entry.curves)) {
        if (dst !== src && out[dst] && pts?.length) out[dst].push({ color: color(p.bodypart), points: pts, key: k, from: src });
      }
    }
  }
  return out;
}

function renderViews() {
  const c = app.cur;
  if (!c) return;
  const proposals = computeProposals();
  const curves = computeCurves();
  const tri = triResults();
  const ck = currentKey();
  const bones = [];
  for (const ind of app.meta.individuals) {
    const bps = bodypartsOf(ind);
    for (const [a, b] of app.meta.skeleton || []) {
      if (bps.includes(a) && bps.includes(b)) bones.push([keyOf(ind, a), keyOf(ind, b), color(a)]);
    }
  }
  for (const [view, vc] of app.views) {
    const labels = c.labels.list(view).map((p) => {
      const k = keyOf(p.individual, p.bodypart);
      const r = tri.get(k);
      const error = r && OBSERVED.has(p.source) ? r.errors?.[view] ?? null : null;
      const flagged = !!(r && OBSERVED.has(p.source) && r.flagged?.includes(view));
      return { ...p, kind: 'label', key: k, name: displayName(p.individual, p.bodypart), color: color(p.bodypart), current: k === ck, error, flagged };
    });
    const props = (proposals[view] || []).map((p) => {
      const k = keyOf(p.individual, p.bodypart);
      return { ...p, kind: 'proposal', key: k, name: displayName(p.individual, p.bodypart), color: color(p.bodypart), current: k === ck };
    });
    const cursor = app.bodypart == null ? null : { name: displayName(app.individual, app.bodypart), color: color(app.bodypart) };
    // the rig's reprojections written by extract-outliers: hints drawn as crosses
    const hints = (c.data.reprojected?.[view] || []).map((p) => ({ ...p, color: color(p.bodypart) }));
    vc.setScene({ labels, proposals: props, curves: curves[view] || [], bones, cursor, hints });
    vc.draw();
    const errs = labels.filter((p) => p.error != null).map((p) => p.error);
    const flagged = labels.filter((p) => p.flagged);
    const invisible = c.labels.invisibleList(view).map(([i, b]) => displayName(i, b));
    const parts = [`${labels.length} labelled`];
    if (invisible.length) parts.push(`${invisible.length} invisible`);
    if (props.length) parts.push(`${props.length} proposed`);
    if (errs.length) parts.push(`reproj ${(errs.reduce((a, b) => a + b, 0) / errs.length).toFixed(1)} px mean, ${Math.max(...errs).toFixed(1)} max`);
    let html = ui.escape(parts.join(' · '));
    if (flagged.length) html += ` · <b class="bad">\u26a0 ${ui.escape(flagged.map((p) => p.name).join(', '))} disagree${flagged.length > 1 ? '' : 's'} with the other views</b>`;
    if (invisible.length) vc.statusEl.title = `invisible: ${invisible.join(', ')}`;
    vc.setStatus(html, flagged.length > 0);
  }
}

function updatePanels() {
  ui.renderBodyparts(app);
  ui.renderSaveStatus(app);
  ui.renderHeader(app);
  ui.renderBanner(app);
  requestRender();
}

// --- derived data: triangulation and epipolar curves ------------------------------------

function refreshDerived() {
  const c = app.cur;
  if (!c || !calibrated()) return;
  for (const ind of app.meta.individuals) {
    for (const bp of bodypartsOf(ind)) {
      const k = keyOf(ind, bp);
      const points = {};
      for (const view of app.group.views) {
        const p = c.labels.get(view, ind, bp);
        if (p && OBSERVED.has(p.source)) points[view] = [p.x, p.y];
      }
      if (Object.keys(points).length < 2) {
        c.tri.delete(k);
        continue;
      }
      const input = JSON.stringify(points);
      if (c.tri.get(k)?.input === input) continue;
      const entry = { id: [ind, bp], input, result: null };
      c.tri.set(k, entry);
      track(api.triangulate(c.gid, points))
        .then((r) => {
          if (c.tri.get(k) === entry) {
            entry.result = r;
            requestRender();
          }
        })
        .catch((e) => ui.toast(`triangulation failed: ${e.message}`));
    }
  }
  const keys = new Set([currentKey(), app.lastEdited].filter(Boolean));
  if (app.epiCache.size > 5000) app.epiCache.clear();
  for (const k of keys) {
    for (const view of app.group.views) {
      const p = c.labels.getKey(view, k);
      if (!p) continue;
      const ek = `${c.gid}|${view}|${p.x}|${p.y}`;
      if (app.epiCache.has(ek)) continue;
      const entry = { curves: null };
      app.epiCache.set(ek, entry);
      track(api.epipolar(c.gid, view, p.x, p.y))
        .then((r) => {
          entry.curves = r.curves || {};
          requestRender();
        })
        .catch((e) => {
          app.epiCache.delete(ek);
          ui.toast(`epipolar curve failed: ${e.message}`);
        });
    }
  }
}

// --- the open instant, its edits, undo and autosave -------------------------------------

function buildLabels(data) {
  const views = app.group.views;
  const labels = new Labels(views);
  for (const view of views) {
    for (const p of data.points?.[view] ?? []) labels.set(view, p);
    for (const [ind, bp] of data.invisible?.[view] ?? []) labels.setInvisible(view, ind, bp, true);
    // refinement: a view with nothing labelled shows the model's predictions, saved (as
    // "model") only once the user changes something in this instant
    if (labels.isEmpty(view)) {
      for (const p of data.prefill?.[view] ?? []) labels.set(view, { ...p, source: 'model' });
    }
  }
  return labels;
}

function history(c) {
  const hk = `${c.gid}\n${c.iid}`;
  if (!app.histories.has(hk)) app.histories.set(hk, new History());
  return app.histories.get(hk);
}

// Apply fn to the open instant's labels as one undoable change.
function edit(fn, lastEdited) {
  const c = app.cur;
  if (!c || app.nav) return false;
  const before = c.labels.snapshot();
  fn(c.labels);
  if (sameSnapshot(before, c.labels.snapshot())) return false;
  history(c).push(before);
  if (lastEdited) app.lastEdited = lastEdited;
  changed(c);
  return true;
}

function changed(c) {
  c.changeSeq++;
  c.touched = true;
  if (c.timer) clearTimeout(c.timer);
  c.timer = setTimeout(() => {
    c.timer = null;
    save(c);
  }, SAVE_DELAY_MS);
  refreshDerived();
  updatePanels();
}

function undo(redo = false) {
  const c = app.cur;
  if (!c || app.nav) return;
  const h = history(c);
  const snap = redo ? h.redo(c.labels.snapshot()) : h.undo(c.labels.snapshot());
  if (!snap) {
    ui.toast(redo ? 'nothing to redo' : 'nothing to undo');
    return;
  }
  c.labels.restore(snap);
  changed(c);
}

function putBody(c) {
  return { versions: c.versions, ...c.labels.toPut() };
}

// Save the instant until what is on disk is what is on screen (or a conflict/error stops it).
// keepalive: the request outlives the page (sent while it unloads).
function save(c, keepalive = false) {
  if (c.timer) {
    clearTimeout(c.timer);
    c.timer = null;
  }
  if (c.saving) return c.saving;
  c.saving = (async () => {
    app.pending++;
    try {
      while (!c.conflict && c.savedSeq !== c.changeSeq) {
        const seq = c.changeSeq;
        ui.renderSaveStatus(app);
        try {
          const r = await api.save(c.gid, c.iid, putBody(c), keepalive);
          c.versions = { ...c.versions, ...(r?.versions ?? {}) };
          c.savedSeq = seq;
          c.error = null;
          refreshInstantList();
        } catch (e) {
          if (e.status === 409 && e.body?.current) {
            c.conflict = e.body.current;
          } else {
            c.error = e.message;
            c.timer = setTimeout(() => {
              c.timer = null;
              save(c);
            }, 3000);
            break;
          }
        }
      }
    } finally {
      c.saving = null;
      app.pending--;
      updatePanels();
    }
  })();
  return c.saving;
}

async function flushSave(c) {
  if (c.savedSeq !== c.changeSeq && !c.conflict) await save(c);
  else if (c.saving) await c.saving;
  return !c.conflict && c.savedSeq === c.changeSeq;
}

async function resolveConflict(keepMine) {
  const c = app.cur;
  if (!c?.conflict) return;
  if (keepMine) {
    c.versions = { ...c.versions, ...c.conflict.versions };
    c.conflict = null;
    c.changeSeq++;
    updatePanels();
    await save(c);
    return;
  }
  let current = c.conflict;
  try {
    current = await track(api.instant(c.gid, c.iid));
  } catch {
    // the 409 body is the state on disk as of the conflict
  }
  // Ctrl+Z brings the labels that were on screen back
  history(c).push(c.labels.snapshot());
  c.labels = buildLabels(current);
  c.data = current;
  c.versions = { ...current.versions };
  c.conflict = null;
  c.savedSeq = c.changeSeq;
  c.tri.clear();
  refreshDerived();
  updatePanels();
  ui.toast('reloaded from disk (Ctrl+Z brings your labels back)');
}

// --- navigation -------------------------------------------------------------------------

function goto(iid) {
  app.navTarget = iid;
  if (!app.nav) {
    app.nav = (async () => {
      try {
        while (app.navTarget != null && app.navTarget !== app.cur?.iid) {
          if (!(await openInstant(app.navTarget))) break;
        }
      } finally {
        app.nav = null;
        app.navTarget = null;
        updatePanels();
      }
    })();
  }
  return app.nav;
}

function step(delta) {
  const base = app.navTarget ?? app.cur?.iid;
  const i = app.instants.findIndex((x) => x.id === base);
  const j = Math.min(app.instants.length - 1, Math.max(0, i + delta));
  if (j !== i && app.instants[j]) goto(app.instants[j].id);
}

function image(url) {
  let img = app.images.get(url);
  if (!img) {
    img = new Image();
    img.decoding = 'async';
    img.src = url;
    app.images.set(url, img);
    if (app.images.size > 48) app.images.delete(app.images.keys().next().value);
  }
  return img;
}

function preloadNeighbours() {
  const i = app.instants.findIndex((x) => x.id === app.cur?.iid);
  for (const j of [i + 1, i - 1]) {
    const inst = app.instants[j];
    if (!inst || inst.n_views < app.group.views.length) continue; // no 404s for missing images
    for (const view of app.group.views) image(api.imageUrl(null, app.group.id, view, inst.id));
  }
}

async function openInstant(iid) {
  const prev = app.cur;
  if (prev && !(await flushSave(prev))) {
    ui.toast(prev.conflict ? 'resolve the conflict before leaving this instant' : `not saved: ${prev.error}`);
    return false;
  }
  const gid = app.group.id;
  const seq = ++app.loadSeq;
  ui.setLoading(true);
  let data;
  try {
    data = await track(api.instant(gid, iid));
  } catch (e) {
    ui.toast(`cannot open ${iid}: ${e.message}`);
    return false;
  } finally {
    ui.setLoading(false);
  }
  if (seq !== app.loadSeq || gid !== app.group?.id) return false;
  app.cur = {
    gid,
    iid,
    data,
    labels: buildLabels(data),
    versions: { ...(data.versions ?? {}) },
    changeSeq: 0,
    savedSeq: 0,
    touched: false,
    saving: null,
    timer: null,
    conflict: null,
    error: null,
    tri: new Map(),
  };
  app.lastEdited = null;
  // start from the first bodypart some view still lacks
  const views = app.group.views.filter((v) => data.views?.[v]?.exists);
  const bps = bodypartsOf(app.individual);
  app.bodypart = bps.find((bp) => views.some((v) => !app.cur.labels.isDone(v, app.individual, bp))) ?? bps[0] ?? null;
  for (const [view, vc] of app.views) {
    const v = data.views?.[view] ?? { exists: false, width: vc.width, height: vc.height };
    let img = null;
    if (v.exists) img = image(api.imageUrl(v.image, gid, view, iid));
    vc.setImage(img, v.width, v.height, !!v.exists);
    if (img) {
      const sized = () => {
        // the server could not tell the size: the image's own, once loaded
        if ((!v.width || !v.height) && img.naturalWidth && app.cur?.data === data) {
          vc.setImage(img, img.naturalWidth, img.naturalHeight, true);
        }
        requestRender();
      };
      if (!img.complete) {
        const done = new Promise((resolve) => {
          img.addEventListener('load', resolve, { once: true });
          img.addEventListener('error', resolve, { once: true });
        });
        track(done).then(sized);
      } else if (!v.width || !v.height) sized();
    }
  }
  const hash = new URLSearchParams({ group: gid, instant: iid });
  replaceHash(`#${hash}`);
  refreshDerived();
  updatePanels();
  ui.renderInstants(app);
  preloadNeighbours();
  return true;
}

function replaceHash(hash) {
  try {
    window.history.replaceState(null, '', `${location.pathname}${location.search}${hash}`);
  } catch {
    // not fatal
  }
}

// The instant list's counts, re-read a moment after saves.
function refreshInstantList() {
  clearTimeout(app.listTimer);
  app.listTimer = setTimeout(async () => {
    const gid = app.group?.id;
    try {
      const list = await track(api.instants(gid));
      if (gid === app.group?.id) {
        app.instants = list;
        ui.renderInstants(app);
      }
    } catch {
      // the counts stay as they were
    } finally {
      app.listTimer = null;
    }
  }, 250);
}

async function selectGroup(gid, iid) {
  if (app.cur && !(await flushSave(app.cur))) {
    ui.toast('resolve the conflict before leaving this instant');
    ui.renderHeader(app);
    return;
  }
  const group = app.meta.groups.find((g) => g.id === gid) ?? app.meta.groups[0];
  app.group = group;
  app.cur = null;
  for (const vc of app.views.values()) vc.destroy();
  app.views.clear();
  const grid = document.getElementById('views');
  const n = group.views.length;
  const cols = Math.ceil(Math.sqrt(n));
  grid.style.setProperty('--cols', cols);
  grid.style.setProperty('--rows', Math.ceil(n / cols));
  grid.classList.toggle('single', n === 1);
  for (const view of group.views) app.views.set(view, new ViewCanvas(grid, view, handlers));
  app.instants = await track(api.instants(group.id));
  ui.renderInstants(app);
  ui.renderHeader(app);
  const target = app.instants.find((x) => x.id === iid)?.id ?? app.instants[0]?.id;
  if (target != null) await goto(target);
  else ui.toast('this group has no instants');
}

// --- actions ----------------------------------------------------------------------------

function selectBodypart(bp, individual) {
  if (individual != null && app.meta.individuals.includes(individual)) app.individual = individual;
  const bps = bodypartsOf(app.individual);
  if (bp != null && bps.includes(bp)) app.bodypart = bp;
  else if (!bps.includes(app.bodypart)) app.bodypart = bps[0] ?? null;
  refreshDerived();
  updatePanels();
}

function stepBodypart(delta) {
  const bps = bodypartsOf(app.individual);
  const i = bps.indexOf(app.bodypart);
  selectBodypart(bps[(i + delta + bps.length) % bps.length]);
}

// After a placement: the next bodypart not yet labelled (nor marked invisible) in that view;
// once an individual is done there, the next individual's.
function advance(view) {
  const inds = app.meta.individuals;
  const i0 = inds.indexOf(app.individual);
  for (let n = 0; n < inds.length; n++) {
    const ind = inds[(i0 + n) % inds.length];
    const bps = bodypartsOf(ind);
    const start = n === 0 ? bps.indexOf(app.bodypart) : -1;
    for (let d = 1; d <= bps.length; d++) {
      const bp = bps[(start + d + bps.length) % bps.length];
      if (!app.cur.labels.isDone(view, ind, bp)) {
        selectBodypart(bp, ind);
        return;
      }
    }
  }
}

const round = (v) => Math.round(v * 1000) / 1000;

const handlers = {
  requestRender,
  spaceHeld: () => app.spaceHeld,
  hoverView(view, leaving) {
    if (view) {
      app.hoverView = view;
      app.lastView = view;
    } else if (app.hoverView === leaving) {
      app.hoverView = null;
    }
  },
  place(view, x, y) {
    const c = app.cur;
    if (!c || app.bodypart == null) return;
    if (!c.data.views?.[view]?.exists) {
      ui.toast(`no image in ${view} for this instant`);
      return;
    }
    const k = currentKey();
    const p = { individual: app.individual, bodypart: app.bodypart, x: round(x), y: round(y), source: 'human' };
    if (edit((labels) => labels.set(view, p), k)) advance(view);
  },
  clickMarker(view, item) {
    if (item.kind === 'proposal') {
      const p = { individual: item.individual, bodypart: item.bodypart, x: item.x, y: item.y, source: 'triangulated' };
      edit((labels) => labels.set(view, p), item.key);
    } else {
      selectBodypart(item.bodypart, item.individual);
    }
  },
  moveMarker(view, item, x, y) {
    const p = { individual: item.individual, bodypart: item.bodypart, x: round(x), y: round(y), source: 'human' };
    edit((labels) => labels.set(view, p), item.key);
  },
};

function acceptAll() {
  const proposals = computeProposals();
  const n = Object.values(proposals).reduce((a, l) => a + l.length, 0);
  if (!n) {
    ui.toast('no proposals to accept');
    return;
  }
  edit((labels) => {
    for (const [view, list] of Object.entries(proposals)) {
      for (const p of list) labels.set(view, { ...p, source: 'triangulated' });
    }
  });
  ui.toast(`accepted ${n} proposal${n > 1 ? 's' : ''}`);
}

function targetView() {
  if (app.hoverView) return app.hoverView;
  if (app.group.views.length === 1) return app.group.views[0];
  return app.lastView;
}

function toggleInvisible() {
  const view = targetView();
  if (!view || app.bodypart == null) return ui.toast('point at a view first');
  const ind = app.individual;
  const bp = app.bodypart;
  const on = !app.cur.labels.isInvisible(view, ind, bp);
  if (edit((labels) => labels.setInvisible(view, ind, bp, on), keyOf(ind, bp)) && on) advance(view);
}

function deleteCurrent() {
  const view = targetView();
  if (!view || app.bodypart == null) return ui.toast('point at a view first');
  if (!edit((labels) => labels.remove(view, app.individual, app.bodypart))) ui.toast(`no ${app.bodypart} in ${view}`);
}

function zoomViews(fn) {
  const view = app.hoverView;
  for (const [name, vc] of app.views) if (!view || name === view) fn(vc);
}

function onKey(e) {
  const t = e.target;
  if (t && (t.tagName === 'INPUT' || t.tagName === 'SELECT' || t.tagName === 'TEXTAREA')) return;
  if (!app.cur) return;
  const mod = e.ctrlKey || e.metaKey;
  const k = e.key;
  if (mod) {
    if (k === 'z' || k === 'Z') undo(e.shiftKey);
    else if (k === 'y' || k === 'Y') undo(true);
    else return;
    e.preventDefault();
    return;
  }
  if (e.altKey) return;
  if (k >= '1' && k <= '9') {
    const bp = bodypartsOf(app.individual)[Number(k) - 1];
    if (bp) selectBodypart(bp);
  } else if (k === 'ArrowUp') stepBodypart(-1);
  else if (k === 'ArrowDown') stepBodypart(1);
  else if (k === 'ArrowLeft' || k === ',') step(-1);
  else if (k === 'ArrowRight' || k === '.') step(1);
  else if (k === 'v' || k === 'V') toggleInvisible();
  else if (k === 'Delete' || k === 'Backspace') deleteCurrent();
  else if (k === 'a' || k === 'A') acceptAll();
  else if (k === 'i' || k === 'I') {
    const inds = app.meta.individuals;
    selectBodypart(null, inds[(inds.indexOf(app.individual) + 1) % inds.length]);
  } else if (k === '0') zoomViews((vc) => vc.fit());
  else if (k === '+' || k === '=') zoomViews((vc) => vc.zoomKey(1.25));
  else if (k === '-' || k === '_') zoomViews((vc) => vc.zoomKey(0.8));
  else if (k === '?') ui.toggleHelp();
  else if (k === 'Escape') ui.toggleHelp(false);
  else if (k === ' ') {
    app.spaceHeld = true;
  } else return;
  e.preventDefault();
}

// --- test and automation hooks (window.tripose) -----------------------------------------

function stateSnapshot() {
  const c = app.cur;
  const views = {};
  const labels = {};
  const invisible = {};
  for (const [name, vc] of app.views) {
    views[name] = vc.viewState();
    labels[name] = c ? c.labels.list(name).map((p) => ({ ...p })) : [];
    invisible[name] = c ? c.labels.invisibleList(name).map((e) => [...e]) : [];
  }
  const saved = !c || (c.savedSeq === c.changeSeq && !c.conflict && !c.saving);
  return {
    group: app.group?.id ?? null,
    instant: c?.iid ?? null,
    bodypart: app.bodypart,
    individual: app.individual,
    views,
    labels,
    invisible,
    proposals: computeProposals(),
    saved,
    status: ui.saveStatus(app).state,
    conflict: !!c?.conflict,
  };
}

window.tripose = {
  state: stateSnapshot,
  imageToClient: (view, x, y) => app.views.get(view).toClient(x, y),
  setZoom(view, z, x, y) {
    app.views.get(view).setZoom(z, x, y);
    renderViews();
  },
  epipolarCurves() {
    const out = {};
    for (const [view, list] of Object.entries(computeCurves())) out[view] = list.map((c) => c.points);
    return out;
  },
  // the triangulation of each bodypart labelled in 2+ views: {bodypart (or "individual/
  // bodypart"): {point3d, reprojected, errors, flagged}}
  triangulations() {
    const out = {};
    for (const [k, r] of triResults()) {
      const [ind, bp] = app.cur.tri.get(k).id;
      out[app.meta.individuals.length > 1 ? `${ind}/${bp}` : bp] = r;
    }
    return out;
  },
  selectBodypart: (bp, individual) => selectBodypart(bp, individual),
  goto: (iid) => goto(iid),
  // resolves once nothing is pending: requests, images, the autosave timer, navigation
  async idle(timeoutMs = 15000) {
    const t0 = performance.now();
    const busy = () =>
      app.pending > 0 || app.nav || app.cur?.timer || app.cur?.saving || app.listTimer || app.renderQueued;
    while (busy() && performance.now() - t0 < timeoutMs) await new Promise((r) => setTimeout(r, 15));
    await new Promise((r) => requestAnimationFrame(() => r()));
    return !busy();
  },
};

// --- start ------------------------------------------------------------------------------

async function main() {
  ui.init({
    onGroup: (gid) => selectGroup(gid),
    onInstant: (iid) => goto(iid),
    onStep: step,
    onBodypart: (bp) => selectBodypart(bp),
    onIndividual: (ind) => selectBodypart(null, ind),
    onConflict: resolveConflict,
    onRetry: () => app.cur && save(app.cur),
  });
  window.addEventListener('keydown', onKey);
  window.addEventListener('keyup', (e) => {
    if (e.key === ' ') {
      app.spaceHeld = false;
      for (const vc of app.views.values()) vc._cursor();
    }
  });
  window.addEventListener('blur', () => {
    app.spaceHeld = false;
  });
  window.addEventListener('beforeunload', (e) => {
    const c = app.cur;
    if (!c || (c.savedSeq === c.changeSeq && !c.conflict)) return;
    // send it now (the request outlives the page); should the user stay, its answer
    // updates the versions as any save does
    if (!c.conflict && !c.saving) save(c, true);
    e.preventDefault();
    e.returnValue = '';
  });
  try {
    app.meta = await track(api.meta());
  } catch (e) {
    ui.fatal(`cannot load the project: ${e.message}`);
    return;
  }
  if (!app.meta.individuals?.length) app.meta.individuals = [''];
  app.individual = app.meta.individuals[0];
  app.bodypart = bodypartsOf(app.individual)[0] ?? null;
  app.bodypartsOf = bodypartsOf;
  ui.setup(app);
  const hash = new URLSearchParams(location.hash.slice(1));
  await selectGroup(hash.get('group') ?? app.meta.groups[0]?.id, hash.get('instant'));
}

main().catch((e) => ui.fatal(e.message));
