import { generateRootKey } from "./bootstrap.js";

// `npm run root-key`: prints a new secret to use as KEYWARD_ROOT_KEY.
process.stdout.write(`${generateRootKey()}\n`);
