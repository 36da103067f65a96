// view.js: one camera view. A canvas that draws the image with zoom and pan, and the scene
// (points, skeleton, proposals, epipolar curves) the app hands it; pointer input goes back to
// the app as image pixel coordinates.
//
// Pixel coordinates have their origin at the CENTRE of the top-left pixel (DeepLabCut,
// OpenCV). With the image drawn at offset (ox, oy) and scale s (CSS pixels per image pixel),
// the canvas point (cx, cy) (CSS pixels from the canvas' top-left corner) is the image point
//     x = (cx - ox) / s - 0.5,   y = (cy - oy) / s - 0.5
// and image pixel i covers [ox + i s, ox + (i + 1) s). The backing store has
// devicePixelRatio times more pixels; the drawing transform accounts for it exactly.

const HIT_RADIUS = 8; // CSS px around a marker that grabs it
const DRAG_THRESHOLD = 4; // CSS px a press must travel to be a drag rather than a click
const MAX_SCALE = 64;

const FONT = '11px system-ui, -apple-system, "Segoe UI", Roboto, sans-serif';
const BOLD = 'bold 11px system-ui, -apple-system, "Segoe UI", Roboto, sans-serif';

export class ViewCanvas {
  constructor(parent, name, handlers) {
    this.name = name;
    this.h = handlers;
    this.el = document.createElement('section');
    this.el.className = 'view';
    this.el.dataset.view = name;
    this.el.innerHTML =
      '<div class="view-head"><span class="view-name"></span>' +
      '<span class="view-status"></span></div><div class="view-body"><canvas></canvas>' +
      '<div class="view-msg" hidden></div></div>';
    this.el.querySelector('.view-name').textContent = name;
    this.statusEl = this.el.querySelector('.view-status');
    this.body = this.el.querySelector('.view-body');
    this.msgEl = this.el.querySelector('.view-msg');
    this.canvas = this.el.querySelector('canvas');
    this.ctx = this.canvas.getContext('2d');
    parent.appendChild(this.el);

    this.img = null;
    this.width = 1;
    this.height = 1;
    this.exists = true;
    this.scale = 1;
    this.ox = 0;
    this.oy = 0;
    this.cssW = 0;
    this.cssH = 0;
    this.fitted = false;
    this.scene = null;
    this.gesture = null;
    this.drag = null; // {item, x, y} while a marker is dragged
    this.hoverItem = null;
    this.mouse = null; // last pointer position, CSS px on the canvas

    this.ro = new ResizeObserver(() => this.resize());
    this.ro.observe(this.body);
    this._watchPixelRatio();
    this._bind();
  }

  // a new devicePixelRatio (browser zoom, another screen) resizes the backing store
  _watchPixelRatio() {
    if (this.destroyed) return;
    const mq = window.matchMedia(`(resolution: ${window.devicePixelRatio || 1}dppx)`);
    mq.addEventListener(
      'change',
      () => {
        this.resize();
        this._watchPixelRatio();
      },
      { once: true },
    );
  }

  destroy() {
    this.destroyed = true;
    this.ro.disconnect();
    this.el.remove();
  }

  // --- geometry -------------------------------------------------------------------------

  toImage(cx, cy) {
    return [(cx - this.ox) / this.scale - 0.5, (cy - this.oy) / this.scale - 0.5];
  }

  toCanvas(x, y) {
    return [this.ox + (x + 0.5) * this.scale, this.oy + (y + 0.5) * this.scale];
  }

  // Client (page) coordinates of image point (x, y): where a real click lands on it.
  toClient(x, y) {
    const rect = this.canvas.getBoundingClientRect();
    const [cx, cy] = this.toCanvas(x, y);
    return { x: rect.left + cx, y: rect.top + cy };
  }

  fitScale() {
    if (!this.cssW || !this.cssH) return 1;
    return Math.min(this.cssW / this.width, this.cssH / this.height);
  }

  fit() {
    const s = this.fitScale();
    this.scale = s;
    this.ox = (this.cssW - this.width * s) / 2;
    this.oy = (this.cssH - this.height * s) / 2;
    this.fitted = true;
    this.h.requestRender();
  }

  // Scale z with image point (x, y) (default: the image centre) at the centre of the view.
  setZoom(z, x, y) {
    const cx = x ?? (this.width - 1) / 2;
    const cy = y ?? (this.height - 1) / 2;
    this.scale = Math.min(MAX_SCALE, Math.max(1e-3, z));
    this.ox = this.cssW / 2 - (cx + 0.5) * this.scale;
    this.oy = this.cssH / 2 - (cy + 0.5) * this.scale;
    this.fitted = true;
    this.h.requestRender();
  }

