export {
  redhatCsafFeed,
  parseRedhatCsaf,
  REDHAT_CSAF_VEX_ARCHIVE_URL,
  REDHAT_CSAF_VEX_BASE_URL,
  REDHAT_CSAF_ADVISORIES_BASE_URL,
} from './csaf.js';
export { redhatSecurityDataFeed, parseRedhatSecurityData, REDHAT_SECURITY_DATA_API_URL } from './security-data.js';
export { rhelNamespaceFromCpe, redhatImpactSeverity, parseNevraId, parseNevr, type RpmComponent } from './platform.js';
