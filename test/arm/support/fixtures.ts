/** Readers for the copied reference files under test/fixtures (origins in test/fixtures/README.md). */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { parse as parseYaml } from "yaml";

const root = fileURLToPath(new URL("../../fixtures/", import.meta.url));

const MSI = "azure-rest-api-specs/specification/msi/resource-manager/Microsoft.ManagedIdentity";
const ARG = "azure-rest-api-specs/specification/resourcegraph/resource-manager/Microsoft.ResourceGraph";
const CLI = "azure-cli/src/azure-cli/azure/cli/command_modules/identity/tests/latest/recordings";
const PS = "azure-powershell/src/ManagedServiceIdentity/ManagedServiceIdentity.Autorest/test";

export const paths = {
  swaggerPreview: `${MSI}/preview/2022-01-31-preview/ManagedIdentity.json`,
  swaggerStable: `${MSI}/stable/2023-01-31/ManagedIdentity.json`,
  associatedExamples: [
    `${MSI}/preview/2021-09-30-preview/examples/IdentityListAssociatedResources.json`,
    `${MSI}/preview/2021-09-30-preview/examples/IdentityGetAssociatedResources.json`,
    `${MSI}/preview/2022-01-31-preview/examples/IdentityListAssociatedResources.json`,
    `${MSI}/preview/2023-07-31-preview/examples/IdentityListAssociatedResources.json`,
  ],
  associatedExample2022: `${MSI}/preview/2022-01-31-preview/examples/IdentityListAssociatedResources.json`,
  identityGet: `${MSI}/stable/2023-01-31/examples/IdentityGet.json`,
  identityListByRg: `${MSI}/stable/2023-01-31/examples/IdentityListByResourceGroup.json`,
  identityListBySub: `${MSI}/stable/2023-01-31/examples/IdentityListBySubscription.json`,
  ficList: `${MSI}/stable/2023-01-31/examples/FederatedIdentityCredentialList.json`,
  argSwagger: `${ARG}/stable/2021-03-01/resourcegraph.json`,
  argExamples: [
    `${ARG}/stable/2021-03-01/examples/ResourcesBasicQuery.json`,
    `${ARG}/stable/2024-04-01/examples/ResourcesFirstPageQuery.json`,
    `${ARG}/stable/2024-04-01/examples/ResourcesNextPageQuery.json`,
    `${ARG}/stable/2024-04-01/examples/ResourcesRandomPageQuery.json`,
    `${ARG}/stable/2024-04-01/examples/ResourcesFacetQuery.json`,
    `${ARG}/stable/2019-04-01/examples/ResourcesQueryOptions.json`,
  ],
  argFirstPage: `${ARG}/stable/2024-04-01/examples/ResourcesFirstPageQuery.json`,
  argNextPage: `${ARG}/stable/2024-04-01/examples/ResourcesNextPageQuery.json`,
  argTable: `${ARG}/stable/2019-04-01/examples/ResourcesQueryOptions.json`,
  cliIdentity: `${CLI}/test_identity_management.yaml`,
  cliFic: `${CLI}/test_federated_identity_credential.yaml`,
  psAssociated: `${PS}/Get-AzUserAssignedIdentityAssociatedResource.Recording.json`,
  psIdentity: `${PS}/Get-AzUserAssignedIdentity.Recording.json`,
  sdkOperations: "azure-sdk-assets/js/sdk/msi/arm-msi/recordings/node/msi_test/recording_operations_list_test.json",
  resourcesListExample: "azure-rest-api-specs/specification/resources/resource-manager/Microsoft.Resources/stable/2021-04-01/examples/ListResources.json",
  vaultsListExample: "azure-rest-api-specs/specification/keyvault/KeyVault.Management/examples/2025-05-01/listVault.json",
  docsAssociated: "seeds/000_94790adf3cc96801.txt",
  docsGet: "seeds/003_35fe0356a105438c.txt",
} as const;

export function fixtureText(path: string): string {
  return readFileSync(`${root}${path}`, "utf8");
}

export function fixtureJson<T = unknown>(path: string): T {
  return JSON.parse(fixtureText(path)) as T;
}

/** An x-ms-example file: parameters and responses by status. */
export interface SwaggerExample {
  title?: string;
  parameters: Record<string, unknown>;
  responses: Record<string, { body?: unknown; nextLink?: string }>;
}

export function example(path: string): SwaggerExample {
  return fixtureJson<SwaggerExample>(path);
}

/** One interaction of a vcr.py cassette (Azure CLI recordings). */
export interface CliInteraction {
  request: { method: string; uri: string; body: string | null; headers: Record<string, string[]> };
  response: { status: { code: number; message: string }; headers: Record<string, string[]>; body: { string: string } };
}

export function cliInteractions(path: string): CliInteraction[] {
  const doc = parseYaml(fixtureText(path)) as { interactions: CliInteraction[] };
  return doc.interactions;
}

/** One entry of an AutoRest PowerShell recording. */
export interface PsEntry {
  Request: { Method: string; RequestUri: string; Content: string | null; Headers: Record<string, string[]> };
  Response: {
    StatusCode: number;
    Headers: Record<string, string[]>;
    ContentHeaders: Record<string, string[]>;
    Content: string;
  };
}

export function psEntries(path: string): PsEntry[] {
  return Object.values(fixtureJson<Record<string, PsEntry>>(path));
}

/** The JSON block that follows `marker` in a documentation page (the first ```json fence, or a bare {…}). */
export function jsonAfter(text: string, marker: string): unknown {
  const at = text.indexOf(marker);
  if (at < 0) throw new Error(`marker not found: ${marker}`);
  const rest = text.slice(at + marker.length);
  const fence = /```json\s*\n([\s\S]*?)```/.exec(rest);
  if (fence?.[1] && rest.indexOf("```json") < rest.indexOf("{")) return JSON.parse(fence[1]);
  const start = rest.indexOf("{");
  let depth = 0;
  for (let i = start; i < rest.length; i += 1) {
    if (rest[i] === "{") depth += 1;
    if (rest[i] === "}" && --depth === 0) return JSON.parse(rest.slice(start, i + 1));
  }
  throw new Error(`no JSON object after ${marker}`);
}
