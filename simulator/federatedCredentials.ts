/**
 * Federated identity credentials, regenerated from the seed like associations. An identity with none
 * of the latter but some of these is in use (by GitHub Actions, AKS workload identity...) even though
 * `listAssociatedResources` says zero: the audit must not call it unused.
 *
 * Body shape: the FIC list of the CLI recording (azure-cli/.../test_federated_identity_credential.yaml):
 * keys id, name, type, properties{issuer, subject, audiences}.
 */
import type { FederatedCredentialTruth, IdentityRecord, TenantModel } from "./model.js";
import { mix32 } from "./prng.js";

interface FicTemplate {
  name: string;
  issuer: (h: number) => string;
  subject: (h: number, identity: IdentityRecord) => string;
}

const TEMPLATES: readonly FicTemplate[] = [
  {
    name: "github-main",
    issuer: () => "https://token.actions.githubusercontent.com",
    subject: (_h, identity) => `repo:contoso/${identity.name.toLowerCase()}:ref:refs/heads/main`,
  },
  {
    name: "aks-workload",
    issuer: (h) => `https://oidc.prod-aks.azure.com/${(h >>> 0).toString(16)}-issuer/`,
    subject: (h) => `system:serviceaccount:ns-${h % 7}:workload-sa`,
  },
  {
    name: "github-pr",
    issuer: () => "https://token.actions.githubusercontent.com",
    subject: () => "repo:contoso/platform:pull_request",
  },
  {
    name: "gitlab-deploy",
    issuer: () => "https://gitlab.com",
    subject: (h) => `project_path:contoso/app-${h % 13}:ref_type:branch:ref:main`,
  },
  {
    name: "github-env-prod",
    issuer: () => "https://token.actions.githubusercontent.com",
    subject: () => "repo:contoso/platform:environment:production",
  },
];

/** Credential `k` of an identity. Names follow the FIC pattern `^[a-zA-Z0-9]{1}[a-zA-Z0-9-_]{2,119}$`. */
export function federatedCredentialAt(tenant: TenantModel, identity: IdentityRecord, k: number): FederatedCredentialTruth {
  const h = mix32(tenant.seedNumber, identity.index, k, 0xf1c);
  const template = TEMPLATES[k % TEMPLATES.length] as FicTemplate;
  const name = k < TEMPLATES.length ? template.name : `${template.name}-${k}`;
  return {
    id: `${identity.id}/federatedIdentityCredentials/${name}`,
    name,
    issuer: template.issuer(h),
    subject: template.subject(h, identity),
    audiences: ["api://AzureADTokenExchange"],
  };
}

export function federatedCredentialsOf(tenant: TenantModel, identity: IdentityRecord): FederatedCredentialTruth[] {
  const list: FederatedCredentialTruth[] = [];
  for (let k = 0; k < identity.federatedCredentialCount; k++) list.push(federatedCredentialAt(tenant, identity, k));
  return list;
}
