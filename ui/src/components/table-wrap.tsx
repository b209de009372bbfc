import type { ComponentChildren } from 'preact';

/**
 * A table that scrolls sideways on a narrow screen: a labelled, focusable region, so keyboard users
 * can scroll it too (axe's scrollable-region-focusable).
 */
export function TableWrap({ label, children }: { label: string; children: ComponentChildren }) {
  return (
    <div class="table-wrap" role="region" aria-label={label} tabIndex={0}>
      {children}
    </div>
  );
}
