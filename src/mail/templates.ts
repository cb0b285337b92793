import type { MailMessage } from './mail.transport';

export interface MailContent {
  to: string;
  subject: string;
  greeting: string;
  paragraphs: string[];
  /** Shown large and alone on its line (a verification code). */
  code?: string;
  link?: { href: string; label: string };
  footer?: string;
}

const escapeHtml = (text: string): string =>
  text.replace(
    /[&<>"']/g,
    (char) =>
      ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[char] ?? char,
  );

/** One small layout for every mail, as plain text and as HTML (every value escaped). */
export function renderMail(content: MailContent): MailMessage {
  const text = [
    content.greeting,
    '',
    ...content.paragraphs.flatMap((p) => [p, '']),
    ...(content.code ? [`    ${content.code}`, ''] : []),
    ...(content.link ? [`${content.link.label}: ${content.link.href}`, ''] : []),
    ...(content.footer ? [content.footer] : []),
  ].join('\n');
  const html = [
    '<!doctype html><html><body style="font-family: system-ui, sans-serif; line-height: 1.5; color: #1a1a1a">',
    `<p>${escapeHtml(content.greeting)}</p>`,
    ...content.paragraphs.map((p) => `<p>${escapeHtml(p)}</p>`),
    content.code
      ? `<p style="font-size: 28px; font-weight: bold; letter-spacing: 6px">${escapeHtml(content.code)}</p>`
      : '',
    content.link
      ? `<p><a href="${escapeHtml(content.link.href)}">${escapeHtml(content.link.label)}</a></p>` +
        `<p style="font-size: 12px; color: #555">${escapeHtml(content.link.href)}</p>`
      : '',
    content.footer
      ? `<p style="font-size: 12px; color: #555">${escapeHtml(content.footer)}</p>`
      : '',
    '</body></html>',
  ].join('');
  return { to: content.to, subject: content.subject, text, html };
}
