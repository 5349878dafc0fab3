/**
 * The live dashboard served at `/`: one self-contained HTML page (inline CSS and JavaScript, no external
 * files) that polls the JSON endpoints of the same monitor and draws message and byte rates on <canvas>.
 *
 * Page query parameters: `interval=<ms>` (poll period, default 1000, at least 250) and `points=<n>` (chart
 * history, default 120).
 */

export const DASHBOARD_STYLE = `
:root {
  --bg: #f5f6f8; --panel: #fff; --text: #1d2330; --muted: #667085; --line: #e3e6ec;
  --accent: #2a6fdb; --in: #2a6fdb; --out: #17a673; --warn: #c98a00; --bad: #d0342c; --mono: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace;
}
@media (prefers-color-scheme: dark) {
  :root { --bg: #11151c; --panel: #1a2029; --text: #e6e9ef; --muted: #98a2b3; --line: #2b3340;
    --accent: #5b9bff; --in: #5b9bff; --out: #3ccf91; --warn: #f0b429; --bad: #ff6b61; }
}
* { box-sizing: border-box; }
html { -webkit-text-size-adjust: 100%; }
body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, Helvetica, Arial, sans-serif;
  background: var(--bg); color: var(--text); }
header { display: flex; flex-wrap: wrap; align-items: center; gap: 8px 16px; padding: 12px 20px;
  background: var(--panel); border-bottom: 1px solid var(--line); position: sticky; top: 0; z-index: 2; }
header h1 { font-size: 18px; margin: 0; letter-spacing: .3px; }
header h1 span { color: var(--accent); }
.ident { display: flex; flex-wrap: wrap; gap: 4px 14px; color: var(--muted); font-size: 13px; min-width: 0; }
.ident b { color: var(--text); font-weight: 600; }
.ident .id { font-family: var(--mono); font-size: 12px; overflow: hidden; text-overflow: ellipsis; max-width: 40ch; }
.status { margin-left: auto; display: flex; align-items: center; gap: 10px; font-size: 13px; color: var(--muted); }
.dot { width: 10px; height: 10px; border-radius: 50%; background: var(--muted); display: inline-block; }
.dot.ok { background: var(--out); } .dot.bad { background: var(--bad); }
button { font: inherit; color: var(--text); background: var(--bg); border: 1px solid var(--line);
  border-radius: 6px; padding: 3px 10px; cursor: pointer; }
main { padding: 16px 20px 32px; max-width: 1400px; margin: 0 auto; }
.banner { display: none; background: var(--bad); color: #fff; padding: 8px 12px; border-radius: 6px; margin-bottom: 12px; }
.banner.show { display: block; }
.cards { display: grid; grid-template-columns: repeat(auto-fill, minmax(150px, 1fr)); gap: 10px; margin-bottom: 16px; }
.card { background: var(--panel); border: 1px solid var(--line); border-radius: 8px; padding: 10px 12px; min-width: 0; }
.card .label { color: var(--muted); font-size: 12px; text-transform: uppercase; letter-spacing: .4px; }
.card .value { font-size: 22px; font-weight: 600; font-variant-numeric: tabular-nums; overflow-wrap: anywhere; }
.card .sub { color: var(--muted); font-size: 12px; font-variant-numeric: tabular-nums; }
.card.alert .value { color: var(--bad); }
.charts { display: grid; grid-template-columns: repeat(auto-fit, minmax(320px, 1fr)); gap: 12px; margin-bottom: 16px; }
section.panel { background: var(--panel); border: 1px solid var(--line); border-radius: 8px; padding: 12px 14px; margin-bottom: 16px; min-width: 0; }
.panel h2 { font-size: 15px; margin: 0 0 8px; display: flex; flex-wrap: wrap; align-items: baseline; gap: 6px 12px; }
.panel h2 small { font-weight: 400; color: var(--muted); font-size: 12px; }
.legend { display: flex; gap: 14px; font-size: 12px; color: var(--muted); margin-bottom: 4px; }
.legend i { display: inline-block; width: 12px; height: 3px; vertical-align: middle; margin-right: 5px; border-radius: 2px; }
.legend i.in { background: var(--in); } .legend i.out { background: var(--out); }
canvas { width: 100%; height: 180px; display: block; }
.scroll { overflow-x: auto; -webkit-overflow-scrolling: touch; }
table { border-collapse: collapse; width: 100%; font-size: 13px; font-variant-numeric: tabular-nums; }
th, td { text-align: left; padding: 5px 8px; border-bottom: 1px solid var(--line); white-space: nowrap; }
th { color: var(--muted); font-weight: 600; font-size: 12px; user-select: none; }
th.num, td.num { text-align: right; }
th[data-sort] { cursor: pointer; }
th[data-sort]:hover { color: var(--text); }
th[aria-sort="descending"]::after { content: " \\25BE"; }
th[aria-sort="ascending"]::after { content: " \\25B4"; }
td.mono { font-family: var(--mono); font-size: 12px; }
td.subject { white-space: normal; overflow-wrap: anywhere; min-width: 12ch; }
tr.warn td { background: color-mix(in srgb, var(--warn) 14%, transparent); }
tr.bad td { background: color-mix(in srgb, var(--bad) 14%, transparent); }
.flag { display: inline-block; font-size: 11px; padding: 0 6px; border-radius: 9px; color: #fff; background: var(--warn); margin-left: 6px; }
.flag.bad { background: var(--bad); }
.empty { color: var(--muted); padding: 6px 0; }
.bar { display: inline-block; width: 48px; height: 6px; background: var(--line); border-radius: 3px; margin-left: 6px; vertical-align: middle; overflow: hidden; }
.bar i { display: block; height: 100%; background: var(--warn); }
footer { color: var(--muted); font-size: 12px; text-align: center; padding: 8px 20px 24px; }
footer a { color: var(--accent); margin: 0 6px; text-decoration: none; display: inline-block; }
@media (max-width: 640px) {
  header { padding: 10px 12px; }
  main { padding: 12px 10px 24px; }
  .status { margin-left: 0; width: 100%; justify-content: space-between; }
  .card .value { font-size: 18px; }
  .opt { display: none; }
  canvas { height: 150px; }
}
`;