  // Multiply the scale by factor, keeping the canvas point (cx, cy) on the same image point.
  zoomAt(factor, cx, cy) {
    const minScale = this.fitScale() / 4;
    const s = Math.min(MAX_SCALE, Math.max(minScale, this.scale * factor));
    const px = cx ?? this.cssW / 2;
    const py = cy ?? this.cssH / 2;
    this.ox = px - ((px - this.ox) * s) / this.scale;
    this.oy = py - ((py - this.oy) * s) / this.scale;
    this.scale = s;
    this.h.requestRender();
  }

  zoomKey(factor) {
    const m = this.mouse;
    this.zoomAt(factor, m ? m[0] : undefined, m ? m[1] : undefined);
  }

  viewState() {
    return { zoom: this.scale, offsetX: this.ox, offsetY: this.oy };
  }

  resize() {
    const rect = this.body.getBoundingClientRect();
    const w = Math.max(1, rect.width);
    const h = Math.max(1, rect.height);
    const dpr = window.devicePixelRatio || 1;
    if (this.fitted && this.cssW > 0) {
      // keep the image point at the centre of the view where it is
      const [x, y] = this.toImage(this.cssW / 2, this.cssH / 2);
      const wasFit = Math.abs(this.scale - this.fitScale()) < 1e-9;
      this.cssW = w;
      this.cssH = h;
      if (wasFit) this.fit();
      else this.setZoom(this.scale, x, y);
    } else {
      this.cssW = w;
      this.cssH = h;
    }
    this.canvas.style.width = `${w}px`;
    this.canvas.style.height = `${h}px`;
    this.canvas.width = Math.max(1, Math.round(w * dpr));
    this.canvas.height = Math.max(1, Math.round(h * dpr));
    if (!this.fitted) this.fit();
    this.draw();
  }

  // --- content ---------------------------------------------------------------------------

  setImage(img, width, height, exists) {
    const sizeChanged = width !== this.width || height !== this.height;
    this.img = img;
    this.width = Math.max(1, width || 1);
    this.height = Math.max(1, height || 1);
    this.exists = exists;
    this.msgEl.hidden = exists;
    this.msgEl.textContent = exists ? '' : 'no image for this instant';
    if (sizeChanged || !this.fitted) this.fit();
  }

  setStatus(html, warn) {
    this.statusEl.innerHTML = html;
    this.el.classList.toggle('warn', !!warn);
  }

  setScene(scene) {
    this.scene = scene;
    // the dragged marker may have gone (undo, instant change): drop the drag
    if (this.drag && !this._findItem(this.drag.item)) {
      this.drag = null;
      this.gesture = null;
    }
    if (this.hoverItem && !this._findItem(this.hoverItem)) this.hoverItem = null;
  }

  _findItem(item) {
    if (!this.scene) return null;
    const list = item.kind === 'proposal' ? this.scene.proposals : this.scene.labels;
    return list.find((p) => p.key === item.key) ?? null;
  }

  // The marker under canvas point (cx, cy): labels first, then proposals; the nearest.
  hitTest(cx, cy) {
    if (!this.scene) return null;
    let best = null;
    let bestD = HIT_RADIUS;
    for (const kind of ['labels', 'proposals']) {
      for (const p of this.scene[kind]) {
        const [px, py] = this.toCanvas(p.x, p.y);
        const d = Math.hypot(px - cx, py - cy);
        if (d <= bestD) {
          bestD = d;
          best = p;
        }
      }
      if (best) return best;
    }
    return null;
  }

  // --- input -----------------------------------------------------------------------------

  _local(e) {
    const rect = this.canvas.getBoundingClientRect();
    return [e.clientX - rect.left, e.clientY - rect.top];
  }

