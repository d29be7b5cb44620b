/**
 * The simulator speaks HTTPS because the Azure SDK's bearer-token policy refuses to send a token over
 * plain http. A self-signed certificate (SAN IP:127.0.0.1, IP:::1, DNS:localhost) is generated at
 * start and written to a temporary PEM file that clients trust (`caFile`), e.g. with
 * NODE_EXTRA_CA_CERTS or an https.Agent's `ca`.
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { generate } from "selfsigned";

export interface SimulatorCertificate {
  /** PEM of the self-signed certificate, which is its own CA. */
  cert: string;
  key: string;
  /** Absolute path of the PEM file holding `cert`. */
  caFile: string;
  /** Removes the temporary directory holding `caFile`. */
  dispose(): Promise<void>;
}

export async function createCertificate(): Promise<SimulatorCertificate> {
  const notBeforeDate = new Date(Date.now() - 60 * 60 * 1000);
  const notAfterDate = new Date(notBeforeDate.getTime() + 30 * 24 * 60 * 60 * 1000);
  const pems = await generate([{ name: "commonName", value: "uami-audit simulator (localhost)" }], {
    keyType: "ec",
    curve: "P-256",
    algorithm: "sha256",
    notBeforeDate,
    notAfterDate,
    extensions: [
      { name: "basicConstraints", cA: true, critical: true },
      { name: "keyUsage", digitalSignature: true, keyCertSign: true, critical: true },
      { name: "extKeyUsage", serverAuth: true },
      {
        name: "subjectAltName",
        altNames: [
          { type: 2, value: "localhost" },
          { type: 7, ip: "127.0.0.1" },
          { type: 7, ip: "::1" },
        ],
      },
    ],
  });
  const directory = await mkdtemp(join(tmpdir(), "uami-simulator-"));
  const caFile = join(directory, "simulator-ca.pem");
  await writeFile(caFile, pems.cert, { mode: 0o644 });
  return {
    cert: pems.cert,
    key: pems.private,
    caFile,
    dispose: () => rm(directory, { recursive: true, force: true }),
  };
}
