#!/usr/bin/env node
// Lists the manifests of a tree of kustomizations without rendering it (used by
// scripts/check-deploy when kubectl is not installed), and checks every reference resolves:
//   node kustomize-files.js DIR...   (each DIR holds a kustomization.yaml)
// Prints "full <file>" for resources (complete objects) and "partial <file>" for patches, one a
// line; exits 1 naming any missing file or directory, or any kustomization field this tree does
// not use (so a new field is not silently skipped by the fallback check).
"use strict";
const fs = require("fs");
const path = require("path");
const YAML = require("yaml");

const KNOWN = new Set(["apiVersion", "kind", "namespace", "resources", "components", "patches",
  "labels", "replicas", "images", "configMapGenerator", "secretGenerator", "generatorOptions"]);
const seen = new Set();
const out = new Map();
const problems = [];

function visit(dir) {
  dir = path.resolve(dir);
  if (seen.has(dir)) return;
  seen.add(dir);
  const kfile = path.join(dir, "kustomization.yaml");
  if (!fs.existsSync(kfile)) { problems.push(`${dir}: no kustomization.yaml`); return; }
  const k = YAML.parse(fs.readFileSync(kfile, "utf8")) || {};
  const rel = path.relative(process.cwd(), kfile);
  if (!["Kustomization", "Component"].includes(k.kind)) problems.push(`${rel}: kind must be Kustomization or Component`);
  for (const key of Object.keys(k)) if (!KNOWN.has(key)) problems.push(`${rel}: field ${key} not checked by the fallback`);
  for (const r of k.resources || []) {
    const p = path.join(dir, r);
    if (!fs.existsSync(p)) problems.push(`${rel}: resource ${r} does not exist`);
    else if (fs.statSync(p).isDirectory()) visit(p);
    else out.set(p, "full");
  }
  for (const c of k.components || []) {
    const p = path.join(dir, c);
    if (!fs.existsSync(p)) problems.push(`${rel}: component ${c} does not exist`);
    else visit(p);
  }
  for (const pt of k.patches || []) {
    if (!pt.path) { problems.push(`${rel}: inline patches are not checked by the fallback`); continue; }
    const p = path.join(dir, pt.path);
    if (!fs.existsSync(p)) problems.push(`${rel}: patch ${pt.path} does not exist`);
    else if (!out.has(p)) out.set(p, "partial");
  }
  for (const g of [...(k.configMapGenerator || []), ...(k.secretGenerator || [])]) {
    for (const f of [...(g.files || []), ...(g.envs || [])]) {
      const p = path.join(dir, f.includes("=") ? f.split("=")[1] : f);
      if (!fs.existsSync(p)) problems.push(`${rel}: generator ${g.name} file ${f} does not exist`);
    }
  }
}

for (const d of process.argv.slice(2)) visit(d);
for (const [p, kind] of out) console.log(`${kind} ${path.relative(process.cwd(), p)}`);
if (problems.length) {
  for (const p of problems) console.error(p);
  process.exit(1);
}
