// app.js - the Stratus dashboard (docs/dashboard.md).  One page that reads
// the server's JSON API every POLL_MS and redraws: the jobs of each team with
// their placements, the services, the queue, a world map of the regions where
// GPUs run now, spend over time by cloud or team, and the attempt timeline of
// a job one clicks.  No data is in the page itself: every read goes through
// the API with a bearer token (sessionStorage) or the session cookie that a
// `stratus dashboard` link set.  Text from the API is only ever put in the
// page as text (textContent), never as markup.
//
// Layout: helpers; the API and sign-in; the map; spend; jobs, queue and
// services; the job detail; the poll loop.

const POLL_MS = 2000;
const SERIES_MAX_AGE_MS = 60000; // the spend chart of a long history: once a minute
const TOKEN_KEY = "stratus.token";
const SVG_NS = "http://www.w3.org/2000/svg";
const LIVE = new Set(["PROVISIONING", "RUNNING", "RECOVERING"]);
const ENDED = new Set(["SUCCEEDED", "FAILED", "CANCELLED"]);
const ENDED_SHOWN = 200; // "show ended": the newest jobs, not a lab's whole history
const CLOUD_COLORS = { azure: "#2f7fd6", gcp: "#34a853", oci: "#d0463a", aws: "#f29111" };
const PALETTE = ["#7a5cd6", "#16a085", "#d4ac0d", "#c2185b", "#5d6d7e", "#e67e22", "#2e86c1"];

const state = {
  token: sessionStorage.getItem(TOKEN_KEY),
  regions: null, // [{cloud, region, lat, lon}] from /v1/regions
  by: "cloud", // spend series key
  plot: null, // the uPlot chart and the keys it was made for
  plotKeys: "",
  series: null, // the last spend series: {by, at, body}
  selected: null, // job id shown in the detail
  colors: new Map(),
  timer: null,
};

// ---- helpers ----

const $ = (id) => document.getElementById(id);

// An element with attributes and children (strings become text nodes).
function el(tag, attrs = {}, ...kids) {
  const svg = ["svg", "g", "circle", "path", "rect", "line", "text", "title", "polygon"].includes(tag);
  const e = svg ? document.createElementNS(SVG_NS, tag) : document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === "class") e.setAttribute("class", v);
    else if (k === "bg") e.style.background = v; // CSSOM: the page's CSP allows no style attributes
    else if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
    else e.setAttribute(k, v === true ? "" : String(v));
  }
  for (const k of kids.flat()) {
    if (k === null || k === undefined) continue;
    e.append(k instanceof Node ? k : document.createTextNode(String(k)));
  }
  return e;
}

function colorOf(key) {
  if (CLOUD_COLORS[key]) return CLOUD_COLORS[key];
  if (!state.colors.has(key)) state.colors.set(key, PALETTE[state.colors.size % PALETTE.length]);
  return state.colors.get(key);
}

const usd = (v) => "$" + (v >= 100 ? v.toFixed(0) : v >= 1 ? v.toFixed(2) : v.toFixed(4));

function ago(s) {
  if (s < 0) s = 0;
  if (s < 90) return Math.round(s) + "s";
  if (s < 5400) return Math.round(s / 60) + "m";
  if (s < 172800) return (s / 3600).toFixed(1) + "h";
  return (s / 86400).toFixed(1) + "d";
}

const plural = (n, one, many) => `${n} ${n === 1 ? one : many || one + "s"}`;
const clock = (t) => (t ? new Date(t * 1000).toLocaleTimeString() : "–");
const teamOf = (j) => j.team || "(no team)";
const where = (p) => (p ? p.cloud + "/" + p.region : "");

// ---- the API and sign-in ----

class AuthError extends Error {}

async function api(path) {
  const headers = state.token ? { Authorization: "Bearer " + state.token } : {};
  const r = await fetch(path, { headers, credentials: "same-origin", cache: "no-store" });
  const body = await r.json().catch(() => null);
  if (r.status === 401) throw new AuthError(body?.error?.message || "sign in");
  if (!r.ok) throw new Error(body?.error?.message || "HTTP " + r.status + " for " + path);
  return body;
}

