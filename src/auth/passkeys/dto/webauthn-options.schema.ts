import type { SchemaObject } from '@nestjs/swagger';

const credentialDescriptors: SchemaObject = {
  type: 'array',
  items: {
    type: 'object',
    properties: {
      id: { type: 'string', description: 'base64url credential ID' },
      type: { type: 'string', example: 'public-key' },
      transports: { type: 'array', items: { type: 'string', example: 'internal' } },
    },
  },
};

/** `PublicKeyCredentialCreationOptionsJSON` (WebAuthn Level 3), as the OpenAPI document shows it. */
export const CREATION_OPTIONS_SCHEMA: SchemaObject = {
  type: 'object',
  description: 'PublicKeyCredentialCreationOptionsJSON (WebAuthn Level 3).',
  properties: {
    challenge: { type: 'string', description: 'base64url, single use, valid 300 s' },
    rp: {
      type: 'object',
      properties: { id: { type: 'string', example: 'localhost' }, name: { type: 'string' } },
    },
    user: {
      type: 'object',
      properties: {
        id: { type: 'string', description: 'base64url user handle' },
        name: { type: 'string' },
        displayName: { type: 'string' },
      },
    },
    pubKeyCredParams: {
      type: 'array',
      items: {
        type: 'object',
        properties: { alg: { type: 'integer', example: -7 }, type: { type: 'string' } },
      },
    },
    timeout: { type: 'integer', example: 300000 },
    attestation: { type: 'string', example: 'none' },
    excludeCredentials: credentialDescriptors,
    authenticatorSelection: {
      type: 'object',
      example: { residentKey: 'required', requireResidentKey: true, userVerification: 'preferred' },
    },
  },
};

/** `PublicKeyCredentialRequestOptionsJSON` (WebAuthn Level 3), as the OpenAPI document shows it. */
export const REQUEST_OPTIONS_SCHEMA: SchemaObject = {
  type: 'object',
  description: 'PublicKeyCredentialRequestOptionsJSON (WebAuthn Level 3).',
  properties: {
    challenge: { type: 'string', description: 'base64url, single use, valid 300 s' },
    rpId: { type: 'string', example: 'localhost' },
    timeout: { type: 'integer', example: 300000 },
    userVerification: { type: 'string', example: 'preferred' },
    allowCredentials: credentialDescriptors,
  },
};
