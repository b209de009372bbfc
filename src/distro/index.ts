export { chooseDistro, distroSourceRank } from './choose.js';
export { osReleaseDetector } from './detector.js';
export { distroNamespace, isAlpineEdge } from './namespace.js';
export { parseReleaseFile, RELEASE_FILE_PATHS } from './release-files.js';