// The URL's fragment (never sent to the server): "#token=..." moves to
// sessionStorage and out of the address bar and history; "#job=ID" opens
// that job's detail; "#ended=1" ticks "show ended".
function takeFragment() {
  const f = new URLSearchParams(location.hash.slice(1));
  if (f.get("job")) state.selected = Number(f.get("job"));
  if (f.get("ended") === "1") $("show-ended").checked = true;
  if (!f.get("token")) return;
  state.token = f.get("token");
  sessionStorage.setItem(TOKEN_KEY, state.token);
  f.delete("token");
  history.replaceState(null, "", location.pathname + location.search + (f.toString() ? "#" + f : ""));
}

function showLogin(msg) {
  $("main").hidden = true;
  $("login").hidden = false;
  $("signout").hidden = !state.token;
  $("login-error").textContent = msg || "";
  $("status").textContent = "not signed in";
  document.body.dataset.ready = "login";
}

function setupLogin() {
  $("login-form").addEventListener("submit", (ev) => {
    ev.preventDefault();
    state.token = $("login-token").value.trim();
    state.series = null;
    $("login-token").value = "";
    sessionStorage.setItem(TOKEN_KEY, state.token);
    poll();
  });
  $("signout").addEventListener("click", () => {
    sessionStorage.removeItem(TOKEN_KEY);
    state.token = null;
    location.assign("/ui/logout"); // ends a login link's session, if any
  });
}

// ---- the map ----

// Equirectangular: 2 px per degree, latitudes 85 N to 65 S.
const mapX = (lon) => (lon + 180) * 2;
const mapY = (lat) => (85 - lat) * 2;

// One ring as path data; a ring crossing the antimeridian is unwrapped and
// drawn again 360 degrees over, the SVG's box cutting what falls outside.
function ringPath(ring) {
  let off = 0, prev = null, min = 180, max = -180;
  const pts = ring.map(([lon, lat]) => {
    if (prev !== null && Math.abs(lon + off - prev) > 180) off += lon + off > prev ? -360 : 360;
    prev = lon + off;
    min = Math.min(min, prev);
    max = Math.max(max, prev);
    return [prev, lat];
  });
  const d = (shift) => "M" + pts.map(([x, y]) => mapX(x + shift).toFixed(1) + "," + mapY(y).toFixed(1)).join("L") + "Z";
  return d(0) + (max > 180 ? d(-360) : "") + (min < -180 ? d(360) : "");
}

async function loadLand() {
  const r = await fetch("vendor/world-atlas/land-110m.json");
  const topo = await r.json();
  const land = topojson.feature(topo, topo.objects.land);
  const parts = [];
  for (const f of land.features || [land]) {
    const g = f.geometry;
    const polys = g.type === "Polygon" ? [g.coordinates] : g.coordinates;
    for (const poly of polys) for (const ring of poly) parts.push(ringPath(ring));
  }
  $("land").setAttribute("d", parts.join(""));
  $("land").setAttribute("fill-rule", "evenodd");
}

function drawAllRegions() {
  const g = $("regions-all");
  g.replaceChildren(...state.regions.map((r) =>
    el("circle", { cx: mapX(r.lon).toFixed(1), cy: mapY(r.lat).toFixed(1), r: 1.6, "data-catalog-region": r.cloud + "/" + r.region },
      el("title", {}, r.cloud + "/" + r.region))));
}

// Markers for the regions where jobs run now: size by accelerators.
function drawUsedRegions(jobs) {
  const used = new Map();
  for (const j of jobs) {
    const p = j.placement;
    if (!p || !LIVE.has(j.state)) continue;
    const key = where(p);
    const u = used.get(key) || { cloud: p.cloud, region: p.region, gpus: 0, nodes: 0, jobs: 0, spot: 0 };
    u.gpus += (p.acc_count || 0) * (p.nodes || 1);
    u.nodes += p.nodes || 1;
    u.jobs += 1;
    if (p.mode === "spot") u.spot += 1;
    used.set(key, u);
  }
  const byName = new Map((state.regions || []).map((r) => [r.cloud + "/" + r.region, r]));
  const marks = [], clouds = new Map();
  let gpus = 0;
  for (const [key, u] of used) {
    const r = byName.get(key);
    clouds.set(u.cloud, (clouds.get(u.cloud) || 0) + u.gpus);
    gpus += u.gpus;
    if (!r) continue; // a location the catalog has no coordinates for
    marks.push(el("circle", {
      cx: mapX(r.lon).toFixed(1), cy: mapY(r.lat).toFixed(1), r: (4 + 2.2 * Math.sqrt(u.gpus || u.nodes)).toFixed(1),
      fill: colorOf(u.cloud), "data-region": key, "data-cloud": u.cloud, "data-gpus": u.gpus, "data-jobs": u.jobs,
    }, el("title", {}, `${key}: ${u.gpus} GPUs on ${u.nodes} nodes, ${u.jobs} jobs (${u.spot} spot)`)));
  }
  $("regions-used").replaceChildren(...marks);
  $("map-summary").textContent = `${gpus} GPUs in ${used.size} regions`;
  $("map-legend").replaceChildren(...[...clouds].map(([c, n]) =>
    el("span", { "data-legend-cloud": c }, el("span", { class: "swatch", bg: colorOf(c) }), `${c} ${n} GPUs`)));
}

