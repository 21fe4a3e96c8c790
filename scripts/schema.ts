// `npm run schema`: writes stacks/stack.schema.json, the JSON Schema of a stack file (the lab's
// schema under config."miglab:lab"), which each shipped stack's first line points an editor at.
import * as fs from "fs";
import * as path from "path";
import { STACK_SCHEMA_FILE, stackSchema } from "../components/model/stackSchema";
import { ROOT } from "./pulumi-cli";

const file = path.join(ROOT, "stacks", STACK_SCHEMA_FILE);
fs.writeFileSync(file, `${JSON.stringify(stackSchema(), null, 2)}\n`);
console.log(`wrote ${path.relative(ROOT, file)}`);
