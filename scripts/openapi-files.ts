/** The two files `npm run openapi` writes, as text (shared with the test that checks they are current). */
import openapiTS, { astToString, COMMENT_HEADER } from 'openapi-typescript';

/** The committed document: pretty JSON, newline at the end. */
export function openApiJson(document: Record<string, unknown>): string {
  return `${JSON.stringify(document, null, 2)}\n`;
}

/** The TypeScript declarations of the document (`paths`, `components`, `operations`). */
export async function openApiTypes(document: Record<string, unknown>): Promise<string> {
  // openapi-typescript takes the document as JSON text (it parses and resolves it itself).
  return `${COMMENT_HEADER}${astToString(await openapiTS(JSON.stringify(document)))}`;
}