// ---- spend ----

function drawSpend(s) {
  const keys = s.series.map((x) => x.key);
  const sec = $("spend");
  sec.dataset.total = s.total.toFixed(6);
  sec.dataset.series = keys.length;
  sec.dataset.by = s.by;
  $("spend-total").textContent = `${usd(s.total)} in all, ${ago(s.step)} steps`;
  $("spend-table").tBodies[0].replaceChildren(...s.series.map((x) =>
    el("tr", { "data-series": x.key, "data-total": x.total.toFixed(6) },
      el("td", {}, el("span", { class: "swatch", bg: colorOf(x.key) })),
      el("td", {}, x.key), el("td", { class: "num" }, usd(x.total)))));
  // cumulative spend per series: 0 at the start, then at each bucket's end
  const t = [s.start, ...s.t.map((v) => v + s.step)];
  const data = [t, ...s.series.map((x) => { let acc = 0; return [0, ...x.usd.map((v) => (acc += v))]; })];
  const sig = s.by + "|" + keys.join(",");
  const box = $("spend-chart");
  if (typeof uPlot === "undefined") return;
  if (state.plot && state.plotKeys === sig) {
    state.plot.setData(data);
    return;
  }
  if (state.plot) state.plot.destroy();
  box.replaceChildren();
  const muted = getComputedStyle(document.body).getPropertyValue("--muted").trim() || "#888";
  const axis = { stroke: muted, grid: { stroke: "rgba(128,128,128,.15)" }, ticks: { stroke: "rgba(128,128,128,.3)" } };
  state.plot = new uPlot({
    width: Math.max(300, box.clientWidth || 900), height: 220,
    scales: { x: { time: true } },
    axes: [axis, { ...axis, size: 72, values: (u, v) => v.map((x) => usd(x)) }],
    series: [{}, ...keys.map((k) => ({ label: k, stroke: colorOf(k), width: 2, value: (u, v) => (v == null ? "" : usd(v)) }))],
  }, data, box);
  state.plotKeys = sig;
}

function setupSpend() {
  for (const b of document.querySelectorAll("#spend .toggle button")) {
    b.addEventListener("click", () => {
      state.by = b.dataset.by;
      for (const o of document.querySelectorAll("#spend .toggle button")) o.classList.toggle("on", o === b);
      poll();
    });
  }
}

// ---- jobs, queue, services ----

function jobRow(j, now) {
  const p = j.placement;
  return el("tr", {
    "data-job": j.id, "data-team": teamOf(j), "data-state": j.state, "data-placement": where(p) || null,
    "data-mode": p ? p.mode : null, class: state.selected === j.id ? "sel" : null, onclick: () => select(j.id),
  },
  el("td", {}, "#" + j.id), el("td", {}, j.name), el("td", {}, j.kind),
  el("td", {}, el("span", { class: "state " + j.state }, j.state)),
  el("td", {}, p ? where(p) + (p.zone ? " (" + p.zone + ")" : "") : el("span", { class: "muted" }, j.reason || "")),
  el("td", {}, p ? `${p.instance_type}${p.nodes > 1 ? " ×" + p.nodes : ""}${p.accelerator ? " · " + p.acc_count + "×" + p.accelerator : ""}` : ""),
  el("td", { class: p && p.mode === "spot" ? "spot" : "" }, p ? p.mode : ""),
  el("td", { class: "num" }, usd(j.cost_so_far ?? j.cost)),
  el("td", { class: "num" }, ago(now - (j.started_at || j.submitted_at))));
}

