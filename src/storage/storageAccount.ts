/**
 * Access to the app's storage account: the same account the Functions host uses (AzureWebJobsStorage),
 * by connection string locally (Azurite) or by managed identity in Azure (shared keys disabled).
 */
import { TableClient } from "@azure/data-tables";
import { QueueClient } from "@azure/storage-queue";
import { ContainerClient } from "@azure/storage-blob";
import type { TokenCredential } from "@azure/core-auth";
import { DefaultAzureCredential } from "@azure/identity";
import { connectionStringFor } from "./localAzurite.js";

export type StorageAccount =
  | { kind: "connectionString"; connectionString: string }
  | { kind: "identity"; tableUrl: string; queueUrl: string; blobUrl: string; credential: TokenCredential };

type Env = Record<string, string | undefined>;

/**
 * Reads `AzureWebJobsStorage` the way the Functions host does: a connection string, or the
 * identity-based `AzureWebJobsStorage__accountName` / `__tableServiceUri` / `__queueServiceUri` settings.
 */
export function storageAccountFromEnv(env: Env = process.env): StorageAccount {
  const connectionString = env.AzureWebJobsStorage?.trim();
  if (connectionString) {
    if (connectionString === "UseDevelopmentStorage=true") {
      // Azurite on its default ports, as the Functions host reads this shorthand.
      return { kind: "connectionString", connectionString: connectionStringFor({ blob: 10000, queue: 10001, table: 10002 }) };
    }
    return { kind: "connectionString", connectionString };
  }
  const account = env.AzureWebJobsStorage__accountName?.trim();
  const byName = account ? serviceUrlsOf(account) : undefined;
  const tableUrl = env.AzureWebJobsStorage__tableServiceUri?.trim() ?? byName?.tableUrl;
  const queueUrl = env.AzureWebJobsStorage__queueServiceUri?.trim() ?? byName?.queueUrl;
  const blobUrl = env.AzureWebJobsStorage__blobServiceUri?.trim() ?? byName?.blobUrl;
  if (!tableUrl || !queueUrl || !blobUrl) {
    throw new Error(
      "Storage is not configured: set AzureWebJobsStorage (connection string) or AzureWebJobsStorage__accountName (managed identity).",
    );
  }
  const clientId = env.AzureWebJobsStorage__clientId?.trim();
  const credential = new DefaultAzureCredential(clientId ? { managedIdentityClientId: clientId } : {});
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

function isLocalHttp(connectionString: string): boolean {
  return /Endpoint=http:\/\//i.test(connectionString) || /DefaultEndpointsProtocol=http;/i.test(connectionString);
}

export function tableClient(account: StorageAccount, table: string): TableClient {
  if (account.kind === "identity") return new TableClient(account.tableUrl, table, account.credential);
  return TableClient.fromConnectionString(account.connectionString, table, {
    allowInsecureConnection: isLocalHttp(account.connectionString),
  });
}

export function queueClient(account: StorageAccount, queue: string): QueueClient {
  if (account.kind === "identity") return new QueueClient(`${account.queueUrl.replace(/\/+$/, "")}/${queue}`, account.credential);
  return new QueueClient(account.connectionString, queue);
}

export function containerClient(account: StorageAccount, container: string): ContainerClient {
  if (account.kind === "identity") {
    return new ContainerClient(`${account.blobUrl.replace(/\/+$/, "")}/${container}`, account.credential);
  }
  return new ContainerClient(account.connectionString, container);
}
