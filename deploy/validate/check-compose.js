#!/usr/bin/env node
// Structural checks of docker-compose.yml (as normalised by `docker-compose config`, on stdin)
// and of deploy/docker/Dockerfile, beyond what `docker-compose config -q` validates:
//   node check-compose.js DOCKERFILE < <(docker-compose --profile loadtest config)
// - every service has a health check; tickmesh services check grpc.health.v1 with
//   tickmesh-probe on their own gRPC port (the port of TICKMESH_GRPC_ADDRESS);
// - every depends_on waits for service_healthy; every build target exists in the Dockerfile;
// - the load tester is only in the `loadtest` profile; data lives in named volumes;
// - Dockerfile: a bookworm build stage running scripts/install-deps, a bookworm-slim runtime,
//   a numeric non-root USER, exec-form ENTRYPOINT in every service target.
"use strict";
const fs = require("fs");
const YAML = require("yaml");

const problems = [];
const compose = YAML.parse(fs.readFileSync(0, "utf8"));
const dockerfile = fs.readFileSync(process.argv[2], "utf8");
const SERVICES = ["market-data", "signal", "execution", "cache", "persistence", "loadtest"];
const stages = new Map(); // name -> {from, lines}
let current = null;
for (const raw of dockerfile.replace(/\\\n/g, " ").split("\n")) {
  const line = raw.trim();
  const m = line.match(/^FROM\s+(\S+)(?:\s+AS\s+(\S+))?/i);
  if (m) { current = { from: m[1], lines: [] }; stages.set(m[2] || `#${stages.size}`, current); continue; }
  if (current && line && !line.startsWith("#")) current.lines.push(line);
}
const inherited = (name, pred) => {
  for (let s = stages.get(name), n = 0; s && n < 10; s = stages.get(s.from), n++) {
    const hit = [...s.lines].reverse().find(pred);
    if (hit) return hit;
  }
  return null;
};

const svcs = compose.services || {};
for (const want of [...SERVICES, "redis", "postgres", "prometheus", "grafana"]) {
  if (!svcs[want]) problems.push(`compose: service ${want} missing`);
}
for (const [name, s] of Object.entries(svcs)) {
  const test = s.healthcheck?.test;
  if (!test || s.healthcheck.disable) { problems.push(`compose: ${name}: no healthcheck`); }
  for (const [dep, cond] of Object.entries(s.depends_on || {})) {
    if (cond?.condition !== "service_healthy") {
      problems.push(`compose: ${name}: depends_on ${dep} must use condition service_healthy`);
    }
  }
  if (SERVICES.includes(name)) {
    const port = String(s.environment?.TICKMESH_GRPC_ADDRESS || "").split(":").pop();
    const t = Array.isArray(test) ? test.join(" ") : String(test);
    if (!port || !t.includes(`tickmesh-probe health 127.0.0.1:${port}`)) {
      problems.push(`compose: ${name}: healthcheck must run tickmesh-probe health 127.0.0.1:${port || "<grpc port>"} (got ${t})`);
    }
    const target = s.build?.target;
    if (!target || !stages.has(target)) problems.push(`compose: ${name}: build target ${target} not in the Dockerfile`);
    if (s.read_only !== true) problems.push(`compose: ${name}: read_only root filesystem expected`);
    if (!(s.cap_drop || []).includes("ALL")) problems.push(`compose: ${name}: cap_drop ALL expected`);
  }
  for (const v of s.volumes || []) {
    const src = typeof v === "string" ? v.split(":")[0] : v.source;
    const type = typeof v === "string" ? (src.startsWith("/") || src.startsWith(".") ? "bind" : "volume") : v.type;
    if (type === "volume" && !(compose.volumes || {})[src]) problems.push(`compose: ${name}: volume ${src} not declared`);
  }
}
if (svcs.loadtest && !(svcs.loadtest.profiles || []).includes("loadtest")) {
  problems.push("compose: loadtest must be in the loadtest profile");
}
for (const data of ["redis", "postgres", "persistence", "prometheus", "grafana"]) {
  const vols = svcs[data]?.volumes || [];
  if (!vols.some((v) => (typeof v === "string" ? !v.startsWith("/") && !v.startsWith(".") : v.type === "volume"))) {
    problems.push(`compose: ${data}: data must be in a named volume`);
  }
}

// Dockerfile
const build = stages.get("build");
if (!build || !/^debian:(\$\{DEBIAN_RELEASE\}|bookworm)$/.test(build.from)) problems.push("Dockerfile: stage `build` must be FROM debian bookworm");
else if (!build.lines.some((l) => /install-deps/.test(l) && /^RUN/.test(l))) problems.push("Dockerfile: build stage must RUN scripts/install-deps");
const runtime = stages.get("runtime");
if (!runtime || !/^debian:(\$\{DEBIAN_RELEASE\}|bookworm)-slim$/.test(runtime.from)) problems.push("Dockerfile: stage `runtime` must be FROM debian bookworm-slim");
else if (runtime.lines.some((l) => /-dev\b/.test(l))) problems.push("Dockerfile: runtime stage installs -dev packages");
const defaultArg = (name) => (dockerfile.match(new RegExp(`^ARG ${name}=(\\S+)`, "m")) || [])[1];
if (defaultArg("DEBIAN_RELEASE") !== "bookworm") problems.push("Dockerfile: ARG DEBIAN_RELEASE must default to bookworm");
for (const t of [...SERVICES, "service"]) {
  if (!stages.has(t)) { problems.push(`Dockerfile: no target ${t}`); continue; }
  const user = inherited(t, (l) => /^USER\s/.test(l));
  if (!user || !/^USER\s+[1-9]\d*(:\d+)?$/.test(user)) problems.push(`Dockerfile: ${t}: last USER must be a numeric non-root uid (got ${user})`);
  const ep = inherited(t, (l) => /^ENTRYPOINT\s/.test(l));
  if (!ep || !/^ENTRYPOINT\s+\[/.test(ep)) problems.push(`Dockerfile: ${t}: ENTRYPOINT must be exec form (got ${ep})`);
  else {
    try { JSON.parse(ep.replace(/^ENTRYPOINT\s+/, "")); } catch (e) { problems.push(`Dockerfile: ${t}: ENTRYPOINT is not a JSON array`); }
  }
  if (!inherited(t, (l) => /tickmesh-probe/.test(l))) problems.push(`Dockerfile: ${t}: tickmesh-probe not installed`);
}

if (problems.length) {
  for (const p of problems) console.error(p);
  process.exit(1);
}
console.log(`check-compose: ${Object.keys(svcs).length} services and ${stages.size} Dockerfile stages ok`);
