// Start-up time: Node 24 spends about half of an instance's start resolving
// module specifiers, not running them. For every file it resolves, Node looks
// up the package the file belongs to and re-reads that package's `exports`
// map; drizzle-orm's is 130 kB of JSON and drizzle loads about 110 files, each
// importing several others, and our own ~90 files import "drizzle-orm" and
// other packages by name, each import resolved separately. Importing the
// application took about 0.85 s, 0.32 s with the shortcuts below
// (docs/performance.md).
//
// Two shortcuts, both giving exactly what Node's resolver gives:
// - inside drizzle-orm (an ES module package, "type": "module"), a relative
//   "./x.js" or "../x.js" import is the file next to the importing one, an ES
//   module;
// - a package imported by name from our own src/ tree resolves the same way
//   from every file of that tree (there is no node_modules inside src/), so
//   Node's answer is remembered per specifier.
// Everything else goes to Node's resolver unchanged. Without
// `module.registerHooks` (Node before 22.15), nothing is registered.
import { readFileSync } from "node:fs";
import * as nodeModule from "node:module";

export function speedUpModuleResolution(): void {
  const { registerHooks } = nodeModule;
  if (typeof registerHooks !== "function") return;
  const source = new URL("./", import.meta.url).href;
  let drizzle: string | null = null;
  try {
    const directory = new URL("./", import.meta.resolve("drizzle-orm"));
    const manifest = JSON.parse(readFileSync(new URL("package.json", directory), "utf8")) as { type?: string };
    if (manifest.type === "module") drizzle = directory.href;
  } catch {
    // drizzle-orm is not where expected: leave its resolution to Node.
  }
  const byName = new Map<string, nodeModule.ResolveFnOutput>();
  registerHooks({
    resolve(specifier, context, nextResolve) {
      const parent = context.parentURL;
      if (parent && drizzle && parent.startsWith(drizzle) && /^\.\.?\//.test(specifier) && specifier.endsWith(".js")) {
        const url = new URL(specifier, parent).href;
        if (url.startsWith(drizzle)) return { url, format: "module", shortCircuit: true };
      }
      if (parent?.startsWith(source) && /^[@a-z]/i.test(specifier) && !specifier.includes(":")) {
        const key = `${specifier}\0${context.conditions.join(",")}\0${JSON.stringify(context.importAttributes ?? {})}`;
        let resolved = byName.get(key);
        if (!resolved) {
          resolved = { ...nextResolve(specifier, context), shortCircuit: true };
          byName.set(key, resolved);
        }
        return { ...resolved };
      }
      return nextResolve(specifier, context);
    },
  });
}
