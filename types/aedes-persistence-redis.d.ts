/** aedes-persistence-redis 12 ships no types: what the hub uses of it. */
declare module "aedes-persistence-redis" {
  import type { Redis } from "ioredis";

  interface RedisPersistence {
    destroy(cb?: () => void): void;
  }
  function persistence(opts: { conn: Redis; maxSessionDelivery?: number }): RedisPersistence;
  export default persistence;
}
