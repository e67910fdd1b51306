// Types for bin/supported-node.mjs (plain JS that any Node can parse).

/** "engines.node" of package.json, for the message. */
export declare const NODE_ENGINES: string;

/** Whether Node.js `version` ("22.13.0", no "v") satisfies NODE_ENGINES. */
export declare function supportedNode(version: string): boolean;
