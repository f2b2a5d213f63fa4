import { writeFileSync } from "node:fs";
import { artifactsPath, compileContracts, renderArtifacts } from "./compileContracts.ts";

const started = performance.now();
const result = compileContracts();
writeFileSync(artifactsPath, renderArtifacts(result));
console.log(
  `compiled ${Object.keys(result.contracts).length} contracts with solc ${result.solcVersion} in ${Math.round(performance.now() - started)} ms -> ${artifactsPath}`,
);
