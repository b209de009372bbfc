/** The operating-system release an image is built on, as read from os-release and friends. */
export interface Distro {
  /** os-release ID, lower case: debian, ubuntu, alpine, wolfi, rhel, centos, rocky, almalinux, fedora, amzn, sles, opensuse-leap ... (distroless images keep their base id; see variantId) */
  id: string;
  /** os-release VERSION_ID (e.g. `12`, `3.20.3`, `9.4`); absent on rolling releases. */
  versionId?: string;
  versionCodename?: string;
  name?: string;
  prettyName?: string;
  idLike?: string[];
  /**
   * os-release VARIANT_ID (e.g. Fedora `container`), or `distroless` for Google's distroless images,
   * whose os-release says ID=debian with PRETTY_NAME "Distroless": the id (and so the feed namespace,
   * `debian:12`) stays the base distribution's.
   */
  variantId?: string;
  cpe?: string;
  /** Image path the facts were read from. */
  source: string;
}
