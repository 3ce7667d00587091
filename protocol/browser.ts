/**
 * The browser-safe part of the protocol: the JSON messages (events, commands, status), the API's
 * shapes, topics and vocabulary, with their parsers. No Node-only module (the binary BLE frames and
 * their MACs live in `index.ts`). The web app imports from here.
 */
export * from "./api.js";
export * from "./commands.js";
export * from "./errors.js";
export * from "./events.js";
export * from "./fields.js";
export * from "./gateway.js";
export * from "./status.js";
export * from "./topics.js";
export * from "./validate.js";
export * from "./version.js";
export * from "./vocab.js";