function drawJobs(jobs, now, more) {
  const showEnded = $("show-ended").checked;
  const shown = jobs.filter((j) => j.service_id == null && (showEnded || !ENDED.has(j.state)));
  const teams = new Map();
  for (const j of shown) {
    if (!teams.has(teamOf(j))) teams.set(teamOf(j), []);
    teams.get(teamOf(j)).push(j);
  }
  const head = el("tr", {}, ...["job", "name", "kind", "state", "where", "instance", "mode", "cost", "age"].map((h) =>
    el("th", { class: h === "cost" || h === "age" ? "num" : null }, h)));
  const out = [];
  for (const [team, js] of [...teams].sort((a, b) => a[0].localeCompare(b[0]))) {
    const gpus = js.filter((j) => LIVE.has(j.state) && j.placement)
      .reduce((n, j) => n + (j.placement.acc_count || 0) * (j.placement.nodes || 1), 0);
    out.push(el("div", { class: "team", "data-team-group": team }, `${team}`,
      el("span", { class: "muted" }, ` · ${plural(js.length, "job")} · ${gpus} GPUs now`)));
    out.push(el("table", { "data-team-jobs": team }, el("thead", {}, head.cloneNode(true)),
      el("tbody", {}, ...js.slice().reverse().map((j) => jobRow(j, now)))));
  }
  if (!out.length) out.push(el("p", { class: "muted" }, "No jobs yet."));
  if (showEnded && more)
    out.push(el("p", { class: "muted", "data-ended-more": "" },
      `Showing the newest ${ENDED_SHOWN} jobs with the running ones; \`stratus status\` lists every job.`));
  $("jobs").replaceChildren(...out);
}

function drawQueue(jobs, now) {
  const q = jobs.filter((j) => j.state === "PENDING")
    .sort((a, b) => b.priority - a.priority || a.submitted_at - b.submitted_at);
  $("queue-count").textContent = q.length ? q.length + " waiting" : "empty";
  $("queue").tBodies[0].replaceChildren(...q.map((j) =>
    el("tr", { "data-job": j.id, "data-queued": j.id, onclick: () => select(j.id) },
      el("td", {}, `#${j.id} ${j.name}`), el("td", {}, teamOf(j)), el("td", {}, j.priority),
      el("td", {}, ago(now - j.submitted_at)), el("td", { "data-reason": "" }, j.reason || ""))));
}

function drawServices(svcs, jobs) {
  const team = new Map(jobs.filter((j) => j.service_id != null).map((j) => [j.service_id, teamOf(j)]));
  const inst = new Map(jobs.filter((j) => j.placement).map((j) => [j.id, j.placement.instance_type]));
  $("services").tBodies[0].replaceChildren(...svcs.map((s) =>
    el("tr", { "data-service": s.name, "data-team": team.get(s.id) || "" },
      el("td", {}, s.name, el("div", { class: "muted" }, team.get(s.id) || "")),
      el("td", {}, el("span", { class: "state " + s.state }, s.state)),
      el("td", {}, ...s.replicas.map((r) => el("div", { "data-replica": r.id, "data-placement": r.cloud ? r.cloud + "/" + r.region : null },
        `#${r.id} ${r.state}${r.cloud ? ` · ${r.cloud}/${r.region} ${inst.get(r.id) || ""} ${r.mode}` : ""}`))),
      el("td", { class: "num" }, (s.qps || 0).toFixed(1)), el("td", { class: "num" }, usd(s.cost || 0)))));
  if (!svcs.length) $("services").tBodies[0].replaceChildren(el("tr", {}, el("td", { colspan: 5, class: "muted" }, "No services.")));
}

// Each team the caller sees: its quotas and what they hold (over 100%:
// borrowed from its cohort), its month's spend against its budget.
function drawTeams(teams) {
  const quota = (t, q) => {
    const used = q.used ?? 0, cap = Math.max(q.gpus, 1);
    return el("div", { class: "quota", "data-quota": `${t.name}/${q.accelerator}${q.cloud ? "@" + q.cloud : ""}`, "data-used": used, "data-gpus": q.gpus },
      el("span", {}, `${q.accelerator === "*" ? "any GPU" : q.accelerator}${q.cloud ? " on " + q.cloud : ""}`),
      el("progress", { max: cap, value: Math.min(used, cap) }),
      el("span", { class: "num" }, `${used} / ${q.gpus} GPUs${used > q.gpus ? " (borrowing)" : ""}`));
  };
  const spend = (t) => el("div", { class: "quota", "data-spend": t.name },
    el("span", {}, "this month"),
    t.budget ? el("progress", { max: t.budget.usd, value: Math.min(t.month_spend || 0, t.budget.usd) }) : el("span"),
    el("span", { class: "num" }, usd(t.month_spend || 0) + (t.budget ? ` of ${usd(t.budget.usd)} (${t.budget.limit})` : "")));
  $("teams-count").textContent = teams.length ? plural(teams.length, "team") : "";
  $("teams").replaceChildren(...(teams.length ? teams.map((t) => el("div", { class: "team", "data-team-card": t.name },
    el("div", {}, el("strong", {}, t.name), el("span", { class: "muted" },
      ` ${t.cohort ? "cohort " + t.cohort + " · " : ""}weight ${t.weight} · fair share ${(t.fair_share ?? 1).toFixed(2)}`)),
    ...(t.quota || []).map((q) => quota(t, q)), spend(t))) : [el("p", { class: "muted" }, "No teams (docs/teams.md).")]));
}