export const DASHBOARD_SCRIPT = `
(function () {
  'use strict';
  var params = new URLSearchParams(location.search);
  var INTERVAL = Math.max(250, Number(params.get('interval')) || 1000);
  var MAX_POINTS = Math.max(10, Number(params.get('points')) || 120);
  // The page is served at the root of the monitor, '/' or the http_base_path ('/base'): endpoints are beside it.
  var base = location.pathname.slice(-1) === '/' ? location.pathname : location.pathname + '/';
  var state = { paused: false, polls: 0, last: null, maxPending: 0, connSort: 'cid', connNameSort: 0,
    series: { msgs: [], bytes: [] } };

  function $(id) { return document.getElementById(id); }
  function el(tag, attrs, children) {
    var e = document.createElement(tag);
    if (attrs) for (var k in attrs) {
      if (k === 'text') e.textContent = attrs[k];
      else if (k === 'className') e.className = attrs[k];
      else e.setAttribute(k, attrs[k]);
    }
    (children || []).forEach(function (c) { if (c != null) e.appendChild(typeof c === 'string' ? document.createTextNode(c) : c); });
    return e;
  }
  function int(n) { return Number(n || 0).toLocaleString('en-US'); }
  function bytes(n) {
    n = Number(n || 0);
    var u = ['B', 'KiB', 'MiB', 'GiB', 'TiB'], i = 0;
    while (Math.abs(n) >= 1024 && i < u.length - 1) { n /= 1024; i++; }
    return (i === 0 ? String(Math.round(n)) : n.toFixed(n < 10 ? 2 : 1)) + ' ' + u[i];
  }
  function rate(n) {
    if (n >= 1e6) return (n / 1e6).toFixed(2) + 'M';
    if (n >= 1e3) return (n / 1e3).toFixed(1) + 'k';
    return n >= 10 || n === 0 ? String(Math.round(n)) : n.toFixed(1);
  }
  function setText(id, text) { var e = $(id); if (e && e.textContent !== text) e.textContent = text; }
  function getJSON(path) {
    return fetch(base + path, { cache: 'no-store' }).then(function (r) {
      if (!r.ok && r.status !== 503) throw new Error(path + ': HTTP ' + r.status);
      return r.json();
    });
  }

  // ---- charts -------------------------------------------------------------------------------------
  function niceMax(v) {
    if (v <= 0) return 1;
    var p = Math.pow(10, Math.floor(Math.log10(v))), m = v / p;
    return (m <= 1 ? 1 : m <= 2 ? 2 : m <= 5 ? 5 : 10) * p;
  }
  function draw(canvas, points, fmt) {
    var css = getComputedStyle(document.documentElement);
    var dpr = window.devicePixelRatio || 1;
    var w = canvas.clientWidth, h = canvas.clientHeight;
    if (w === 0 || h === 0) return;
    if (canvas.width !== Math.round(w * dpr) || canvas.height !== Math.round(h * dpr)) {
      canvas.width = Math.round(w * dpr); canvas.height = Math.round(h * dpr);
    }
    var ctx = canvas.getContext('2d');
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, w, h);
    var left = 52, right = 8, top = 8, bottom = 18;
    var pw = w - left - right, ph = h - top - bottom;
    var max = 0;
    points.forEach(function (p) { max = Math.max(max, p.a, p.b); });
    max = niceMax(max);
    ctx.font = '11px system-ui, sans-serif';
    ctx.fillStyle = css.getPropertyValue('--muted');
    ctx.strokeStyle = css.getPropertyValue('--line');
    ctx.lineWidth = 1;
    ctx.textAlign = 'right'; ctx.textBaseline = 'middle';
    for (var i = 0; i <= 4; i++) {
      var y = top + ph - (ph * i) / 4;
      ctx.beginPath(); ctx.moveTo(left, Math.round(y) + 0.5); ctx.lineTo(left + pw, Math.round(y) + 0.5); ctx.stroke();
      ctx.fillText(fmt((max * i) / 4), left - 6, y);
    }
    ctx.textAlign = 'left'; ctx.textBaseline = 'alphabetic';
    var span = (MAX_POINTS - 1) * INTERVAL / 1000;
    ctx.fillText('-' + Math.round(span) + 's', left, h - 4);
    ctx.textAlign = 'right'; ctx.fillText('now', left + pw, h - 4);
    function line(key, color) {
      if (points.length === 0) return;
      var step = pw / (MAX_POINTS - 1);
      var x0 = left + pw - (points.length - 1) * step;
      ctx.beginPath();
      points.forEach(function (p, i) {
        var x = x0 + i * step, y = top + ph - (p[key] / max) * ph;
        if (i === 0) ctx.moveTo(x, y); else ctx.lineTo(x, y);
      });
      ctx.strokeStyle = color; ctx.lineWidth = 2; ctx.lineJoin = 'round'; ctx.stroke();
      ctx.lineTo(x0 + (points.length - 1) * step, top + ph); ctx.lineTo(x0, top + ph); ctx.closePath();
      ctx.globalAlpha = 0.08; ctx.fillStyle = color; ctx.fill(); ctx.globalAlpha = 1;
    }
    line('a', css.getPropertyValue('--in').trim());
    line('b', css.getPropertyValue('--out').trim());
    canvas.setAttribute('data-points', String(points.length));
    canvas.setAttribute('data-max', String(max));
  }
  function redraw() {
    draw($('chart-msgs'), state.series.msgs, rate);
    draw($('chart-bytes'), state.series.bytes, function (v) { return bytes(v).replace(' ', ''); });
  }
  function push(series, p) { series.push(p); if (series.length > MAX_POINTS) series.shift(); }

  // ---- varz ---------------------------------------------------------------------------------------
  function onVarz(v) {
    state.maxPending = v.max_pending;
    setText('server-name', v.server_name);
    setText('server-id', v.server_id);
    setText('server-version', 'v' + v.version);
    setText('server-addr', v.host + ':' + v.port);
    setText('server-uptime', v.uptime);
    document.title = v.server_name.slice(0, 24) + ' \\u2013 tsnats';
    ['connections', 'total_connections', 'subscriptions', 'slow_consumers', 'in_msgs', 'out_msgs', 'in_bytes', 'out_bytes']
      .forEach(function (k) { setText('v-' + k, int(v[k])); });
    setText('v-cpu', v.cpu.toFixed(1) + '%');
    setText('v-mem', bytes(v.mem));
    setText('s-cpu', v.cores + ' cores');
    setText('s-in_bytes', bytes(v.in_bytes));
    setText('s-out_bytes', bytes(v.out_bytes));
    setText('s-connections', 'max ' + int(v.max_connections));
    $('card-slow').classList.toggle('alert', v.slow_consumers > 0);
    var now = Date.parse(v.now), prev = state.last;
    if (prev) {
      var dt = (now - Date.parse(prev.now)) / 1000;
      if (dt > 0) {
        var r = function (k) { return Math.max(0, (v[k] - prev[k]) / dt); };
        push(state.series.msgs, { a: r('in_msgs'), b: r('out_msgs') });
        push(state.series.bytes, { a: r('in_bytes'), b: r('out_bytes') });
        setText('s-in_msgs', rate(r('in_msgs')) + ' msg/s');
        setText('s-out_msgs', rate(r('out_msgs')) + ' msg/s');
        setText('rate-msgs', rate(r('in_msgs')) + ' in \\u00b7 ' + rate(r('out_msgs')) + ' out msg/s');
        setText('rate-bytes', bytes(r('in_bytes')) + '/s in \\u00b7 ' + bytes(r('out_bytes')) + '/s out');
      }
    }
    state.last = v;
    redraw();
  }

  // ---- connections --------------------------------------------------------------------------------
  var CONN_COLS = [
    ['cid', 'cid', 'cid', 1], ['name', 'Name', null, 0], ['addr', 'Address', null, 0, 'opt'], ['lang', 'Client', null, 0, 'opt'],
    ['uptime', 'Uptime', 'uptime', 0, 'opt'], ['idle', 'Idle', 'idle', 0], ['rtt', 'RTT', 'rtt', 0, 'opt'],
    ['subscriptions', 'Subs', 'subs', 1], ['pending_bytes', 'Pending', 'pending', 1],
    ['in_msgs', 'Msgs in', 'msgs_from', 1], ['out_msgs', 'Msgs out', 'msgs_to', 1],
    ['in_bytes', 'Bytes in', 'bytes_from', 1, 'opt'], ['out_bytes', 'Bytes out', 'bytes_to', 1, 'opt']
  ];
  function connHead() {
    var tr = $('conns').tHead.rows[0];
    tr.textContent = '';
    CONN_COLS.forEach(function (c) {
      var th = el('th', { text: c[1], className: (c[3] ? 'num ' : '') + (c[4] || '') });
      var key = c[2] || (c[0] === 'name' ? 'name' : null);
      if (key) {
        th.setAttribute('data-sort', key);
        th.setAttribute('tabindex', '0');
        if (key === state.connSort) th.setAttribute('aria-sort', key === 'cid' || (key === 'name' && state.connNameSort > 0) ? 'ascending' : 'descending');
        var go = function () {
          if (key === 'name') state.connNameSort = state.connSort === 'name' ? -state.connNameSort || 1 : 1;
          state.connSort = key; connHead(); tick();
        };
        th.addEventListener('click', go);
        th.addEventListener('keydown', function (e) { if (e.key === 'Enter' || e.key === ' ') { e.preventDefault(); go(); } });
      }
      tr.appendChild(th);
    });
  }
  function onConnz(cz) {
    var list = cz.connections.slice();
    if (state.connSort === 'name') list.sort(function (a, b) { return state.connNameSort * String(a.name || '').localeCompare(String(b.name || '')); });
    setText('conn-count', int(cz.num_connections) + ' shown of ' + int(cz.total) + ' open');
    var body = $('conns').tBodies[0];
    body.textContent = '';
    if (list.length === 0) body.appendChild(el('tr', null, [el('td', { colspan: String(CONN_COLS.length), className: 'empty', text: 'No open connections' })]));
    list.forEach(function (c) {
      var frac = state.maxPending > 0 ? c.pending_bytes / state.maxPending : 0;
      var tr = el('tr', { 'data-cid': String(c.cid) });
      if (frac >= 0.5) tr.className = frac >= 0.8 ? 'bad' : 'warn';
      var pend = el('td', { className: 'num' }, [bytes(c.pending_bytes)]);
      if (c.pending_bytes > 0) {
        var fill = el('i');
        fill.style.width = Math.min(100, Math.round(frac * 100)) + '%';
        pend.appendChild(el('span', { className: 'bar', title: Math.round(frac * 100) + '% of max_pending' }, [fill]));
      }
      if (frac >= 0.5) pend.appendChild(el('span', { className: 'flag' + (frac >= 0.8 ? ' bad' : ''), text: 'slow?' }));
      [
        el('td', { className: 'num', text: String(c.cid) }),
        el('td', { text: c.name || '' }),
        el('td', { className: 'mono opt', text: c.ip + ':' + c.port }),
        el('td', { className: 'opt', text: [c.lang, c.version].filter(Boolean).join(' ') }),
        el('td', { className: 'opt', text: c.uptime }),
        el('td', { text: c.idle }),
        el('td', { className: 'opt', text: c.rtt }),
        el('td', { className: 'num', text: int(c.subscriptions) }),
        pend,
        el('td', { className: 'num', text: int(c.in_msgs) }),
        el('td', { className: 'num', text: int(c.out_msgs) }),
        el('td', { className: 'num opt', text: bytes(c.in_bytes) }),
        el('td', { className: 'num opt', text: bytes(c.out_bytes) })
      ].forEach(function (td) { tr.appendChild(td); });
      body.appendChild(tr);
    });
  }
  function onClosed(cz) {
    var body = $('closed').tBodies[0];
    body.textContent = '';
    setText('closed-count', int(cz.total) + ' remembered');
    if (cz.connections.length === 0) body.appendChild(el('tr', null, [el('td', { colspan: '7', className: 'empty', text: 'No closed connections yet' })]));
    cz.connections.forEach(function (c) {
      var slow = /Slow Consumer/.test(c.reason || '');
      var tr = el('tr', { 'data-cid': String(c.cid), className: slow ? 'bad' : '' });
      var reason = el('td', { text: c.reason || '' });
      if (slow) reason.appendChild(el('span', { className: 'flag bad', text: 'slow consumer' }));
      [
        el('td', { className: 'num', text: String(c.cid) }),
        el('td', { text: c.name || '' }),
        el('td', { className: 'mono opt', text: c.ip + ':' + c.port }),
        el('td', { className: 'opt', text: new Date(c.stop).toLocaleTimeString() }),
        el('td', { className: 'opt', text: c.uptime }),
        reason,
        el('td', { className: 'num', text: int(c.in_msgs) + ' / ' + int(c.out_msgs) })
      ].forEach(function (td) { tr.appendChild(td); });
      body.appendChild(tr);
    });
  }

  // ---- subscriptions ------------------------------------------------------------------------------
  function onSubsz(sz) {
    var groups = new Map();
    (sz.subscriptions_list || []).forEach(function (s) {
      var key = s.account + ' ' + s.subject + ' ' + (s.qgroup || '');
      var g = groups.get(key);
      if (!g) { g = { account: s.account, subject: s.subject, queue: s.qgroup || '', subs: 0, msgs: 0, conns: new Set() }; groups.set(key, g); }
      g.subs++; g.msgs += s.msgs; g.conns.add(s.cid);
    });
    var list = Array.from(groups.values()).sort(function (a, b) { return b.subs - a.subs || b.msgs - a.msgs || (a.subject < b.subject ? -1 : 1); });
    setText('subs-stats', int(sz.num_subscriptions) + ' subscriptions \\u00b7 ' + int(groups.size) + ' subjects \\u00b7 cache hit ' +
      Math.round((sz.cache_hit_rate || 0) * 100) + '% \\u00b7 max fanout ' + int(sz.max_fanout));
    var body = $('subs').tBodies[0];
    body.textContent = '';
    if (list.length === 0) body.appendChild(el('tr', null, [el('td', { colspan: '5', className: 'empty', text: 'No subscriptions' })]));
    list.slice(0, 100).forEach(function (g) {
      body.appendChild(el('tr', null, [
        el('td', { className: 'mono subject', text: g.subject }),
        el('td', { className: 'mono', text: g.queue }),
        el('td', { className: 'num', text: int(g.subs) }),
        el('td', { className: 'num opt', text: int(g.conns.size) }),
        el('td', { className: 'num', text: int(g.msgs) })
      ]));
    });
  }

  // ---- routes -------------------------------------------------------------------------------------
  function onRoutez(rz) {
    var body = $('routes').tBodies[0];
    body.textContent = '';
    setText('route-count', int(rz.num_routes) + ' routes');
    if (rz.routes.length === 0) body.appendChild(el('tr', null, [el('td', { colspan: '6', className: 'empty', text: 'No routes (clustering is not configured)' })]));
    rz.routes.forEach(function (r) {
      body.appendChild(el('tr', null, [
        el('td', { className: 'num', text: String(r.rid) }),
        el('td', { className: 'mono', text: r.remote_id }),
        el('td', { className: 'mono', text: r.ip + ':' + r.port }),
        el('td', { text: r.rtt || '' }),
        el('td', { className: 'num', text: int(r.in_msgs) + ' / ' + int(r.out_msgs) }),
        el('td', { className: 'num', text: int(r.subscriptions) })
      ]));
    });
  }

  // ---- polling ------------------------------------------------------------------------------------
  var timer = null, inFlight = false, again = false;
  function tick() {
    // A tick asked for while one runs (e.g. a new sort order) runs right after it.
    if (inFlight) { again = true; return; }
    inFlight = true;
    var sort = state.connSort === 'name' ? 'cid' : state.connSort;
    Promise.all([
      getJSON('varz'),
      getJSON('connz?limit=200&sort=' + sort),
      getJSON('connz?state=closed&sort=stop&limit=15'),
      getJSON('subsz?subs=1&limit=5000'),
      getJSON('routez'),
      getJSON('healthz')
    ]).then(function (r) {
      onVarz(r[0]); onConnz(r[1]); onClosed(r[2]); onSubsz(r[3]); onRoutez(r[4]);
      var ok = r[5].status === 'ok';
      $('health').className = 'dot ' + (ok ? 'ok' : 'bad');
      $('health').title = ok ? 'healthy' : (r[5].error || 'unavailable');
      setText('updated', new Date().toLocaleTimeString());
      $('banner').classList.remove('show');
      state.polls++;
      document.body.setAttribute('data-polls', String(state.polls));
    }).catch(function (e) {
      $('health').className = 'dot bad';
      setText('banner', 'Cannot reach the server: ' + e.message + ' (retrying)');
      $('banner').classList.add('show');
    }).then(function () {
      inFlight = false;
      if (again) { again = false; tick(); }
    });
  }
  function schedule() {
    if (timer) clearInterval(timer);
    timer = state.paused ? null : setInterval(tick, INTERVAL);
  }
  $('pause').addEventListener('click', function () {
    state.paused = !state.paused;
    this.textContent = state.paused ? 'Resume' : 'Pause';
    schedule();
  });
  window.addEventListener('resize', redraw);
  connHead();
  tick();
  schedule();
})();
`;

