/**
 * PEP 503 normalized project name: surrounding whitespace dropped, runs of `-`, `_`, `.` become one
 * `-`, lower-cased. This is the form package indexes and advisory feeds key projects by
 * (`Typing_Extensions` -> `typing-extensions`).
 */
export function normalizePythonName(name: string): string {
  return name.trim().toLowerCase().replace(/[-_.]+/g, '-');
}
