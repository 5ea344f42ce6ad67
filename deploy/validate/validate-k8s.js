#!/usr/bin/env node
// Offline validation of Kubernetes manifests against the Kubernetes API schemas (the
// kubernetes-models npm packages: JSON-schema validators generated from the Kubernetes OpenAPI
// spec, plus the prometheus-operator CRDs), with no cluster and no download at run time.
//
//   node validate-k8s.js [--rendered NAME] [--external-secret NAME]... FILE...   whole objects
//   node validate-k8s.js --partial FILE...                                        patch files
//
// For every object: the schema of its apiVersion/kind (types, required fields, enums), and
// strict field names: a field the API does not define (a typo such as `readinesProbe`) is an
// error, which the API server itself would silently drop. With --rendered (the complete output
// of one overlay), tickmesh's deployment policy is checked as well:
//   - every container: CPU and memory requests and limits, read-only root filesystem, no
//     privilege escalation, all capabilities dropped; every pod: runAsNonRoot;
//   - tickmesh services: a Service port named grpc, native gRPC readiness and startup probes;
//   - Jobs: restartPolicy Never, backoffLimit, activeDeadlineSeconds, ttlSecondsAfterFinished;
//   - references resolve: ConfigMaps and Secrets used by pods (except --external-secret names),
//     HPA targets, PDB and NetworkPolicy selectors that match no pod, Service selectors.
// --partial validates strategic-merge patches: field names and types only (no required fields).
// Exit 1 with one line per problem ("file: kind/name: path: message").
"use strict";
const fs = require("fs");
const path = require("path");
const YAML = require("yaml");

const args = process.argv.slice(2);
let partial = false;
let rendered = null;
const externalSecrets = new Set();
const files = [];
for (let i = 0; i < args.length; i++) {
  if (args[i] === "--partial") partial = true;
  else if (args[i] === "--rendered") rendered = args[++i];
  else if (args[i] === "--external-secret") externalSecrets.add(args[++i]);
  else files.push(args[i]);
}
if (files.length === 0) {
  console.error("usage: validate-k8s.js [--partial | --rendered NAME] FILE...");
  process.exit(2);
}

const problems = [];
const problem = (where, msg) => problems.push(`${where}: ${msg}`);

// ---- Strict field names, from the models' TypeScript declarations --------------------------
// Every model ships a .d.ts with `export interface IName { "field"?: Type; ... }`. We index all
// interfaces of the installed model packages by name and walk objects through them.
const MODEL_DIRS = ["kubernetes-models", "@kubernetes-models/apimachinery",
                    "@kubernetes-models/prometheus-operator"]
  .map((p) => path.join(__dirname, "node_modules", p));
const interfaces = new Map(); // name -> type node (exported long names win over short ones)
const byFile = new Map(); // .d.ts path -> Map(short interface name -> type node)
const aliases = new Map(); // name -> type text

function walkDts(dir, out) {
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) { if (e.name !== "node_modules") walkDts(p, out); }
    else if (e.name.endsWith(".d.ts")) out.push(p);
  }
  return out;
}

function stripComments(s) { return s.replace(/\/\*[\s\S]*?\*\//g, "").replace(/\/\/[^\n]*/g, ""); }

// Returns the index of the bracket closing the one at i.
function matching(s, i) {
  const open = s[i];
  const close = { "{": "}", "<": ">", "(": ")", "[": "]" }[open];
  let depth = 0;
  for (let j = i; j < s.length; j++) {
    if (s[j] === open) depth++;
    else if (s[j] === close && --depth === 0) return j;
  }
  throw new Error("unbalanced " + open);
}

// Parses a TypeScript type expression into {kind: object|array|map|ref|any, ...}.
function parseType(t) {
  t = t.trim();
  const union = splitTop(t, "|");
  if (union.length > 1) {
    const parts = union.map(parseType).filter((p) => p.kind !== "any");
    if (parts.length === 1 && union.every((u) => /^(null|undefined)$/.test(u.trim()) ||
                                              parseType(u).kind !== "any")) return parts[0];
    return { kind: "any" };
  }
  if (t.startsWith("Array<") && matching(t, 5) === t.length - 1) {
    return { kind: "array", of: parseType(t.slice(6, -1)) };
  }
  if (t.endsWith("[]")) return { kind: "array", of: parseType(t.slice(0, -2)) };
  if (t.startsWith("(") && matching(t, 0) === t.length - 1) return parseType(t.slice(1, -1));
  if (t.startsWith("{") && matching(t, 0) === t.length - 1) {
    const body = t.slice(1, -1).trim();
    const m = body.match(/^\[\s*\w+\s*:\s*string\s*\]\s*:\s*([\s\S]*?);?\s*$/);
    if (m) return { kind: "map", of: parseType(m[1]) };
    return { kind: "object", props: parseProps(body) };
  }
  if (/^I[A-Z]\w*$/.test(t)) return { kind: "ref", name: t };
  return { kind: "any" }; // string, number, boolean, literals, Record<...>
}

function splitTop(s, sep) {
  const out = [];
  let depth = 0, start = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if ("{<([".includes(c)) depth++;
    else if ("}>)]".includes(c)) depth--;
    else if (c === '"' ) { i = s.indexOf('"', i + 1); }
    else if (c === sep && depth === 0) { out.push(s.slice(start, i)); start = i + 1; }
  }
  out.push(s.slice(start));
  return out.filter((x) => x.trim() !== "");
}

function parseProps(body) {
  const props = {};
  for (const decl of splitTop(body, ";")) {
    const m = decl.trim().match(/^"([^"]+)"\??\s*:\s*([\s\S]*)$/) ||
              decl.trim().match(/^([A-Za-z_$][\w$]*)\??\s*:\s*([\s\S]*)$/);
    if (m) props[m[1]] = parseType(m[2]);
  }
  return props;
}