  _bind() {
    const c = this.canvas;
    c.addEventListener('contextmenu', (e) => e.preventDefault());
    c.addEventListener('pointerenter', () => this.h.hoverView(this.name));
    c.addEventListener('pointerleave', () => {
      this.mouse = null;
      this.hoverItem = null;
      this.h.requestRender();
      this.h.hoverView(null, this.name);
    });
    c.addEventListener('pointerdown', (e) => {
      const [cx, cy] = this._local(e);
      this.mouse = [cx, cy];
      this.h.hoverView(this.name);
      const pan = e.button === 1 || e.button === 2 || (e.button === 0 && this.h.spaceHeld());
      if (!pan && e.button !== 0) return;
      e.preventDefault();
      c.setPointerCapture(e.pointerId);
      const base = { sx: cx, sy: cy, ox: this.ox, oy: this.oy, moved: false, id: e.pointerId };
      if (pan) {
        this.gesture = { ...base, kind: 'pan' };
      } else {
        const item = this.hitTest(cx, cy);
        this.gesture = { ...base, kind: item ? 'marker' : 'empty', item, start: this.toImage(cx, cy) };
      }
      this._cursor();
    });
    c.addEventListener('pointermove', (e) => {
      const [cx, cy] = this._local(e);
      this.mouse = [cx, cy];
      const g = this.gesture;
      if (!g) {
        const item = this.hitTest(cx, cy);
        this.hoverItem = item;
        this.h.requestRender(); // the hover tag or the cursor's bodypart follow the mouse
        this._cursor();
        return;
      }
      if (!g.moved && Math.hypot(cx - g.sx, cy - g.sy) < DRAG_THRESHOLD) return;
      g.moved = true;
      if (g.kind === 'marker') {
        const [x, y] = this.toImage(cx, cy);
        this.drag = { item: g.item, x: g.item.x + x - g.start[0], y: g.item.y + y - g.start[1] };
      } else {
        this.ox = g.ox + cx - g.sx;
        this.oy = g.oy + cy - g.sy;
      }
      this._cursor();
      this.h.requestRender();
    });
    const end = (e, cancelled) => {
      const g = this.gesture;
      if (!g || g.id !== e.pointerId) return;
      this.gesture = null;
      const drag = this.drag;
      this.drag = null;
      if (c.hasPointerCapture(e.pointerId)) c.releasePointerCapture(e.pointerId);
      this._cursor();
      if (cancelled) {
        this.h.requestRender();
        return;
      }
      if (g.kind === 'marker') {
        if (g.moved && drag) this.h.moveMarker(this.name, g.item, drag.x, drag.y);
        else this.h.clickMarker(this.name, g.item);
      } else if (g.kind === 'empty' && !g.moved) {
        const [cx, cy] = this._local(e);
        const [x, y] = this.toImage(cx, cy);
        this.h.place(this.name, x, y);
      }
      this.h.requestRender();
    };
    c.addEventListener('pointerup', (e) => end(e, false));
    c.addEventListener('pointercancel', (e) => end(e, true));
    c.addEventListener(
      'wheel',
      (e) => {
        e.preventDefault();
        const [cx, cy] = this._local(e);
        const unit = e.deltaMode === 1 ? 0.05 : e.deltaMode === 2 ? 1 : 0.0015;
        this.zoomAt(Math.exp(-e.deltaY * unit), cx, cy);
      },
      { passive: false },
    );
  }

  _cursor() {
    const g = this.gesture;
    let cursor = 'crosshair';
    if (g && (g.kind === 'pan' || (g.kind === 'empty' && g.moved))) cursor = 'grabbing';
    else if (g && g.kind === 'marker') cursor = 'move';
    else if (this.h.spaceHeld()) cursor = 'grab';
    else if (this.hoverItem) cursor = this.hoverItem.kind === 'proposal' ? 'pointer' : 'move';
    this.canvas.style.cursor = cursor;
  }

  // --- drawing ---------------------------------------------------------------------------

