import type { CreditLedger } from "./credit-ledger.js";
import type { KeyRecords } from "./key-records.js";
import type { UsageSink } from "./usage-sink.js";

/** Everything a backend keeps about keys: their records, their credits and their usage (one adapter per backend). */
export type KeyStore = KeyRecords & CreditLedger & UsageSink;
