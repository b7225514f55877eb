'use strict';
// The Glance web page: pick an image, ask, stream the answer from /v1/chat/completions (SSE),
// then show token counts and where the time went. No dependencies, nothing loaded from elsewhere.

const $ = (id) => document.getElementById(id);
let modelName = null;
let imageUrl = null;
let controller = null;

let modelTimer = null;

async function loadModel() {
  clearTimeout(modelTimer);
  try {
    const res = await fetch('/v1/models', { headers: apiHeaders() });
    if (res.status === 401 || res.status === 403) {
      // Asking again will not help: wait until the key field changes (bindKeyField calls us).
      $('model').textContent = 'not allowed: ' + await errorMessage(res);
      return;
    }
    if (!res.ok) throw new Error(await errorMessage(res));
    const body = await res.json();
    modelName = body.data[0].id;
    $('model').textContent = modelName + ' · context ' + body.data[0].max_model_len + ' tokens';
  } catch (e) {
    $('model').textContent = 'not ready: ' + e.message;
    modelTimer = setTimeout(loadModel, 2000);
  }
}

function setImage(file) {
  if (!file) return;
  if (!file.type.startsWith('image/')) { showError(file.name + ' is not an image'); return; }
  const reader = new FileReader();
  reader.onload = () => {
    imageUrl = reader.result;
    $('preview').src = imageUrl;
    $('preview').hidden = false;
    $('drop-hint').hidden = true;
    const size = file.size < 1024 ? file.size + ' bytes' : Math.round(file.size / 1024) + ' KiB';
    $('image-info').textContent = (file.name || 'pasted image') + ' · ' + size;
    $('preview').onload = () => {
      $('image-info').textContent += ' · ' + $('preview').naturalWidth + '×' + $('preview').naturalHeight;
    };
    clearError();
  };
  reader.readAsDataURL(file);
}

function showError(message) { $('error').textContent = message; $('error').hidden = false; }
function clearError() { $('error').hidden = true; $('error').textContent = ''; }
function money(v, currency) { return (v < 0.01 && v > 0 ? v.toPrecision(3) : v.toFixed(4)) + ' ' + currency; }
function ms(v) { return v === undefined || v === null ? '–' : (v >= 1000 ? (v / 1000).toFixed(2) + ' s' : v.toFixed(1) + ' ms'); }

function resetOutput() {
  clearError();
  $('answer').textContent = '';
  $('reasoning').textContent = '';
  $('reasoning-box').hidden = true;
  for (const id of ['stat-image-tokens', 'stat-prompt-tokens', 'stat-completion-tokens', 'stat-ttft', 'stat-tps', 'stat-finish', 'stat-cost']) {
    $(id).textContent = '–';
  }
  for (const td of $('timings').children) td.textContent = '–';
}

function showUsage(usage, timings) {
  const details = usage.prompt_tokens_details || {};
  $('stat-image-tokens').textContent = details.image_tokens ?? '–';
  $('stat-prompt-tokens').textContent = usage.prompt_tokens;
  $('stat-completion-tokens').textContent = usage.completion_tokens;
  if (usage.cost) $('stat-cost').textContent = money(usage.cost.amount, usage.cost.currency);
  if (timings) {
    $('stat-ttft').textContent = ms(timings.first_token_ms);
    $('stat-tps').textContent = timings.decode_tokens_per_second ? timings.decode_tokens_per_second.toFixed(1) : '–';
    const cells = $('timings').children;
    const keys = ['queue_ms', 'preprocess_ms', 'vision_ms', 'prefill_ms', 'decode_ms', 'total_ms'];
    keys.forEach((k, i) => { cells[i].textContent = ms(timings[k]); });
  }
}

async function ask() {
  if (!modelName) { showError('the model is not loaded yet'); return; }
  const question = $('question').value.trim();
  if (!question) { showError('type a question'); return; }
  resetOutput();
  const content = [];
  if (imageUrl) content.push({ type: 'image_url', image_url: { url: imageUrl } });
  content.push({ type: 'text', text: question });
  const body = {
    model: modelName,
    messages: [{ role: 'user', content }],
    stream: true,
    stream_options: { include_usage: true },
    max_tokens: Number($('max-tokens').value),
    temperature: Number($('temperature').value),
    chat_template_kwargs: { enable_thinking: $('thinking').checked },
  };
  controller = new AbortController();
  $('ask').disabled = true;
  $('stop').disabled = false;
  $('status').textContent = 'waiting for the model…';
  const sent = performance.now();
  try {
    const res = await fetch('/v1/chat/completions', {
      method: 'POST',
      headers: apiHeaders({ 'Content-Type': 'application/json' }),
      body: JSON.stringify(body),
      signal: controller.signal,
    });
    if (!res.ok) throw new Error(await errorMessage(res));
    await readStream(res, sent);
  } catch (e) {
    if (e.name === 'AbortError') { $('status').textContent = 'stopped'; }
    else { showError(e.message); $('status').textContent = ''; }
  } finally {
    $('ask').disabled = false;
    $('stop').disabled = true;
    controller = null;
  }
}

async function readStream(res, sent) {
  const reader = res.body.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  let first = null;
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += decoder.decode(value, { stream: true });
    let cut;
    while ((cut = buffer.indexOf('\n\n')) >= 0) {
      const event = buffer.slice(0, cut);
      buffer = buffer.slice(cut + 2);
      for (const line of event.split('\n')) {
        if (!line.startsWith('data: ')) continue;
        const data = line.slice(6);
        if (data === '[DONE]') { $('status').textContent = 'done'; return; }
        const chunk = JSON.parse(data);
        if (chunk.error) throw new Error(chunk.error.message);
        for (const choice of chunk.choices || []) {
          const delta = choice.delta || {};
          if (delta.reasoning_content) {
            $('reasoning-box').hidden = false;
            $('reasoning').textContent += delta.reasoning_content;
          }
          if (delta.content) $('answer').textContent += delta.content;
          if ((delta.content || delta.reasoning_content) && first === null) {
            first = performance.now() - sent;
            $('stat-ttft').textContent = ms(first);
            $('status').textContent = 'generating…';
          }
          if (choice.finish_reason) $('stat-finish').textContent = choice.finish_reason;
        }
        if (chunk.usage) showUsage(chunk.usage, chunk.timings);
      }
    }
  }
}

$('file').addEventListener('change', (e) => setImage(e.target.files[0]));
const drop = $('drop');
drop.addEventListener('dragover', (e) => { e.preventDefault(); drop.classList.add('over'); });
drop.addEventListener('dragleave', () => drop.classList.remove('over'));
drop.addEventListener('drop', (e) => {
  e.preventDefault();
  drop.classList.remove('over');
  setImage(e.dataTransfer.files[0]);
});
document.addEventListener('paste', (e) => {
  for (const item of e.clipboardData.items) {
    if (item.type.startsWith('image/')) { setImage(item.getAsFile()); e.preventDefault(); return; }
  }
});
$('ask').addEventListener('click', ask);
$('stop').addEventListener('click', () => controller && controller.abort());
$('question').addEventListener('keydown', (e) => { if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) ask(); });
bindKeyField(loadModel);
loadModel();
