import { DefaultAzureCredential } from "@azure/identity";
import { serviceUrlsOf, type StorageAccount } from "../store/storageAccount.js";

/** `--storage` takes a connection string, or a bare account name reached with DefaultAzureCredential. */
export function storageAccountFromConnectionOrName(value: string): StorageAccount {
  const text = value.trim();
  if (text.includes("=")) return { kind: "connectionString", connectionString: text };
  if (!/^[a-z0-9]{3,24}$/.test(text)) {
    throw new Error(`--storage must be a connection string or a storage account name (3-24 lower-case letters and digits)`);
  }
  return { kind: "identity", ...serviceUrlsOf(text), credential: new DefaultAzureCredential() };
}
