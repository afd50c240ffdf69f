// The header line: readiness from /readyz, and the deliveries of about the
// last minute from /metrics (gateway_deliveries_total, every answer of the
// ingest endpoints, summed over sources and statuses; 4xx and 5xx answers
// are the refused part).

const EVERY_MS = 5000;
const WINDOW_MS = 60000;

/**
 * The sum of `gateway_deliveries_total` and of its refused (4xx/5xx) part;
 * a gateway that has answered no delivery yet has no such series: 0.
 */
export function deliveries(metricsText) {
  let total = 0;
  let refused = 0;
  for (const line of metricsText.split('\n')) {
    const match = /^gateway_deliveries_total(?:\{([^}]*)\})?\s+(\S+)/.exec(line);
    if (!match) continue;
    const value = Number(match[2]);
    total += value;
    const status = /status="(\d+)"/.exec(match[1] ?? '')?.[1];
    if (status && Number(status) >= 400) refused += value;
  }
  return { total, refused };
}

/**
 * Keeps `sample` in `samples` (oldest first), dropping those older than
 * needed: the first kept is the newest one at least a minute old. A counter
 * that went down (the gateway restarted) starts the samples over.
 */
export function keep(samples, sample) {
  if (samples.length && sample.total < samples.at(-1).total) samples.length = 0;
  samples.push(sample);
  while (samples.length > 2 && sample.at - samples[1].at >= WINDOW_MS) samples.shift();
}

/** What the header says of the samples kept. */
export function rate(samples) {
  if (samples.length < 2) return 'deliveries: measuring';
  const first = samples[0];
  const last = samples.at(-1);
  const ms = last.at - first.at;
  const span = ms >= WINDOW_MS ? 'the last minute' : `the last ${Math.round(ms / 1000)} s`;
  return `${last.total - first.total} deliveries in ${span} (${last.refused - first.refused} refused)`;
}

async function readiness() {
  try {
    const response = await fetch('/readyz', { cache: 'no-store' });
    const body = await response.json();
    const parts = Object.entries(body).map(([part, state]) => `${part} ${state}`);
    return { ok: response.ok, text: parts.join(' · ') };
  } catch {
    return { ok: false, text: 'gateway unreachable' };
  }
}

async function metrics() {
  try {
    const response = await fetch('/metrics', { cache: 'no-store' });
    return response.ok ? deliveries(await response.text()) : null;
  } catch {
    return null;
  }
}

/** Keeps `el` up to date. */
export function watch(el) {
  const samples = [];
  async function tick() {
    const [ready, counted] = await Promise.all([readiness(), metrics()]);
    if (counted) keep(samples, { at: Date.now(), ...counted });
    const deliveriesText = counted ? rate(samples) : 'deliveries: no /metrics';
    el.textContent = `${ready.ok ? 'Ready' : 'Not ready'}: ${ready.text} · ${deliveriesText}`;
    el.classList.toggle('down', !ready.ok);
  }
  tick();
  setInterval(tick, EVERY_MS);
}
