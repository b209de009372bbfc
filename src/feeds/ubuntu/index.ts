export { ubuntuUctFeed, parseUctFile, parseUctFiles, UBUNTU_UCT_TARBALL_URL, UNFIXED_STATUSES } from './uct.js';
export { ubuntuVexFeed, parseUbuntuVex, UBUNTU_VEX_TARBALL_URL } from './vex.js';
export { ubuntuNamespace, UBUNTU_RELEASES } from './releases.js';
