/**
 * Access to the app's storage account: the same account the Functions host uses (AzureWebJobsStorage),
 * by connection string locally (Azurite) or by managed identity in Azure (shared keys disabled).
 */
import { TableClient } from "@azure/data-tables";
import { QueueClient } from "@azure/storage-queue";
import { ContainerClient } from "@azure/storage-blob";
import type { TokenCredential } from "@azure/core-auth";
import { DefaultAzureCredential } from "@azure/identity";

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
      return {
        kind: "connectionString",
        connectionString:
          "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==;BlobEndpoint=http://127.0.0.1:10000/devstoreaccount1;QueueEndpoint=http://127.0.0.1:10001/devstoreaccount1;TableEndpoint=http://127.0.0.1:10002/devstoreaccount1;",
      };
    }
    return { kind: "connectionString", connectionString };
  }
  const account = env.AzureWebJobsStorage__accountName?.trim();
  const tableUrl = env.AzureWebJobsStorage__tableServiceUri?.trim() ?? (account ? `https://${account}.table.core.windows.net` : undefined);
  const queueUrl = env.AzureWebJobsStorage__queueServiceUri?.trim() ?? (account ? `https://${account}.queue.core.windows.net` : undefined);
  const blobUrl = env.AzureWebJobsStorage__blobServiceUri?.trim() ?? (account ? `https://${account}.blob.core.windows.net` : undefined);
  if (!tableUrl || !queueUrl || !blobUrl) {
    throw new Error(
      "Storage is not configured: set AzureWebJobsStorage (connection string) or AzureWebJobsStorage__accountName (managed identity).",
    );
  }
  const clientId = env.AzureWebJobsStorage__clientId?.trim();
  const credential = new DefaultAzureCredential(clientId ? { managedIdentityClientId: clientId } : {});
  return { kind: "identity", tableUrl, queueUrl, blobUrl, credential };
}

/** Describes the account without its key, for logs and errors. */
export function describeStorageAccount(account: StorageAccount): string {
  if (account.kind === "identity") return account.tableUrl;
  const endpoint = /TableEndpoint=([^;]+)/i.exec(account.connectionString)?.[1];
  const name = /AccountName=([^;]+)/i.exec(account.connectionString)?.[1];
  return endpoint ?? (name ? `account ${name}` : "storage account");
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
