// The dashboard's access to the native API: JSON calls and the SSE stream (read with fetch, not
// EventSource, because the token goes in the Authorization header, never in a URL). The token
// lives in sessionStorage only: gone when the browser session ends.
/* global fetch, sessionStorage, TextDecoder, setTimeout, clearTimeout, URLSearchParams, AbortController */

const KEY = 'rtm-token';

export const token = {
  get: () => sessionStorage.getItem(KEY) || '',
  set: (t) => sessionStorage.setItem(KEY, t),
};

export async function api(path, body) {
  const res = await fetch(path, {
    method: body === undefined ? 'GET' : 'POST',
    headers: { Authorization: 'Bearer ' + token.get(), ...(body === undefined ? {} : { 'Content-Type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const answer = await res.json();
  if (!res.ok) throw new Error((answer.error && answer.error.detail) || res.statusText);
  return answer;
}

/**
 * Opens /rtm/v1/stream and calls onEvent(second, data) per published second. After a network
 * drop it reconnects with the last id it saw (the server resumes there: no gap, no duplicate).
 * onState('live' | 'reconnecting' | 'error: ...'). Returns { close }.
 */
export function openStream({ services, fields, after, onEvent, onState }) {
  let last = after;
  let closed = false;
  let controller;
  let retryMs = 500;
  let timer;

  async function connect() {
    controller = new AbortController();
    const q = new URLSearchParams();
    for (const s of services) q.append('service', s);
    q.set('fields', fields.join(','));
    if (last !== undefined) q.set('lastEventId', String(last));
    try {
      const res = await fetch('/rtm/v1/stream?' + q, { headers: { Authorization: 'Bearer ' + token.get(), Accept: 'text/event-stream' }, signal: controller.signal });
      if (!res.ok) {
        const body = await res.json().catch(() => ({}));
        throw new Error((body.error && body.error.detail) || res.statusText);
      }
      onState('live');
      retryMs = 500;
      const reader = res.body.getReader();
      const decoder = new TextDecoder();
      let buffer = '';
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buffer += decoder.decode(value, { stream: true });
        let at;
        while ((at = buffer.indexOf('\n\n')) >= 0) {
          const block = buffer.slice(0, at);
          buffer = buffer.slice(at + 2);
          let id;
          let event = 'message';
          let data = '';
          for (const line of block.split('\n')) {
            if (line.startsWith('id: ')) id = Number(line.slice(4));
            else if (line.startsWith('event: ')) event = line.slice(7);
            else if (line.startsWith('data: ')) data += line.slice(6);
          }
          if (event === 'error') {
            const err = JSON.parse(data).error;
            // Too far behind to resume: start again from now (the caller reloads history).
            onState('error: ' + err.detail);
            last = undefined;
          } else if (id !== undefined && data) {
            last = id;
            onEvent(id, JSON.parse(data));
          }
        }
      }
    } catch (err) {
      if (closed) return;
      onState('reconnecting (' + err.message + ')');
    }
    if (closed) return;
    onState('reconnecting');
    timer = setTimeout(connect, retryMs);
    retryMs = Math.min(retryMs * 2, 10000);
  }
  connect();
  return {
    close() {
      closed = true;
      clearTimeout(timer);
      if (controller) controller.abort();
    },
  };
}
