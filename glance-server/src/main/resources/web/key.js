'use strict';
// The API key field both pages share: kept in this browser's localStorage, sent as a Bearer token
// with every API call. Only needed when the server has keys (glance keys create, --require-keys).

const KEY_STORE = 'glance.apiKey';

function apiKey() {
  try { return localStorage.getItem(KEY_STORE) || ''; } catch (e) { return ''; }
}

function apiHeaders(extra) {
  const headers = Object.assign({}, extra || {});
  const key = apiKey();
  if (key) headers['Authorization'] = 'Bearer ' + key;
  return headers;
}

// Calls onChange after the key was edited (and saved).
function bindKeyField(onChange) {
  const field = document.getElementById('api-key');
  field.value = apiKey();
  field.addEventListener('change', () => {
    try {
      if (field.value.trim()) localStorage.setItem(KEY_STORE, field.value.trim());
      else localStorage.removeItem(KEY_STORE);
    } catch (e) { /* storage disabled: the key lasts as long as the page */ }
    if (onChange) onChange();
  });
}

// The message of an OpenAI-style error body, else the status line.
async function errorMessage(res) {
  const body = await res.json().catch(() => null);
  return body && body.error ? body.error.message : res.status + ' ' + res.statusText;
}
