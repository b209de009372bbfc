/** The SBOM module's public API (CycloneDX 1.6 JSON in and out of the Inventory). */
export { cycloneDxToInventory, inventoryToCycloneDx, inventoryToCycloneDxStream, inventoryToBomModel, bomToJson, packageBomRefs, imagePurl, distroLabel, SBOM_PROPERTIES } from './cyclonedx.js';
