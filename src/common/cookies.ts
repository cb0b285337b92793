import type { FastifyRequest } from 'fastify';

/** A cookie the request carries, or undefined (also when empty). */
export function cookieOf(request: FastifyRequest, name: string): string | undefined {
  for (const part of (request.headers.cookie ?? '').split(';')) {
    const [key, ...value] = part.trim().split('=');
    if (key === name) {
      const text = value.join('=');
      return text === '' ? undefined : text;
    }
  }
  return undefined;
}

/** A `Set-Cookie` value for one of the service's cookies: always HttpOnly. */
export function setCookie(
  name: string,
  value: string,
  options: { path: string; maxAgeSeconds: number; sameSite: 'Strict' | 'Lax'; secure: boolean },
): string {
  return [
    `${name}=${value}`,
    `Path=${options.path}`,
    `Max-Age=${options.maxAgeSeconds}`,
    'HttpOnly',
    `SameSite=${options.sameSite}`,
    ...(options.secure ? ['Secure'] : []),
  ].join('; ');
}

/** Whether cookies should be `Secure`: the request came over https, or the service's public URL is https. */
export function isSecureRequest(request: FastifyRequest, publicUrl: string): boolean {
  return request.protocol === 'https' || publicUrl.startsWith('https:');
}