  draw() {
    const ctx = this.ctx;
    const kx = this.canvas.width / this.cssW;
    const ky = this.canvas.height / this.cssH;
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    ctx.fillStyle = '#141517';
    ctx.fillRect(0, 0, this.canvas.width, this.canvas.height);

    // the image: pixel i spans [i, i + 1) in this transform
    ctx.setTransform(kx * this.scale, 0, 0, ky * this.scale, kx * this.ox, ky * this.oy);
    ctx.imageSmoothingEnabled = this.scale < 2;
    if (this.exists && this.img && this.img.complete && this.img.naturalWidth) {
      ctx.drawImage(this.img, 0, 0, this.width, this.height);
    } else {
      ctx.fillStyle = '#25272b';
      ctx.fillRect(0, 0, this.width, this.height);
    }

    // overlays in CSS pixels
    ctx.setTransform(kx, 0, 0, ky, 0, 0);
    ctx.lineWidth = 1;
    ctx.strokeStyle = '#3a3d42';
    ctx.strokeRect(this.ox - 0.5, this.oy - 0.5, this.width * this.scale + 1, this.height * this.scale + 1);
    if (this.scale >= 12) this._pixelGrid(ctx);
    const scene = this.scene;
    if (!scene) return;

    const pos = new Map();
    for (const p of scene.labels) {
      const moved = this.drag && this.drag.item.kind === 'label' && this.drag.item.key === p.key;
      pos.set(p.key, moved ? this.toCanvas(this.drag.x, this.drag.y) : this.toCanvas(p.x, p.y));
    }

    this._curves(ctx, scene.curves);
    for (const h of scene.hints || []) {
      const [cx, cy] = this.toCanvas(h.x, h.y);
      ctx.save();
      ctx.globalAlpha = 0.75;
      ctx.strokeStyle = h.color;
      ctx.lineWidth = 1.5;
      ctx.beginPath();
      ctx.moveTo(cx - 5, cy - 5); ctx.lineTo(cx + 5, cy + 5);
      ctx.moveTo(cx - 5, cy + 5); ctx.lineTo(cx + 5, cy - 5);
      ctx.stroke();
      ctx.restore();
    }
    this._skeleton(ctx, scene, pos);
    for (const p of scene.proposals) {
      const moved = this.drag && this.drag.item.kind === 'proposal' && this.drag.item.key === p.key;
      const [cx, cy] = moved ? this.toCanvas(this.drag.x, this.drag.y) : this.toCanvas(p.x, p.y);
      this._proposal(ctx, p, cx, cy, moved);
    }
    for (const p of scene.labels) {
      const [cx, cy] = pos.get(p.key);
      this._label(ctx, p, cx, cy);
    }
    const hover = this.drag?.item ?? this.hoverItem;
    if (!hover && !this.gesture && this.mouse && scene.cursor && this.exists) {
      // what a click here places
      this._text(ctx, scene.cursor.name, this.mouse[0] + 12, this.mouse[1] + 20, scene.cursor.color, BOLD);
    }
    if (hover) {
      const [cx, cy] = this.drag ? this.toCanvas(this.drag.x, this.drag.y) : this.toCanvas(hover.x, hover.y);
      let text = hover.name;
      if (hover.kind === 'proposal') text += ' (proposed: click to accept)';
      else if (hover.source !== 'human') text += ` (${hover.source})`;
      if (hover.error != null) text += ` \u00b7 ${hover.error.toFixed(2)} px reprojection error`;
      this._tag(ctx, text, cx + 10, cy - 12, hover.color);
    }
  }

  _pixelGrid(ctx) {
    // faint pixel borders when zoomed far in (pixel centres are the integer coordinates)
    const [x0, y0] = this.toImage(0, 0).map((v) => Math.max(0, Math.floor(v + 0.5)));
    const [x1, y1] = this.toImage(this.cssW, this.cssH);
    const xe = Math.min(this.width, Math.ceil(x1 + 0.5));
    const ye = Math.min(this.height, Math.ceil(y1 + 0.5));
    ctx.beginPath();
    for (let i = x0; i <= xe; i++) {
      const cx = this.ox + i * this.scale;
      ctx.moveTo(cx, this.oy + y0 * this.scale);
      ctx.lineTo(cx, this.oy + ye * this.scale);
    }
    for (let j = y0; j <= ye; j++) {
      const cy = this.oy + j * this.scale;
      ctx.moveTo(this.ox + x0 * this.scale, cy);
      ctx.lineTo(this.ox + xe * this.scale, cy);
    }
    ctx.strokeStyle = 'rgba(255,255,255,0.08)';
    ctx.lineWidth = 1;
    ctx.stroke();
  }

  _curves(ctx, curves) {
    ctx.save();
    ctx.setLineDash([7, 5]);
    for (const curve of curves) {
      if (curve.points.length < 2) continue;
      ctx.beginPath();
      curve.points.forEach(([x, y], i) => {
        const [cx, cy] = this.toCanvas(x, y);
        if (i === 0) ctx.moveTo(cx, cy);
        else ctx.lineTo(cx, cy);
      });
      ctx.lineWidth = 3;
      ctx.strokeStyle = 'rgba(0,0,0,0.45)';
      ctx.stroke();
      ctx.lineWidth = 1.5;
      ctx.strokeStyle = curve.color;
      ctx.stroke();
    }
    ctx.restore();
  }

  _skeleton(ctx, scene, pos) {
    ctx.save();
    ctx.lineCap = 'round';
    for (const [ka, kb, color] of scene.bones) {
      const a = pos.get(ka);
      const b = pos.get(kb);
      if (!a || !b) continue;
      ctx.beginPath();
      ctx.moveTo(a[0], a[1]);
      ctx.lineTo(b[0], b[1]);
      ctx.lineWidth = 3;
      ctx.strokeStyle = 'rgba(0,0,0,0.4)';
      ctx.stroke();
      ctx.lineWidth = 1.5;
      ctx.strokeStyle = color;
      ctx.globalAlpha = 0.8;
      ctx.stroke();
      ctx.globalAlpha = 1;
    }
    ctx.restore();
  }

