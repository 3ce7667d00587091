/**
 * D-Bus plumbing for the badge's BlueZ client (and for the BlueZ stand-in, which speaks the same
 * types): the `a{qv}` fix dbus-next needs for ManufacturerData, and a connection that reports
 * whether it came up.
 */
import { createRequire } from "node:module";
import dbus from "dbus-next";

export type MessageBus = ReturnType<typeof dbus.systemBus>;
export const { Interface } = dbus.interface;
export const { Variant, DBusError, Message } = dbus;

/**
 * dbus-next marshals a dict from a JS object, whose keys are strings, and its integer marshallers
 * refuse strings (dbusjs/node-dbus-next#79), so `a{qv}` (BlueZ's ManufacturerData) cannot be sent
 * at all. This lets an integer marshaller take a numeric string: a value that used to throw now
 * marshals, and nothing that marshalled before changes. Idempotent; only the processes that send
 * `a{qv}` (the badge, the stand-in) load it.
 */
export function allowNumericDictKeys(): void {
  const marshallers = createRequire(import.meta.url)("dbus-next/lib/marshallers.js") as {
    MakeSimpleMarshaller: (t: string) => { marshall: (ps: unknown, data: unknown) => unknown };
    __onsitePatched?: boolean;
  };
  if (marshallers.__onsitePatched) return;
  marshallers.__onsitePatched = true;
  const make = marshallers.MakeSimpleMarshaller;
  marshallers.MakeSimpleMarshaller = (t: string) => {
    const m = make(t);
    if ("ynqiuxt".includes(t)) {
      const marshall = m.marshall;
      m.marshall = function (this: unknown, ps: unknown, data: unknown) {
        return marshall.call(this, ps, typeof data === "string" && /^\d+$/.test(data) ? Number(data) : data);
      };
    }
    return m;
  };
}

/**
 * Emits PropertiesChanged for an exported interface. Once the bus connection is gone (the D-Bus
 * daemon stopped under the process) there is no one to tell: dbus-next throws "stream is closed"
 * from wherever the change happened — a timer, a radio callback — which would end the process.
 * That one error is dropped here; the owner learns of the lost bus from the connection's own events.
 */
export function emitChanged(
  iface: InstanceType<typeof Interface>,
  changed: Record<string, unknown>,
  invalidated: string[] = [],
): void {
  try {
    Interface.emitPropertiesChanged(iface, changed, invalidated);
  } catch (e) {
    if (!(e instanceof Error && e.message.includes("stream is closed"))) throw e;
  }
}

export const bluezError = (name: string, text: string): InstanceType<typeof DBusError> =>
  new DBusError(`org.bluez.Error.${name}`, text);

/** The D-Bus error name of a failed call (`org.bluez.Error.AlreadyExists`, …), or "". */
export function errorName(e: unknown): string {
  return typeof e === "object" && e !== null && typeof (e as { type?: unknown }).type === "string"
    ? (e as { type: string }).type
    : "";
}

/**
 * Opens a bus (the system bus, or `address`) and waits until it said Hello. dbus-next connects
 * lazily and reports a refused socket as an "error" event; a bus that never came up is closed.
 */
export async function connectBus(address: string | undefined, timeoutMs = 3000): Promise<MessageBus> {
  const bus = address ? dbus.sessionBus({ busAddress: address }) : dbus.systemBus();
  let timer: NodeJS.Timeout | undefined;
  try {
    await new Promise<void>((resolve, reject) => {
      timer = setTimeout(() => reject(new Error("D-Bus connect timed out")), timeoutMs);
      bus.once("error", reject);
      bus.once("connect", () => resolve());
    });
    return bus;
  } catch (e) {
    bus.on("error", () => {});
    try {
      bus.disconnect();
    } catch {
      // never connected
    }
    throw e;
  } finally {
    clearTimeout(timer);
  }
}

/** Calls `member` on another connection's object; resolves with the reply body. */
export async function callMethod(
  bus: MessageBus,
  call: {
    destination: string;
    path: string;
    iface: string;
    member: string;
    signature?: string;
    body?: unknown[];
  },
): Promise<unknown[]> {
  const reply = await bus.call(
    new Message({
      destination: call.destination,
      path: call.path,
      interface: call.iface,
      member: call.member,
      ...(call.signature ? { signature: call.signature, body: call.body ?? [] } : {}),
    }),
  );
  return reply?.body ?? [];
}

/** Adds a match rule on the bus daemon, so the bus delivers those signals to this connection. */
export async function addMatch(bus: MessageBus, rule: string): Promise<void> {
  await callMethod(bus, {
    destination: "org.freedesktop.DBus",
    path: "/org/freedesktop/DBus",
    iface: "org.freedesktop.DBus",
    member: "AddMatch",
    signature: "s",
    body: [rule],
  });
}
