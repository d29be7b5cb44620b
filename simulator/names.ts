/**
 * Names the generator draws from. They deliberately cover every character Azure allows, because the
 * audit must survive them in URLs, OData literals, Kusto strings and table keys:
 * - user-assigned identity names: `^[a-zA-Z0-9][a-zA-Z0-9_-]{2,127}$` (3 to 128 characters);
 * - resource group names: 1 to 90 characters, letters (Unicode included), digits, `_`, `(`, `)`, `-`,
 *   `.`, not ending with a period;
 * - subscription display names: free text (apostrophes and ampersands test `''` escaping in `$filter`).
 */

/** Hand-written identity names placed at the first indices of every tenant (each is valid and unique). */
export const HOSTILE_IDENTITY_NAMES: readonly string[] = [
  "0_-", // shortest allowed, starts with a digit, ends with a hyphen
  "UAMI-Prod_01",
  `x${"-_".repeat(63)}9`, // 128 characters, the maximum
  "9to5--__worker",
  "ID_with_UPPER_and_lower-Mixed",
  "a1b",
];

/**
 * Resource group names; the first ones are hostile and given to the first subscription so that even a
 * tiny tenant has them. Canonical casing varies on purpose (ARM keeps the casing the group was created with).
 */
export const HOSTILE_RESOURCE_GROUPS: readonly string[] = [
  "rg-é-日本",
  "RG.with.dots(1)",
  "rg_(legacy)-Ünïcödé",
  "MC_rg-aks_aks-prod_westeurope",
  `rg-${"long.name_(x)-".repeat(6)}end`, // 90 characters, the maximum
];

export const PLAIN_RESOURCE_GROUPS: readonly string[] = [
  "rg-prod-app",
  "rg-dev",
  "Default-ActivityLogAlerts",
  "NetworkWatcherRG",
  "rg-shared-services",
  "DefaultResourceGroup-EUS",
  "cloud-shell-storage-westeurope",
  "rg-data-platform",
  "RG-IDENTITY",
  "rg-integration-test",
  "rg-web-frontend",
  "rg-batch-jobs",
];

export const SUBSCRIPTION_NAMES: readonly string[] = [
  "Contoso Production",
  "Dev's Playground (ÜK) & Co",
  "Visual Studio Enterprise Subscription",
  "日本 - 開発",
  "Contoso Platform – Connectivity",
  "Pay-As-You-Go",
  "sub-shared-01",
  "Contoso Dev/Test",
];

export const IDENTITY_PREFIXES: readonly string[] = ["id", "uami", "mi", "msi", "identity", "umi"];
export const WORKLOADS: readonly string[] = [
  "web",
  "api",
  "func",
  "aks",
  "batch",
  "etl",
  "github",
  "deploy",
  "backup",
  "keyvault",
  "reports",
  "billing",
  "orders",
  "payments",
  "search",
];
export const ENVIRONMENTS: readonly string[] = ["prod", "dev", "test", "stg", "qa", "sbx"];

export const LOCATIONS: readonly string[] = [
  "eastus",
  "westeurope",
  "centralus",
  "northeurope",
  "japaneast",
  "southeastasia",
  "eastus2",
  "westus3",
  "francecentral",
];

export const USER_PRINCIPALS: readonly string[] = [
  "alice@contoso.onmicrosoft.com",
  "bob.smith@contoso.com",
  "zoë.müller@contoso.com",
  "deploy-bot@contoso.com",
];

/** The exemption tag the audit honours (see the project README). */
export const EXEMPT_TAG = "uami-audit-exempt";
