'use strict';
// The usage dashboard: GET /v1/usage by day and by key, drawn as plain SVG (nothing loaded from
// elsewhere). Days without requests are drawn as zero.

const $ = (id) => document.getElementById(id);
// The SVG namespace, taken from the page's own charts (nothing here names another site).
const SVG = document.getElementById('chart-tokens').namespaceURI;
const W = 520, H = 220, PAD = { left: 60, right: 12, top: 12, bottom: 28 };

function fmt(n) {
  if (n >= 1e9) return (n / 1e9).toFixed(2) + 'G';
  if (n >= 1e6) return (n / 1e6).toFixed(2) + 'M';
  if (n >= 1e4) return (n / 1e3).toFixed(1) + 'k';
  return String(Math.round(n));
}
function money(v, currency) {
  const s = v === 0 ? '0' : Math.abs(v) < 0.01 ? v.toPrecision(3) : v.toFixed(Math.abs(v) < 100 ? 4 : 2);
  return s + ' ' + currency;
}
// Axis labels: two significant digits, so that small amounts stay short.
function short(v) { return v === 0 ? '0' : String(Number(v.toPrecision(2))); }
function ms(v) { return v >= 1000 ? (v / 1000).toFixed(2) + ' s' : v.toFixed(0) + ' ms'; }
function day(d) { return d.toISOString().slice(0, 10); }

function el(name, attrs, parent) {
  const e = document.createElementNS(SVG, name);
  for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
  if (parent) parent.appendChild(e);
  return e;
}

function frame(svg, days, max, label) {
  svg.replaceChildren();
  svg.setAttribute('viewBox', `0 0 ${W} ${H}`);
  const plotW = W - PAD.left - PAD.right, plotH = H - PAD.top - PAD.bottom;
  const y = (v) => PAD.top + plotH - (max > 0 ? v / max * plotH : 0);
  for (let i = 0; i <= 4; i++) {
    const v = max * i / 4;
    el('line', { x1: PAD.left, x2: W - PAD.right, y1: y(v), y2: y(v), class: 'grid' }, svg);
    el('text', { x: PAD.left - 6, y: y(v) + 4, class: 'axis', 'text-anchor': 'end' }, svg).textContent = label(v);
  }
  const step = Math.max(1, Math.ceil(days.length / 6));
  const slot = plotW / Math.max(days.length, 1);
  days.forEach((d, i) => {
    if (i % step === 0) {
      el('text', { x: PAD.left + slot * (i + 0.5), y: H - 8, class: 'axis', 'text-anchor': 'middle' }, svg)
        .textContent = d.slice(5);
    }
  });
  return { y, slot, x: (i) => PAD.left + slot * i };
}

// Bars stacked from the series, one bar per day.
function stackedBars(svg, days, series) {
  const totals = days.map((_, i) => series.reduce((s, ser) => s + ser.values[i], 0));
  const f = frame(svg, days, Math.max(...totals, 0), fmt);
  days.forEach((d, i) => {
    let base = 0;
    for (const ser of series) {
      const v = ser.values[i];
      if (v > 0) {
        const r = el('rect', { x: f.x(i) + f.slot * 0.15, width: f.slot * 0.7, y: f.y(base + v),
          height: f.y(base) - f.y(base + v), class: ser.cls }, svg);
        el('title', {}, r).textContent = `${d} ${ser.name}: ${v}`;
      }
      base += v;
    }
  });
}

function lines(svg, days, series, label, withBars) {
  const all = series.flatMap((s) => s.values).concat(withBars ? withBars.values : []);
  const f = frame(svg, days, Math.max(...all, 0), label);
  if (withBars) {
    days.forEach((d, i) => {
      const v = withBars.values[i];
      if (v > 0) {
        const r = el('rect', { x: f.x(i) + f.slot * 0.15, width: f.slot * 0.7, y: f.y(v), height: f.y(0) - f.y(v),
          class: withBars.cls }, svg);
        el('title', {}, r).textContent = `${d} ${withBars.name}: ${label(v)}`;
      }
    });
  }
  for (const ser of series) {
    const pts = [];
    ser.values.forEach((v, i) => { if (ser.present[i]) pts.push(`${f.x(i) + f.slot / 2},${f.y(v)}`); });
    if (pts.length > 0) el('polyline', { points: pts.join(' '), class: 'line ' + ser.cls }, svg);
    ser.values.forEach((v, i) => {
      if (ser.present[i]) {
        const c = el('circle', { cx: f.x(i) + f.slot / 2, cy: f.y(v), r: 2.5, class: ser.cls }, svg);
        el('title', {}, c).textContent = `${days[i]} ${ser.name}: ${label(v)}`;
      }
    });
  }
}

