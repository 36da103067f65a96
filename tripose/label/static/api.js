// api.js: the HTTP API of docs/labeling.md. Every call carries the token (header for the
// API, query parameter for images, which an <img> cannot send headers for).

export class ApiError extends Error {
  constructor(message, status, body) {
    super(message);
    this.status = status;
    this.body = body;
  }
}

export function makeApi(token) {
  const enc = encodeURIComponent;

  async function request(method, path, body, keepalive = false) {
    const init = { method, headers: { 'X-Tripose-Token': token }, cache: 'no-store', keepalive };
    if (body !== undefined) {
      init.headers['Content-Type'] = 'application/json';
      init.body = JSON.stringify(body);
    }
    let response;
    try {
      response = await fetch(path, init);
    } catch (err) {
      throw new ApiError(`the server cannot be reached (${err.message})`, 0, null);
    }
    let data = null;
    try {
      data = await response.json();
    } catch {
      data = null;
    }
    if (!response.ok) {
      const message = (data && data.error) || `${method} ${path}: HTTP ${response.status}`;
      throw new ApiError(message, response.status, data);
    }
    return data;
  }

  const group = (gid) => `/api/groups/${enc(gid)}`;
  return {
    token,
    meta: () => request('GET', '/api/meta'),
    instants: (gid) => request('GET', `${group(gid)}/instants`),
    instant: (gid, iid) => request('GET', `${group(gid)}/instants/${enc(iid)}`),
    save: (gid, iid, body, keepalive) =>
      request('PUT', `${group(gid)}/instants/${enc(iid)}`, body, keepalive),
    epipolar: (gid, view, x, y) => request('POST', `${group(gid)}/epipolar`, { view, x, y }),
    triangulate: (gid, points) => request('POST', `${group(gid)}/triangulate`, { points }),
    // The image URL the server gave (or the documented one), with the token.
    imageUrl(url, gid, view, iid) {
      const base = url || `/api/image/${enc(gid)}/${enc(view)}/${enc(iid)}`;
      if (/[?&]token=/.test(base)) return base;
      return `${base}${base.includes('?') ? '&' : '?'}token=${enc(token)}`;
    },
  };
}
