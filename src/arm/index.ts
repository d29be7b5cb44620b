/**
 * The ARM client: what the app needs from Azure Resource Manager and Resource Graph. Only the names the
 * rest of src/ imports are exported here (test/layout/armSurface.test.ts checks); tests, benchmarks and
 * the simulator import the internals by path (./associatedResources.js, ./resourceGraph.js, ...). The
 * shapes Azure returns are in ./types.js.
 */
export { createArmConnection, staticTokenCredential, type ArmConnection } from "./connection.js";

export { ArmError, isNotFound, isThrottled, isTransient } from "./errors.js";

export { canonicalIdentityId } from "./resourceId.js";

export { listIdentities, listRoleAssignments, listSubscriptionNames } from "./resourceGraph.js";

export {
  listAllAssociatedResources,
  probeAssociatedResourcesApi,
  isApiGone,
  isSubscriptionLimitError,
  ASSOCIATED_RESOURCES_PROBE_ORDER,
  DEFAULT_ASSOCIATED_RESOURCES_API_VERSION,
  type AssociatedResourcesApiVersion,
} from "./associatedResources.js";

export { listIdentityCreatedTimes } from "./createdTimes.js";

export { sweepIdentityReferences } from "./referenceSweep.js";
export { REFERENCE_SAMPLE_SIZE } from "./queries.js";

export { getIdentity, listFederatedCredentials } from "./identities.js";
