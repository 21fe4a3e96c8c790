// `npm run docs`: writes docs/config-reference.md, every field of the config, from
// components/model/config.schema.json (components/model/configReference.ts). A unit test fails
// when the committed page is not what the schema gives.
import * as fs from "fs";
import * as path from "path";
import { CONFIG_REFERENCE_FILE, configReference } from "../components/model/configReference";
import { ROOT } from "./pulumi-cli";

fs.writeFileSync(path.join(ROOT, CONFIG_REFERENCE_FILE), configReference());
console.log(`wrote ${CONFIG_REFERENCE_FILE}`);
