// panels.js: the DOM around the views: header, instant list, bodypart list, save status,
// conflict banner, help, toasts. It reads the app's state and calls back; it owns no state.

const $ = (id) => document.getElementById(id);
let cb = {};

export const escape = (s) =>
  String(s).replace(/[&<>"']/g, (ch) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[ch]);

export function init(callbacks) {
  cb = callbacks;
  // a select gives the focus back to the page: the arrow keys are the page's shortcuts
  $('group').addEventListener('change', (e) => {
    e.target.blur();
    cb.onGroup(e.target.value);
  });
  $('individual').addEventListener('change', (e) => {
    e.target.blur();
    cb.onIndividual(e.target.value);
  });
  $('prev').addEventListener('click', () => cb.onStep(-1));
  $('next').addEventListener('click', () => cb.onStep(1));
  $('help-btn').addEventListener('click', () => toggleHelp());
  $('help-close').addEventListener('click', () => toggleHelp(false));
  $('reload-disk').addEventListener('click', () => cb.onConflict(false));
  $('keep-mine').addEventListener('click', () => cb.onConflict(true));
  $('save-status').addEventListener('click', () => cb.onRetry());
  $('instants').addEventListener('click', (e) => {
    const li = e.target.closest('li[data-id]');
    if (li) cb.onInstant(li.dataset.id);
  });
  $('bodyparts').addEventListener('click', (e) => {
    const li = e.target.closest('li[data-bp]');
    if (li) cb.onBodypart(li.dataset.bp);
  });
  // buttons keep no focus: the keyboard shortcuts stay on the page
  for (const b of document.querySelectorAll('button')) b.addEventListener('mouseup', () => b.blur());
}

export function setup(app) {
  const m = app.meta;
  document.title = `tripose label · ${m.target}`;
  $('target').textContent = m.target.replace(/[\\/]+$/, '').split(/[\\/]/).slice(-2).join('/');
  $('target').title = `${m.target} (${m.kind}, scorer ${m.scorer})`;
  $('scorer').textContent = m.scorer;
  const gs = $('group');
  gs.innerHTML = m.groups
    .map((g) => `<option value="${escape(g.id)}">${escape(g.id)} (${g.views.length} view${g.views.length > 1 ? 's' : ''}${g.calibrated ? ', calibrated' : ''})</option>`)
    .join('');
  gs.disabled = m.groups.length < 2;
  const inds = m.individuals;
  $('individual-box').hidden = inds.length < 2;
  $('individual').innerHTML = inds.map((i) => `<option value="${escape(i)}">${escape(i)}</option>`).join('');
}

export function renderHeader(app) {
  if (app.group) $('group').value = app.group.id;
  const c = app.cur;
  const i = app.instants.findIndex((x) => x.id === c?.iid);
  $('instant-name').textContent = c ? c.iid : '';
  $('instant-pos').textContent = c ? `${i + 1} / ${app.instants.length}` : '';
  $('prev').disabled = i <= 0;
  $('next').disabled = i < 0 || i >= app.instants.length - 1;
}

export function renderInstants(app) {
  const ul = $('instants');
  const cur = app.cur?.iid;
  ul.innerHTML = app.instants
    .map((x) => {
      const cls = [x.id === cur ? 'current' : '', x.n_labeled > 0 ? 'labeled' : ''].join(' ');
      const count = `${x.n_labeled}/${x.n_views}`;
      return `<li data-id="${escape(x.id)}" class="${cls}" title="${escape(x.id)}: ${count} views labelled"><span class="iname">${escape(x.id)}</span><span class="count">${count}</span></li>`;
    })
    .join('');
  const li = ul.querySelector('li.current');
  if (li) li.scrollIntoView({ block: 'nearest' });
  const done = app.instants.filter((x) => x.n_labeled > 0).length;
  $('instants-summary').textContent = `${done} of ${app.instants.length} labelled`;
  renderHeader(app);
}

export function renderBodyparts(app) {
  const c = app.cur;
  const views = app.group?.views ?? [];
  $('individual').value = app.individual;
  $('bodyparts').innerHTML = app.bodypartsOf(app.individual)
    .map((bp, i) => {
      let n = 0;
      let inv = 0;
      if (c) {
        for (const v of views) {
          if (c.labels.get(v, app.individual, bp)) n++;
          else if (c.labels.isInvisible(v, app.individual, bp)) inv++;
        }
      }
      const cls = [bp === app.bodypart ? 'current' : '', n + inv === views.length && n + inv > 0 ? 'done' : ''].join(' ');
      const key = i < 9 ? String(i + 1) : '';
      const counts = `${n}/${views.length}${inv ? ` <span class="inv" title="marked invisible">+${inv}\u2205</span>` : ''}`;
      return `<li data-bp="${escape(bp)}" class="${cls}"><span class="dot" style="background:${escape(app.meta.colors?.[bp] ?? '#ccc')}"></span><span class="key">${key}</span><span class="bname">${escape(bp)}</span><span class="count">${counts}</span></li>`;
    })
    .join('');
  const li = $('bodyparts').querySelector('li.current');
  if (li) li.scrollIntoView({ block: 'nearest' });
}

export function saveStatus(app) {
  const c = app.cur;
  if (!c) return { state: 'saved', text: '' };
  if (c.conflict) return { state: 'conflict', text: 'conflict: not saved' };
  if (c.saving) return { state: 'saving', text: 'saving\u2026' };
  if (c.error) return { state: 'error', text: 'save failed (click to retry)', title: c.error };
  if (c.savedSeq !== c.changeSeq) return { state: 'unsaved', text: 'unsaved' };
  return { state: 'saved', text: c.touched ? 'saved' : 'no changes' };
}

export function renderSaveStatus(app) {
  const s = saveStatus(app);
  const el = $('save-status');
  el.className = `save ${s.state}`;
  el.textContent = s.text;
  el.title = s.title ?? '';
}

export function renderBanner(app) {
  const c = app.cur;
  $('banner').hidden = !c?.conflict;
  if (c?.conflict) {
    $('banner-text').textContent =
      `The labels of this instant changed on disk (${c.iid}) since this page loaded them. ` +
      'Nothing was written. Reload the labels from disk, or keep those on screen and overwrite the file.';
  }
}

export function toggleHelp(show) {
  const el = $('help');
  el.hidden = show === undefined ? !el.hidden : !show;
}

let toastTimer = null;
export function toast(text) {
  const el = $('toast');
  el.textContent = text;
  el.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => {
    el.hidden = true;
  }, 2500);
}

export function setLoading(on) {
  document.body.classList.toggle('loading', on);
}

export function fatal(text) {
  const el = $('fatal');
  el.textContent = text;
  el.hidden = false;
}
