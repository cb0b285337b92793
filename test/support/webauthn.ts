import { createHash, generateKeyPairSync, type KeyObject, randomBytes, sign } from 'node:crypto';
import type {
  AuthenticationResponseJSON,
  AuthenticatorTransport,
  PublicKeyCredentialCreationOptionsJSON,
  PublicKeyCredentialRequestOptionsJSON,
  RegistrationResponseJSON,
} from '@simplewebauthn/server';

/**
 * A software WebAuthn authenticator, with the browser's part of a ceremony
 * (clientDataJSON) folded in: what `navigator.credentials.create()` and
 * `.get()` hand to a page, in their JSON forms (WebAuthn Level 3), for
 * ES256 (P-256) passkeys made with node:crypto and attestation "none".
 * Every knob a test needs to play a browser on another origin, an
 * authenticator that reports another RP ID, skips user verification or
 * whose signature counter runs backwards.
 */

/** authenticatorData flags (WebAuthn §6.1). */
export const FLAGS = { UP: 0x01, UV: 0x04, BE: 0x08, BS: 0x10, AT: 0x40, ED: 0x80 } as const;

/** The all-zero AAGUID: an authenticator that does not say what it is. */
export const ZERO_AAGUID = '00000000-0000-0000-0000-000000000000';

/** What an authenticator keeps of a passkey (a discoverable credential). */
export interface StoredCredential {
  /** base64url credential id. */
  id: string;
  rpId: string;
  /** base64url user handle: the `user.id` of the creation options. */
  userHandle: string;
  userName: string;
  privateKey: KeyObject;
  /** The COSE_Key, as registered. */
  cosePublicKey: Buffer;
  /** The signature counter last reported. */
  counter: number;
  backupEligible: boolean;
  backedUp: boolean;
}

export interface AuthenticatorSettings {
  /** The page's origin the (simulated) browser reports, e.g. `http://localhost:3000`. */
  origin: string;
  /** The RP ID used when the options name none (request options may omit rpId). */
  rpId?: string;
  /** Whether the authenticator verifies the person (UV flag). Default true. */
  userVerification?: boolean;
  /** AAGUID as a UUID string. Default all zero. */
  aaguid?: string;
  /** A synced passkey (BE and BS flags set). Default false: a single-device credential. */
  backedUp?: boolean;
  /** `increment` (default): each assertion reports the counter + 1; `zero`: always 0, as synced passkeys do. */
  counter?: 'increment' | 'zero';
  transports?: AuthenticatorTransport[];
}

/** Per-ceremony overrides. */
export interface CeremonyKnobs {
  /** The origin in clientDataJSON (default: the authenticator's). */
  origin?: string;
  /** The RP ID whose hash goes into authenticatorData (default: the options' RP ID). */
  rpId?: string;
  /** The challenge in clientDataJSON (default: the options'). */
  challenge?: string;
  /** clientDataJSON's `type` (default `webauthn.create` / `webauthn.get`). */
  type?: string;
  userVerification?: boolean;
  userPresence?: boolean;
  /** clientDataJSON's `crossOrigin` (default false). */
  crossOrigin?: boolean;
}

export interface CreateKnobs extends CeremonyKnobs {
  aaguid?: string;
  backedUp?: boolean;
  /** Make a credential even when excludeCredentials names one this authenticator holds. */
  ignoreExcluded?: boolean;
  /** The signature counter reported at registration (default 0). */
  counter?: number;
}

export interface GetKnobs extends CeremonyKnobs {
  /**
   * The credential to assert with (its id, or the stored credential): a
   * browser would offer only the allowed ones, a test may pick any it holds.
   */
  credential?: string | StoredCredential;
  /** The signature counter to report (and keep), e.g. lower than the last to run it backwards. */
  counter?: number;
  /** The userHandle to send (default: the credential's; null to send none). */
  userHandle?: string | null;
}

/** The error a browser raises when the authenticator holds an excluded credential. */
export class InvalidStateError extends Error {
  override readonly name = 'InvalidStateError';
}

/** The error a browser raises when no credential fits (or the person cancels). */
export class NotAllowedError extends Error {
  override readonly name = 'NotAllowedError';
}

export class SoftAuthenticator {
  /** Every passkey this authenticator holds, oldest first. */
  readonly credentials: StoredCredential[] = [];

  constructor(readonly settings: AuthenticatorSettings) {}

  /** The passkeys it holds for one RP ID (what a browser offers for discoverable sign-in). */
  credentialsFor(rpId: string): StoredCredential[] {
    return this.credentials.filter((credential) => credential.rpId === rpId);
  }

  /** The passkey with this id. */
  credential(id: string): StoredCredential {
    const found = this.credentials.find((credential) => credential.id === id);
    if (!found) {
      throw new Error(`this authenticator holds no credential ${id}`);
    }
    return found;
  }

  /** The last passkey made. */
  get last(): StoredCredential {
    const last = this.credentials.at(-1);
    if (!last) {
      throw new Error('this authenticator holds no credential yet');
    }
    return last;
  }

