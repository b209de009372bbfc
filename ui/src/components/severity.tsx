import { highestOf, isSeverity, PASSED_COLOUR, SEVERITY_COLOUR, TEXT_ON, totalOf, type Severity, type SeverityCounts } from '../lib/severity';

export function SeverityBadge({ severity }: { severity: Severity | string }) {
  const colour = isSeverity(severity) ? SEVERITY_COLOUR[severity] : SEVERITY_COLOUR.Unknown;
  return (
    <span class={`sev sev-${severity.toLowerCase()}`} data-severity={severity}>
      <span class="sev-dot" aria-hidden="true" style={{ background: colour }} />
      {severity}
    </span>
  );
}

/**
 * The security cell as Portus master drew it: "<count> <highest> - <total> total" in the highest
 * severity's colour, or "Passed" in green when the scan found nothing.
 */
export function SecurityCell({ counts, status, reason }: { counts: SeverityCounts; status: string; reason?: string | null }) {
  if (status !== 'scanned') return <ScanStateLabel status={status} reason={reason ?? null} />;
  const highest = highestOf(counts);
  if (highest === undefined) {
    return (
      <span class="security-cell passed" data-testid="security-cell" data-highest="Passed" style={{ background: PASSED_COLOUR, color: TEXT_ON.Passed }}>
        <span aria-hidden="true">✔ </span>Passed
      </span>
    );
  }
  return (
    <span class={`security-cell sev-${highest.toLowerCase()}`} data-testid="security-cell" data-highest={highest} style={{ background: SEVERITY_COLOUR[highest], color: TEXT_ON[highest] }}>
      <span aria-hidden="true">⚠ </span>
      {counts[highest]} {highest} - {totalOf(counts)} total
    </span>
  );
}

const STATE_LABEL: Record<string, string> = { queued: 'Queued', scanning: 'Scanning', scanned: 'Scanned', failed: 'Failed', unsupported: 'Unsupported' };

export function ScanStateLabel({ status, reason }: { status: string; reason: string | null }) {
  return (
    <span class={`scan-state scan-${status}`} data-testid="scan-state" title={reason ?? undefined}>
      {STATE_LABEL[status] ?? status}
      {status === 'failed' && reason ? <span class="reason">: {reason}</span> : null}
    </span>
  );
}
