/** One email, as every transport sends it: a text part and an HTML part. */
export interface MailMessage {
  from: string;
  to: string[];
  subject: string;
  text: string;
  html: string;
}

/**
 * Sends one email. Implementations throw an Error that says what failed and where (host, endpoint, status),
 * never a credential; `sendDigest` turns those into a recorded failure.
 */
export interface MailTransport {
  send(message: MailMessage): Promise<{ messageId?: string }>;
}