// ---- the job detail: its attempts on a time line, and its events ----

function select(id) {
  state.selected = id;
  for (const r of document.querySelectorAll("tr[data-job]")) r.classList.toggle("sel", Number(r.dataset.job) === id);
  drawDetail().catch((e) => ($("status").textContent = "error: " + e.message));
}

const MODE_COLORS = { spot: "#3b6fd8", "on-demand": "#1e8e3e", committed: "#8e44ad" };

function drawTimeline(j, atts, events, now) {
  const svg = $("timeline");
  const W = Math.max(400, svg.clientWidth || 1000), H = 90, pad = 12;
  svg.setAttribute("viewBox", `0 0 ${W} ${H}`);
  const t0 = j.submitted_at, t1 = Math.max(j.ended_at || now, t0 + 1);
  const x = (t) => pad + ((t - t0) / (t1 - t0)) * (W - 2 * pad);
  const kids = [el("line", { class: "axis", x1: pad, x2: W - pad, y1: 70, y2: 70 }),
    el("text", { x: pad, y: 86 }, clock(t0)), el("text", { x: W - pad, y: 86, "text-anchor": "end" }, j.ended_at ? clock(t1) : "now")];
  for (const a of atts) {
    if (!a.launched_at) continue;
    const end = a.ended_at || now, run = a.running_at || end;
    const color = MODE_COLORS[a.mode] || "#888";
    kids.push(el("rect", { x: x(a.launched_at), y: 30, width: Math.max(1, x(run) - x(a.launched_at)), height: 22, fill: color, opacity: 0.35 },
      el("title", {}, `attempt ${a.n} launching in ${a.cloud}/${a.region}`)));
    kids.push(el("rect", { x: x(run), y: 30, width: Math.max(1, x(end) - x(run)), height: 22, fill: color, "data-attempt": a.n, "data-end": a.end_reason },
      el("title", {}, `attempt ${a.n}: ${a.cloud}/${a.region} ${a.instance_type} ${a.mode}, ${a.end_reason}`)));
    kids.push(el("text", { x: x(a.launched_at) + 2, y: 25 }, `#${a.n} ${a.region} ${a.mode}`));
    if (a.end_reason === "preempted" || a.end_reason === "capacity" || a.end_reason === "lost") {
      const ex = x(end);
      kids.push(el("polygon", { points: `${ex - 5},58 ${ex + 5},58 ${ex},66`, fill: "#c0392b", "data-mark": a.end_reason },
        el("title", {}, `${a.end_reason} at ${clock(end)}`)));
    }
  }
  for (const ev of events) {
    const kind = ev.type === "preempted" ? "#c0392b" : ev.to_state === "RECOVERING" ? "#e67e22" : "#888";
    kids.push(el("line", { x1: x(ev.at), x2: x(ev.at), y1: 66, y2: 74, stroke: kind },
      el("title", {}, `${clock(ev.at)} ${ev.type}: ${ev.msg || ""}`)));
  }
  svg.replaceChildren(...kids);
}

