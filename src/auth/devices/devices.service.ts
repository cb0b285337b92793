import { Injectable } from '@nestjs/common';
import { createHmac } from 'node:crypto';
import { isIPv4, isIPv6 } from 'node:net';
import type { ClientInfo } from '../../common/decorators/client-info.decorator';
import { type AppConfig, InjectAppConfig } from '../../config/configuration';
import type { StatementParams } from '../../database/statement-params';

type UaParser = typeof import('ua-parser-js');
let parser: UaParser | undefined;

/** How long a device stays known without a sign-in from it. */
export const KNOWN_DEVICE_DAYS = 90;

/** The mail a sign-in from a new device sends (its payload: when, what, where, how). */
export const NEW_DEVICE_MAIL = 'new_device';

/** What the alert tells of a device, and the keyed hash that is all that is stored of it. */
export interface Device {
  browser: string;
  os: string;
  /** The network: the IPv4 /24 or IPv6 /48 of the address. */
  network: string;
  hash: string;
}

/** The network part of an address: /24 for IPv4 (also IPv4-mapped IPv6), /48 for IPv6. */
export function networkOf(ip: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
  const v4 = mapped ? mapped[1] : ip;
  if (isIPv4(v4)) {
    return `${v4.split('.').slice(0, 3).join('.')}.0/24`;
  }
  if (isIPv6(ip)) {
    const [head, tail = ''] = ip.toLowerCase().split('::');
    const left = head ? head.split(':') : [];
    const right = tail ? tail.split(':') : [];
    const groups = ip.includes('::')
      ? [...left, ...Array<string>(8 - left.length - right.length).fill('0'), ...right]
      : left;
    return `${groups
      .slice(0, 3)
      .map((group) => Number.parseInt(group || '0', 16).toString(16))
      .join(':')}::/48`;
  }
  return ip;
}

/**
 * Devices an account signs in from: a device is the browser family,
 * operating system (from User-Agent, by ua-parser-js) and network together,
 * kept only as an HMAC with a server key. The session statement records it
 * and queues the alert (SessionsService.start); registration records the
 * device that registered, so its first sign-in sends nothing.
 */
@Injectable()
export class DevicesService {
  private readonly key: Buffer;
  private readonly parsed = new Map<string, { browser: string; os: string }>();

  constructor(@InjectAppConfig() private readonly config: AppConfig) {
    this.key = createHmac('sha256', config.jwt.secret).update('known-device/v1').digest();
  }

  get enabled(): boolean {
    return this.config.newDeviceAlerts;
  }

  identify(client: ClientInfo): Device {
    const { browser, os } = this.describe(client.userAgent);
    const network = networkOf(client.ip);
    const hash = createHmac('sha256', this.key)
      .update(`${browser}\n${os}\n${network}`)
      .digest('hex');
    return { browser, os, network, hash };
  }

  /**
   * Records the device of a registration, in the statement that creates the
   * account `u` (see UserAlongside), and forgets every account's devices not
   * seen for KNOWN_DEVICE_DAYS.
   */
  rememberForNewUser(client: ClientInfo, params: StatementParams): string[] {
    if (!this.enabled) {
      return [];
    }
    const days = params.add(KNOWN_DEVICE_DAYS);
    return [
      `stale_devices AS (
        DELETE FROM known_devices WHERE last_seen_at < now() - make_interval(days => ${days}))`,
      `device AS (
        INSERT INTO known_devices (user_id, device_hash)
        SELECT u.id, ${params.add(this.identify(client).hash)} FROM u)`,
    ];
  }

  /** Browser family and OS from a User-Agent (parsed once per distinct header, up to a thousand). */
  private describe(userAgent: string | null): { browser: string; os: string } {
    const agent = (userAgent ?? '').slice(0, 512);
    const known = this.parsed.get(agent);
    if (known) {
      return known;
    }
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    parser ??= require('ua-parser-js') as UaParser;
    const result = new parser.UAParser(agent).getResult();
    const described = {
      browser: result.browser.name ?? 'Unknown browser',
      os: result.os.name ?? 'Unknown system',
    };
    if (this.parsed.size >= 1000) {
      this.parsed.delete(this.parsed.keys().next().value as string);
    }
    this.parsed.set(agent, described);
    return described;
  }
}
