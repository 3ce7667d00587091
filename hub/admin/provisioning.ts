/**
 * Device provisioning and API tokens. Secrets are returned once and stored hashed; a badge's frame
 * key is stored sealed by the key vault (see docs/security.md).
 */
import { randomBytes, randomInt } from "node:crypto";
import { type Static, Type } from "@sinclair/typebox";
import type { PublicDevice, PublicToken } from "../../protocol/api.js";
import { DeviceId, EntityId, INITIAL_REPLAY_STATE, toHex } from "../../protocol/index.js";
import type { ApiToken, Clock, DeviceRecord, Role, Store } from "../core/ports.js";
import { hashSecret, type KeyVault, newSecret, tokenDigest } from "../security/secrets.js";
import { InputError } from "./errors.js";

export const ProvisionRequestSchema = Type.Object(
  {
    id: DeviceId,
    kind: Type.Union([Type.Literal("badge"), Type.Literal("kiosk"), Type.Literal("gateway")]),
    engineerId: Type.Optional(EntityId),
    siteId: Type.Optional(EntityId),
    rfidTag: Type.Optional(Type.String({ pattern: "^[0-9A-F]{10}$" })),
    badgeNo: Type.Optional(Type.Integer({ minimum: 1, maximum: 0xffff_ffff })),
    /**
     * A badge's existing frame key (32 hex digits), for a badge already written: the site hub of
     * gateway mode knows the same badge as the central hub. Omitted: a new key is generated.
     */
    key: Type.Optional(Type.String({ pattern: "^[0-9a-f]{32}$" })),
  },
  { additionalProperties: false },
);
export type ProvisionRequest = Static<typeof ProvisionRequestSchema>;

export interface Provisioned {
  device: DeviceRecord;
  /** MQTT password: shown once. */
  password: string;
  /** A badge's frame key, hex: shown once, to be written into the badge. */
  key?: string;
}

export class Provisioning {
  constructor(
    private readonly deps: {
      store: Store;
      vault: KeyVault;
      clock: Clock;
      /** A device was provisioned or revoked (caches drop it). */
      onChange?: (id: string) => void;
      /** Credentials were revoked: their live sessions must end now. */
      onRevoked?: (what: { device: string } | { tokenDigest: string }) => void;
    },
  ) {}

  async provision(req: ProvisionRequest): Promise<Provisioned> {
    const { store, vault, clock } = this.deps;
    const existing = await store.getDevice(req.id);
    if (existing && existing.revokedAt === null)
      throw new InputError("id", `device ${req.id} already exists`, 409);
    if (req.kind === "badge") {
      if (!req.engineerId) throw new InputError("engineerId", "a badge must be bound to an engineer");
      if (!(await store.getEngineer(req.engineerId)))
        throw new InputError("engineerId", `no engineer ${req.engineerId}`, 404);
    } else {
      if (!req.siteId) throw new InputError("siteId", `a ${req.kind} must be bound to a site`);
      if (!(await store.getSite(req.siteId))) throw new InputError("siteId", `no site ${req.siteId}`, 404);
    }
    if (req.key && req.kind !== "badge") throw new InputError("key", "only a badge has a frame key");
    if (req.rfidTag && (await store.findBadge({ rfidTag: req.rfidTag })))
      throw new InputError("rfidTag", "tag already in use", 409);
    let badgeNo: number | null = null;
    let key: Uint8Array | null = null;
    if (req.kind === "badge") {
      badgeNo = req.badgeNo ?? randomInt(1, 0xffff_ffff);
      if (await store.findBadge({ badgeNo }))
        throw new InputError("badgeNo", "badge number already in use", 409);
      key = req.key ? Uint8Array.from(Buffer.from(req.key, "hex")) : new Uint8Array(randomBytes(16));
    }
    const password = newSecret();
    const device: DeviceRecord = {
      id: req.id,
      kind: req.kind,
      engineerId: req.kind === "badge" ? (req.engineerId ?? null) : null,
      siteId: req.kind === "badge" ? null : (req.siteId ?? null),
      badgeNo,
      rfidTag: req.rfidTag ?? null,
      passwordHash: hashSecret(password),
      sealedKey: key ? vault.seal(key) : null,
      createdAt: clock.now(),
      revokedAt: null,
      clockOffsetMs: 0,
      lastSeenAt: null,
      replay: existing?.replay ?? INITIAL_REPLAY_STATE,
      battery: null,
    };
    await store.putDevice(device);
    this.deps.onChange?.(device.id);
    return { device, password, ...(key ? { key: toHex(key) } : {}) };
  }