function indexModels() {
  for (const dir of MODEL_DIRS) {
    if (!fs.existsSync(dir)) continue;
    for (const f of walkDts(dir, [])) {
      const s = stripComments(fs.readFileSync(f, "utf8"));
      const re = /export (?:declare )?interface (\w+)(?:<[^>]*>)?(?: extends ([\w, <>"\[\]]+))?\s*\{/g;
      let m;
      const local = new Map();
      while ((m = re.exec(s))) {
        const open = re.lastIndex - 1;
        const close = matching(s, open);
        const node = { kind: "object", props: parseProps(s.slice(open + 1, close)) };
        local.set(m[1], node);
        if (!interfaces.has(m[1])) interfaces.set(m[1], node);
      }
      byFile.set(f, local);
      // `export { IDeploymentSpec as IIoK8sApiAppsV1DeploymentSpec, ... }`: the long names,
      // unique across API groups and versions, are what other declarations reference.
      const rx = /export \{([^}]*)\}/g;
      while ((m = rx.exec(s))) {
        for (const part of m[1].split(",")) {
          const [from, to] = part.trim().split(/\s+as\s+/);
          if (to && local.has(from)) interfaces.set(to, local.get(from));
        }
      }
      const ra = /export (?:declare )?type (\w+)\s*=\s*([^;]+);/g;
      while ((m = ra.exec(s))) if (!aliases.has(m[1])) aliases.set(m[1], m[2]);
    }
  }
}

function resolve(node, seen = 0) {
  while (node && node.kind === "ref" && seen++ < 10) {
    if (interfaces.has(node.name)) return interfaces.get(node.name);
    if (aliases.has(node.name)) node = parseType(aliases.get(node.name));
    else return { kind: "any" };
  }
  return node;
}

function checkFields(value, node, where, at) {
  node = resolve(node);
  if (!node || node.kind === "any" || value === null || value === undefined) return;
  if (node.kind === "array") {
    if (Array.isArray(value)) value.forEach((v, i) => checkFields(v, node.of, where, `${at}[${i}]`));
    return;
  }
  if (typeof value !== "object" || Array.isArray(value)) return; // the schema reports types
  if (node.kind === "map") {
    for (const [k, v] of Object.entries(value)) checkFields(v, node.of, where, `${at}.${k}`);
    return;
  }
  for (const [k, v] of Object.entries(value)) {
    if (!(k in node.props)) {
      problem(where, `${at ? at + "." : ""}${k}: unknown field`);
      continue;
    }
    checkFields(v, node.props[k], where, at ? `${at}.${k}` : k);
  }
}

// ---- Schema per apiVersion/kind -------------------------------------------------------------
function modelFor(apiVersion, kind) {
  const [group, version] = apiVersion.includes("/") ? apiVersion.split("/") : ["", apiVersion];
  const candidates = [];
  if (group === "monitoring.coreos.com") {
    candidates.push(`@kubernetes-models/prometheus-operator/${group}/${version}/${kind}`);
  } else {
    candidates.push(group ? `kubernetes-models/${group}/${version}/${kind}`
                          : `kubernetes-models/${version}/${kind}`);
  }
  for (const c of candidates) {
    try {
      const mod = require(c);
      const cls = mod[kind];
      const dts = require.resolve(c).replace(/\.js$/, ".d.ts");
      const root = byFile.get(dts)?.get(`I${kind}`);
      return { cls, root, iface: `I${kind}` };
    } catch (e) { /* try the next */ }
  }
  return null;
}

// Drops "required" errors for partial objects (patches) and keeps the rest.
function schemaErrors(cls, obj) {
  try {
    new cls(obj).validate();
    return [];
  } catch (e) {
    const errs = e.errors || [{ instancePath: "", message: e.message }];
    return errs.filter((x) => !(partial && x.keyword === "required"))
      .map((x) => `${(x.instancePath || "").replace(/^\//, "").replace(/\//g, ".") || "(object)"}: ${x.message}` +
                  (x.params && x.params.missingProperty ? ` (${x.params.missingProperty})` : ""));
  }
}

// ---- Policy for rendered output -------------------------------------------------------------
const TICKMESH_SERVICES = ["market-data", "signal", "execution", "cache", "persistence", "loadtest"];

function podSpecOf(o) {
  if (["Deployment", "StatefulSet", "DaemonSet", "Job"].includes(o.kind)) return o.spec?.template?.spec;
  if (o.kind === "CronJob") return o.spec?.jobTemplate?.spec?.template?.spec;
  if (o.kind === "Pod") return o.spec;
  return null;
}
function podLabelsOf(o) {
  if (o.kind === "CronJob") return o.spec?.jobTemplate?.spec?.template?.metadata?.labels || {};
  return o.spec?.template?.metadata?.labels || {};
}
const matches = (sel, labels) => Object.entries(sel || {}).every(([k, v]) => labels[k] === v);

function checkPolicy(objs, name) {
  const byKind = (k) => objs.filter((o) => o.kind === k);
  const names = (k) => new Set(byKind(k).map((o) => o.metadata?.name));
  const configMaps = names("ConfigMap"), secrets = names("Secret");
  const workloads = objs.filter((o) => podSpecOf(o));
  const where = (o) => `${name}: ${o.kind}/${o.metadata?.name}`;
  for (const o of workloads) {
    const spec = podSpecOf(o);
    if (spec.securityContext?.runAsNonRoot !== true) problem(where(o), "pod securityContext.runAsNonRoot must be true");
    for (const c of [...(spec.initContainers || []), ...(spec.containers || [])]) {
      const w = `${where(o)}: container ${c.name}`;
      for (const kind of ["requests", "limits"]) {
        for (const r of ["cpu", "memory"]) {
          if (!c.resources?.[kind]?.[r]) problem(w, `resources.${kind}.${r} missing`);
        }
      }
      const sc = c.securityContext || {};
      if (sc.readOnlyRootFilesystem !== true) problem(w, "securityContext.readOnlyRootFilesystem must be true");
      if (sc.allowPrivilegeEscalation !== false) problem(w, "securityContext.allowPrivilegeEscalation must be false");
      if (!(sc.capabilities?.drop || []).includes("ALL")) problem(w, "securityContext.capabilities.drop must include ALL");
      const refs = [];
      for (const ef of c.envFrom || []) {
        if (ef.configMapRef) refs.push(["ConfigMap", ef.configMapRef.name, ef.configMapRef.optional]);
        if (ef.secretRef) refs.push(["Secret", ef.secretRef.name, ef.secretRef.optional]);
      }
      for (const e of c.env || []) {
        const vf = e.valueFrom || {};
        if (vf.configMapKeyRef) refs.push(["ConfigMap", vf.configMapKeyRef.name, vf.configMapKeyRef.optional]);
        if (vf.secretKeyRef) refs.push(["Secret", vf.secretKeyRef.name, vf.secretKeyRef.optional]);
      }
      for (const [k, n, optional] of refs) {
        if (optional) continue;
        const known = k === "ConfigMap" ? configMaps : secrets;
        if (!known.has(n) && !(k === "Secret" && externalSecrets.has(n))) {
          problem(w, `references ${k} ${n}, which this render does not contain`);
        }
      }
      const svc = podLabelsOf(o)["app.kubernetes.io/name"];
      if (o.kind === "Deployment" && TICKMESH_SERVICES.includes(svc)) {
        if (!c.readinessProbe?.grpc) problem(w, "readinessProbe must be a native gRPC probe");
        if (!c.startupProbe?.grpc) problem(w, "startupProbe must be a native gRPC probe");
        if (!(c.ports || []).some((p) => p.name === "grpc")) problem(w, "no container port named grpc");
      }
    }
    if (o.kind === "Job") {
      if (spec.restartPolicy !== "Never") problem(where(o), "restartPolicy must be Never");
      for (const f of ["backoffLimit", "activeDeadlineSeconds", "ttlSecondsAfterFinished"]) {
        if (o.spec?.[f] === undefined) problem(where(o), `spec.${f} missing`);
      }
    }
  }
  for (const s of byKind("Service")) {
    const svc = s.metadata?.labels?.["app.kubernetes.io/name"];
    if (TICKMESH_SERVICES.includes(svc) && !(s.spec?.ports || []).some((p) => p.name === "grpc")) {
      problem(where(s), "no port named grpc");
    }
    if (s.spec?.selector && !workloads.some((w) => matches(s.spec.selector, podLabelsOf(w)))) {
      problem(where(s), "selector matches no pod template");
    }
  }
  for (const h of byKind("HorizontalPodAutoscaler")) {
    const t = h.spec?.scaleTargetRef || {};
    if (!objs.some((o) => o.kind === t.kind && o.metadata?.name === t.name)) {
      problem(where(h), `scaleTargetRef ${t.kind}/${t.name} is not in this render`);
    }
    if (h.spec.minReplicas > h.spec.maxReplicas) problem(where(h), "minReplicas > maxReplicas");
  }
  for (const p of byKind("PodDisruptionBudget")) {
    if (!workloads.some((w) => matches(p.spec?.selector?.matchLabels, podLabelsOf(w)))) {
      problem(where(p), "selector matches no pod template");
    }
  }
  for (const np of byKind("NetworkPolicy")) {
    const sel = np.spec?.podSelector?.matchLabels;
    if (sel && Object.keys(sel).length && !workloads.some((w) => matches(sel, podLabelsOf(w))) &&
        sel["app.kubernetes.io/name"] !== "loadtest") { // the load-test Job is applied separately
      problem(where(np), "podSelector matches no pod template");
    }
  }
  if (byKind("NetworkPolicy").length) {
    const deny = byKind("NetworkPolicy").some((np) =>
      Object.keys(np.spec?.podSelector || {}).length === 0 &&
      (np.spec.policyTypes || []).includes("Ingress") && (np.spec.policyTypes || []).includes("Egress") &&
      !np.spec.ingress && !np.spec.egress);
    if (!deny) problem(name, "network policies without a default-deny-all policy");
  }
}

// ---- Main -----------------------------------------------------------------------------------
indexModels();
if (interfaces.size < 100) {
  console.error(`validate-k8s: only ${interfaces.size} model interfaces found; run npm ci`);
  process.exit(2);
}
const all = [];
let count = 0;
for (const f of files) {
  const text = f === "-" ? fs.readFileSync(0, "utf8") : fs.readFileSync(f, "utf8");
  const docs = YAML.parseAllDocuments(text);
  for (const d of docs) {
    if (d.errors.length) { problem(f, `YAML: ${d.errors[0].message}`); continue; }
    const o = d.toJS();
    if (o === null || o === undefined) continue;
    // kustomize wraps long base64 values over lines; the API server's decoder skips newlines.
    if (o.kind === "Secret" && o.data && typeof o.data === "object") {
      for (const k of Object.keys(o.data)) {
        if (typeof o.data[k] === "string") o.data[k] = o.data[k].replace(/\s+/g, "");
      }
    }
    const where = `${f}: ${o.kind}/${o.metadata?.name}`;
    if (!o.apiVersion || !o.kind) { problem(f, "object without apiVersion/kind"); continue; }
    const model = modelFor(o.apiVersion, o.kind);
    if (!model) { problem(where, `unknown apiVersion/kind ${o.apiVersion} ${o.kind}`); continue; }
    for (const e of schemaErrors(model.cls, o)) problem(where, e);
    const root = model.root;
    if (root) checkFields(o, root, where, "");
    else problem(where, `no field list for ${model.iface}`);
    all.push(o);
    count++;
  }
}
if (rendered) checkPolicy(all, rendered);
if (problems.length) {
  for (const p of problems) console.error(p);
  console.error(`validate-k8s: ${problems.length} problem(s) in ${count} object(s)`);
  process.exit(1);
}
console.log(`validate-k8s: ${count} object(s) valid${rendered ? ` (${rendered}, with policy)` : ""}`);
