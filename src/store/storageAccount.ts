/**
 * Access to the app's storage account: the same account the Functions host uses (AzureWebJobsStorage),
 * by connection string locally (Azurite) or by managed identity in Azure (shared keys disabled).
 */
import { TableClient } from "@azure/data-tables";
import { QueueClient } from "@azure/storage-queue";
import { ContainerClient } from "@azure/storage-blob";
import type { TokenCredential } from "@azure/core-auth";
import { DefaultAzureCredential } from "@azure/identity";
import { NETWORK_CODES } from "../arm/errors.js";

/** The well-known development account that Azurite serves; not a secret (documented by Microsoft). */
const DEV_ACCOUNT = "devstoreaccount1";
const DEV_KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

/** A connection string for the development account on Azurite's loopback ports (`UseDevelopmentStorage=true` is its default ports). */
export function connectionStringFor(ports: { blob: number; queue: number; table: number }): string {
  const base = "http://127.0.0.1";
  return [
    "DefaultEndpointsProtocol=http",
    `AccountName=${DEV_ACCOUNT}`,
    `AccountKey=${DEV_KEY}`,
    `BlobEndpoint=${base}:${ports.blob}/${DEV_ACCOUNT}`,
    `QueueEndpoint=${base}:${ports.queue}/${DEV_ACCOUNT}`,
    `TableEndpoint=${base}:${ports.table}/${DEV_ACCOUNT}`,
  ].join(";");
}

/**
 * How long one storage request is retried (connection reset or refused, DNS, 500, 503, 408) before its
 * error reaches our code: at least this long, with backoff, by the SDKs' own retry policies. Their
 * defaults give up after about 4-7 s (tables: 3 retries of 0.5-1, 1-2, 2-4 s; queues and blobs: 4 tries
 * 0, 4, 12 s apart), so a storage outage of about 7 s failed a scan with `socket hang up`. A minute rides
 * out a front end's restart or a failover in place; a longer outage is the caller's to wait out (the queue
 * host keeps polling, a check's message comes back), see docs/decisions/0006-storage-outages.md.
 */
export const DEFAULT_STORAGE_RETRY_MS = 60_000;
/** First backoff of a storage retry, doubled each time up to STORAGE_RETRY_CAP_MS: storage's return is noticed within a few seconds. */
const STORAGE_RETRY_FIRST_MS = 500;
const STORAGE_RETRY_CAP_MS = 4000;

/** `@azure/data-tables` retry options (core-rest-pipeline's exponential policy) that keep retrying for at least `budgetMs`. */
export function tableRetryOptions(budgetMs: number = DEFAULT_STORAGE_RETRY_MS): { maxRetries: number; retryDelayInMs: number; maxRetryDelayInMs: number } {
  // core-rest-pipeline waits min(first * 2^n, cap), jittered down to half of it: count on the half.
  let maxRetries = 0;
  for (let waited = 0; waited < budgetMs; maxRetries++) waited += Math.min(STORAGE_RETRY_FIRST_MS * 2 ** maxRetries, STORAGE_RETRY_CAP_MS) / 2;
  return { maxRetries, retryDelayInMs: STORAGE_RETRY_FIRST_MS, maxRetryDelayInMs: STORAGE_RETRY_CAP_MS };
}

/** `@azure/storage-queue` / `@azure/storage-blob` retry options (StorageRetryPolicy, exponential) that keep retrying for at least `budgetMs`. */
export function queueRetryOptions(budgetMs: number = DEFAULT_STORAGE_RETRY_MS): { maxTries: number; retryDelayInMs: number; maxRetryDelayInMs: number } {
  // StorageRetryPolicy waits min((2^(try-1) - 1) * first, cap) after each failed try, without jitter.
  let maxTries = 1;
  for (let waited = 0; waited < budgetMs; maxTries++) waited += Math.min((2 ** (maxTries - 1) - 1) * STORAGE_RETRY_FIRST_MS, STORAGE_RETRY_CAP_MS);
  return { maxTries, retryDelayInMs: STORAGE_RETRY_FIRST_MS, maxRetryDelayInMs: STORAGE_RETRY_CAP_MS };
}

/** Client settings shared by every storage client of a process. */
export interface StorageClientOptions {
  /** How long one request is retried; default DEFAULT_STORAGE_RETRY_MS. */
  retryMs?: number;
}

export type StorageAccount =
  | { kind: "connectionString"; connectionString: string }
  | { kind: "identity"; tableUrl: string; queueUrl: string; blobUrl: string; credential: TokenCredential };

