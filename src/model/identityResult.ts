/** One identity in one run: what Resource Graph listed, what its check found, and the verdict stored with it. */
import type { AssociatedResource, IdentityInventoryItem } from "../arm/types.js";

/** How a resource refers to an identity, as the Resource Graph reference sweep found it. */
export type ReferenceKind = "identity" | "kubelet" | "properties" | "policyAssignment";

export interface ResourceGraphReference {
  resourceId: string;
  /** Lower-cased, as Resource Graph lists types. */
  resourceType: string;
  kind: ReferenceKind;
}

/** Where one identity stands in a run. */
export type CheckStatus = "pending" | "checked" | "deleted" | "error";

/** One identity in one run: the inventory facts (as Resource Graph listed them) plus the result of checking it. */
export interface IdentityResult extends IdentityInventoryItem {
  runId: string;
  status: CheckStatus;
  /** `systemData.createdAt` from the identity GET (real Azure usually sends no systemData). */
  createdAt?: string;
  /** `createdTime` from ARM's resource list (`$expand=createdTime`), gathered once per run. */
  createdTime?: string;
  /** Resources that refer to the identity according to the run's Resource Graph sweep (count, and the first few). */
  referenceCount?: number;
  references?: ResourceGraphReference[];
  /** Latest successful sign-in within the run's window (Log Analytics), and what it signed in to. */
  lastSignInAt?: string;
  signInResource?: string;
  /** Total associated resources (Azure's totalCount); set when status is "checked". */
  associationCount?: number;
  /** The stored first page(s) of associated resources (10 by default). */
  associations: AssociatedResource[];
  federatedCredentialCount?: number;
  checkedAt?: string;
  /** Last error when status is "error" (code and message, never credentials). */
  error?: string;
  /** Set by the report step once the run's report is built: the verdict and, when unused, since when. */
  verdict?: string;
  unusedSince?: string;
  /** The verdict's reasons as stored with it (JSON on the row). */
  reasons?: string[];
  /** `unused` confirmed by listAssociatedResources (false: the API was unavailable for the run). */
  confirmed?: boolean;
  /** listAssociatedResources said 0 while Resource Graph showed a reference. */
  disagreement?: boolean;
}