  /** navigator.credentials.create(): a new ES256 passkey, attestation "none". */
  create(
    options: PublicKeyCredentialCreationOptionsJSON,
    knobs: CreateKnobs = {},
  ): RegistrationResponseJSON {
    const rpId = options.rp.id ?? this.settings.rpId ?? new URL(this.settings.origin).hostname;
    if (!options.pubKeyCredParams.some((param) => param.alg === -7)) {
      throw new NotAllowedError('ES256 (-7) is not among pubKeyCredParams');
    }
    if (!knobs.ignoreExcluded) {
      const held = new Set(this.credentialsFor(rpId).map((credential) => credential.id));
      if ((options.excludeCredentials ?? []).some((excluded) => held.has(excluded.id))) {
        throw new InvalidStateError('this authenticator already holds an excluded credential');
      }
    }
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const jwk = publicKey.export({ format: 'jwk' });
    const cosePublicKey = encodeCbor(
      new Map<number, unknown>([
        [1, 2], // kty: EC2
        [3, -7], // alg: ES256
        [-1, 1], // crv: P-256
        [-2, Buffer.from(String(jwk.x), 'base64url')],
        [-3, Buffer.from(String(jwk.y), 'base64url')],
      ]),
    );
    const credentialId = randomBytes(32);
    const backedUp = knobs.backedUp ?? this.settings.backedUp ?? false;
    const stored: StoredCredential = {
      id: credentialId.toString('base64url'),
      rpId,
      userHandle: options.user.id,
      userName: options.user.name,
      privateKey,
      cosePublicKey,
      counter: knobs.counter ?? 0,
      backupEligible: backedUp,
      backedUp,
    };
    const idLength = Buffer.alloc(2);
    idLength.writeUInt16BE(credentialId.length);
    const authenticatorData = Buffer.concat([
      this.authDataHead(knobs.rpId ?? rpId, stored, knobs, FLAGS.AT),
      aaguidBytes(knobs.aaguid ?? this.settings.aaguid ?? ZERO_AAGUID),
      idLength,
      credentialId,
      cosePublicKey,
    ]);
    const clientDataJSON = this.clientData('webauthn.create', options.challenge, knobs);
    const attestationObject = encodeCbor(
      new Map<string, unknown>([
        ['fmt', 'none'],
        ['attStmt', new Map()],
        ['authData', authenticatorData],
      ]),
    );
    this.credentials.push(stored);
    return {
      id: stored.id,
      rawId: stored.id,
      type: 'public-key',
      authenticatorAttachment: 'platform',
      clientExtensionResults: { credProps: { rk: true } },
      response: {
        clientDataJSON: clientDataJSON.toString('base64url'),
        attestationObject: attestationObject.toString('base64url'),
        authenticatorData: authenticatorData.toString('base64url'),
        transports: this.settings.transports ?? ['internal', 'hybrid'],
        publicKeyAlgorithm: -7,
        publicKey: publicKey.export({ format: 'der', type: 'spki' }).toString('base64url'),
      },
    };
  }

  /**
   * navigator.credentials.get(): an assertion by one of the passkeys held for
   * the RP ID, among `allowCredentials` when the options list some, else any
   * discoverable one (the only one, or the one named by `knobs.credential`).
   */
  get(
    options: PublicKeyCredentialRequestOptionsJSON,
    knobs: GetKnobs = {},
  ): AuthenticationResponseJSON {
    const rpId = options.rpId ?? this.settings.rpId ?? new URL(this.settings.origin).hostname;
    const stored = this.choose(rpId, options, knobs.credential);
    const counter = knobs.counter ?? (this.settings.counter === 'zero' ? 0 : stored.counter + 1);
    stored.counter = counter;
    const authenticatorData = this.authDataHead(knobs.rpId ?? rpId, stored, knobs, 0);
    const clientDataJSON = this.clientData('webauthn.get', options.challenge, knobs);
    const signature = sign(
      'sha256',
      Buffer.concat([authenticatorData, createHash('sha256').update(clientDataJSON).digest()]),
      stored.privateKey,
    );
    const userHandle = knobs.userHandle === undefined ? stored.userHandle : knobs.userHandle;
    return {
      id: stored.id,
      rawId: stored.id,
      type: 'public-key',
      authenticatorAttachment: 'platform',
      clientExtensionResults: {},
      response: {
        clientDataJSON: clientDataJSON.toString('base64url'),
        authenticatorData: authenticatorData.toString('base64url'),
        signature: signature.toString('base64url'),
        ...(userHandle === null ? {} : { userHandle }),
      },
    };
  }

  private choose(
    rpId: string,
    options: PublicKeyCredentialRequestOptionsJSON,
    wanted: string | StoredCredential | undefined,
  ): StoredCredential {
    if (wanted !== undefined) {
      return this.credential(typeof wanted === 'string' ? wanted : wanted.id);
    }
    const held = this.credentialsFor(rpId);
    const allowed = options.allowCredentials ?? [];
    const candidates =
      allowed.length > 0
        ? held.filter((credential) => allowed.some((allow) => allow.id === credential.id))
        : held;
    if (candidates.length === 0) {
      throw new NotAllowedError(`no passkey for ${rpId} fits these options`);
    }
    if (candidates.length > 1 && allowed.length === 0) {
      throw new Error(`${candidates.length} passkeys for ${rpId}: name one (knobs.credential)`);
    }
    return candidates[0];
  }

