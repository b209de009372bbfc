/** Lets a command choose the exit code of a successful run (e.g. 1 for unapproved findings). */
export interface RunContext {
  exitCode: number;
}
