/** The table of Terraform's built-in functions, assembled from the per-domain modules. */
import { COLLECTION_FUNCTIONS } from "./collections.js";
import { CONVERSION_FUNCTIONS } from "./conversion.js";
import { DATETIME_FUNCTIONS } from "./datetime.js";
import { ENCODING_FUNCTIONS } from "./encoding.js";
import { FILESYSTEM_FUNCTIONS } from "./filesystem.js";
import { FORMAT_FUNCTIONS } from "./format.js";
import { NETWORK_FUNCTIONS } from "./network.js";
import { NUMERIC_FUNCTIONS } from "./numeric.js";
import { PROVIDER_FUNCTIONS } from "./provider.js";
import { STRING_FUNCTIONS } from "./strings.js";
import type { FunctionTable } from "./support.js";

export const BUILTINS: FunctionTable = {
  ...STRING_FUNCTIONS,
  ...FORMAT_FUNCTIONS,
  ...COLLECTION_FUNCTIONS,
  ...CONVERSION_FUNCTIONS,
  ...ENCODING_FUNCTIONS,
  ...NUMERIC_FUNCTIONS,
  ...FILESYSTEM_FUNCTIONS,
  ...DATETIME_FUNCTIONS,
  ...NETWORK_FUNCTIONS,
};

export { PROVIDER_FUNCTIONS };
