/** firmata-io ships no types: the part onsite uses. */
declare module "firmata-io" {
  import type { EventEmitter } from "node:events";
  import type { Duplex } from "node:stream";

  class Firmata extends EventEmitter {
    constructor(transport: Duplex, options?: { reportVersionTimeout?: number; skipCapabilities?: boolean });
    isReady: boolean;
  }
  interface BindTransport {
    (transport: unknown): typeof Firmata;
    Firmata: typeof Firmata;
  }
  const bindTransport: BindTransport;
  export default bindTransport;
}
