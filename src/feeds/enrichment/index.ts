export { nvdFeed, parseNvd, NVD_CVE_API_URL } from './nvd.js';
export { epssFeed, parseEpss, EPSS_CURRENT_URL } from './epss.js';
export { kevFeed, parseKev, KEV_JSON_URL } from './kev.js';
