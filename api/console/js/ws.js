// One GraphQL subscription over graphql-transport-ws that survives its
// socket: on a reconnect, or when the gateway ends it with an `error` that
// carries `extensions.resumeAfter` (FEED_UNAVAILABLE, SHUTTING_DOWN,
// SUBSCRIBER_TOO_SLOW), it subscribes again with `after` = that cursor (or
// its last one), so nothing is missed or repeated. Any other error ends it.
import { connectionInit } from './api.js';

const MAX_BACKOFF_MS = 5000;

function url() {
  const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
  return `${scheme}://${location.host}/graphql/ws`;
}

/**
 * Subscribes `query` (whose `$after` the client fills) with `variables`.
 * `onEvent(data)` gets each result, `cursorOf(data)` names its cursor,
 * `onState(text)` is told what the connection is doing, `onFatal(message)`
 * when it will not go on (key refused, query refused).
 * Returns {stop(), cursor()}.
 */
export function subscribe({ query, variables, after, cursorOf, onEvent, onState, onFatal }) {
  let cursor = after ?? null;
  let socket = null;
  let active = null; // id of the subscription running on `socket`
  let ids = 0;
  let failures = 0;
  let stopped = false;
  let timer = null;

  const send = (message) => socket.send(JSON.stringify(message));
  const backoff = () => Math.min(MAX_BACKOFF_MS, 500 * 2 ** failures++);

  function later(what, run) {
    const ms = backoff();
    onState(`${what}; retrying in ${(ms / 1000).toFixed(1)} s`);
    clearTimeout(timer);
    timer = setTimeout(run, ms);
  }

  function connect() {
    if (stopped) return;
    onState('connecting');
    const current = new WebSocket(url(), 'graphql-transport-ws');
    socket = current;
    active = null;
    current.onopen = () => send({ type: 'connection_init', payload: connectionInit() });
    current.onmessage = (message) => {
      if (socket === current) handle(JSON.parse(message.data));
    };
    current.onclose = (event) => {
      if (socket !== current || stopped) return;
      if (event.code === 4403) {
        stopped = true;
        onFatal('The gateway refused the key on the WebSocket (4403).');
      } else {
        later(`disconnected (${event.code})`, connect);
      }
    };
  }

  function start() {
    if (stopped || active || socket?.readyState !== WebSocket.OPEN) return;
    active = String(++ids);
    send({ id: active, type: 'subscribe', payload: { query, variables: { ...variables, after: cursor } } });
    onState('live');
  }

  function handle(message) {
    switch (message.type) {
      case 'connection_ack':
        start();
        break;
      case 'ping':
        send({ type: 'pong' });
        break;
      case 'next': {
        if (message.id !== active) return;
        const { data, errors } = message.payload;
        if (errors?.length) return fatal(errors);
        failures = 0;
        cursor = cursorOf(data);
        onEvent(data);
        break;
      }
      case 'error': {
        if (message.id !== active) return;
        active = null;
        const errors = message.payload ?? [];
        const ending = errors[0]?.extensions ?? {};
        // `resumeAfter` is null only when nothing was delivered and the store
        // was empty: then the cursor stays as it was.
        if (!('resumeAfter' in ending)) return fatal(errors);
        cursor = ending.resumeAfter ?? cursor;
        later(`the gateway ended the subscription (${ending.code ?? 'ended'})`, start);
        break;
      }
      case 'complete':
        if (message.id !== active) return;
        active = null;
        later('the gateway completed the subscription', start);
        break;
      default:
        break;
    }
  }

  function fatal(errors) {
    stop();
    onFatal(errors.map((e) => `${e.message}${e.extensions?.code ? ` (${e.extensions.code})` : ''}`).join('\n'));
  }

  function stop() {
    stopped = true;
    clearTimeout(timer);
    if (socket?.readyState === WebSocket.OPEN) {
      if (active) send({ id: active, type: 'complete' });
      socket.close(1000);
    } else {
      socket?.close();
    }
  }

  connect();
  return { stop, cursor: () => cursor };
}
