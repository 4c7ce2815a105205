#!/usr/bin/env node
// Entry point of `npx coopol`. It may be started by an older system Node, so it
// is plain JavaScript that hands over to the project's Node 24, which runs the
// TypeScript sources directly.
"use strict";
const { spawnSync } = require("node:child_process");
const { existsSync } = require("node:fs");
const path = require("node:path");

const root = path.resolve(__dirname, "..");
const major = Number(process.versions.node.split(".")[0]);
const localNode = path.join(root, "node_modules", ".bin", process.platform === "win32" ? "node.cmd" : "node");
const node = major >= 24 ? process.execPath : existsSync(localNode) ? localNode : null;
if (!node) {
  process.stderr.write("Coopol a besoin de Node 24 : lancez d'abord « npm install » dans " + root + "\n");
  process.exit(2);
}
const result = spawnSync(node, [path.join(root, "src", "cli", "main.ts"), ...process.argv.slice(2)], { stdio: "inherit" });
process.exit(result.status ?? 1);
