// The plugin's entry as package.json names it: index.ts compiled by tsc (npm run build), as
// program.js is the program's. The provider's schema inference reads index.ts itself.
module.exports = require("../bin/plugin/index.js");