// One horizontal bar split into text, image and completion tokens, with their shares.
function split(svg, total) {
  svg.replaceChildren();
  svg.setAttribute('viewBox', `0 0 ${W} ${H}`);
  const parts = [['text', total.text_tokens, 's-text'], ['image', total.image_tokens, 's-image'],
    ['completion', total.completion_tokens, 's-completion']];
  const sum = parts.reduce((s, p) => s + p[1], 0);
  let x = PAD.left;
  const width = W - PAD.left - PAD.right;
  parts.forEach(([name, v, cls], i) => {
    const w = sum > 0 ? v / sum * width : 0;
    if (w > 0) {
      const r = el('rect', { x, y: 40, width: w, height: 60, class: cls }, svg);
      el('title', {}, r).textContent = `${name}: ${v}`;
    }
    const share = sum > 0 ? (100 * v / sum).toFixed(1) + '%' : '–';
    el('text', { x: PAD.left, y: 130 + i * 22, class: 'axis' }, svg).textContent = `${name}: ${fmt(v)} tokens (${share})`;
    x += w;
  });
}

async function report(groupBy, from, to) {
  const res = await fetch(`/v1/usage?group_by=${groupBy}&from=${from}&to=${to}`, { headers: apiHeaders() });
  if (!res.ok) throw new Error(await errorMessage(res));
  return res.json();
}

async function refresh() {
  $('error').hidden = true;
  const span = Number($('range').value);
  const today = new Date();
  const start = new Date(Date.UTC(today.getUTCFullYear(), today.getUTCMonth(), today.getUTCDate() - span + 1));
  const from = day(start), to = day(today);
  let byDay, byKey;
  try {
    [byDay, byKey] = await Promise.all([report('day', from, to), report('key', from, to)]);
  } catch (e) {
    $('error').textContent = e.message;
    $('error').hidden = false;
    return;
  }
  const cur = byDay.currency;
  const t = byDay.total;
  $('scope').textContent = `${from} to ${to} (UTC)` + (byDay.key_id ? ` · key ${byDay.key_id} only` : ' · all keys');
  $('sum-requests').textContent = t.requests;
  $('sum-errors').textContent = t.errors + ' errors';
  $('sum-tokens').textContent = fmt(t.text_tokens + t.image_tokens + t.completion_tokens);
  $('sum-token-split').textContent = `${fmt(t.text_tokens)} text · ${fmt(t.image_tokens)} image · ${fmt(t.completion_tokens)} completion`;
  $('sum-cost').textContent = money(t.cost, cur);
  $('sum-cost-per-1k').textContent = money(t.cost_per_1000_requests, cur) + ' per 1000 requests';
  $('sum-reference').textContent = money(t.reference_cost, cur);
  $('sum-saving').textContent = 'saving ' + money(t.saving, cur);
  $('sum-latency').textContent = `${ms(t.latency_ms.p50)} / ${ms(t.latency_ms.p95)} / ${ms(t.latency_ms.p99)}`;
  $('sum-busy').textContent = ms(t.busy_ms) + ' of engine time';

  const days = [];
  for (let d = new Date(start); day(d) <= to; d.setUTCDate(d.getUTCDate() + 1)) days.push(day(d));
  const row = Object.fromEntries(byDay.data.map((r) => [r.group, r]));
  const get = (k) => days.map((d) => (row[d] ? (k === 'p50' || k === 'p95' || k === 'p99' ? row[d].latency_ms[k] : row[d][k]) : 0));
  const present = days.map((d) => Boolean(row[d] && row[d].requests > 0));
  stackedBars($('chart-tokens'), days, [
    { name: 'text', cls: 's-text', values: get('text_tokens') },
    { name: 'image', cls: 's-image', values: get('image_tokens') },
    { name: 'completion', cls: 's-completion', values: get('completion_tokens') },
  ]);
  lines($('chart-cost'), days, [{ name: 'reference API', cls: 's-reference', values: get('reference_cost'), present }],
    short, { name: 'cost', cls: 's-cost', values: get('cost') });
  split($('chart-split'), t);
  lines($('chart-latency'), days, ['p50', 'p95', 'p99'].map((p) => ({ name: p, cls: 's-' + p, values: get(p), present })),
    (v) => ms(v));

  const body = $('by-key').tBodies[0];
  body.replaceChildren();
  for (const r of byKey.data) {
    const tr = body.insertRow();
    for (const v of [r.group, r.requests, r.errors, fmt(r.text_tokens), fmt(r.image_tokens), fmt(r.completion_tokens),
      money(r.cost, cur), money(r.cost_per_1000_requests, cur), money(r.reference_cost, cur), money(r.saving, cur),
      ms(r.latency_ms.p95)]) {
      tr.insertCell().textContent = v;
    }
  }
}

bindKeyField(refresh);
$('range').addEventListener('change', refresh);
$('refresh').addEventListener('click', refresh);
refresh();
