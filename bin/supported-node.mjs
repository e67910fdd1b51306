// Which Node.js versions migrate runs on: "engines" in package.json, as a check that bin/migrate
// makes before it loads anything else. Written for any Node that can load an ES module (no
// optional chaining, no newer syntax), so that an older Node gets its one clear line.
// Why these versions: undici 7 needs 20.18.1+, @inquirer 22.13+ on the 22 line (or 23.5+), and
// the code is type-checked against the Node 20.19 API (@types/node). test/unit/node-support.test.ts
// holds this file and package.json together.

/** "engines.node" of package.json, for the message. */
export const NODE_ENGINES = '^20.19.0 || ^22.13.0 || >=23.5.0';

/** Whether Node.js `version` ("22.13.0", no "v") satisfies NODE_ENGINES. */
export function supportedNode(version) {
  const parts = version.split('.').map(Number);
  const major = parts[0];
  const minor = parts[1];
  return (major === 20 && minor >= 19) || (major === 22 && minor >= 13) || (major === 23 && minor >= 5) || major >= 24;
}
