// Worker entry: runs verifyWorker.ts through tsx, as bin/peergrid.js runs the CLI (there is no build step).
import { register } from "tsx/esm/api";

register();
await import("./verifyWorker.ts");