  async revoke(id: string): Promise<DeviceRecord> {
    const d = await this.deps.store.getDevice(id);
    if (!d) throw new InputError("id", `no device ${id}`, 404);
    if (d.revokedAt === null) {
      d.revokedAt = this.deps.clock.now();
      await this.deps.store.putDevice(d);
    }
    this.deps.onChange?.(id);
    this.deps.onRevoked?.({ device: id });
    return d;
  }

  async createToken(
    role: Role,
    name: string,
    siteId: string | null = null,
  ): Promise<{ token: string; record: ApiToken }> {
    if (role === "kiosk" && (siteId === null || !(await this.deps.store.getSite(siteId)))) {
      throw new InputError("siteId", "a kiosk token needs an existing site");
    }
    const token = randomBytes(32).toString("base64url");
    const record: ApiToken = {
      digest: tokenDigest(token),
      role,
      name,
      siteId,
      createdAt: this.deps.clock.now(),
      revokedAt: null,
    };
    await this.deps.store.putToken(record);
    return { token, record };
  }

  /** Every token, newest first, without secrets. */
  async listTokens(): Promise<PublicToken[]> {
    return (await this.deps.store.listTokens()).map(publicToken);
  }

  /** Revokes a token by its public id; its live sessions (MQTT observers, streams) end now. */
  async revokeToken(id: string): Promise<PublicToken> {
    const t = await this.tokenById(id);
    if (t.revokedAt === null) {
      t.revokedAt = this.deps.clock.now();
      await this.deps.store.putToken(t);
    }
    this.deps.onRevoked?.({ tokenDigest: t.digest });
    return publicToken(t);
  }

  /** A new secret for the same role, name and site; the old token is revoked. */
  async rotateToken(id: string): Promise<{ token: string; record: ApiToken }> {
    const old = await this.tokenById(id);
    if (old.revokedAt !== null) throw new InputError("id", `token ${id} is revoked`, 409);
    const fresh = await this.createToken(old.role, old.name, old.siteId);
    await this.revokeToken(id);
    return fresh;
  }

  private async tokenById(id: string): Promise<ApiToken> {
    const matches = (await this.deps.store.listTokens()).filter((t) => tokenId(t) === id);
    const t = matches[0];
    if (!t) throw new InputError("id", `no token ${id}`, 404);
    return t;
  }
}

/** A token's public id: the first 16 hex digits of its digest (the digest of a random secret). */
export const tokenId = (t: ApiToken): string => t.digest.slice(0, 16);

export function publicToken(t: ApiToken): PublicToken {
  return {
    id: tokenId(t),
    role: t.role,
    name: t.name,
    siteId: t.siteId,
    createdAt: t.createdAt,
    revokedAt: t.revokedAt,
  };
}

/** Public view of a device: never the password hash or the key. */
export function publicDevice(d: DeviceRecord): PublicDevice {
  return {
    id: d.id,
    kind: d.kind,
    engineerId: d.engineerId,
    siteId: d.siteId,
    badgeNo: d.badgeNo === null ? null : d.badgeNo.toString(16).padStart(8, "0"),
    rfidTag: d.rfidTag,
    createdAt: d.createdAt,
    revokedAt: d.revokedAt,
    clockOffsetMs: d.clockOffsetMs,
    lastSeenAt: d.lastSeenAt,
  };
}