function card(key: string, label: string, sub = ''): string {
  return `<div class="card" id="card-${key === 'slow_consumers' ? 'slow' : key}"><div class="label">${label}</div><div class="value" id="v-${key}">–</div><div class="sub" id="s-${key}">${sub}</div></div>`;
}

export const DASHBOARD_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>tsnats</title>
<link rel="icon" href="data:,">
<style>${DASHBOARD_STYLE}</style>
</head>
<body data-polls="0">
<header>
  <h1><span>ts</span>nats</h1>
  <div class="ident">
    <span><b id="server-name">–</b></span>
    <span class="id" id="server-id"></span>
    <span id="server-version"></span>
    <span id="server-addr"></span>
    <span>up <b id="server-uptime">–</b></span>
  </div>
  <div class="status"><span><span class="dot" id="health" title="health"></span> <span id="updated">connecting…</span></span><button id="pause" type="button">Pause</button></div>
</header>
<main>
  <div class="banner" id="banner" role="alert"></div>
  <div class="cards">
    ${card('connections', 'Connections')}
    ${card('total_connections', 'Total connections', 'since start')}
    ${card('subscriptions', 'Subscriptions')}
    ${card('slow_consumers', 'Slow consumers', 'since start')}
    ${card('in_msgs', 'Messages in')}
    ${card('out_msgs', 'Messages out')}
    ${card('in_bytes', 'Bytes in')}
    ${card('out_bytes', 'Bytes out')}
    ${card('cpu', 'CPU')}
    ${card('mem', 'Memory', 'resident')}
  </div>
  <div class="charts">
    <section class="panel"><h2>Messages / s <small id="rate-msgs"></small></h2>
      <div class="legend"><span><i class="in"></i>in</span><span><i class="out"></i>out</span></div>
      <canvas id="chart-msgs" data-points="0" role="img" aria-label="messages per second, in and out"></canvas></section>
    <section class="panel"><h2>Bytes / s <small id="rate-bytes"></small></h2>
      <div class="legend"><span><i class="in"></i>in</span><span><i class="out"></i>out</span></div>
      <canvas id="chart-bytes" data-points="0" role="img" aria-label="bytes per second, in and out"></canvas></section>
  </div>
  <section class="panel"><h2>Connections <small id="conn-count"></small><small>click a column to sort; <span class="flag">slow?</span> pending ≥ 50% of max_pending</small></h2>
    <div class="scroll"><table id="conns"><thead><tr></tr></thead><tbody></tbody></table></div></section>
  <section class="panel"><h2>Recently closed <small id="closed-count"></small></h2>
    <div class="scroll"><table id="closed"><thead><tr><th class="num">cid</th><th>Name</th><th class="opt">Address</th><th class="opt">Closed</th><th class="opt">Uptime</th><th>Reason</th><th class="num">Msgs in / out</th></tr></thead><tbody></tbody></table></div></section>
  <section class="panel"><h2>Subscriptions by subject <small id="subs-stats"></small></h2>
    <div class="scroll"><table id="subs"><thead><tr><th>Subject</th><th>Queue</th><th class="num">Subs</th><th class="num opt">Conns</th><th class="num">Msgs</th></tr></thead><tbody></tbody></table></div></section>
  <section class="panel"><h2>Routes <small id="route-count"></small></h2>
    <div class="scroll"><table id="routes"><thead><tr><th class="num">rid</th><th>Remote id</th><th>Address</th><th>RTT</th><th class="num">Msgs in / out</th><th class="num">Subs</th></tr></thead><tbody></tbody></table></div></section>
</main>
<footer>JSON:
  <a href="varz">varz</a><a href="connz">connz</a><a href="subsz?subs=1">subsz</a><a href="routez">routez</a><a href="gatewayz">gatewayz</a><a href="leafz">leafz</a><a href="accountz">accountz</a><a href="jsz">jsz</a><a href="healthz">healthz</a><a href="metrics">metrics</a>
</footer>
<script>${DASHBOARD_SCRIPT}</script>
</body>
</html>
`;