  _proposal(ctx, p, cx, cy, dragged) {
    ctx.save();
    const r = p.current ? 8 : 6.5;
    ctx.beginPath();
    ctx.arc(cx, cy, r, 0, 2 * Math.PI);
    ctx.lineWidth = 3.5;
    ctx.strokeStyle = 'rgba(0,0,0,0.55)';
    ctx.stroke();
    ctx.setLineDash([3, 2]);
    ctx.lineWidth = 1.75;
    ctx.strokeStyle = p.color;
    ctx.stroke();
    ctx.setLineDash([]);
    ctx.fillStyle = p.color;
    ctx.fillRect(cx - 1, cy - 1, 2, 2);
    if (!dragged && (p.current || this.scene.proposals.length <= 3)) {
      this._text(ctx, 'proposed', cx + r + 3, cy + 4, p.color, p.current ? BOLD : FONT);
    }
    ctx.restore();
  }

  _label(ctx, p, cx, cy) {
    ctx.save();
    const r = p.current ? 5.5 : 4.25;
    if (p.source === 'model') {
      // a diamond: a prediction not yet checked by a human
      const d = r + 2;
      ctx.beginPath();
      ctx.moveTo(cx, cy - d);
      ctx.lineTo(cx + d, cy);
      ctx.lineTo(cx, cy + d);
      ctx.lineTo(cx - d, cy);
      ctx.closePath();
      ctx.lineWidth = 3.5;
      ctx.strokeStyle = 'rgba(0,0,0,0.6)';
      ctx.stroke();
      ctx.lineWidth = 1.75;
      ctx.strokeStyle = p.color;
      ctx.stroke();
      ctx.fillStyle = p.color;
      ctx.fillRect(cx - 1.25, cy - 1.25, 2.5, 2.5);
    } else {
      ctx.beginPath();
      ctx.arc(cx, cy, r, 0, 2 * Math.PI);
      ctx.fillStyle = p.color;
      ctx.fill();
      ctx.lineWidth = 1.5;
      ctx.strokeStyle = '#000';
      ctx.stroke();
      if (p.source === 'triangulated') {
        ctx.beginPath();
        ctx.arc(cx, cy, r + 2.5, 0, 2 * Math.PI);
        ctx.lineWidth = 1.25;
        ctx.strokeStyle = '#fff';
        ctx.stroke();
      }
    }
    if (p.current) {
      ctx.beginPath();
      ctx.arc(cx, cy, r + 5, 0, 2 * Math.PI);
      ctx.lineWidth = 1;
      ctx.strokeStyle = 'rgba(255,255,255,0.7)';
      ctx.stroke();
    }
    if (p.flagged) {
      ctx.beginPath();
      ctx.arc(cx, cy, r + 7, 0, 2 * Math.PI);
      ctx.lineWidth = 2;
      ctx.strokeStyle = '#ff3b30';
      ctx.stroke();
      this._tag(ctx, `\u26a0 ${p.bodypart}: disagrees with the other views`, cx + r + 10, cy + 16, '#ff3b30');
    }
    // the reprojection error: beside the current bodypart, and wherever it is large
    if (p.error != null && (p.current || p.flagged || p.error >= 1)) {
      const text = `${p.error.toFixed(1)} px`;
      this._text(ctx, text, cx + r + 4, cy - 4, p.flagged ? '#ff6b60' : '#c8ccd2', FONT);
    }
    ctx.restore();
  }

  _text(ctx, text, x, y, color, font) {
    ctx.font = font;
    ctx.lineWidth = 3;
    ctx.strokeStyle = 'rgba(0,0,0,0.75)';
    ctx.strokeText(text, x, y);
    ctx.fillStyle = color;
    ctx.fillText(text, x, y);
  }

  _tag(ctx, text, x, y, color) {
    ctx.save();
    ctx.font = BOLD;
    const w = ctx.measureText(text).width + 10;
    const tx = Math.min(x, this.cssW - w - 2);
    const ty = Math.max(2, y - 10);
    ctx.fillStyle = 'rgba(20,21,23,0.9)';
    ctx.fillRect(tx, ty, w, 18);
    ctx.fillStyle = color;
    ctx.fillRect(tx, ty, 3, 18);
    ctx.fillStyle = '#eee';
    ctx.fillText(text, tx + 6, ty + 13);
    ctx.restore();
  }
}
