// The header line: readiness from /readyz, deliveries per minute from
// /metrics (gateway_deliveries_total, summed over sources and statuses).

const EVERY_MS = 5000;
const WINDOW_MS = 60000;

/** The sum of `gateway_deliveries_total` and of its refused (4xx/5xx) part, or null. */
export function deliveries(metricsText) {
  let total = 0;
  let refused = 0;
  let seen = false;
  for (const line of metricsText.split('\n')) {
    const match = /^gateway_deliveries_total(?:\{([^}]*)\})?\s+(\S+)/.exec(line);
    if (!match) continue;
    seen = true;
    const value = Number(match[2]);
    total += value;
    const status = /status="(\d+)"/.exec(match[1] ?? '')?.[1];
    if (status && Number(status) >= 400) refused += value;
  }
  return seen ? { total, refused } : null;
}

/** Per minute over the samples kept (oldest to newest). */
export function perMinute(samples) {
  if (samples.length < 2) return null;
  const first = samples[0];
  const last = samples.at(-1);
  const minutes = (last.at - first.at) / 60000;
  return {
    total: (last.total - first.total) / minutes,
    refused: (last.refused - first.refused) / minutes,
  };
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
    let rate = 'deliveries/min: no /metrics';
    if (counted) {
      const now = Date.now();
      samples.push({ at: now, ...counted });
      while (samples.length > 2 && now - samples[0].at > WINDOW_MS) samples.shift();
      const per = perMinute(samples);
      rate = per
        ? `${per.total.toFixed(0)} deliveries/min (${per.refused.toFixed(0)} refused)`
        : 'deliveries/min: measuring';
    }
    el.textContent = `${ready.ok ? 'Ready' : 'Not ready'}: ${ready.text} · ${rate}`;
    el.classList.toggle('down', !ready.ok);
  }
  tick();
  setInterval(tick, EVERY_MS);
}
