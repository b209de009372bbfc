/** An image platform as OCI names it (`linux/arm64/v8`): shared by image sources and inventories. */
export interface Platform {
  os: string;
  architecture: string;
  variant?: string;
}
