export { debianTrackerFeed, parseDebianTracker, DEBIAN_TRACKER_JSON_URL } from './tracker-json.js';
export { debianDsaFeed, debianDlaFeed, parseDebianAdvisoryList, DEBIAN_DSA_LIST_URL, DEBIAN_DLA_LIST_URL } from './dsa-list.js';
export { parseSecuritySupport, securitySupportMatches, type SecuritySupportEntry } from './security-support.js';
export { debianNamespace, DEBIAN_RELEASES, DEBIAN_UNSTABLE_NAMESPACE } from './releases.js';
export { debianUrgencySeverity } from './affected.js';
