/** The ARM client: everything the audit needs from Azure Resource Manager and Resource Graph. */
export type {
  AssociatedResource,
  AssociatedResourcesPage,
  AssociatedResourcesQuery,
  AuditScope,
  FederatedIdentityCredential,
  IdentityDetails,
  IdentityInventoryItem,
  RoleAssignment,
} from "./types.js";

export {
  createArmConnection,
  staticTokenCredential,
  DEFAULT_ARM_ENDPOINT,
  type ArmConnection,
  type ArmConnectionOptions,
} from "./connection.js";

export {
  ArmError,
  isArmError,
  isThrottled,
  isNotFound,
  isTransient,
  isAbortError,
  networkError,
  armErrorFromResponse,
  parseErrorBody,
  parseRetryAfterMs,
  redactSecrets,
  registerSecret,
  DEFAULT_RETRY_AFTER_MS,
  type ArmErrorDetail,
  type ArmErrorInit,
  type ParsedErrorBody,
} from "./errors.js";

export {
  parseIdentityId,
  identityPath,
  canonicalIdentityId,
  sameResourceId,
  resourceIdKey,
  InvalidResourceIdError,
  type IdentityRef,
} from "./resourceId.js";

export {
  identityInventoryQuery,
  roleAssignmentsQuery,
  roleDefinitionsQuery,
  subscriptionNamesQuery,
  identityBagReferencesQuery,
  propertyReferencesQuery,
  policyAssignmentReferencesQuery,
  allQueries,
  namedQueries,
  type NamedQuery,
} from "./queries.js";

export {
  queryResourceGraph,
  listIdentities,
  listRoleAssignments,
  listSubscriptionNames,
  parseResourceGraphResponse,
  parseIdentityRow,
  parseRoleAssignmentRow,
  roleDefinitionIndex,
  tableToObjects,
  scopeBatches,
  parseQuotaResetMs,
  readQuotaHeaders,
  MAX_PAGE_SIZE,
  MAX_SCOPE_BATCH_SIZE,
  DEFAULT_THROTTLE_WAIT_MS,
  type ResourceGraphOptions,
  type ResourceGraphPage,
  type ResourceGraphWait,
  type RoleDefinitionInfo,
  type TypedQueryOptions,
  type ListIdentitiesOptions,
  type InvalidRow,
  type ScopeBatch,
} from "./resourceGraph.js";

export {
  listAssociatedResourcesPage,
  listAllAssociatedResources,
  parseAssociatedResourcesPage,
  parseAssociatedResource,
  skipTokenFromNextLink,
  associatedResourcesUrl,
  ASSOCIATED_RESOURCES_API_VERSIONS,
  DEFAULT_ASSOCIATED_RESOURCES_API_VERSION,
  DEFAULT_MAX_ASSOCIATED_PAGES,
  ASSOCIATED_RESOURCES_PROBE_ORDER,
  probeAssociatedResourcesApi,
  isApiGone,
  isSubscriptionLimitError,
  type AssociatedResourcesApiVersion,
  type AssociatedResourcesOptions,
  type ListAllAssociatedResourcesOptions,
  type AssociatedResourcesApiProbe,
  type ProbeOptions,
} from "./associatedResources.js";

export {
  listIdentityCreatedTimes,
  createdTimesUrl,
  parseCreatedTimesPage,
  isIsoDateTime,
  RESOURCES_LIST_API_VERSION,
  USER_ASSIGNED_IDENTITY_RESOURCE_TYPE,
  DEFAULT_CREATED_TIMES_MAX_PAGES,
  type IdentityCreatedTime,
  type ListCreatedTimesOptions,
  type CreatedTimesWait,
  type CreatedTimesPage,
} from "./createdTimes.js";

export {
  sweepIdentityReferences,
  parseReferenceRow,
  normaliseIdentityReferenceId,
  POLICY_ASSIGNMENT_SCOPE_FILTER,
  type ReferenceKind,
  type IdentityReference,
  type ReferenceSweepOptions,
  type InvalidReferenceRow,
  type ReferenceQueryName,
} from "./referenceSweep.js";

export {
  getIdentity,
  listFederatedCredentials,
  parseIdentity,
  parseIdentityListPage,
  parseFederatedCredential,
  parseFederatedCredentialsPage,
  nextLinkOnEndpoint,
  IDENTITY_API_VERSION,
  type IdentityRequestOptions,
  type ListFederatedCredentialsOptions,
  type ListPage,
} from "./identities.js";