async function drawDetail() {
  const id = state.selected;
  if (id == null) return;
  let j, ev;
  try {
    [j, ev] = await Promise.all([api(`/v1/jobs/${id}`), api(`/v1/jobs/${id}/events`)]);
  } catch (e) {
    if (e instanceof AuthError) throw e;
    state.selected = null; // gone, or not ours to see: close the detail
    $("detail").hidden = true;
    return;
  }
  if (state.selected !== id) return;
  const now = Date.now() / 1000, atts = j.attempts_detail || [], events = ev.events || [];
  $("detail").hidden = false;
  $("detail").dataset.job = id;
  $("detail-title").replaceChildren(`Job #${j.id} ${j.name}`, el("span", { class: "state " + j.state }, j.state),
    el("span", { class: "muted" }, `${teamOf(j)} · ${plural(j.attempts, "attempt")} · ${plural(j.restarts, "recovery", "recoveries")} · ${usd(j.cost_so_far ?? j.cost)}`));
  drawTimeline(j, atts, events, now);
  $("attempts").tBodies[0].replaceChildren(...atts.map((a) => el("tr", { "data-attempt": a.n },
    el("td", {}, a.n), el("td", {}, `${a.cloud}/${a.region} ${a.instance_type} ×${a.nodes}`), el("td", {}, a.mode),
    el("td", {}, clock(a.launched_at)), el("td", {}, a.running_at ? ago((a.ended_at || now) - a.running_at) : "–"),
    el("td", {}, a.ended_at ? `${clock(a.ended_at)} ${a.end_reason}` : a.state),
    el("td", { class: "num" }, usd(a.cost_so_far ?? a.cost)))));
  $("events").tBodies[0].replaceChildren(...events.slice(-50).reverse().map((e) => el("tr", { "data-event": e.type },
    el("td", {}, clock(e.at)), el("td", {}, e.type), el("td", {}, e.msg || ""))));
}

// ---- the poll loop ----

// The spend series, asked for again only when a quarter of a bucket has
// passed (every poll while buckets are seconds; once a minute when they are
// hours): every answer reads the store's whole history, 0.2 s of the
// server's one thread for 20,000 jobs (bench/bench_api_handle.c).
async function spendSeries() {
  const now = Date.now(), s = state.series;
  if (s && s.by === state.by && now - s.at < Math.min(SERIES_MAX_AGE_MS, Math.max(POLL_MS, (s.body.step * 1000) / 4)))
    return s.body;
  const body = await api("/v1/cost/series?by=" + state.by);
  state.series = { by: state.by, at: now, body };
  return body;
}

// Every job not ended, and with ended the newest ENDED_SHOWN jobs too (one
// page of GET /v1/jobs, newest first), in id order.
async function listJobs(ended) {
  const active = api("/v1/jobs?active=1");
  if (!ended) return active;
  const [a, recent] = await Promise.all([active, api("/v1/jobs?order=desc&limit=" + ENDED_SHOWN)]);
  const byId = new Map();
  for (const j of a.jobs.concat(recent.jobs)) byId.set(j.id, j);
  return { jobs: [...byId.values()].sort((x, y) => x.id - y.id), more: recent.next != null };
}

async function poll() {
  clearTimeout(state.timer);
  try {
    if (!state.regions) {
      state.regions = (await api("/v1/regions")).regions;
      drawAllRegions();
    }
    // only the jobs that have not ended, unless asked, and then the newest
    // ended ones: a store keeps every job ever run
    const [jobs, svcs, series, teams] = await Promise.all([listJobs($("show-ended").checked), api("/v1/services"),
      spendSeries(), api("/v1/teams")]);
    const now = Date.now() / 1000;
    $("login").hidden = true;
    $("main").hidden = false;
    $("signout").hidden = false;
    drawUsedRegions(jobs.jobs);
    drawSpend(series);
    drawJobs(jobs.jobs, now, jobs.more);
    drawQueue(jobs.jobs, now);
    drawServices(svcs.services, jobs.jobs);
    drawTeams(teams.teams || []);
    await drawDetail();
    $("status").textContent = "updated " + new Date().toLocaleTimeString() + (state.token ? "" : " · signed in by link");
    document.body.dataset.ready = "1";
    document.body.dataset.updated = String(now);
  } catch (e) {
    if (e instanceof AuthError) {
      showLogin(state.token ? e.message : "");
      return; // no polling until someone signs in
    }
    $("status").textContent = "error: " + e.message + " (retrying)";
  }
  state.timer = setTimeout(poll, POLL_MS);
}

window.addEventListener("resize", () => {
  if (state.plot) state.plot.setSize({ width: Math.max(300, $("spend-chart").clientWidth), height: 220 });
});
takeFragment();
setupLogin();
setupSpend();
$("show-ended").addEventListener("change", poll);
loadLand().catch((e) => console.warn("map outline:", e));
poll();
