// The Pulumi program as Pulumi.yaml names it: index.ts compiled by tsc (bin/index.js, built by
// every npm script and `miglab` command first), loaded from here so that the program runs in the
// project's root, as the TypeScript did: its directory owns the local site and holds metrics/.
module.exports = require("./bin/index.js");
