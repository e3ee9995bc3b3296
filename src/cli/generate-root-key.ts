import { generateRootKey } from "../composition/bootstrap.js";

// `npm run root-key`: prints a new secret to use as KEYWARD_ROOT_KEY.
process.stdout.write(`${generateRootKey()}\n`);
