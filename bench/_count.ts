import { loadScenario } from "../src/sim/scenarioFile.ts";
import { simulate } from "../src/sim/simulate.ts";

const counts = new Map<string, number>();
let posts = 0;
const orig = globalThis.fetch;
let counting = false;
globalThis.fetch = (async (url: any, init: any) => {
  if (counting) {
    posts++;
    const b = JSON.parse(init.body);
    for (const r of Array.isArray(b) ? b : [b]) counts.set(r.method, (counts.get(r.method) ?? 0) + 1);
  }
  return orig(url, init);
}) as typeof fetch;
const loaded = await loadScenario("/tmp/prof/h100.yaml");
let n = 0;
await simulate(loaded, {
  onProgress: ({ done }) => {
    if (done === 10) counting = true;
    if (done === 50) counting = false;
    n = done;
  },
});
console.log("per interval over 40:", (posts / 40).toFixed(1), "HTTP posts");
for (const [m, c] of [...counts].sort((a, b) => b[1] - a[1])) console.log(m, (c / 40).toFixed(1));