  /** rpIdHash | flags | signCount: the first 37 bytes of authenticatorData. */
  private authDataHead(
    rpId: string,
    stored: StoredCredential,
    knobs: CeremonyKnobs,
    extraFlags: number,
  ): Buffer {
    let flags = extraFlags;
    if (knobs.userPresence ?? true) {
      flags |= FLAGS.UP;
    }
    if (knobs.userVerification ?? this.settings.userVerification ?? true) {
      flags |= FLAGS.UV;
    }
    if (stored.backupEligible) {
      flags |= FLAGS.BE;
    }
    if (stored.backedUp) {
      flags |= FLAGS.BS;
    }
    const signCount = Buffer.alloc(4);
    signCount.writeUInt32BE(stored.counter);
    return Buffer.concat([
      createHash('sha256').update(rpId).digest(),
      Buffer.from([flags]),
      signCount,
    ]);
  }

  private clientData(type: string, challenge: string, knobs: CeremonyKnobs): Buffer {
    return Buffer.from(
      JSON.stringify({
        type: knobs.type ?? type,
        challenge: knobs.challenge ?? challenge,
        origin: knobs.origin ?? this.settings.origin,
        crossOrigin: knobs.crossOrigin ?? false,
      }),
    );
  }
}

/** The 16 bytes of a UUID. */
function aaguidBytes(uuid: string): Buffer {
  const hex = uuid.replace(/-/g, '');
  if (!/^[0-9a-f]{32}$/i.test(hex)) {
    throw new Error(`not a UUID: ${uuid}`);
  }
  return Buffer.from(hex, 'hex');
}

/** The same base64url text with one byte of what it encodes changed (a broken signature). */
export function flipByte(base64url: string, index = -1): string {
  const bytes = Buffer.from(base64url, 'base64url');
  const at = index < 0 ? bytes.length + index : index;
  bytes[at] ^= 0x01;
  return bytes.toString('base64url');
}

/**
 * A minimal CBOR encoder (RFC 8949) for what WebAuthn needs: integers,
 * byte strings (Buffer / Uint8Array), text strings, arrays, and maps (a Map,
 * for integer keys, or a plain object), in definite lengths.
 */
export function encodeCbor(value: unknown): Buffer {
  const parts: Buffer[] = [];
  const head = (major: number, length: number | bigint) => {
    const n = BigInt(length);
    if (n < 24n) {
      parts.push(Buffer.from([(major << 5) | Number(n)]));
    } else if (n < 0x100n) {
      parts.push(Buffer.from([(major << 5) | 24, Number(n)]));
    } else if (n < 0x10000n) {
      const b = Buffer.alloc(3);
      b[0] = (major << 5) | 25;
      b.writeUInt16BE(Number(n), 1);
      parts.push(b);
    } else if (n < 0x100000000n) {
      const b = Buffer.alloc(5);
      b[0] = (major << 5) | 26;
      b.writeUInt32BE(Number(n), 1);
      parts.push(b);
    } else {
      const b = Buffer.alloc(9);
      b[0] = (major << 5) | 27;
      b.writeBigUInt64BE(n, 1);
      parts.push(b);
    }
  };
  const walk = (item: unknown): void => {
    if (typeof item === 'number' || typeof item === 'bigint') {
      if (typeof item === 'number' && !Number.isInteger(item)) {
        throw new Error(`CBOR: only integers are supported (got ${item})`);
      }
      const n = BigInt(item);
      if (n >= 0n) {
        head(0, n);
      } else {
        head(1, -1n - n);
      }
    } else if (typeof item === 'string') {
      const bytes = Buffer.from(item, 'utf8');
      head(3, bytes.length);
      parts.push(bytes);
    } else if (item instanceof Uint8Array) {
      head(2, item.length);
      parts.push(Buffer.from(item));
    } else if (typeof item === 'boolean') {
      parts.push(Buffer.from([item ? 0xf5 : 0xf4]));
    } else if (item === null) {
      parts.push(Buffer.from([0xf6]));
    } else if (Array.isArray(item)) {
      head(4, item.length);
      item.forEach(walk);
    } else if (item instanceof Map) {
      head(5, item.size);
      for (const [key, entry] of item) {
        walk(key);
        walk(entry);
      }
    } else if (typeof item === 'object') {
      const entries = Object.entries(item as Record<string, unknown>);
      head(5, entries.length);
      for (const [key, entry] of entries) {
        walk(key);
        walk(entry);
      }
    } else {
      throw new Error(`CBOR: cannot encode ${typeof item}`);
    }
  };
  walk(value);
  return Buffer.concat(parts);
}