/**
 * `AzureWebJobsStorage` as the Functions host reads it (config.ts reads it from the app settings): a
 * connection string, or the identity-based `AzureWebJobsStorage__accountName` / `__tableServiceUri` /
 * `__queueServiceUri` / `__blobServiceUri` (+ `__clientId`).
 */
export interface StorageSettings {
  /** A connection string (it may hold the account key: never logged), or `UseDevelopmentStorage=true`. */
  connectionString?: string;
  accountName?: string;
  tableServiceUri?: string;
  queueServiceUri?: string;
  blobServiceUri?: string;
  /** The user-assigned identity to reach storage with; unset: the default credential's choice. */
  clientId?: string;
}

/**
 * The storage account the settings name (config.ts reads them the way the Functions host does): a
 * connection string, or the identity-based account name or service URIs, reached with the managed identity.
 */
export function storageAccountFromSettings(settings: StorageSettings): StorageAccount {
  const { connectionString } = settings;
  if (connectionString) {
    if (connectionString === "UseDevelopmentStorage=true") {
      // Azurite on its default ports, as the Functions host reads this shorthand.
      return { kind: "connectionString", connectionString: connectionStringFor({ blob: 10000, queue: 10001, table: 10002 }) };
    }
    return { kind: "connectionString", connectionString };
  }
  const byName = settings.accountName ? serviceUrlsOf(settings.accountName) : undefined;
  const tableUrl = settings.tableServiceUri ?? byName?.tableUrl;
  const queueUrl = settings.queueServiceUri ?? byName?.queueUrl;
  const blobUrl = settings.blobServiceUri ?? byName?.blobUrl;
  if (!tableUrl || !queueUrl || !blobUrl) {
    throw new Error(
      "Storage is not configured: set AzureWebJobsStorage (connection string) or AzureWebJobsStorage__accountName (managed identity).",
    );
  }
  const credential = new DefaultAzureCredential(settings.clientId ? { managedIdentityClientId: settings.clientId } : {});
  return { kind: "identity", tableUrl, queueUrl, blobUrl, credential };
}

/** The public-cloud endpoints of a storage account. */
export function serviceUrlsOf(account: string): { tableUrl: string; queueUrl: string; blobUrl: string } {
  return {
    tableUrl: `https://${account}.table.core.windows.net`,
    queueUrl: `https://${account}.queue.core.windows.net`,
    blobUrl: `https://${account}.blob.core.windows.net`,
  };
}

/** The HTTP status of a storage SDK error (RestError), if it has one. */
export function statusCode(error: unknown): number | undefined {
  return (error as { statusCode?: number } | undefined)?.statusCode;
}

/**
 * A storage error that another try may not get: no answer at all (connection reset or refused, DNS), or
 * 408, 500, 502, 503, 504. Our own wrappers keep the SDK's error as `cause`, which is followed.
 */
export function isTransientStorageError(error: unknown): boolean {
  for (let e = error, depth = 0; e && typeof e === "object" && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    const status = statusCode(e);
    if (status === 408 || status === 500 || status === 502 || status === 503 || status === 504) return true;
    const code = (e as { code?: unknown }).code;
    if (status === undefined && typeof code === "string" && NETWORK_CODES.has(code)) return true;
  }
  return false;
}

function isLocalHttp(connectionString: string): boolean {
  return /Endpoint=http:\/\//i.test(connectionString) || /DefaultEndpointsProtocol=http;/i.test(connectionString);
}

export function tableClient(account: StorageAccount, table: string, options: StorageClientOptions = {}): TableClient {
  const retryOptions = tableRetryOptions(options.retryMs);
  if (account.kind === "identity") return new TableClient(account.tableUrl, table, account.credential, { retryOptions });
  return TableClient.fromConnectionString(account.connectionString, table, {
    allowInsecureConnection: isLocalHttp(account.connectionString),
    retryOptions,
  });
}

export function queueClient(account: StorageAccount, queue: string, options: StorageClientOptions = {}): QueueClient {
  const retryOptions = queueRetryOptions(options.retryMs);
  if (account.kind === "identity") return new QueueClient(`${account.queueUrl.replace(/\/+$/, "")}/${queue}`, account.credential, { retryOptions });
  return new QueueClient(account.connectionString, queue, { retryOptions });
}

export function containerClient(account: StorageAccount, container: string, options: StorageClientOptions = {}): ContainerClient {
  const retryOptions = queueRetryOptions(options.retryMs);
  if (account.kind === "identity") {
    return new ContainerClient(`${account.blobUrl.replace(/\/+$/, "")}/${container}`, account.credential, { retryOptions });
  }
  return new ContainerClient(account.connectionString, container, { retryOptions });
}
